"""Benchmark of the CDR reader (ringfence.cdrs.reader.CdrReader): rows read per second, one core.

Run: ``python benchmarks/bench_cdrs.py [--rows 1000000] [--runs 3] [--reference-rows 100000]``.

The input is generated in the canonical ``ringfence`` layout the way a mobile operator's traffic looks: 50,000
subscribers (IMSIs) calling each other, fixed lines and abroad (one call in six international, some to premium and
satellite ranges), 5% of callers withheld, incoming and roaming calls, decimal durations, one row in 2,000 broken in
one of the ways the reader quarantines (a bad time, a negative duration, letters in a number). Measured per run:

- ``read_bytes`` of the CSV (the whole pipeline: line checks, polars CSV, times, durations, numbers through
  ``normalise_many``, quarantine), of the same file gzipped, of the same records as JSONL, and of the same records
  in the ``wholesale`` layout (international digits without ``+``);
- ``iter_stream`` of the CSV in chunks of 65,536 rows (what stdin and big files take).

The reference, in the same run on the first ``--reference-rows`` rows, is the straightforward reader: Python's csv
module, ``datetime.fromisoformat`` and ``phonenumbers.parse`` + ``is_possible_number`` per row, building the same
columns; both good-row counts are printed. A second reference is pandas: ``read_csv`` with
every column as text, ``to_datetime``, ``to_numeric`` and the numbers through ``normalise`` once per distinct value.
polars runs on one thread unless ``--threads`` says otherwise (the target is for one core). Prints medians of
``--runs`` with absolute figures and a markdown table with the target (300,000 rows/s).
"""

from __future__ import annotations

import argparse
import csv
import gc
import gzip
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_line

if "--threads" in sys.argv:  # polars reads its thread count when imported
    os.environ["POLARS_MAX_THREADS"] = sys.argv[sys.argv.index("--threads") + 1]
else:
    os.environ.setdefault("POLARS_MAX_THREADS", "1")

from ringfence.cdrs.mapping import preset
from ringfence.cdrs.reader import CdrReader
from ringfence.numbers import normalise

TARGET = 300_000
HEADER = "start,caller,called,duration_s,answered,direction,subscriber,route,cost"
WHOLESALE = "Buyer,Seller,Route,CLD,CLI,Country,Description,Duration,Billed Duration,Rate,Cost,Setup Time,Connect Time"
T0 = 1_790_000_000_000
DIRECTIONS = np.array(["outgoing", "incoming", "roaming_out", "roaming_in"])
#: Foreign destinations (prefix, digits after it): satellite and premium-prone ranges, and ordinary ones.
FOREIGN = [("+88216", 6), ("+3725", 6), ("+23276", 6), ("+6757", 7), ("+4930", 7), ("+336", 8), ("+1212", 7)]


def records(rows: int, seed: int = 5) -> list[tuple[str, ...]]:
    rng = np.random.default_rng(seed)
    subs = 447_700_000_000 + rng.choice(900_000, 50_000, replace=False)
    imsis = [f"23415{n:010d}" for n in rng.integers(0, 10**10, 50_000)]
    start = T0 + np.sort(rng.integers(0, 86_400_000, rows))
    who = rng.integers(0, 50_000, rows)
    kind = rng.random(rows)
    dest = rng.integers(0, 50_000, rows)
    out: list[tuple[str, ...]] = []
    for i in range(rows):
        moment = datetime.utcfromtimestamp(start[i] / 1000)
        when = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        caller = f"+{subs[who[i]]}" if kind[i] > 0.05 else ""
        if kind[i] < 0.17:
            prefix, width = FOREIGN[i % len(FOREIGN)]
            called = prefix + f"{rng.integers(10 ** (width - 1), 10**width)}"
        elif kind[i] < 0.4:
            called = f"+44207946{i % 10000:04d}"
        else:
            called = f"+{subs[dest[i]]}"
        answered = kind[i] % 0.1 > 0.02
        duration = f"{(kind[i] * 1000) % 600:.1f}" if answered else "0"
        direction = str(DIRECTIONS[0 if kind[i] < 0.7 else int(kind[i] * 40) % 4])
        if i % 2000 == 7:
            when = "2026-13-45T99:00:00Z"
        elif i % 2000 == 1007:
            duration = "-5"
        elif i % 2000 == 1507:
            called = "+44abc"
        out.append(
            (when, caller, called, duration, str(answered).lower(), direction, imsis[who[i]], f"T{i % 7}", "0.10")
        )
    return out


def to_csv(recs: list[tuple[str, ...]]) -> bytes:
    return ("\n".join([HEADER, *(",".join(r) for r in recs)]) + "\n").encode()


def to_jsonl(recs: list[tuple[str, ...]]) -> bytes:
    keys = HEADER.split(",")
    return b"\n".join(orjson.dumps(dict(zip(keys, r, strict=True))) for r in recs) + b"\n"


def to_wholesale(recs: list[tuple[str, ...]]) -> bytes:
    lines = [WHOLESALE]
    for when, caller, called, duration, answered, _d, imsi, route, cost in recs:
        setup = when[:19].replace("T", " ")
        connect = setup if answered == "true" else ""
        lines.append(
            f"{imsi},carrier,{route},{called.lstrip('+')},{caller.lstrip('+')},XX,desc,{duration},{duration},0.1,"
            f"{cost},{setup},{connect}"
        )
    return ("\n".join(lines) + "\n").encode()


def reference_csv(data: bytes) -> int:
    """The straightforward reader: csv module, fromisoformat, phonenumbers per row. Returns the good rows."""
    good = 0
    columns: dict[str, list[object]] = {k: [] for k in ("caller", "called", "start", "duration")}
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    next(reader)
    for row in reader:
        try:
            start = datetime.fromisoformat(row[0]).timestamp()
            duration = float(row[3])
            if duration < 0:
                continue
            numbers: list[int | None] = []
            for text in (row[1], row[2]):
                if not text:
                    numbers.append(None)
                    continue
                parsed = phonenumbers.parse(text, None)
                if not phonenumbers.is_possible_number(parsed):
                    raise ValueError(text)
                numbers.append(int(f"{parsed.country_code}{parsed.national_number}"))
        except (ValueError, phonenumbers.NumberParseException):
            continue
        columns["caller"].append(numbers[0])
        columns["called"].append(numbers[1])
        columns["start"].append(start)
        columns["duration"].append(duration)
        good += 1
    return good


def reference_pandas(data: bytes) -> int:
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    start = pd.to_datetime(frame["start"], format="ISO8601", errors="coerce", utc=True)
    duration = pd.to_numeric(frame["duration_s"], errors="coerce")
    values = {}
    for text in pd.unique(pd.concat([frame["caller"], frame["called"]])):
        try:
            values[text] = normalise(text) if text else 0
        except Exception:
            values[text] = -1
    caller = frame["caller"].map(values)
    called = frame["called"].map(values)
    ok = start.notna() & duration.notna() & (duration >= 0) & (caller >= 0) & (called > 0)
    return int(ok.sum())


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1, help="polars threads (default 1: one core)")
    args = parser.parse_args()
    print(machine_line())
    import polars as pl

    print(f"polars {pl.__version__}, {pl.thread_pool_size()} thread(s)")
    recs = records(args.rows)
    data = to_csv(recs)
    packed = gzip.compress(data, 6)
    jsonl = to_jsonl(recs)
    wholesale = to_wholesale(recs)
    sample = to_csv(recs[: args.reference_rows])
    print(f"{args.rows:,} rows, CSV {len(data) / 1e6:.1f} MB (gzip {len(packed) / 1e6:.1f} MB)")
    CdrReader().read_bytes(sample)  # warm up: numbering-plan tables, polars
    check = CdrReader().read_bytes(sample)
    ref_good = reference_csv(sample)
    print(f"good rows in the sample: reader {check.frame.height:,}, reference {ref_good:,}")
    cases: dict[str, Callable[[], object]] = {
        "read_bytes, CSV (ringfence)": lambda: CdrReader().read_bytes(data),
        "read_bytes, CSV gzip": lambda: CdrReader().read_bytes(packed),
        "iter_stream, CSV, 65,536-row chunks": lambda: list(CdrReader().iter_stream(io.BytesIO(data))),
        "read_bytes, JSONL": lambda: CdrReader().read_bytes(jsonl, name="x.jsonl"),
        "read_bytes, CSV (wholesale)": lambda: CdrReader(preset("wholesale")).read_bytes(wholesale),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    refs: dict[str, list[float]] = {"csv module + phonenumbers per row": [], "pandas + normalise per distinct": []}
    for run in range(args.runs):
        for name, fn in cases.items():
            results[name].append(args.rows / timed(fn))
        refs["csv module + phonenumbers per row"].append(args.reference_rows / timed(lambda: reference_csv(sample)))
        refs["pandas + normalise per distinct"].append(args.reference_rows / timed(lambda: reference_pandas(sample)))
        print(f"run {run + 1}: " + ", ".join(f"{n}: {r[-1]:,.0f}/s" for n, r in {**results, **refs}.items()))
    ref_rate = statistics.median(refs["csv module + phonenumbers per row"])
    print()
    print("| figure | ringfence (median) | reference | reference (median) | ringfence / reference | target | met? |")
    print("|---|---:|---|---:|---:|---|---|")
    for name, rates in results.items():
        rate = statistics.median(rates)
        met = "yes" if rate >= TARGET else "NO"
        target = ">= 300,000 rows/s" if name.startswith("read_bytes, CSV (ringfence)") else "-"
        print(
            f"| {name} | {rate:,.0f} rows/s | csv module + phonenumbers per row | {ref_rate:,.0f} rows/s "
            f"| {rate / ref_rate:.1f} | {target} | {met if target != '-' else '-'} |"
        )
    pandas_rate = statistics.median(refs["pandas + normalise per distinct"])
    print(f"| reference: pandas + normalise per distinct value | {pandas_rate:,.0f} rows/s | - | - | - | - | - |")


if __name__ == "__main__":
    main()
