"""Benchmark of ringfence.registry.index.ListingIndex against a naive dict ``int -> tuple``.

Run: ``python benchmarks/bench_index.py [--listings N] [--runs R]``. Prints medians of R runs with absolute figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from ringfence.registry.index import ListingIndex


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--singles", type=int, default=200_000, help="single get() calls per run")
    parser.add_argument("--batch", type=int, default=10_000, help="lookup_many batch size")
    args = parser.parse_args()
    n, runs = args.listings, args.runs

    print(f"python {platform.python_version()} ({platform.python_implementation()}), numpy {np.__version__}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"listings: {n:,}; medians of {runs} runs\n")

    rng = np.random.default_rng(42)
    numbers = np.unique(rng.integers(10**10, 10**15, int(n * 1.01)))[:n]  # E.164-like: 11 to 15 digits
    numbers = rng.permutation(numbers)
    n = len(numbers)
    first = rng.integers(1_600_000_000_000, 1_700_000_000_000, n)
    last = first + rng.integers(0, 10**10, n)
    reports = rng.integers(1, 500, n)
    reporters = np.minimum(reports, rng.integers(1, 40, n))
    cats = rng.integers(0, 2**12, n)
    misses = rng.integers(10**10, 10**15, args.singles)
    misses = misses[~np.isin(misses, numbers)]

    # ---- load
    def load() -> ListingIndex:
        index = ListingIndex()
        index.put_many(numbers, first, last, reports, reporters, cats, reporters * 1000, np.zeros(n, np.int64))
        return index

    load_s = median_time(load, runs)
    index = load()
    assert len(index) == n

    # ---- single lookups
    hit_keys = [int(x) for x in rng.choice(numbers, args.singles)]
    miss_keys = [int(x) for x in misses]
    get = index.get

    def gets(keys: list[int]) -> Callable[[], None]:
        def run() -> None:
            for k in keys:
                get(k)

        return run

    hit_s = median_time(gets(hit_keys), runs) / len(hit_keys)
    miss_s = median_time(gets(miss_keys), runs) / len(miss_keys)

    # ---- vectorised lookups: half hits, half misses, fresh batch each call
    batches = []
    for _ in range(20):
        half = args.batch // 2
        batch = np.concatenate([rng.choice(numbers, half), rng.integers(10**10, 10**15, args.batch - half)])
        batches.append(rng.permutation(batch))

    def many() -> None:
        for b in batches:
            index.lookup_many(b)

    many_rate = 20 * args.batch / median_time(many, runs)
    nbytes = index.nbytes

    # ---- naive reference: dict int -> tuple, memory by tracemalloc
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    naive = {
        k: (a, b, c, d, e)
        for k, a, b, c, d, e in zip(
            numbers.tolist(),
            first.tolist(),
            last.tolist(),
            reports.tolist(),
            reporters.tolist(),
            cats.tolist(),
            strict=True,
        )
    }
    dict_bytes = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    dget = naive.get

    def dict_gets(keys: list[int]) -> Callable[[], None]:
        def run() -> None:
            for k in keys:
                dget(k)

        return run

    dict_hit_s = median_time(dict_gets(hit_keys), runs) / len(hit_keys)
    dict_miss_s = median_time(dict_gets(miss_keys), runs) / len(miss_keys)

    def dict_many() -> None:
        for b in batches:
            [dget(k) for k in b.tolist()]

    dict_many_rate = 20 * args.batch / median_time(dict_many, runs)

    def row(label: str, ours: str, ref: str, ratio: str) -> None:
        print(f"{label:34s} {ours:>16s} {ref:>16s} {ratio:>12s}")

    row("", "ListingIndex", "dict->tuple", "ratio")
    row("put_many load (s)", f"{load_s:.3f}", "-", "-")
    row("get, hits (ns/lookup)", f"{hit_s * 1e9:.0f}", f"{dict_hit_s * 1e9:.0f}", f"{hit_s / dict_hit_s:.1f}x")
    row("get, misses (ns/lookup)", f"{miss_s * 1e9:.0f}", f"{dict_miss_s * 1e9:.0f}", f"{miss_s / dict_miss_s:.1f}x")
    row("get, hits (lookups/s)", f"{1 / hit_s:,.0f}", f"{1 / dict_hit_s:,.0f}", f"{dict_hit_s / hit_s:.2f}x")
    row("get, misses (lookups/s)", f"{1 / miss_s:,.0f}", f"{1 / dict_miss_s:,.0f}", f"{dict_miss_s / miss_s:.2f}x")
    row(
        f"lookup_many x{args.batch:,} (numbers/s)",
        f"{many_rate:,.0f}",
        f"{dict_many_rate:,.0f}",
        f"{many_rate / dict_many_rate:.1f}x",
    )
    row("memory (MB)", f"{nbytes / 1e6:.1f}", f"{dict_bytes / 1e6:.1f}", f"{nbytes / dict_bytes:.2f}x")
    row("memory (bytes/listing)", f"{nbytes / n:.1f}", f"{dict_bytes / n:.1f}", "")
    print("\n(the dict's lookup_many column is a Python loop of dict.get over the batch, with .tolist())")
    print("targets: load 1M < 1 s; get <= 1 us; lookup_many >= 5,000,000/s; nbytes(1M) <= 80 MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
