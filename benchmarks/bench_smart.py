"""Benchmark of the smart logic: what query-time decay adds to lookups, and the expiry sweep over the listings.

Run: ``python benchmarks/bench_smart.py [--listings 1000000] [--runs 3] [--batch 10000]``.

1. **Decay cost of lookups.** One index of ``--listings`` listings (UK mobiles, mixed categories, last reports
   spread over the past ``--spread-days`` days, 30 by default, so a share of them has decayed below its threshold;
   a few pinned, disputed or ported), loaded with ``put_many``; a fixed clock. Batches of ``--batch`` numbers as
   text (half listed, half not), region GB:

   * **with decay**: ``lookup_batch(registry, raws, "GB").to_json()``, the path of ``POST /v1/numbers/lookup``;
   * **reference, without decay**: the same pipeline with the scoring step removed, as the lookup was before scoring
     existed: ``normalise_many``, ``index.lookup_many``, ``info_codes`` and the same ``JsonRows`` rendering of the
     same fields minus ``score``, ``threshold``, ``decayed`` and the flags (every listing found is listed);
   * the scoring step alone (``assess_many`` over the same lookup results), as a share of the whole;
   * for information, the decay path with ``include_decayed``: every listing found is rendered, as in the
     reference (with decay, a decayed listing is answered ``"listing": null``, which is cheaper to write, so the
     plain "with decay" figure depends on the share of decayed listings; this one does not).

   And the single-number path, over ``--single`` numbers (half listed) one call each:
   ``orjson.dumps(lookup_answer(n, registry.assess(n)))`` (what ``GET /v1/numbers/{n}`` renders) against
   ``orjson.dumps(...)`` of the answer before scoring, ``registry.lookup(n)`` rendered with ``listing_view`` without
   an assessment; and again with ``include_decayed`` for information. The variants alternate batch by batch (chunk
   by chunk for single numbers) in a rotating order, so that noise spreads over all of them. Target: with decay
   <= 1.10 x without.

2. **Expiry sweep.** A SQLite store of ``--listings`` listings, one vishing report each (weight 1000, flags 0,
   from four reporting members), written straight into ``reports`` and ``listings`` with ``executemany`` in big
   transactions; 90% reported within the last day, 10% 12 to 40 days ago. Vishing's model lives 10 days, so with
   the registry's clock an hour after the store was built the old 10% have decayed (typical case), and with the
   clock 12 days on, all have (worst case). Each run and case copies the store, opens a ``Runtime`` over it (the
   index load is not timed) and times ``registry.expire_decayed(registry.scorer)``, then checks the outcome (count,
   index size, the store's listings, reports retired as ``expired``, ``expired`` changes in the feed, audit
   entries). References in the same run: the candidate scan alone (``index.snapshot()`` + ``scorer.score_many``,
   as the sweep starts) and, on another copy, a naive ``UPDATE reports ... WHERE number IN (...)`` +
   ``DELETE FROM listings WHERE number IN (...)`` over the same numbers, without feed or audit. Target: <= 10 s
   per 1,000,000 listings.

The owner-change import (1,000,000 rows <= 30 s) is measured by ``benchmarks/bench_reassigned.py``, not here.
Medians of ``--runs`` are printed with a markdown table; temporary files are removed at the end, also on error.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from machine import machine_line  # benchmarks/machine.py, beside this script

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.errors import InvalidNumber
from ringfence.feed.models import KIND_CODES, ChangeKind
from ringfence.jsonrows import JsonRows
from ringfence.numbers import NUMBER_TYPES, REGIONS, format_e164, normalise_many
from ringfence.numbers import info as number_info
from ringfence.numbers.lookup import info_codes
from ringfence.registry.assess import DEFAULT_OPTIONS, LookupOptions, assess_many
from ringfence.registry.index import Listing, LookupResult
from ringfence.registry.lookups import lookup_batch
from ringfence.registry.models import (
    CATEGORY_BITS,
    FLAG_DISPUTED,
    FLAG_NAMES,
    FLAG_PINNED,
    FLAG_PORTED,
    Category,
    RemovalReason,
    Role,
    categories_from_mask,
)
from ringfence.registry.scoring import DecayModel, Scorer
from ringfence.registry.service import RegistryService
from ringfence.registry.views import listing_view, lookup_answer
from ringfence.registry.writes import insert_reports
from ringfence.runtime import Runtime
from ringfence.store.driver import execute, placeholder

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
FIRST_NUMBER = 447_400_000_000  # UK mobiles, +44 7400 000000 onwards
REGION = "GB"
RATIO_TARGET = 1.10  # with decay <= 1.10 x without
SWEEP_TARGET_S = 10.0  # per 1,000,000 listings
REASSIGNED_TARGET_S = 30.0
SINGLE_CHUNK = 1_000
SWEEP_CHUNK = 20_000  # the sweep's default chunk: one transaction each
IN_CHUNK = 5_000  # numbers per IN (...) list, as the registry does
WRITE_CHUNK = 100_000
REPORTERS = ("bench-carrier", "bench-bank", "bench-contact-centre", "bench-vendor")
ADMIN = "bench-admin"
SCORE_FIELDS = ("score", "threshold", "decayed", *FLAG_NAMES.values())

# --------------------------------------------------------------------------------------------------------------------
# results


@dataclass
class Row:
    """One line of the result table."""

    name: str
    value: str
    reference_name: str = "-"
    reference: str = "-"
    ratio: float | None = None
    target: str = "-"
    met: str = "-"


def fmt(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(rows: Sequence[Row], runs: int) -> str:
    lines = [
        f"| figure | ringfence (median of {runs}) | reference | reference (median) | ringfence / reference "
        "| target | met? |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(f"| {r.name} | {r.value} | {r.reference_name} | {r.reference} | {ratio} | {r.target} | {r.met} |")
    return "\n".join(lines)


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------------------------------
# 1. decay cost of lookups


def number_infos(numbers: np.ndarray) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Per number, its index into the batch's distinct number infos (what ``lookup_batch`` computes)."""
    region_idx, type_idx, valid, country_codes = info_codes(numbers)
    keys = (((region_idx.astype(np.int64) + 1) * 256 + type_idx) * 2 + valid) * 1000 + country_codes
    _, first, index = np.unique(keys, return_index=True, return_inverse=True)
    infos = [
        {"country": REGIONS[r] if r >= 0 else None, "country_code": cc, "type": NUMBER_TYPES[t].value, "valid": v}
        for r, t, v, cc in zip(
            region_idx[first].tolist(),
            type_idx[first].tolist(),
            valid[first].tolist(),
            country_codes[first].tolist(),
            strict=True,
        )
    ]
    return index, infos


def render_without_decay(
    numbers: np.ndarray,
    errors: dict[int, InvalidNumber],
    found: LookupResult,
    info_index: np.ndarray,
    infos: list[dict[str, Any]],
) -> bytes:
    """``BatchAnswer.to_json`` as it was before scoring: every listing found is listed, no score fields."""
    listed = found.found
    shown = np.flatnonzero(listed)
    rows = JsonRows(len(numbers))
    rows.text(b'{"number":"+')
    rows.integers(numbers)
    rows.pick([b'","listed":false,"info":', b'","listed":true,"info":'], listed)
    rows.pick([orjson.dumps(info) for info in infos], info_index)
    rows.pick([b',"listing":null}', b',"listing":{"first_reported_at":"'], listed)
    if shown.size:
        distinct_masks, mask_index = np.unique(found.categories[shown], return_inverse=True)
        rows.times(found.first_ms[shown], shown)
        rows.text(b'","last_reported_at":"', shown)
        rows.times(found.last_ms[shown], shown)
        rows.text(b'","report_count":', shown)
        rows.integers(found.report_count[shown], shown)
        rows.text(b',"reporter_count":', shown)
        rows.integers(found.reporter_count[shown], shown)
        rows.text(b',"categories":', shown)
        rows.pick([orjson.dumps(categories_from_mask(int(m))) for m in distinct_masks], mask_index, shown)
        rows.text(b"}}", shown)
    for i, error in errors.items():
        rows.replace(i, orjson.dumps({"input": error.details.get("input"), "error": error.to_dict()}))
    return b'{"results":[' + rows.join() + b"]}"


def lookup_without_decay(registry: RegistryService, raws: Sequence[object], region: str | None) -> bytes:
    """The batch lookup with the scoring step removed: normalise, look up, number info, render."""
    numbers, errors = normalise_many(raws, region)
    found = registry.lookup_many(numbers)
    info_index, infos = number_infos(numbers)
    return render_without_decay(numbers, errors, found, info_index, infos)


def answer_without_decay(number: int, listing: Listing | None) -> dict[str, Any]:
    """The single-number answer before scoring: the listing as found, without score fields."""
    return {
        "number": format_e164(number),
        "listed": listing is not None,
        "info": number_info(number).to_dict(),
        "listing": listing_view(listing) if listing is not None else None,
    }


def strip_scores(answer: dict[str, Any]) -> dict[str, Any]:
    """A with-decay answer (decayed listings shown) as the answer without decay would be."""
    listing = answer["listing"]
    if listing is not None:
        listing = {k: v for k, v in listing.items() if k not in SCORE_FIELDS}
    # the never-list and member-list fields are not decay: the reference (lookups before scores) had neither
    rest = {k: v for k, v in answer.items() if k not in ("never_list", "member_list")}
    return {**rest, "listed": listing is not None, "listing": listing}


@dataclass
class LookupFigures:
    batch_decay: list[float] = field(default_factory=list)  # ms per batch, one median per run
    batch_plain: list[float] = field(default_factory=list)
    batch_static: list[float] = field(default_factory=list)  # decayed shown, with scores that do not decay
    batch_static_ratio: list[float] = field(default_factory=list)
    batch_shown: list[float] = field(default_factory=list)  # with decay, include_decayed
    batch_assess: list[float] = field(default_factory=list)
    batch_ratio: list[float] = field(default_factory=list)  # within each run
    single_decay: list[float] = field(default_factory=list)  # us per call
    single_plain: list[float] = field(default_factory=list)
    single_shown: list[float] = field(default_factory=list)  # with decay, include_decayed
    single_ratio: list[float] = field(default_factory=list)


class StaticScorer(Scorer):
    """Scores without decay: every listing keeps its base score (the reference for what decay costs)."""

    def score_many(
        self,
        categories: npt.NDArray[np.integer[Any]],
        last_ms: npt.NDArray[np.integer[Any]],
        weight: npt.NDArray[np.integer[Any]],
        flags: npt.NDArray[np.integer[Any]],
        now_ms: int,
        override: DecayModel | None = None,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        return super().score_many(categories, last_ms, weight, flags | FLAG_PINNED, now_ms, override)


class LookupBench:
    """An index of ``listings`` listings under a fixed clock, and the batches and single numbers to look up."""

    def __init__(
        self, workdir: Path, listings: int, batch: int, batches: int, single: int, spread_days: float, seed: int
    ) -> None:
        rng = np.random.default_rng(seed)
        self.now_ms = (int(time.time()) // 60) * 60_000
        self.runtime = Runtime.open(
            Settings(database_url=f"sqlite:///{workdir / 'lookups.db'}"),
            clock=FixedClock(self.now_ms),
            load_index=False,
        )
        self.registry = self.runtime.registry
        self.static_scorer = StaticScorer(self.registry.scorer.policies)
        span = max(2_000_000, 2 * listings)
        offsets = rng.permutation(span)
        listed = (FIRST_NUMBER + offsets[:listings]).astype(np.int64)
        unlisted = (FIRST_NUMBER + offsets[listings:]).astype(np.int64)
        # categories weighted towards the common ones; one listing in ten carries a second category
        cats = list(Category)
        weights = np.array([30, 20, 15, 5, 3, 10, 10, 5, 2], dtype=np.float64)[: len(cats)]
        bits = np.array([CATEGORY_BITS[c] for c in cats], dtype=np.int64)
        p = weights / weights.sum()
        masks = bits[rng.choice(len(cats), listings, p=p)]
        second = rng.random(listings) < 0.1
        masks[second] |= bits[rng.choice(len(cats), int(second.sum()), p=p)]
        last_ms = self.now_ms - rng.integers(0, max(1, int(spread_days * DAY_MS)), listings)
        first_ms = last_ms - rng.integers(0, 60 * DAY_MS, listings)
        report_count = rng.integers(1, 6, listings)
        reporter_count = np.minimum(report_count, rng.integers(1, 4, listings))
        weight = 1000 * reporter_count
        draw = rng.random(listings)
        flags = np.select([draw < 0.01, draw < 0.03, draw < 0.04], [FLAG_PINNED, FLAG_DISPUTED, FLAG_PORTED], 0).astype(
            np.int64
        )
        started = time.perf_counter()
        self.registry.index.put_many(listed, first_ms, last_ms, report_count, reporter_count, masks, weight, flags)
        print(f"lookup index: {listings:,} listings in {time.perf_counter() - started:.2f} s", flush=True)

        half = batch // 2
        self.batches: list[list[str]] = []
        for _ in range(batches):
            picked = np.concatenate([rng.choice(listed, half, replace=False), rng.choice(unlisted, batch - half)])
            self.batches.append([f"+{n}" for n in rng.permutation(picked).tolist()])
        self.found = [self.registry.lookup_many(normalise_many(raws, REGION)[0]) for raws in self.batches]
        half = single // 2
        singles = np.concatenate([rng.choice(listed, half, replace=False), rng.choice(unlisted, single - half)])
        self.singles: list[int] = rng.permutation(singles).tolist()
        self.check()

    def check(self) -> None:
        """The reference renders what the decay path renders, minus the score fields; report the decayed share."""
        registry, raws = self.registry, self.batches[0]
        shown = LookupOptions(include_decayed=True)
        with_scores = orjson.loads(lookup_batch(registry, raws, REGION, shown).to_json())["results"]
        plain = orjson.loads(lookup_without_decay(registry, raws, REGION))["results"]
        if [strip_scores(a) for a in with_scores] != plain:
            raise RuntimeError("the no-decay reference does not render what the decay path renders")
        real = orjson.loads(lookup_batch(registry, raws, REGION).to_json())["results"]
        found = sum(1 for a in plain if a["listed"])
        listed = sum(1 for a in real if a["listed"])
        self.decayed_percent = 100 * (found - listed) / max(found, 1)
        for n in self.singles[:2000]:
            assessment = registry.assess(n)
            got = strip_scores(lookup_answer(n, assessment, shown))
            if got != answer_without_decay(n, registry.lookup(n)):
                raise RuntimeError(f"single answers differ for +{n}")
        print(
            f"batch of {len(raws):,}: {found:,} found in the index, {listed:,} listed with decay "
            f"({found - listed:,} decayed, {self.decayed_percent:.0f}%)",
            flush=True,
        )

    def close(self) -> None:
        self.runtime.close()

    def run(self, figures: LookupFigures, repeats: int) -> None:
        registry, shown_options, scorer = self.registry, LookupOptions(include_decayed=True), self.registry.scorer
        now = self.now_ms

        def decay(i: int) -> None:
            lookup_batch(registry, self.batches[i], REGION).to_json()

        def plain(i: int) -> None:
            lookup_without_decay(registry, self.batches[i], REGION)

        def shown(i: int) -> None:
            lookup_batch(registry, self.batches[i], REGION, shown_options).to_json()

        def scoring(i: int) -> None:
            assess_many(scorer, self.found[i], now, DEFAULT_OPTIONS)

        def static(i: int) -> None:
            # the same answers, rows and fields as `shown`, with the score left at its base: no decay computed
            registry.scorer = self.static_scorer
            try:
                lookup_batch(registry, self.batches[i], REGION, shown_options).to_json()
            finally:
                registry.scorer = scorer

        variants: list[Callable[[int], None]] = [decay, plain, shown, scoring, static]
        samples: list[list[float]] = [[] for _ in variants]
        gc.collect()
        for rep in range(repeats):
            i = rep % len(self.batches)
            for k in range(len(variants)):
                v = (rep + k) % len(variants)  # rotate the order
                started = time.perf_counter_ns()
                variants[v](i)
                samples[v].append((time.perf_counter_ns() - started) / 1e6)
        d, p, s, a, st = (statistics.median(x) for x in samples)
        figures.batch_static.append(st)
        figures.batch_static_ratio.append(s / st)
        figures.batch_decay.append(d)
        figures.batch_plain.append(p)
        figures.batch_shown.append(s)
        figures.batch_assess.append(a)
        figures.batch_ratio.append(d / p)
        print(
            f"batch of {len(self.batches[0]):,}: with decay {d:.2f} ms, without {p:.2f} ms ({d / p:.3f}); "
            f"decayed shown {s:.2f} ms vs the same with static scores {st:.2f} ms ({s / st:.3f}); "
            f"assess_many alone {a:.3f} ms ({100 * a / d:.1f}% of the whole)",
            flush=True,
        )

        assess, lookup, dumps = registry.assess, registry.lookup, orjson.dumps

        def single_decay(numbers: list[int]) -> None:
            for n in numbers:
                dumps(lookup_answer(n, assess(n)))

        def single_plain(numbers: list[int]) -> None:
            for n in numbers:
                dumps(answer_without_decay(n, lookup(n)))

        def single_shown(numbers: list[int]) -> None:
            for n in numbers:
                dumps(lookup_answer(n, assess(n, shown_options), shown_options))

        singles: list[Callable[[list[int]], None]] = [single_decay, single_plain, single_shown]
        totals = [0] * len(singles)
        gc.collect()
        for c, start in enumerate(range(0, len(self.singles), SINGLE_CHUNK)):
            chunk = self.singles[start : start + SINGLE_CHUNK]
            for k in range(len(singles)):
                v = (c + k) % len(singles)  # rotate the order
                started = time.perf_counter_ns()
                singles[v](chunk)
                totals[v] += time.perf_counter_ns() - started
        sd, sp, ss = (t / 1000 / len(self.singles) for t in totals)
        figures.single_decay.append(sd)
        figures.single_plain.append(sp)
        figures.single_shown.append(ss)
        figures.single_ratio.append(sd / sp)
        print(
            f"single: with decay {sd:.2f} us/call, without {sp:.2f} us/call ({sd / sp:.3f}); "
            f"decayed shown {ss:.2f} us/call",
            flush=True,
        )


# --------------------------------------------------------------------------------------------------------------------
# 2. expiry sweep


@dataclass(frozen=True)
class SweepCase:
    name: str
    clock_ms: int
    decayed: np.ndarray  # sorted numbers the sweep must expire
    kept: np.ndarray  # numbers it must leave


@dataclass
class SweepData:
    template: Path
    listings: int
    cases: list[SweepCase]


@dataclass
class SweepFigures:
    sweep: list[float] = field(default_factory=list)
    scan: list[float] = field(default_factory=list)
    naive: list[float] = field(default_factory=list)


def build_sweep_store(workdir: Path, listings: int, decayed_share: float, seed: int) -> SweepData:
    """A store with one vishing report per listing (straight into the tables) and the two sweep cases."""
    rng = np.random.default_rng(seed + 1)
    built_ms = (int(time.time()) // 60) * 60_000
    numbers = (FIRST_NUMBER + rng.permutation(max(2_000_000, 2 * listings))[:listings]).astype(np.int64)
    old = rng.random(listings) < decayed_share
    last_ms = np.where(
        old,
        built_ms - 12 * DAY_MS - rng.integers(0, 28 * DAY_MS, listings),
        built_ms - rng.integers(0, DAY_MS, listings),
    )
    path = workdir / "sweep-template.db"
    started = time.perf_counter()
    runtime = Runtime.open(Settings(database_url=f"sqlite:///{path}"), load_index=False)
    try:
        runtime.members.add(ADMIN, Role.ADMIN)
        member_ids = np.array([runtime.members.add(name, Role.REPORTER)[0].id for name in REPORTERS], np.int64)
        reporter = member_ids[rng.integers(0, len(member_ids), listings)].tolist()
        nums, occurred = numbers.tolist(), last_ms.tolist()
        bits = CATEGORY_BITS[Category.VISHING]
        with runtime.engine.begin() as conn:
            mark = placeholder(conn)
            columns = "number, first_ms, last_ms, report_count, reporter_count, categories, updated_ms, weight, flags"
            listing_sql = f"INSERT INTO listings ({columns}) VALUES ({', '.join([mark] * 9)})"
            for start in range(0, listings, WRITE_CHUNK):
                part = range(start, min(start + WRITE_CHUNK, listings))
                insert_reports(
                    conn, [(reporter[i], nums[i], "vishing", occurred[i], built_ms, None, None) for i in part]
                )
                cursor = conn.connection.cursor()
                try:
                    cursor.executemany(
                        listing_sql, [(nums[i], occurred[i], occurred[i], 1, 1, bits, built_ms, 1000, 0) for i in part]
                    )
                finally:
                    cursor.close()
    finally:
        runtime.close()
    with sqlite3.connect(path) as db:  # fold the WAL into the file, so that a copy of the file is the whole store
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = path.stat().st_size / 1e6
    print(f"sweep store: {listings:,} listings and reports ({size:.0f} MB) in {time.perf_counter() - started:.1f} s")
    typical = SweepCase(f"{100 * decayed_share:g}% decayed", built_ms + HOUR_MS, np.sort(numbers[old]), numbers[~old])
    worst = SweepCase("all decayed", built_ms + 12 * DAY_MS, np.sort(numbers), numbers[:0])
    return SweepData(path, listings, [typical, worst])


def fresh_copy(data: SweepData, workdir: Path, name: str) -> Path:
    db = workdir / name
    remove_db(db)
    shutil.copyfile(data.template, db)
    return db


def check_sweep(runtime: Runtime, case: SweepCase, listings: int, expired: int, rng: np.random.Generator) -> None:
    """The sweep expired exactly the decayed listings, everywhere it should have."""
    registry, expect = runtime.registry, len(case.decayed)
    problems: list[str] = []
    if expired != expect:
        problems.append(f"expired {expired:,}, expected {expect:,}")
    if len(registry.index) != listings - expect:
        problems.append(f"index holds {len(registry.index):,}, expected {listings - expect:,}")
    with runtime.engine.connect() as conn:
        sql = conn.exec_driver_sql

        def count(query: str, *params: object) -> int:
            return int(sql(query, params).scalar_one())

        counts = {
            "listings in the store": (count("SELECT count(*) FROM listings"), listings - expect),
            "reports retired as expired": (
                count("SELECT count(*) FROM reports WHERE withdrawn_reason = ?", RemovalReason.EXPIRED.value),
                expect,
            ),
            "expired changes in the feed": (
                count("SELECT count(*) FROM changes WHERE kind = ?", KIND_CODES[ChangeKind.EXPIRED]),
                expect,
            ),
            "expiry audit entries": (
                count("SELECT count(*) FROM audit WHERE action = ?", RemovalReason.EXPIRED.value),
                expect,
            ),
        }
        for what, (got, want) in counts.items():
            if got != want:
                problems.append(f"{what}: {got:,}, expected {want:,}")
        sample = rng.choice(case.decayed, min(5, expect), replace=False).tolist() if expect else []
        for n in sample:
            row = sql("SELECT withdrawn_ms, withdrawn_reason FROM reports WHERE number = ?", (n,)).one()
            if tuple(row) != (case.clock_ms, RemovalReason.EXPIRED.value) or n in registry.index:
                problems.append(f"+{n}: report {tuple(row)}, in the index: {n in registry.index}")
        kept = rng.choice(case.kept, min(5, len(case.kept)), replace=False).tolist() if len(case.kept) else []
        for n in kept:
            row = sql("SELECT withdrawn_ms FROM reports WHERE number = ?", (n,)).one()
            if row[0] is not None or n not in registry.index:
                problems.append(f"+{n} should still be listed")
    if problems:
        raise RuntimeError(f"sweep ({case.name}) went wrong: " + "; ".join(problems))


def time_sweep(data: SweepData, case: SweepCase, workdir: Path, rng: np.random.Generator) -> tuple[float, float]:
    """Seconds of the candidate scan alone and of the whole sweep, on a fresh copy of the store."""
    db = fresh_copy(data, workdir, "sweep.db")
    runtime = Runtime.open(Settings(database_url=f"sqlite:///{db}"), clock=FixedClock(case.clock_ms))
    try:
        registry = runtime.registry
        scorer = registry.scorer
        if len(registry.index) != data.listings:
            raise RuntimeError(f"index loaded {len(registry.index):,} listings, expected {data.listings:,}")
        gc.collect()
        started = time.perf_counter()
        columns = registry.index.snapshot()
        score, threshold = scorer.score_many(
            columns["categories"], columns["last_ms"], columns["weight"], columns["flags"], case.clock_ms
        )
        candidates = columns["number"][score < threshold]
        scan = time.perf_counter() - started
        if not np.array_equal(candidates, case.decayed):
            raise RuntimeError(f"scan found {len(candidates):,} candidates, expected {len(case.decayed):,}")
        del columns, score, threshold, candidates
        gc.collect()
        started = time.perf_counter()
        expired = registry.expire_decayed(scorer)
        sweep = time.perf_counter() - started
        check_sweep(runtime, case, data.listings, expired, rng)
    finally:
        runtime.close()
        remove_db(db)
    return scan, sweep


def time_naive(data: SweepData, case: SweepCase, workdir: Path) -> float:
    """Seconds of a bare UPDATE reports + DELETE listings over the same numbers (no feed, no audit, no re-check)."""
    db = fresh_copy(data, workdir, "naive.db")
    runtime = Runtime.open(Settings(database_url=f"sqlite:///{db}"), load_index=False)
    numbers = case.decayed.tolist()
    updated = 0
    try:
        gc.collect()
        started = time.perf_counter()
        for start in range(0, len(numbers), SWEEP_CHUNK):
            with runtime.engine.begin() as conn:
                mark = placeholder(conn)
                chunk = numbers[start : start + SWEEP_CHUNK]
                for at in range(0, len(chunk), IN_CHUNK):
                    part = tuple(chunk[at : at + IN_CHUNK])
                    marks = ", ".join([mark] * len(part))
                    updated += execute(
                        conn,
                        f"UPDATE reports SET withdrawn_ms = {mark}, withdrawn_reason = {mark}, withdrawn_by = NULL "
                        f"WHERE withdrawn_ms IS NULL AND number IN ({marks})",
                        (case.clock_ms, RemovalReason.EXPIRED.value, *part),
                    )
                    execute(conn, f"DELETE FROM listings WHERE number IN ({marks})", part)
        elapsed = time.perf_counter() - started
    finally:
        runtime.close()
        remove_db(db)
    if updated != len(numbers):
        raise RuntimeError(f"naive reference retired {updated:,} reports, expected {len(numbers):,}")
    return elapsed


# --------------------------------------------------------------------------------------------------------------------
# main


def result_rows(
    args: argparse.Namespace, lookups: LookupFigures, data: SweepData, sweeps: list[SweepFigures]
) -> list[Row]:
    def ratio_row(name: str, value: float, unit: str, ref_name: str, ref: float, target: bool) -> Row:
        ratio = value / ref
        met = ("yes" if ratio <= RATIO_TARGET else "NO") if target else "-"
        return Row(
            name,
            f"{fmt(value)} {unit}",
            ref_name,
            fmt(ref),
            ratio,
            f"<= {RATIO_TARGET:.2f} x ref" if target else "-",
            met,
        )

    batch = f"{args.batch:,}"
    decay, plain = median(lookups.batch_decay), median(lookups.batch_plain)
    rows = [
        ratio_row(
            f"batch lookup of {batch} (lookup_batch + to_json), with decay",
            decay,
            "ms",
            "same pipeline without the scoring step",
            plain,
            True,
        ),
        Row("  ratio within each run (median)", "-", "-", "-", median(lookups.batch_ratio)),
        ratio_row(
            "  with decay, decayed shown: the same answers, rows and fields",
            median(lookups.batch_shown),
            "ms",
            "same, scores left at their base (no decay)",
            median(lookups.batch_static),
            True,
        ),
        Row("    ratio within each run (median)", "-", "-", "-", median(lookups.batch_static_ratio)),
        Row(
            "  scoring step alone (assess_many)",
            f"{fmt(median(lookups.batch_assess))} ms",
            "share of the lookup with decay",
            f"{fmt(decay)} ms",
            median(lookups.batch_assess) / decay,
        ),
        ratio_row(
            "  with decay, decayed listings shown (include_decayed)",
            median(lookups.batch_shown),
            "ms",
            "same pipeline without the scoring step",
            plain,
            False,
        ),
        ratio_row(
            f"single lookup, {args.single:,} calls (assess + lookup_answer + orjson)",
            median(lookups.single_decay),
            "us/call",
            "lookup + listing_view (no score) + orjson",
            median(lookups.single_plain),
            True,
        ),
        Row("  ratio within each run (median)", "-", "-", "-", median(lookups.single_ratio)),
        ratio_row(
            "  with decay, decayed listings shown (include_decayed)",
            median(lookups.single_shown),
            "us/call",
            "lookup + listing_view (no score) + orjson",
            median(lookups.single_plain),
            False,
        ),
    ]
    target_s = SWEEP_TARGET_S * data.listings / 1_000_000
    for case, f in zip(data.cases, sweeps, strict=True):
        sweep, scan, naive = median(f.sweep), median(f.scan), median(f.naive)
        rows.append(
            Row(
                f"expiry sweep of {data.listings:,} listings, {case.name} ({len(case.decayed):,} expired)",
                f"{fmt(sweep)} s",
                "naive SQL UPDATE reports + DELETE listings",
                f"{fmt(naive)} s",
                sweep / naive,
                f"<= {SWEEP_TARGET_S:g} s per 1M listings",
                "yes" if sweep <= target_s else "NO",
            )
        )
        rows.append(
            Row(
                "  candidate scan alone (snapshot + score_many)",
                f"{fmt(scan)} s",
                "share of the sweep",
                f"{fmt(sweep)} s",
                scan / sweep,
            )
        )
    rows.append(
        Row(
            "owner-change import of 1,000,000 rows",
            "see benchmarks/bench_reassigned.py",
            "-",
            "-",
            None,
            f"<= {REASSIGNED_TARGET_S:g} s",
            "(there)",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=1_000_000, help="listings (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are printed (default 3)")
    parser.add_argument("--batch", type=int, default=10_000, help="numbers per batch lookup (default 10,000)")
    parser.add_argument("--repeats", type=int, default=60, help="batches timed per variant per run (default 60)")
    parser.add_argument("--single", type=int, default=100_000, help="single lookups per variant per run (100,000)")
    parser.add_argument(
        "--spread-days", type=float, default=30.0, help="lookup index: last reports spread over these days (30)"
    )
    parser.add_argument("--decayed-share", type=float, default=0.1, help="typical sweep case: share decayed (0.1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if 2 * args.listings < max(args.batch, args.single):
        parser.error("--listings must be at least half of --batch and of --single (half of them are listed)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on SIGTERM too

    seed = 20_261_121
    workdir = Path(tempfile.mkdtemp(prefix="ringfence-bench-smart-"))
    lookups = LookupFigures()
    bench: LookupBench | None = None
    try:
        machine = machine_line()
        print(f"machine: {machine}")
        print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; work dir {workdir}", flush=True)
        bench = LookupBench(workdir, args.listings, args.batch, 10, args.single, args.spread_days, seed)
        data = build_sweep_store(workdir, args.listings, args.decayed_share, seed)
        sweeps = [SweepFigures() for _ in data.cases]
        rng = np.random.default_rng(seed + 2)
        for run in range(1, args.runs + 1):
            print(f"\n--- run {run}/{args.runs}", flush=True)
            bench.run(lookups, args.repeats)
            for case, f in zip(data.cases, sweeps, strict=True):
                scan, sweep = time_sweep(data, case, workdir, rng)
                naive = time_naive(data, case, workdir)
                f.scan.append(scan)
                f.sweep.append(sweep)
                f.naive.append(naive)
                print(
                    f"sweep, {case.name}: {sweep:.2f} s ({len(case.decayed):,} expired); candidate scan {scan:.3f} s;"
                    f" naive UPDATE + DELETE {naive:.2f} s",
                    flush=True,
                )
        decayed_percent = bench.decayed_percent
        bench.close()
        bench = None

        print(f"\nmachine: {machine}")
        print(
            f"{args.listings:,} listings, last reports spread over {args.spread_days:g} days; batches of "
            f"{args.batch:,} (half listed; {decayed_percent:.0f}% of the listings found have decayed), "
            f"{args.repeats} per variant per run; {args.single:,} single lookups per variant per run; medians of "
            f"{args.runs} runs. Command: `{' '.join(['python', 'benchmarks/bench_smart.py', *sys.argv[1:]])}`\n"
        )
        print(table(result_rows(args, lookups, data, sweeps), args.runs))
        print("\nPer run:")
        print("  batch with / without decay (ms): " + per_run(lookups.batch_decay, lookups.batch_plain))
        print("  single with / without decay (us): " + per_run(lookups.single_decay, lookups.single_plain))
        for case, f in zip(data.cases, sweeps, strict=True):
            print(f"  sweep, {case.name} / naive (s): " + per_run(f.sweep, f.naive))
        print(
            f"\nThe owner-change import (1,000,000 rows, target <= {REASSIGNED_TARGET_S:g} s) is measured by "
            "benchmarks/bench_reassigned.py: `python benchmarks/bench_reassigned.py --runs 3`."
        )
    finally:
        if bench is not None:
            bench.close()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def per_run(values: Sequence[float], references: Sequence[float]) -> str:
    return " / ".join(f"{fmt(v)} vs {fmt(r)}" for v, r in zip(values, references, strict=True))


if __name__ == "__main__":
    main()
