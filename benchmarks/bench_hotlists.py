"""Benchmark of the hotlist range matcher (ringfence.hotlists.matcher.RangeMatcher) over 5,000,000 entries.

Run: ``python benchmarks/bench_hotlists.py [--entries 5000000] [--runs 3] [--batch 10000] [--batches 20]``.

The hotlist is generated in the shape IRSF feeds have: test numbers clustered in blocks of IRSF-prone ranges
(+882, +883, +881, +870 and small island nations' and other premium-prone country codes), one entry in 25
repeating a test number under another id (a second feed listing it), "last 2 digits wildcarded" ranges derived
from test numbers, trailing-wildcard ranges of 1 to 4 digits and prefixes of any length. Query batches of
``--batch`` numbers are half covered (test numbers, numbers inside wildcard ranges, numbers under prefixes) and
half ordinary numbers of large countries that no entry covers.

Measured, per run: the build (``RangeMatcher.build`` from arrays), ``longest_many`` and ``all_many`` over the
batches, and ``longest(n)`` one call per number on the first batch. Measured once: the RSS added by the matcher
(``/proc/self/statm`` after a garbage collection and ``malloc_trim``, before and after the first build, the input
arrays alive in both) and the build's peak allocation (tracemalloc, in a separate untimed build). The reference,
in the same run on the same numbers, is the straightforward pure-Python matcher: a dict
``prefix * 16 + length -> ids`` probed at every prefix length in use, fixed length before any length, built by a
Python loop; its answers are checked equal to the matcher's. Prints medians of ``--runs`` with absolute figures and
a markdown table with the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ringfence.hotlists.matcher import RangeMatcher

I64 = npt.NDArray[np.int64]
T = TypeVar("T")

#: (country code, national significant number length) of IRSF-prone ranges.
IRSF_RANGES = [
    (882, 9), (882, 10), (883, 9), (883, 10), (881, 9), (870, 9), (675, 8), (677, 7), (678, 7), (679, 7), (685, 7),
    (686, 8), (688, 6), (690, 5), (691, 7), (692, 7), (222, 8), (252, 8), (371, 8), (372, 8), (372, 7), (373, 8),
    (381, 9), (423, 9), (247, 5), (290, 5), (239, 7), (53, 8), (232, 8), (960, 7), (269, 7), (674, 7), (676, 5),
]  # fmt: skip
#: (country code, NSN length, leading national digit range) of ordinary traffic that no entry covers.
ORDINARY = [(44, 10, (7, 8)), (1, 10, (2, 10)), (49, 11, (1, 2)), (33, 9, (6, 8)), (91, 10, (7, 10)), (86, 11, (1, 2))]
BLOCK = 10_000  # test numbers come in blocks of this many consecutive numbers
TARGET_BUILD_S = 10.0
TARGET_RSS_MB = 250.0
TARGET_RATE = 1_000_000


@dataclass
class Hotlist:
    prefixes: I64
    prefix_lens: I64
    lengths: I64
    ids: I64
    tests: I64  # the test numbers (exact entries)
    wild_prefixes: I64  # wildcard and derived ranges: prefix, wildcard count
    wild_counts: I64
    any_prefixes: I64  # prefixes of any length, and the total length numbers under each have
    any_totals: I64
    kinds: dict[str, int] = field(default_factory=dict)


def digits(values: I64) -> I64:
    return np.searchsorted(np.array([10**k for k in range(16)], np.int64), values, side="right").astype(np.int64)


def generate(entries: int, rng: np.random.Generator) -> Hotlist:
    """An IRSF-shaped hotlist of exactly ``entries`` rows; ids 1..entries in no particular order."""
    n_dup = entries // 25
    n_derived = entries * 12 // 100
    n_wild = entries * 5 // 100
    n_any = entries * 3 // 100
    n_exact = entries - n_dup - n_derived - n_wild - n_any
    ranges = np.array(IRSF_RANGES, np.int64)
    # Blocks: a range, then the leading national digits; the last 4 digits run through the block.
    n_blocks = max(1, n_exact // 150)
    pick = rng.integers(0, len(ranges), n_blocks)
    cc, nsn = ranges[pick, 0], ranges[pick, 1]
    span = 10 ** (nsn - 4)
    base = (cc * 10**nsn + rng.integers(0, 2**62, n_blocks) % span * BLOCK).astype(np.int64)
    tests = np.zeros(0, np.int64)
    while len(tests) < n_exact:
        b = rng.integers(0, n_blocks, n_exact)
        tests = np.unique(np.concatenate([tests, base[b] + rng.integers(0, BLOCK, n_exact)]))
    tests = rng.permutation(tests)[:n_exact]
    d = digits(tests)
    dup = rng.choice(tests, n_dup)
    sources = rng.permutation(tests)[: n_derived + n_wild]  # ranges around distinct test numbers
    derived_from, wild_src = sources[:n_derived], sources[n_derived:]
    derived = derived_from // 100
    wild_counts = rng.integers(1, 5, n_wild)
    wild = wild_src // 10**wild_counts
    # Prefixes: the country code and 3 to 6 national digits, half of them starting a block of test numbers (so they
    # overlap test numbers), half anywhere in an IRSF range; distinct.
    anyp, any_len, any_d = (np.zeros(0, np.int64),) * 3
    while len(anyp) < n_any:
        in_block = rng.random(n_any) < 0.5
        b = rng.integers(0, n_blocks, n_any)
        r = rng.integers(0, len(ranges), n_any)
        anywhere = ranges[r, 0] * 10 ** ranges[r, 1] + rng.integers(0, 2**62, n_any) % 10 ** ranges[r, 1]
        src = np.where(in_block, base[b], anywhere)
        src_d = digits(src)
        keep = rng.choice([3, 4, 5, 6], n_any, p=[0.1, 0.2, 0.3, 0.4])
        length = np.minimum(digits(np.where(in_block, cc[b], ranges[r, 0])) + keep, src_d - 1)
        anyp = np.concatenate([anyp, src // 10 ** (src_d - length)])
        any_len = np.concatenate([any_len, length])
        any_d = np.concatenate([any_d, src_d])
        anyp, first = np.unique(anyp, return_index=True)
        any_len, any_d = any_len[first], any_d[first]
    pick = rng.permutation(len(anyp))[:n_any]
    anyp, any_len, any_d = anyp[pick], any_len[pick], any_d[pick]
    prefixes = np.concatenate([tests, dup, derived, wild, anyp])
    prefix_lens = np.concatenate([d, digits(dup), digits(derived_from) - 2, digits(wild_src) - wild_counts, any_len])
    lengths = np.concatenate([d, digits(dup), digits(derived_from), digits(wild_src), np.zeros(n_any, np.int64)])
    ids = rng.permutation(np.arange(1, entries + 1, dtype=np.int64))
    return Hotlist(
        prefixes,
        prefix_lens,
        lengths,
        ids,
        tests,
        np.concatenate([derived, wild]),
        np.concatenate([np.full(n_derived, 2, np.int64), wild_counts]),
        anyp,
        any_d,
        {
            "exact test numbers": n_exact,
            "the same test numbers under another id": n_dup,
            "last-2-digits ranges derived from test numbers": n_derived,
            "trailing-wildcard ranges (1-4 digits)": n_wild,
            "prefixes of any length": n_any,
        },
    )


def query_batches(hot: Hotlist, rng: np.random.Generator, batch: int, count: int) -> list[I64]:
    """``count`` batches of ``batch`` numbers: half covered (by construction), half ordinary numbers."""
    out = []
    for _ in range(count):
        covered = batch // 2
        n_test, n_wild = covered // 2, covered // 4
        n_any = covered - n_test - n_wild
        w = rng.integers(0, len(hot.wild_prefixes), n_wild)
        scale = 10 ** hot.wild_counts[w]
        in_wild = hot.wild_prefixes[w] * scale + rng.integers(0, 2**62, n_wild) % scale
        a = rng.integers(0, len(hot.any_prefixes), n_any)
        scale = 10 ** (hot.any_totals[a] - digits(hot.any_prefixes[a]))
        under_any = hot.any_prefixes[a] * scale + rng.integers(0, 2**62, n_any) % scale
        ordinary = []
        for i, (cc, nsn, (lo, hi)) in enumerate(ORDINARY):
            k = (batch - covered) // len(ORDINARY) + (i < (batch - covered) % len(ORDINARY))
            national = rng.integers(lo * 10 ** (nsn - 1), hi * 10 ** (nsn - 1), k)
            ordinary.append(cc * 10**nsn + national)
        parts = [rng.choice(hot.tests, n_test), in_wild, under_any, *ordinary]
        out.append(rng.permutation(np.concatenate(parts)).astype(np.int64))
    return out


class DictReference:
    """The straightforward matcher: a dict ``prefix * 16 + length -> sorted ids``, probed per prefix length."""

    def __init__(self, prefixes: I64, prefix_lens: I64, lengths: I64, ids: I64) -> None:
        table: dict[int, list[int]] = {}
        for p, length, i in zip(prefixes.tolist(), lengths.tolist(), ids.tolist(), strict=True):
            key = p * 16 + length
            got = table.get(key)
            if got is None:
                table[key] = [i]
            elif i not in got:
                got.append(i)
        for got in table.values():
            if len(got) > 1:
                got.sort()
        self.table = table
        levels = sorted(set(prefix_lens.tolist()), reverse=True)
        self.divisors = [[10 ** (d - pl) for pl in levels if pl <= d] for d in range(16)]

    def longest(self, n: int) -> int:
        if not 0 < n < 10**15:
            return -1
        d = len(str(n))
        get = self.table.get
        for div in self.divisors[d]:
            base = (n // div) * 16
            got = get(base + d) or get(base)
            if got:
                return got[0]
        return -1

    def all(self, n: int) -> list[int]:
        if not 0 < n < 10**15:
            return []
        d = len(str(n))
        get = self.table.get
        out: list[int] = []
        for div in self.divisors[d]:
            base = (n // div) * 16
            for key in (base + d, base):
                got = get(key)
                if got:
                    out += got
        return out


def rss_bytes() -> int:
    """Resident set size now, after a garbage collection and with the allocator's free pages handed back (memory
    freed earlier, e.g. by the data generation, would otherwise be reused unseen and hide the growth measured)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the figure may then be lower than the truth
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def timed(fn: Callable[..., T], *args: Any) -> tuple[float, T]:
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=10_000, help="numbers per longest_many/all_many call")
    parser.add_argument("--batches", type=int, default=20, help="batches timed per run")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    runs = args.runs

    print(f"python {platform.python_version()} ({platform.python_implementation()}), numpy {np.__version__}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    hot = generate(args.entries, rng)
    batches = query_batches(hot, rng, args.batch, args.batches)
    numbers = args.batch * args.batches
    print(f"entries: {args.entries:,} (generated in {time.perf_counter() - start:.1f} s); medians of {runs} runs")
    for kind, count in hot.kinds.items():
        print(f"  {count:>10,}  {kind}")
    cols = (hot.prefixes, hot.prefix_lens, hot.lengths, hot.ids)

    # ---- memory, once: RSS added by the first build, and the build's peak allocation
    rss_before = rss_bytes()
    matcher = RangeMatcher.build(*cols)
    rss_added = rss_bytes() - rss_before
    del matcher
    gc.collect()
    tracemalloc.start()
    matcher = RangeMatcher.build(*cols)
    build_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{matcher!r}; {len(np.unique(hot.prefix_lens * 16 + hot.lengths))} (prefix length, length) pairs in use")

    build_s: list[float] = []
    longest_rates: list[float] = []
    all_rates: list[float] = []
    scalar_rates: list[float] = []
    ref_build_s: list[float] = []
    ref_longest_rates: list[float] = []
    ref_all_rates: list[float] = []
    ref_rss = 0
    checked = False
    covered = hits = 0
    plain = [b.tolist() for b in batches]
    for run in range(runs):
        del matcher
        seconds, matcher = timed(RangeMatcher.build, *cols)
        build_s.append(seconds)
        seconds, longest = timed(lambda m: [m.longest_many(b) for b in batches], matcher)
        longest_rates.append(numbers / seconds)
        seconds, every = timed(lambda m: [m.all_many(b) for b in batches], matcher)
        all_rates.append(numbers / seconds)
        seconds, _ = timed(lambda one: [one(n) for n in plain[0]], matcher.longest)
        scalar_rates.append(len(plain[0]) / seconds)

        rss_start = rss_bytes()
        seconds, ref = timed(DictReference, *cols)
        ref_build_s.append(seconds)
        if run == 0:
            ref_rss = rss_bytes() - rss_start
        seconds, ref_longest = timed(lambda one: [[one(n) for n in b] for b in plain], ref.longest)
        ref_longest_rates.append(numbers / seconds)
        seconds, ref_every = timed(lambda every: [[every(n) for n in b] for b in plain], ref.all)
        ref_all_rates.append(numbers / seconds)
        if not checked:  # the reference and the matcher must give the same answers
            for got, want in zip(longest, ref_longest, strict=True):
                assert got.tolist() == want
            for (offsets, ids), want in zip(every, ref_every, strict=True):
                assert np.diff(offsets).tolist() == [len(w) for w in want]
                assert ids.tolist() == [i for w in want for i in w]
            covered = sum(int(np.count_nonzero(got >= 0)) for got in longest)
            hits = sum(len(ids) for _, ids in every)
            checked = True
        del ref
        print(
            f"run {run + 1}: build {build_s[-1]:.2f} s, longest_many {longest_rates[-1]:,.0f}/s, all_many "
            f"{all_rates[-1]:,.0f}/s, longest(n) {scalar_rates[-1]:,.0f}/s | reference build {ref_build_s[-1]:.1f} s, "
            f"longest {ref_longest_rates[-1]:,.0f}/s, all {ref_all_rates[-1]:,.0f}/s"
        )
        sys.stdout.flush()

    med = statistics.median
    print(f"\nanswers equal to the reference on all {numbers:,} numbers; {covered / numbers:.1%} covered,")
    print(f"{hits / numbers:.2f} covering entries per number on average; matcher arrays {matcher.nbytes / 1e6:.1f} MB")
    print(f"build peak allocation (tracemalloc): {build_peak / 1e6:.0f} MB\n")

    header = "| figure | ringfence (median of {}) | reference | reference (median) | ringfence / reference | target |"
    print(header.format(runs) + " ringfence / target | met? |")
    print("|---|---:|---|---:|---:|---|---:|---|")

    def row(
        figure: str, ours: float, unit: str, ref_name: str, ref: float | None, target: str, vs: float | None
    ) -> None:
        ref_s = "-" if ref is None else f"{ref:,.1f}" if ref < 100 else f"{ref:,.0f}"
        ratio = "-" if ref is None else f"{ours / ref:.2f}"
        ours_s = f"{ours:,.2f}" if ours < 100 else f"{ours:,.0f}"
        met = "-" if vs is None else ("yes" if vs >= 1 else "NO")
        vs_s = "-" if vs is None else f"{vs:.2f}"
        print(f"| {figure} | {ours_s} {unit} | {ref_name} | {ref_s} | {ratio} | {target} | {vs_s} | {met} |")

    b = med(build_s)
    row(
        f"build from arrays, {args.entries:,} entries",
        b,
        "s",
        "dict of patterns, Python loop",
        med(ref_build_s),
        f"<= {TARGET_BUILD_S:.0f} s",
        TARGET_BUILD_S / b,
    )
    mb = rss_added / 1e6
    row(
        "RSS added by the matcher",
        mb,
        "MB",
        "RSS added by the dict",
        ref_rss / 1e6,
        f"<= {TARGET_RSS_MB:.0f} MB",
        TARGET_RSS_MB / mb,
    )
    row("arrays held by the matcher (nbytes)", matcher.nbytes / 1e6, "MB", "-", None, "-", None)
    row("build peak allocation (tracemalloc)", build_peak / 1e6, "MB", "-", None, "-", None)
    lr, ar = med(longest_rates), med(all_rates)
    row(
        f"longest_many, {args.batch:,}-number batches",
        lr,
        "numbers/s",
        "dict probe loop, longest",
        med(ref_longest_rates),
        f">= {TARGET_RATE:,} numbers/s",
        lr / TARGET_RATE,
    )
    row(
        f"all_many, {args.batch:,}-number batches",
        ar,
        "numbers/s",
        "dict probe loop, all",
        med(ref_all_rates),
        f">= {TARGET_RATE:,} numbers/s",
        ar / TARGET_RATE,
    )
    row(
        "longest(n), one call per number",
        med(scalar_rates),
        "calls/s",
        "dict probe loop, longest",
        med(ref_longest_rates),
        "-",
        None,
    )
    print("\n(ratios of times and memory are ringfence / reference: below 1 is faster or smaller; of rates, above 1)")
    print(
        f"per run: longest_many {', '.join(f'{r:,.0f}' for r in longest_rates)}; all_many "
        f"{', '.join(f'{r:,.0f}' for r in all_rates)}; build {', '.join(f'{s:.2f}' for s in build_s)} s"
    )


if __name__ == "__main__":
    main()
