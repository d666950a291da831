"""The registry service: report, withdraw, remove, look up. It knows nothing of HTTP or files.

Writes go to the store first (one transaction), then to the in-memory :class:`ListingIndex`; lookups read only the
index. Writes are serialised by one lock per process, which is what SQLite does anyway and keeps the distinct-reporter
count exact.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, select, update

from ringfence.clock import Clock
from ringfence.errors import Conflict, Forbidden, NotFound, RingfenceError
from ringfence.feed.models import ChangeKind
from ringfence.feed.service import ChangeFeed
from ringfence.registry.index import Listing, ListingIndex, LookupResult
from ringfence.registry.models import CATEGORY_BITS, Category, Member, NewReport, Report, Role
from ringfence.registry.writes import REPORT_COLUMNS, fold_listings, insert_reports, numbers_reported_by
from ringfence.store.tables import listings, reports

__all__ = ["BulkOutcome", "RegistryService", "RowError"]

_LOAD_CHUNK = 50_000
#: A listing's columns in :class:`Listing` order.
_LISTING_COLUMNS = (
    listings.c.number,
    listings.c.first_ms,
    listings.c.last_ms,
    listings.c.report_count,
    listings.c.reporter_count,
    listings.c.categories,
)


@dataclass(frozen=True, slots=True)
class RowError:
    """A row of a bulk submission that was not stored: its position (line number for files) and why."""

    line: int
    error: RingfenceError


@dataclass(slots=True)
class BulkOutcome:
    accepted: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)


def _report(row: object) -> Report:
    r: object = row
    return Report(
        id=r.id,  # type: ignore[attr-defined]
        member_id=r.member_id,  # type: ignore[attr-defined]
        number=r.number,  # type: ignore[attr-defined]
        category=Category(r.category),  # type: ignore[attr-defined]
        occurred_ms=r.occurred_ms,  # type: ignore[attr-defined]
        received_ms=r.received_ms,  # type: ignore[attr-defined]
        note=r.note,  # type: ignore[attr-defined]
        report_id=r.report_id,  # type: ignore[attr-defined]
        withdrawn_ms=r.withdrawn_ms,  # type: ignore[attr-defined]
        withdrawn_reason=r.withdrawn_reason,  # type: ignore[attr-defined]
    )


def _same(stored: Report, new: NewReport) -> bool:
    """Is ``new`` a retry of ``stored``? A retry that leaves occurred_at out (so it defaults to the time of receipt,
    which differs per attempt) matches on the rest."""
    same_time = stored.occurred_ms == new.occurred_ms or not new.occurred_given
    return same_time and (stored.number, stored.category, stored.note) == (new.number, new.category, new.note)


def _report_id_conflict(report_id: str) -> Conflict:
    return Conflict(
        f"report_id {report_id!r} was already used for a different report",
        code="report_id_conflict",
        details={"report_id": report_id},
    )


class RegistryService:
    def __init__(self, engine: Engine, clock: Clock, feed: ChangeFeed | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.feed = feed if feed is not None else ChangeFeed(engine, ListingIndex())
        self.index = self.feed.index
        self._write_lock = threading.Lock()

    # --- start-up ------------------------------------------------------------------------------------------
    def load_index(self) -> int:
        """Fill the index from the store's listings (at start-up); returns how many were loaded.

        Rows come straight from the driver in chunks and become int64 arrays without a Python object per listing
        surviving the chunk, so loading a million listings takes seconds and leaves little garbage behind. The feed's
        head is read first: a change committed while the listings are read is applied again by the feed's next
        catch-up, which leaves the newest state in place.
        """
        head = self.feed.log.head()
        with self.engine.connect() as conn:
            cursor = conn.exec_driver_sql(
                "SELECT number, first_ms, last_ms, report_count, reporter_count, categories FROM listings"
            ).cursor
            assert cursor is not None
            while rows := cursor.fetchmany(_LOAD_CHUNK):
                flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * 6)
                del rows
                array = flat.reshape(-1, 6)
                self.index.put_many(*(array[:, i] for i in range(6)))
        self.feed.start_at(head)
        return len(self.index)

    # --- reads ---------------------------------------------------------------------------------------------
    def lookup(self, number: int) -> Listing | None:
        return self.index.get(number)

    def lookup_many(self, numbers: np.ndarray) -> LookupResult:
        return self.index.lookup_many(numbers)

    def reports(
        self,
        *,
        member: Member | None = None,
        number: int | None = None,
        include_withdrawn: bool = False,
        limit: int = 100,
        before: int | None = None,
    ) -> list[Report]:
        """Reports, newest first: a member's own (``member``), or any (admins), optionally for one number.

        ``before`` is a report id from a previous page (ids grow in arrival order).
        """
        query = select(reports)
        if member is not None:
            query = query.where(reports.c.member_id == member.id)
        if number is not None:
            query = query.where(reports.c.number == number)
        if not include_withdrawn:
            query = query.where(reports.c.withdrawn_ms.is_(None))
        if before is not None:
            query = query.where(reports.c.id < before)
        query = query.order_by(reports.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_report(row) for row in conn.execute(query)]

    def listing_count(self) -> int:
        """How many numbers the store lists (the index of a running server may hold them; this asks the store)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(listings)).scalar_one())

    def iter_listings(self, batch: int = 10_000) -> Iterator[Listing]:
        """Every listing, ordered by number, streamed from the store (exports)."""
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(
                select(*_LISTING_COLUMNS).order_by(listings.c.number)
            )
            for row in result:
                yield Listing(*row)

    # --- writes --------------------------------------------------------------------------------------------
    def report(self, member: Member, new: NewReport) -> tuple[Report, bool]:
        """Store one report; returns it and whether it was new (False: an idempotent retry of ``report_id``)."""
        outcome, stored = self._write_batch(member, [new], collect=True)
        if outcome.errors:
            raise outcome.errors[0].error
        return stored[0], outcome.accepted == 1

    def report_many(self, member: Member, items: Iterable[tuple[int, NewReport]], chunk: int = 5_000) -> BulkOutcome:
        """Store many reports of one member; ``items`` pairs each report with its line number for errors.

        Each chunk is one transaction. (A writer thread overlapping the parsing of the next chunk was measured
        slower: both halves are mostly Python and contend for the GIL.)
        """
        total = BulkOutcome()
        with _collector_paused():
            for batch, lines in _chunked(items, chunk):
                self._merge(total, self._write_batch(member, batch, lines)[0])
        return total

    def withdraw(self, member: Member, ref: str | int) -> Report:
        """Withdraw one of the member's own reports, by ringfence's id or the member's report_id (idempotent)."""
        ref = str(ref)
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                self.feed.log.lock(conn)
                own = select(reports).where(reports.c.member_id == member.id)
                row = conn.execute(own.where(reports.c.report_id == ref)).first()
                if row is None and ref.isdigit() and len(ref) < 19:
                    row = conn.execute(own.where(reports.c.id == int(ref))).first()
                if row is None:  # another member's report is as invisible as a missing one
                    raise NotFound(f"you have no report {ref!r}", code="report_not_found", details={"id": ref})
                if row.withdrawn_ms is not None:
                    return _report(row)
                before = self._listing_row(conn, row.number)
                conn.execute(
                    update(reports)
                    .where(reports.c.id == row.id)
                    .values(withdrawn_ms=now, withdrawn_reason="withdrawn", withdrawn_by=member.id)
                )
                listing = self._recompute(conn, row.number, now)
                state = listing if listing is not None else before
                batch = (
                    self.feed.log.append(conn, now, ChangeKind.WITHDRAWN, [tuple(state)], listing is not None)
                    if state is not None
                    else None
                )
            if batch is not None:
                self.feed.committed(batch)
        return self._get_report(row.id)

    def remove_listing(self, admin: Member, number: int) -> int:
        """An admin takes a number off the registry: all its standing reports are removed (kept as history)."""
        if not admin.role.allows(Role.ADMIN):
            raise Forbidden("only an admin can remove a listing", code="forbidden_role")
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                self.feed.log.lock(conn)
                removed = conn.execute(
                    update(reports)
                    .where(reports.c.number == number, reports.c.withdrawn_ms.is_(None))
                    .values(withdrawn_ms=now, withdrawn_reason="removed", withdrawn_by=admin.id)
                ).rowcount
                before = self._listing_row(conn, number)
                conn.execute(delete(listings).where(listings.c.number == number))
                batch = (
                    self.feed.log.append(conn, now, ChangeKind.REMOVED, [tuple(before)], False)
                    if before is not None
                    else None
                )
            if batch is not None:
                self.feed.committed(batch)
        if not removed:
            raise NotFound(f"+{number} is not listed", code="not_listed", details={"number": f"+{number}"})
        return int(removed)

    def _get_report(self, report_id: int) -> Report:
        with self.engine.connect() as conn:
            return _report(conn.execute(select(reports).where(reports.c.id == report_id)).one())

    def _recompute(self, conn: Connection, number: int, now: int) -> Listing | None:
        """Rebuild one listing from its standing reports (after a withdrawal); None when none stand."""
        rows = conn.execute(
            select(reports.c.member_id, reports.c.category, reports.c.occurred_ms).where(
                reports.c.number == number, reports.c.withdrawn_ms.is_(None)
            )
        ).all()
        if not rows:
            conn.execute(delete(listings).where(listings.c.number == number))
            return None
        categories = 0
        for row in rows:
            categories |= CATEGORY_BITS[Category(row.category)]
        listing = Listing(
            number,
            min(r.occurred_ms for r in rows),
            max(r.occurred_ms for r in rows),
            len(rows),
            len({r.member_id for r in rows}),
            categories,
        )
        conn.execute(
            update(listings)
            .where(listings.c.number == number)
            .values(
                first_ms=listing.first_ms,
                last_ms=listing.last_ms,
                report_count=listing.report_count,
                reporter_count=listing.reporter_count,
                categories=listing.categories,
                updated_ms=now,
            )
        )
        return listing

    @staticmethod
    def _listing_row(conn: Connection, number: int) -> Listing | None:
        row = conn.execute(select(*_LISTING_COLUMNS).where(listings.c.number == number)).first()
        return None if row is None else Listing(*row)

    @staticmethod
    def _merge(total: BulkOutcome, part: BulkOutcome) -> None:
        total.accepted += part.accepted
        total.duplicates += part.duplicates
        total.errors.extend(part.errors)

    def _write_batch(
        self, member: Member, batch: list[NewReport], lines: list[int] | None = None, collect: bool = False
    ) -> tuple[BulkOutcome, list[Report]]:
        outcome = BulkOutcome()
        lines = lines if lines is not None else list(range(1, len(batch) + 1))
        stored: list[Report] = []
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                self.feed.log.lock(conn)
                fresh = self._drop_repeats(conn, member, batch, lines, outcome, stored if collect else None)
                if not fresh:
                    return outcome, stored
                already = numbers_reported_by(conn, member.id, {r.number for r in fresh})
                rows = [(member.id, r.number, r.category.value, r.occurred_ms, now, r.note, r.report_id) for r in fresh]
                if collect:  # the caller wants the stored reports, ids included: insert one by one
                    for row, r in zip(rows, fresh, strict=True):
                        new_id = conn.execute(
                            reports.insert().values(dict(zip(REPORT_COLUMNS, row, strict=True))).returning(reports.c.id)
                        ).scalar_one()
                        stored.append(
                            Report(new_id, member.id, r.number, r.category, r.occurred_ms, now, r.note, r.report_id)
                        )
                else:
                    insert_reports(conn, rows)
                additions = _additions(fresh, already, now)
                folded = fold_listings(conn, additions)
                added = {row[0]: row[3] for row in additions}
                kinds = [ChangeKind.LISTED if row[3] == added[row[0]] else ChangeKind.REREPORTED for row in folded]
                changes = self.feed.log.append(conn, now, kinds, folded)
            self.feed.committed(changes)
        outcome.accepted = len(rows)
        return outcome, stored

    def _drop_repeats(
        self,
        conn: Connection,
        member: Member,
        batch: list[NewReport],
        lines: list[int],
        outcome: BulkOutcome,
        stored: list[Report] | None,
    ) -> list[NewReport]:
        """The reports of ``batch`` not yet stored; retries of a report_id count as duplicates, misuses as errors."""
        refs = [r.report_id for r in batch if r.report_id is not None]
        if not refs:
            return batch
        existing: dict[str, Report] = {}
        for start in range(0, len(refs), 500):
            part = refs[start : start + 500]
            for row in conn.execute(
                select(reports).where(reports.c.member_id == member.id, reports.c.report_id.in_(part))
            ):
                existing[row.report_id] = _report(row)
        fresh: list[NewReport] = []
        seen: dict[str, NewReport] = {}
        for line, new in zip(lines, batch, strict=True):
            ref = new.report_id
            if ref is None:
                fresh.append(new)
                continue
            before = existing.get(ref)
            earlier = seen.get(ref)
            if before is not None and _same(before, new):
                outcome.duplicates += 1
                if stored is not None:
                    stored.append(before)
            elif earlier is not None and earlier == new:
                outcome.duplicates += 1
            elif before is not None or earlier is not None:
                outcome.errors.append(RowError(line, _report_id_conflict(ref)))
            else:
                seen[ref] = new
                fresh.append(new)
        return fresh


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Bulk writes allocate millions of short-lived tuples, none in reference cycles; left on, the cyclic garbage
    collector would walk the heap again and again (13% of an import's time, measured). Paused for the bulk write,
    it is re-enabled after, by whichever bulk write paused it."""
    paused_here = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused_here:
            gc.enable()


def _chunked(items: Iterable[tuple[int, NewReport]], size: int) -> Iterator[tuple[list[NewReport], list[int]]]:
    batch: list[NewReport] = []
    lines: list[int] = []
    for line, item in items:
        batch.append(item)
        lines.append(line)
        if len(batch) >= size:
            yield batch, lines
            batch, lines = [], []
    if batch:
        yield batch, lines


def _additions(fresh: list[NewReport], already: set[int], now: int) -> list[tuple[int, ...]]:
    """Per number: what the fresh reports of one member add to its listing (see writes.fold_listings).

    Computed over arrays: sort by number, then reduce each run of equal numbers (min, max, count, bit-or)."""
    size = len(fresh)
    numbers = np.fromiter((r.number for r in fresh), np.int64, size)
    occurred = np.fromiter((r.occurred_ms for r in fresh), np.int64, size)
    bits = np.fromiter((CATEGORY_BITS[r.category] for r in fresh), np.int64, size)
    order = np.argsort(numbers, kind="stable")
    numbers, occurred, bits = numbers[order], occurred[order], bits[order]
    starts = np.flatnonzero(np.r_[True, numbers[1:] != numbers[:-1]])
    unique = numbers[starts]
    first = np.minimum.reduceat(occurred, starts)
    last = np.maximum.reduceat(occurred, starts)
    count = np.diff(np.r_[starts, size])
    categories = np.bitwise_or.reduceat(bits, starts)
    known = np.fromiter(already, np.int64, len(already))
    new_reporter = (~np.isin(unique, known)).astype(np.int64)
    stamp = np.full(unique.shape, now, np.int64)
    return list(zip(*(c.tolist() for c in (unique, first, last, count, new_reporter, categories, stamp)), strict=True))
