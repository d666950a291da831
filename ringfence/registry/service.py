"""The registry service: report, withdraw, remove, look up. It knows nothing of HTTP or files.

Writes go to the store first (one transaction), then to the in-memory :class:`ListingIndex`; lookups read only the
index. Writes are serialised by one lock per process, which is what SQLite does anyway and keeps the distinct-reporter
count exact.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, select, update

from ringfence.clock import Clock
from ringfence.errors import Conflict, Forbidden, NotFound, RingfenceError
from ringfence.registry.index import Listing, ListingIndex, LookupResult
from ringfence.registry.models import CATEGORY_BITS, Category, Member, NewReport, Report, Role
from ringfence.registry.writes import fold_listings, insert_reports
from ringfence.store.tables import listings, reports

__all__ = ["BulkOutcome", "RegistryService", "RowError"]

_LOAD_CHUNK = 200_000


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


def _new_ids(now_ms: int, count: int) -> list[str]:
    """Time-ordered report ids: 12 hex digits of ms then 20 random ones (keeps the primary key append-mostly)."""
    stamp = f"{now_ms:012x}"
    noise = os.urandom(10 * count).hex()
    return [stamp + noise[20 * i : 20 * i + 20] for i in range(count)]


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
    return (stored.number, stored.category, stored.occurred_ms, stored.note) == (
        new.number,
        new.category,
        new.occurred_ms,
        new.note,
    )


def _report_id_conflict(report_id: str) -> Conflict:
    return Conflict(
        f"report_id {report_id!r} was already used for a different report",
        code="report_id_conflict",
        details={"report_id": report_id},
    )


class RegistryService:
    def __init__(self, engine: Engine, clock: Clock, index: ListingIndex | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.index = index if index is not None else ListingIndex()
        self._write_lock = threading.Lock()

    # --- start-up ------------------------------------------------------------------------------------------
    def load_index(self) -> int:
        """Fill the index from the store's listings (at start-up); returns how many were loaded."""
        columns = (
            listings.c.number,
            listings.c.first_ms,
            listings.c.last_ms,
            listings.c.report_count,
            listings.c.reporter_count,
            listings.c.categories,
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=_LOAD_CHUNK).execute(select(*columns))
            for chunk in result.partitions():
                array = np.array(chunk, dtype=np.int64).reshape(-1, 6)
                self.index.put_many(*(array[:, i] for i in range(6)))
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
        before: str | None = None,
    ) -> list[Report]:
        """Reports, newest first: a member's own (``member``), or any (admins), optionally for one number.

        ``before`` is a report id from a previous page (ids are time-ordered).
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
                select(
                    listings.c.number,
                    listings.c.first_ms,
                    listings.c.last_ms,
                    listings.c.report_count,
                    listings.c.reporter_count,
                    listings.c.categories,
                ).order_by(listings.c.number)
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

        Chunks are written one after another by a writer thread while the caller's thread produces the next chunk
        (parsing a file, typically): the database's time and the parser's overlap.
        """
        total = BulkOutcome()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ringfence-bulk") as writer:
            pending: Future[tuple[BulkOutcome, list[Report]]] | None = None
            for batch, lines in _chunked(items, chunk):
                if pending is not None:
                    self._merge(total, pending.result()[0])
                pending = writer.submit(self._write_batch, member, batch, lines)
            if pending is not None:
                self._merge(total, pending.result()[0])
        return total

    def withdraw(self, member: Member, ref: str) -> Report:
        """Withdraw one of the member's own reports, by ringfence's id or the member's report_id (idempotent)."""
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                row = conn.execute(
                    select(reports).where(
                        reports.c.member_id == member.id, (reports.c.id == ref) | (reports.c.report_id == ref)
                    )
                ).first()
                if row is None:  # another member's report is as invisible as a missing one
                    raise NotFound(f"you have no report {ref!r}", code="report_not_found", details={"id": ref})
                if row.withdrawn_ms is not None:
                    return _report(row)
                conn.execute(
                    update(reports)
                    .where(reports.c.id == row.id)
                    .values(withdrawn_ms=now, withdrawn_reason="withdrawn", withdrawn_by=member.id)
                )
                listing = self._recompute(conn, row.number, now)
            self._reflect(row.number, listing)
        return self._get_report(row.id)

    def remove_listing(self, admin: Member, number: int) -> int:
        """An admin takes a number off the registry: all its standing reports are removed (kept as history)."""
        if not admin.role.allows(Role.ADMIN):
            raise Forbidden("only an admin can remove a listing", code="forbidden_role")
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                removed = conn.execute(
                    update(reports)
                    .where(reports.c.number == number, reports.c.withdrawn_ms.is_(None))
                    .values(withdrawn_ms=now, withdrawn_reason="removed", withdrawn_by=admin.id)
                ).rowcount
                conn.execute(delete(listings).where(listings.c.number == number))
            self.index.remove(number)
        if not removed:
            raise NotFound(f"+{number} is not listed", code="not_listed", details={"number": f"+{number}"})
        return int(removed)

    def _get_report(self, report_id: str) -> Report:
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

    def _reflect(self, number: int, listing: Listing | None) -> None:
        if listing is None:
            self.index.remove(number)
        else:
            self.index.put(listing)

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
                fresh = self._drop_repeats(conn, member, batch, lines, outcome, stored if collect else None)
                if not fresh:
                    return outcome, stored
                already = self._numbers_reported_by(conn, member, {r.number for r in fresh})
                ids = _new_ids(now, len(fresh))
                made = [
                    Report(ids[i], member.id, r.number, r.category, r.occurred_ms, now, r.note, r.report_id)
                    for i, r in enumerate(fresh)
                ]
                insert_reports(
                    conn,
                    [
                        (r.id, r.member_id, r.number, r.category.value, r.occurred_ms, now, r.note, r.report_id)
                        for r in made
                    ],
                )
                folded = fold_listings(conn, _additions(fresh, already, now))
            array = np.array(folded, dtype=np.int64).reshape(-1, 6)
            self.index.put_many(*(array[:, i] for i in range(6)))
        outcome.accepted = len(made)
        if collect:
            stored.extend(made)
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

    @staticmethod
    def _numbers_reported_by(conn: Connection, member: Member, numbers: set[int]) -> set[int]:
        """Which of ``numbers`` the member already has a standing report on (it is then no new reporter)."""
        ordered = sorted(numbers)
        found: set[int] = set()
        for start in range(0, len(ordered), 500):
            found.update(
                conn.execute(
                    select(reports.c.number)
                    .where(
                        reports.c.member_id == member.id,
                        reports.c.number.in_(ordered[start : start + 500]),
                        reports.c.withdrawn_ms.is_(None),
                    )
                    .distinct()
                ).scalars()
            )
        return found


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
    """Per number: what the fresh reports of one member add to its listing (see writes.fold_listings)."""
    rows: dict[int, list[int]] = {}
    bits = CATEGORY_BITS
    for r in fresh:
        row = rows.get(r.number)
        if row is None:
            rows[r.number] = [
                r.number,
                r.occurred_ms,
                r.occurred_ms,
                1,
                0 if r.number in already else 1,
                bits[r.category],
                now,
            ]
        else:
            if r.occurred_ms < row[1]:
                row[1] = r.occurred_ms
            if r.occurred_ms > row[2]:
                row[2] = r.occurred_ms
            row[3] += 1
            row[5] |= bits[r.category]
    return [tuple(row) for row in rows.values()]
