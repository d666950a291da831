"""Benchmark of an owner-change import: a reassigned-numbers feed of 1,000,000 rows applied to 1,000,000 listings.

Run: ``python benchmarks/bench_reassigned.py [--listings 1000000] [--rows 1000000] [--hits 0.05] [--runs 3]``.

The store (SQLite, as a fresh install has it) is built once through the store's bulk paths: one report per listing,
made 30 to 395 days ago, and its listing. The feed is a CSV in the shape of the FCC Reassigned Numbers Database
(``phone_number,permanent_disconnect_date``; ten-digit national numbers; ``MM/DD/YYYY``) in which ``--hits`` of the
rows name a listed number with a date after its last report (so each of those listings is removed, or flagged
ported for the ``--port-share`` of them that are ports), and the rest name numbers nobody listed.

Each run copies the store, opens it (loading the index is not timed) and times the whole import
(``import_disconnects``: read, validate, apply); as its reference in the same run, the same file is parsed alone
(read and validated, nothing applied) and read by a naive ``csv.reader`` loop. Medians of ``--runs`` are printed.
Temporary files are removed at the end, also on error.
"""

from __future__ import annotations

import argparse
import csv
import gc
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from machine import machine_line  # benchmarks/machine.py, beside this script

from ringfence.config import Settings
from ringfence.reassigned import RowParser, import_disconnects, read_chunks
from ringfence.registry.models import CATEGORY_BITS, Category, Role
from ringfence.registry.writes import insert_reports
from ringfence.runtime import Runtime
from ringfence.store.driver import placeholder

DAY_MS = 86_400_000
TARGET_S = 30.0
ADMIN = "bench-admin"
REPORTER = "bench-reporter"
_WRITE_CHUNK = 100_000


@dataclass
class Data:
    store: Path  # the template store, copied for each run
    feed: Path
    rows: int
    removals: int  # rows that remove a listing
    ports: int  # rows that flag a listing as ported


@dataclass
class Figures:
    imports: list[float] = field(default_factory=list)
    parses: list[float] = field(default_factory=list)
    naive: list[float] = field(default_factory=list)


def numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct ten-digit NANP national numbers (area codes 200-999), shuffled."""
    drawn = np.unique(rng.integers(2_000_000_000, 10_000_000_000, int(count * 1.01) + 1000, dtype=np.int64))
    while len(drawn) < count:
        more = rng.integers(2_000_000_000, 10_000_000_000, count, dtype=np.int64)
        drawn = np.unique(np.concatenate([drawn, more]))
    return rng.permutation(drawn)[:count]


def us_dates(days: np.ndarray) -> list[str]:
    """Days since the epoch as MM/DD/YYYY."""
    iso = days.astype("datetime64[D]").astype(str).tolist()
    return [f"{d[5:7]}/{d[8:10]}/{d[:4]}" for d in iso]


def build_store(path: Path, listed: np.ndarray, last_ms: np.ndarray, now_ms: int) -> None:
    """A store with one irsf report per listed number (E.164: 1 and the ten digits) and its listing."""
    runtime = Runtime.open(Settings(database_url=f"sqlite:///{path}"), load_index=False)
    try:
        runtime.members.add(ADMIN, Role.ADMIN)
        reporter, _ = runtime.members.add(REPORTER, Role.REPORTER)
        e164 = (listed + 10_000_000_000).tolist()
        occurred = last_ms.tolist()
        bits = CATEGORY_BITS[Category.IRSF]
        with runtime.engine.begin() as conn:
            mark = placeholder(conn)
            columns = "number, first_ms, last_ms, report_count, reporter_count, categories, updated_ms, weight, flags"
            listing_sql = f"INSERT INTO listings ({columns}) VALUES ({', '.join([mark] * 9)})"
            for start in range(0, len(e164), _WRITE_CHUNK):
                part = range(start, min(start + _WRITE_CHUNK, len(e164)))
                insert_reports(conn, [(reporter.id, e164[i], "irsf", occurred[i], now_ms, None, None) for i in part])
                cursor = conn.connection.cursor()
                try:
                    cursor.executemany(
                        listing_sql, [(e164[i], occurred[i], occurred[i], 1, 1, bits, now_ms, 1000, 0) for i in part]
                    )
                finally:
                    cursor.close()
    finally:
        runtime.close()


def make_data(workdir: Path, listings: int, rows: int, hits: float, port_share: float, seed: int = 20_261_121) -> Data:
    rng = np.random.default_rng(seed)
    now_ms = int(time.time() * 1000)
    today = now_ms // DAY_MS
    hit_rows = min(int(rows * hits), listings)
    drawn = numbers(rng, listings + rows - hit_rows)
    listed, unlisted = drawn[:listings], drawn[listings:]
    last_ms = now_ms - 30 * DAY_MS - rng.integers(0, 365 * DAY_MS, listings)
    started = time.perf_counter()
    store = workdir / "template.db"
    build_store(store, listed, last_ms, now_ms)
    print(f"store: {listings:,} listings built in {time.perf_counter() - started:.1f} s", flush=True)

    picked = rng.choice(listings, hit_rows, replace=False)
    hit_days = last_ms[picked] // DAY_MS + 1 + rng.integers(0, 20, hit_rows)  # after the last report, in the past
    other_days = today - 1 - rng.integers(0, 3 * 365, rows - hit_rows)
    feed_numbers = np.concatenate([listed[picked], unlisted])
    feed_days = np.concatenate([hit_days, other_days])
    is_port = np.zeros(rows, np.bool_)
    ports = int(hit_rows * port_share)
    is_port[:ports] = True
    order = rng.permutation(rows)
    feed_numbers, feed_days, is_port = feed_numbers[order], feed_days[order], is_port[order]

    feed = workdir / "reassigned.csv"
    with feed.open("w", encoding="utf-8", newline="") as out:
        out.write("phone_number,permanent_disconnect_date" + (",type\n" if ports else "\n"))
        for start in range(0, rows, 100_000):
            end = min(rows, start + 100_000)
            dates = us_dates(feed_days[start:end])
            nums = feed_numbers[start:end].tolist()
            if ports:
                kinds = np.where(is_port[start:end], "port", "").tolist()
                out.write("".join(f"{n},{d},{k}\n" for n, d, k in zip(nums, dates, kinds, strict=True)))
            else:
                out.write("".join(f"{n},{d}\n" for n, d in zip(nums, dates, strict=True)))
    size = feed.stat().st_size / 1e6
    print(f"feed: {rows:,} rows ({size:.1f} MB), {hit_rows:,} on listed numbers of which {ports:,} ports", flush=True)
    return Data(store, feed, rows, hit_rows - ports, ports)


def time_import(data: Data, workdir: Path) -> float:
    """Seconds to apply the feed to a fresh copy of the store (index loaded before the clock starts)."""
    db = workdir / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(data.store, db)
    runtime = Runtime.open(Settings(database_url=f"sqlite:///{db}"))
    try:
        admin = runtime.members.get(ADMIN)
        with data.feed.open("rb") as stream:
            started = time.perf_counter()
            outcome, errors = import_disconnects(runtime.registry, admin, stream, "US")
            elapsed = time.perf_counter() - started
    finally:
        runtime.close()
    if errors:
        raise RuntimeError(f"{len(errors)} rows refused, first: line {errors[0].line}: {errors[0].error}")
    if (outcome.rows, outcome.removed, outcome.ported) != (data.rows, data.removals, data.ports):
        raise RuntimeError(f"unexpected outcome {outcome}; expected {data.removals} removed, {data.ports} ported")
    print(f"import: {elapsed:.2f} s ({outcome})", flush=True)
    return elapsed


def time_parse(data: Data) -> float:
    """Seconds to read and validate the feed without applying it."""
    parser = RowParser(region="US", now_ms=int(time.time() * 1000))
    paused = gc.isenabled()
    gc.disable()
    try:
        with data.feed.open("rb") as stream:
            started = time.perf_counter()
            good = sum(len(parser.parse(chunk)[0]) for chunk in read_chunks(stream))
            elapsed = time.perf_counter() - started
    finally:
        if paused:
            gc.enable()
    assert good == data.rows, good
    return elapsed


def time_naive(data: Data) -> float:
    """Seconds for a csv.reader loop over the feed (no validation at all)."""
    with data.feed.open(encoding="utf-8", newline="") as stream:
        started = time.perf_counter()
        count = sum(1 for _ in csv.reader(stream))
        elapsed = time.perf_counter() - started
    assert count == data.rows + 1
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=1_000_000, help="listed numbers (default 1,000,000)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the feed (default 1,000,000)")
    parser.add_argument("--hits", type=float, default=0.05, help="share of rows naming a listed number (0.05)")
    parser.add_argument("--port-share", type=float, default=0.0, help="share of those rows that are ports (0)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are printed (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (feed, stores)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on SIGTERM too

    workdir = Path(tempfile.mkdtemp(prefix="ringfence-bench-reassigned-"))
    figures = Figures()
    try:
        machine = machine_line()
        print(f"machine: {machine}")
        print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; work dir {workdir}", flush=True)
        data = make_data(workdir, args.listings, args.rows, args.hits, args.port_share)
        for run in range(1, args.runs + 1):
            print(f"\n--- run {run}/{args.runs}", flush=True)
            figures.imports.append(time_import(data, workdir))
            figures.parses.append(time_parse(data))
            figures.naive.append(time_naive(data))
            print(f"parse only: {figures.parses[-1]:.2f} s; naive csv.reader loop: {figures.naive[-1]:.2f} s")
        imported = statistics.median(figures.imports)
        parsed = statistics.median(figures.parses)
        naive = statistics.median(figures.naive)
        print(f"\nmachine: {machine}")
        print(
            f"{args.listings:,} listings; feed of {data.rows:,} rows, {data.removals:,} removing a listing, "
            f"{data.ports:,} ports; medians of {args.runs} runs\n"
        )
        print("| figure | seconds (median) | rows/s | vs parse only | vs naive csv loop | target | met? |")
        print("|---|---:|---:|---:|---:|---|---|")
        met = "yes" if imported <= TARGET_S * data.rows / 1_000_000 else "NO"
        print(
            f"| owner-change import (parse + apply) | {imported:.2f} | {data.rows / imported:,.0f} | "
            f"{imported / parsed:.2f} | {imported / naive:.2f} | <= {TARGET_S:g} s per 1M rows | {met} |"
        )
        print(
            f"| parse only (read + validate) | {parsed:.2f} | {data.rows / parsed:,.0f} | 1.00 | "
            f"{parsed / naive:.2f} | - | - |"
        )
        print(f"| naive csv.reader loop | {naive:.2f} | {data.rows / naive:,.0f} | - | 1.00 | - | - |")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
