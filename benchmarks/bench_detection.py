"""Benchmark of detection quality: precision and recall of the built-in rules on simulated, labelled traffic.

Run: ``python benchmarks/bench_detection.py [--subscribers 50000] [--hours 24] [--seed 1] [--runs 3]
[--irsf 4] [--wangiri 3] [--simbox 2] [--sim-subscribers 250000]``.

1. **Simulation speed.** ``ringfence.simulate.simulate`` of the default mix with ``--sim-subscribers`` subscribers
   (about 1,000,000 CDRs at 250,000), timed ``--runs`` times (median), and writing it as CSV, gzipped CSV and JSONL
   once each. Target: 1,000,000 CDRs simulated in well under 30 s.
2. **Detection.** A labelled day of ``--subscribers`` subscribers with ``--irsf`` IRSF attacks (alternating Latvian
   premium + satellite and Cuban + Tuvaluan ranges, different sizes), ``--wangiri`` Wangiri bursts (different
   countries and sizes, with callbacks), ``--simbox`` SIM boxes and roaming, run through the batch engine
   (``ringfence.rules.batch.evaluate``) with the default rule set (``RuleSet.default(home)``) and the run's own
   hotlist (``MatcherLookup.from_texts``). Definitions:

   * an attack **instance** (``irsf-1``, ``wangiri-2``, …) of a scenario (``irsf``, ``wangiri``,
     ``wangiri_callback``, ``simbox``) is **detected** when some alert's evidence contains one of its CDRs of that
     scenario (the labels say which CDR belongs to which scenario and instance); **recall** per scenario is
     detected instances / instances. The table also names the rules that detected them and the median **delay**
     from an instance's first CDR to the firing CDR of the first alert that detected it (stream time, not
     processing time).
   * the same recall **without the hotlist** (no hotlist at all), for what the behavioural rules catch alone.
   * an alert is **true** when its firing CDR (``alert.seq``, the record that completed the pattern) belongs to an
     attack scenario; **precision** = true alerts / all alerts, per rule and overall. Alerts whose firing CDR is
     ordinary or roaming traffic are counted as false, by what fired them.

Prints the machine line, the sizes, and markdown tables to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import polars as pl
from machine import machine_line  # benchmarks/machine.py, beside this script

from ringfence.rules.batch import evaluate as batch_evaluate
from ringfence.rules.config import RuleSet
from ringfence.rules.hotlist import NO_HOTLISTS, MatcherLookup
from ringfence.rules.models import Alert
from ringfence.simulate import (
    ATTACKS,
    IrsfAttack,
    Mix,
    SimBox,
    Traffic,
    WangiriBurst,
    simulate,
    write_cdrs,
)

T = TypeVar("T")
TARGET_SIM_S = 30.0
SCENARIOS = ("irsf", "wangiri", "wangiri_callback", "simbox")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def detection_mix(args: argparse.Namespace) -> Mix:
    """A day with attacks of several shapes, so recall is measured over more than one instance of each."""
    irsf = tuple(
        IrsfAttack(countries=("LV", "882"), numbers=40, calls=300, sims=4)
        if i % 2 == 0
        else IrsfAttack(countries=("CU", "TV"), ranges=1, numbers=15, calls=80, sims=2, minutes=45.0)
        for i in range(args.irsf)
    )
    countries = ("TN", "MR", "882", "SO", "NR")
    wangiri = tuple(
        WangiriBurst(country=countries[i % len(countries)], targets=(250, 80, 400)[i % 3], callback_share=0.05)
        for i in range(args.wangiri)
    )
    simbox = tuple(SimBox(sims=1 + i % 2, calls_per_hour=(40.0, 25.0)[i % 2]) for i in range(args.simbox))
    return Mix(
        seed=args.seed,
        subscribers=args.subscribers,
        hours=args.hours,
        irsf=irsf,
        wangiri=wangiri,
        simbox=simbox,
    )


def evaluate(traffic: Traffic, *, hotlist: bool = True) -> tuple[float, list[Alert]]:
    """The batch engine over the run, with the default rules and the run's hotlist (or none): (seconds, alerts)."""
    rules = RuleSet.default(traffic.mix.home)
    hotlists = MatcherLookup.from_texts(list(traffic.hotlist)) if hotlist else NO_HOTLISTS
    return timed(lambda: batch_evaluate(traffic.cdrs, rules, hotlists))


def recall_table(traffic: Traffic, alerts: Sequence[Alert]) -> list[list[str]]:
    scenario = traffic.labels["scenario"].to_numpy()
    instance = traffic.labels["instance"].to_numpy()
    start = traffic.cdrs["start_ms"].to_numpy()
    first_cdr: dict[tuple[str, str], int] = {}
    frame = traffic.labels.with_columns(pl.Series("start_ms", start)).filter(pl.col("scenario").is_in(SCENARIOS))
    for row in frame.group_by("scenario", "instance").agg(pl.col("start_ms").min()).iter_rows():
        first_cdr[(row[0], row[1])] = row[2]
    detected_by: dict[tuple[str, str], set[str]] = defaultdict(set)
    first_alert: dict[tuple[str, str], int] = {}
    for alert in sorted(alerts, key=lambda a: a.fired_ms):
        for key in {(scenario[c.seq], instance[c.seq]) for c in alert.evidence}:
            if key in first_cdr:
                detected_by[key].add(alert.rule)
                first_alert.setdefault(key, alert.fired_ms)
    rows = []
    for name in SCENARIOS:
        keys = sorted(k for k in first_cdr if k[0] == name)
        found = [k for k in keys if k in detected_by]
        rules = Counter(rule for k in found for rule in detected_by[k])
        delays = [(first_alert[k] - first_cdr[k]) / 60_000 for k in found]
        rows.append(
            [
                name,
                str(len(keys)),
                str(len(found)),
                f"{len(found) / len(keys):.2f}" if keys else "-",
                ", ".join(f"{rule} ({n})" for rule, n in rules.most_common()) or "-",
                f"{statistics.median(delays):.1f} min" if delays else "-",
            ]
        )
    return rows


def precision_table(traffic: Traffic, alerts: Sequence[Alert]) -> list[list[str]]:
    scenario = traffic.labels["scenario"].to_numpy()
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for alert in alerts:
        by_rule[alert.rule][str(scenario[alert.seq])] += 1
    rows = []
    total: Counter[str] = Counter()
    for rule in sorted(by_rule):
        counts = by_rule[rule]
        total.update(counts)
        rows.append(_precision_row(rule, counts))
    rows.append(_precision_row("**all rules**", total))
    return rows


def _precision_row(name: str, counts: Counter[str]) -> list[str]:
    alerts = sum(counts.values())
    true = sum(n for s, n in counts.items() if s in ATTACKS)
    false = ", ".join(f"{s} {n}" for s, n in counts.most_common() if s not in ATTACKS) or "-"
    attacks = ", ".join(f"{s} {n}" for s, n in counts.most_common() if s in ATTACKS) or "-"
    return [name, str(alerts), str(true), f"{true / alerts:.3f}" if alerts else "-", attacks, false]


def markdown(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def simulation_speed(args: argparse.Namespace) -> None:
    mix = Mix(seed=args.seed, subscribers=args.sim_subscribers)
    times = []
    traffic = None
    for _ in range(args.runs):
        seconds, traffic = timed(lambda: simulate(mix))
        times.append(seconds)
    assert traffic is not None
    rows = traffic.cdrs.height
    median = statistics.median(times)
    print(f"\nsimulation: {rows:,} CDRs from {args.sim_subscribers:,} subscribers, median of {args.runs} runs")
    met = "yes" if median * 1_000_000 / rows < TARGET_SIM_S else "NO"
    figures = [["simulate (library, in memory)", f"{median:.2f} s", f"{rows / median:,.0f} CDRs/s", met]]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("day.csv", "day.csv.gz", "day.jsonl"):
            path = Path(tmp) / name
            seconds, _ = timed(lambda path=path: write_cdrs(traffic.cdrs, path))
            size = path.stat().st_size / 1e6
            figures.append([f"write {name}", f"{seconds:.2f} s", f"{rows / seconds:,.0f} CDRs/s, {size:.0f} MB", "-"])
    print(markdown(["figure", "time", "rate", "1,000,000 CDRs < 30 s?"], figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=50_000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--irsf", type=int, default=4)
    parser.add_argument("--wangiri", type=int, default=3)
    parser.add_argument("--simbox", type=int, default=2)
    parser.add_argument("--sim-subscribers", type=int, default=250_000)
    parser.add_argument("--skip-speed", action="store_true", help="Only the detection part.")
    args = parser.parse_args()
    print(machine_line())
    if not args.skip_speed:
        simulation_speed(args)

    seconds, traffic = timed(lambda: simulate(detection_mix(args)))
    counts = ", ".join(f"{name} {n:,}" for name, n in traffic.counts().items())
    print(f"\ndetection mix: {traffic.cdrs.height:,} CDRs ({counts}) simulated in {seconds:.1f} s;")
    print(f"hotlist of {len(traffic.hotlist)} entries (seed {args.seed})")
    engine_s, alerts = evaluate(traffic)
    rate = traffic.cdrs.height / engine_s
    print(f"batch engine: {len(alerts):,} alerts in {engine_s:.2f} s ({rate:,.0f} CDRs/s, one run, for information)\n")
    _, blind = evaluate(traffic, hotlist=False)
    without = {row[0]: row for row in recall_table(traffic, blind)}
    rows = [[*row[:4], without[row[0]][3], *row[4:], without[row[0]][5]] for row in recall_table(traffic, alerts)]
    header = ["scenario", "instances", "detected", "recall", "recall without hotlist", "detected by (instances)"]
    print(markdown([*header, "median delay", "median delay without hotlist"], rows))
    print()
    header = ["rule", "alerts", "fired by an attack CDR", "precision", "attack CDRs by scenario", "false, fired by"]
    print(markdown(header, precision_table(traffic, alerts)))


if __name__ == "__main__":
    main()
