"""Benchmark of the rules engine over call records: batch and streaming, with a pandas reference.

Run: ``python benchmarks/bench_rules.py [--cdrs 1000000] [--runs 3] [--frame 1000] [--entries 100000]``.

Traffic (generated here, seeded): a day of an operator's CDRs from 200,000 subscribers with a daily rhythm; 62%
outgoing, 33% incoming, 3% roaming out, 2% roaming in; remote parties mostly GB mobiles and fixed lines, 8%
international (a dozen common destinations), 0.5% GB premium rate, 0.2% unallocated or unparseable; 25%
unanswered. Mixed in: IRSF attacks (test calls to a range, then pumping from several subscribers), Wangiri bursts
(a foreign range ringing hundreds of subscribers once) with some callbacks, SIM-box-like subscribers making many
short calls. The hotlist (``--entries``) holds test numbers and ranges of IRSF-prone codes, the attacked ranges
among them.

Measured (medians of ``--runs``):

1. **Batch**: ``ringfence.rules.batch.evaluate`` over the whole frame, all built-in rules and the hotlist
   matching, in CDRs/s; the hotlist matching of both parties alone (``longest_many``) for comparison.
2. **Reference**: a straightforward pandas implementation of the hotlist matching: both numbers as text, for each
   (prefix length, length) of the hotlist the prefixes looked up with ``isin`` in the set of the hotlist's
   prefixes, the longest match kept; its answers are checked equal to the matcher's.
3. **Streaming**: a ``StreamEngine`` fed the same records in frames of ``--frame``; CDRs/s, the time from a
   frame's arrival to the answer carrying its alerts (the delay of an alert after the record that completed its
   pattern is at most that), and ``state_size`` every 4 h of traffic, with the process RSS.
The alerts of both modes are checked equal.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import machine_line

from ringfence.cdrs.models import CDR_SCHEMA
from ringfence.hotlists.matcher import RangeMatcher
from ringfence.rules.batch import evaluate
from ringfence.rules.config import RuleSet
from ringfence.rules.hotlist import MatcherLookup
from ringfence.rules.stream import StreamEngine

I64 = npt.NDArray[np.int64]
DAY = 86_400_000
T0 = 1_790_035_200_000  # a midnight (UTC)
TARGET_BATCH = 1_000_000
TARGET_STREAM = 100_000
TARGET_DELAY_S = 1.0

#: (country calling code prefix digits, national number digits after them, share of international traffic)
DESTINATIONS = [
    (3361, 7, 0.18), (4915, 9, 0.15), (3460, 7, 0.12), (12025, 6, 0.12), (3932, 8, 0.1), (9198, 8, 0.08),
    (35386, 7, 0.07), (4861, 7, 0.06), (3162, 7, 0.05), (2782, 7, 0.03), (37125, 6, 0.02), (97150, 7, 0.02),
]  # fmt: skip
IRSF_RANGES = [3725501, 88216001, 5352123, 224621234, 23276123, 67570123, 37126100, 2392212]  # last 3 digits free


def generate(n: int, seed: int = 7) -> tuple[pl.DataFrame, I64, I64, I64]:
    """``n`` CDRs of one day and the hotlist (prefixes, prefix lengths, lengths)."""
    rng = np.random.default_rng(seed)
    subs = 200_000
    hour_weight = np.array([1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 9, 8, 7, 5, 3, 2], float)
    hours = rng.choice(24, n, p=hour_weight / hour_weight.sum())
    start = T0 + hours * 3_600_000 + rng.integers(0, 3_600_000, n)
    start.sort()
    start += rng.integers(-30_000, 30_000, n)  # switches write slightly out of order
    direction = rng.choice(4, n, p=[0.62, 0.33, 0.03, 0.02]).astype(np.int8)
    sub = rng.integers(0, subs, n)
    local = 447400000000 + sub
    kind = rng.random(n)
    remote = 447400000000 + rng.integers(0, 10**8, n)  # GB mobiles
    fixed = kind < 0.3
    remote[fixed] = 442070000000 + rng.integers(0, 10**7, int(fixed.sum()))
    intl = (kind >= 0.3) & (kind < 0.38)
    shares = np.array([d[2] for d in DESTINATIONS])
    pick = rng.choice(len(DESTINATIONS), int(intl.sum()), p=shares / shares.sum())
    heads = np.array([d[0] for d in DESTINATIONS], np.int64)
    tails = np.array([d[1] for d in DESTINATIONS], np.int64)
    remote[intl] = heads[pick] * 10 ** tails[pick] + rng.integers(0, 10**6, len(pick))
    premium = (kind >= 0.38) & (kind < 0.385)
    remote[premium] = 449098790000 + rng.integers(0, 10_000, int(premium.sum()))
    bad = (kind >= 0.385) & (kind < 0.387)
    remote[bad] = 447700900000 + rng.integers(0, 1000, int(bad.sum()))  # unallocated GB numbers
    duration = np.where(rng.random(n) < 0.25, 0, rng.lognormal(4.0, 1.2, n).astype(np.int64) * 1000)
    # Attacks: IRSF test calls then pumping; Wangiri bursts; SIM-box subscribers.
    attacks = max(1, n // 100_000)
    for a in range(attacks):
        base = IRSF_RANGES[a % len(IRSF_RANGES)] * 1000
        at = int(rng.integers(0, n - 400))
        rows = np.arange(at, at + 300, 3)
        direction[rows] = 0
        attackers = rng.integers(0, subs, 6)
        sub[rows] = attackers[np.arange(len(rows)) % 6]
        local[rows] = 447400000000 + sub[rows]
        remote[rows] = base + rng.integers(0, 1000, len(rows))
        remote[rows[:2]] = base + 1
        duration[rows[:2]] = 3000
        duration[rows[2:]] = rng.integers(60_000, 1_800_000, len(rows) - 2)
        at = int(rng.integers(0, n - 2000))
        rows = np.arange(at, at + 2000, 5)
        direction[rows] = 1
        remote[rows] = (IRSF_RANGES[(a + 1) % len(IRSF_RANGES)] * 1000) + rng.integers(0, 1000, len(rows))
        duration[rows] = 0
        back = np.arange(at + 2000, min(n, at + 2400), 40)
        direction[back] = 0
        remote[back] = (IRSF_RANGES[(a + 1) % len(IRSF_RANGES)] * 1000) + rng.integers(0, 1000, len(back))
    simbox = rng.integers(0, subs, max(1, n // 50_000))
    rows = np.concatenate([int(rng.integers(0, n - n // 40)) + rng.choice(n // 40, 40, replace=False) for _ in simbox])
    sub[rows] = np.repeat(simbox, 40)
    local[rows] = 447400000000 + sub[rows]
    direction[rows] = 0
    duration[rows] = rng.integers(0, 4000, len(rows))
    incoming = direction == 1
    frame = pl.DataFrame(
        {
            "seq": np.arange(n, dtype=np.int64),
            "line": np.arange(n, dtype=np.int64) + 2,
            "caller": np.where(incoming, remote, local),
            "called": np.where(incoming, local, remote),
            "called_plan": np.ones(n, np.bool_),
            "start_ms": start,
            "duration_ms": duration,
            "answered": duration > 0,
            "direction": direction,
            "subscriber": pl.Series(sub).cast(pl.String),
            "route": None,
            "cost": None,
        },
        schema=CDR_SCHEMA,
    )
    return frame, *hotlist(rng)


def hotlist(rng: np.random.Generator, entries: int = 100_000) -> tuple[I64, I64, I64]:
    """Test numbers of ranges next to the attacked ones, and the attacked ranges with their last 3 digits
    wildcarded."""
    ranges = np.array(IRSF_RANGES, np.int64)
    near = (ranges[:, None] + np.arange(1, 41)).ravel()
    numbers = rng.choice(near, entries) * 1000 + rng.integers(0, 1000, entries)
    digits = np.array([len(str(r)) for r in ranges], np.int64)
    prefixes = np.concatenate((numbers, ranges))
    prefix_lens = np.concatenate(([len(str(x)) for x in numbers], digits)).astype(np.int64)
    lengths = np.concatenate((prefix_lens[:entries], digits + 3)).astype(np.int64)
    return prefixes, prefix_lens, lengths


def pandas_matching(frame: pl.DataFrame, prefixes: I64, prefix_lens: I64, lengths: I64) -> tuple[I64, I64]:
    """The straightforward pandas way: numbers as text, per (prefix length, length) an ``isin`` of their prefixes
    in the hotlist's, longest first. Answers the index of the matched entry (-1 none) for caller and called."""
    table = pd.DataFrame({"prefix": prefixes.astype(str), "plen": prefix_lens, "length": lengths})
    table["id"] = np.arange(len(table))
    out = []
    for column in ("caller", "called"):
        text = pd.Series(frame[column].fill_null(0).to_numpy()).astype(str)
        found = pd.Series(-1, index=text.index)
        size = text.str.len()
        for (plen, length), group in sorted(table.groupby(["plen", "length"]), key=lambda g: -g[0][0]):
            ids = dict(zip(group["prefix"], group["id"], strict=True))
            head = text.str[:plen]
            hit = (found < 0) & (size == length) & head.isin(ids.keys())
            found[hit] = head[hit].map(ids)
        out.append(found.to_numpy(np.int64))
    return out[0], out[1]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cdrs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--frame", type=int, default=1000)
    args = parser.parse_args()
    print(machine_line())
    print(f"polars {pl.__version__}, pandas {pd.__version__}, POLARS_MAX_THREADS={pl.thread_pool_size()}")
    frame, prefixes, prefix_lens, lengths = generate(args.cdrs)
    matcher = RangeMatcher.build(prefixes, prefix_lens, lengths, np.arange(len(prefixes)))
    lookup = MatcherLookup(matcher)
    rules = RuleSet.default("GB")
    n = frame.height
    print(f"{n:,} CDRs over one day; hotlist of {len(prefixes):,} entries")

    evaluate(frame[:50_000], rules, lookup)  # warm up: numbering-plan tables compiled, polars pools started
    batch_s, match_s, pandas_s = [], [], []
    alerts = []
    for _ in range(args.runs):
        gc.collect()
        t = time.perf_counter()
        alerts = evaluate(frame, rules, lookup)
        batch_s.append(time.perf_counter() - t)
        caller, called = frame["caller"].fill_null(0).to_numpy(), frame["called"].to_numpy()
        t = time.perf_counter()
        mine = (matcher.longest_many(caller), matcher.longest_many(called))
        match_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs = pandas_matching(frame, prefixes, prefix_lens, lengths)
        pandas_s.append(time.perf_counter() - t)
        assert all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True)), "pandas reference disagrees"
    print(f"alerts: {len(alerts):,} {dict(sorted(Counter(a.rule for a in alerts).items()))}")

    stream_s, delays, sizes = [], [], []
    streamed = []
    for run in range(args.runs):
        engine = StreamEngine(rules, lambda: lookup)
        streamed = []
        gc.collect()
        base_rss = rss_mb()
        total = 0.0
        next_mark = T0 + 4 * 3_600_000
        for at in range(0, n, args.frame):
            chunk = frame[at : at + args.frame]
            t = time.perf_counter()
            fired = engine.feed(chunk)
            took = time.perf_counter() - t
            total += took
            if fired:
                delays.append(took)
                streamed += fired
            if run == 0 and engine.watermark is not None and engine.watermark >= next_mark:
                sizes.append((next_mark, engine.state_size, rss_mb() - base_rss))
                next_mark += 4 * 3_600_000
        stream_s.append(total)
    assert streamed == alerts, "streaming and batch disagree"

    batch_rate = n / statistics.median(batch_s)
    stream_rate = n / statistics.median(stream_s)
    match_rate = n / statistics.median(match_s)
    pandas_rate = n / statistics.median(pandas_s)
    delays.sort()
    p99 = delays[min(len(delays) - 1, int(0.99 * len(delays)))]
    print()
    print("| figure | ringfence (median) | reference (pandas) | ringfence / reference | target | met? |")
    print("|---|---:|---:|---:|---|---|")
    print(
        f"| batch, hotlist matching + all built-in rules | {batch_rate:,.0f} CDRs/s | {pandas_rate:,.0f} CDRs/s "
        f"(hotlist matching only) | {batch_rate / pandas_rate:.1f} | >= {TARGET_BATCH:,} CDRs/s | "
        f"{'yes' if batch_rate >= TARGET_BATCH else 'no'} |"
    )
    print(
        f"| hotlist matching alone (both parties) | {match_rate:,.0f} CDRs/s | {pandas_rate:,.0f} CDRs/s | "
        f"{match_rate / pandas_rate:.1f} | | |"
    )
    print(
        f"| streaming, frames of {args.frame:,} | {stream_rate:,.0f} CDRs/s | | | >= {TARGET_STREAM:,} CDRs/s | "
        f"{'yes' if stream_rate >= TARGET_STREAM else 'no'} |"
    )
    print(
        f"| alert delay after its frame arrives (median / p99 / max of {len(delays)} frames with alerts) | "
        f"{statistics.median(delays) * 1000:.1f} / {p99 * 1000:.1f} / {delays[-1] * 1000:.1f} ms | | | "
        f"<= {TARGET_DELAY_S:g} s | {'yes' if delays[-1] <= TARGET_DELAY_S else 'no'} |"
    )
    print()
    print("state held while streaming (first run):")
    for mark, size, grown in sizes:
        print(f"  after {(mark - T0) // 3_600_000:2d} h of traffic: state_size {size:,}, RSS +{grown:,.0f} MB")


if __name__ == "__main__":
    main()
