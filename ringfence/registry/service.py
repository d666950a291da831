"""The registry service: report, withdraw, remove, look up. It knows nothing of HTTP or files.

Writes go to the store first (one transaction), then to the in-memory :class:`ListingIndex`; lookups read only the
index. Writes are serialised by one lock per process, which is what SQLite does anyway and keeps the distinct-reporter
count exact.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, func, select, update

from ringfence.clock import Clock
from ringfence.errors import Conflict, Forbidden, NotFound, RingfenceError
from ringfence.feed.models import ChangeBatch, ChangeKind
from ringfence.feed.service import ChangeFeed
from ringfence.registry import reputation
from ringfence.registry.assess import DEFAULT_OPTIONS, Assessment, LookupOptions, assess
from ringfence.registry.audit import AuditLog
from ringfence.registry.disconnects import Disconnect, DisconnectOutcome, plan_disconnects
from ringfence.registry.index import Listing, ListingIndex, LookupResult
from ringfence.registry.models import (
    CATEGORY_BITS,
    FLAG_PINNED,
    FLAG_PORTED,
    Category,
    Member,
    NewReport,
    RemovalReason,
    Report,
    Role,
)
from ringfence.registry.scoring import Scorer
from ringfence.registry.writes import (
    REPORT_COLUMNS,
    confirmed_reporters,
    fold_listings,
    insert_reports,
    numbers_reported_by,
)
from ringfence.store.driver import execute, fetch, placeholder
from ringfence.store.tables import listings, reports

__all__ = ["BulkOutcome", "RegistryService", "Retired", "RowError"]

_IN_CHUNK = 5_000  # numbers per IN (...) list: under SQLite's and PostgreSQL's bound-parameter limits
_KIND_OF: dict[RemovalReason, ChangeKind] = {
    RemovalReason.WITHDRAWN: ChangeKind.WITHDRAWN,
    RemovalReason.REMOVED: ChangeKind.REMOVED,
    RemovalReason.EXPIRED: ChangeKind.EXPIRED,
    RemovalReason.OWNER_CHANGE: ChangeKind.OWNER_CHANGE,
    RemovalReason.DISPUTE: ChangeKind.DISPUTE,
}

_LOAD_CHUNK = 50_000
#: A listing's columns in :class:`Listing` order.
_LISTING_COLUMNS = (
    listings.c.number,
    listings.c.first_ms,
    listings.c.last_ms,
    listings.c.report_count,
    listings.c.reporter_count,
    listings.c.categories,
    listings.c.weight,
    listings.c.flags,
)
_LISTING_SQL = "number, first_ms, last_ms, report_count, reporter_count, categories, weight, flags"


@dataclass(frozen=True, slots=True)
class RowError:
    """A row of a bulk submission that was not stored: its position (line number for files) and why."""

    line: int
    error: RingfenceError


@dataclass(frozen=True, slots=True)
class Retired:
    """What a retirement did: the listing before and after (None: not listed), how many reports stopped standing
    and whose they were."""

    before: Listing | None
    after: Listing | None
    reports: int
    reporters: frozenset[int]


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
    def __init__(
        self, engine: Engine, clock: Clock, feed: ChangeFeed | None = None, scorer: Scorer | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.scorer = scorer or Scorer()
        self.audit = AuditLog(engine)
        #: Refuses reports of some numbers (the never-list): position in a batch -> why. Set by the runtime.
        self.guard: Callable[[npt.NDArray[np.int64]], dict[int, RingfenceError]] | None = None
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
            cursor = conn.exec_driver_sql(f"SELECT {_LISTING_SQL} FROM listings").cursor
            assert cursor is not None
            while rows := cursor.fetchmany(_LOAD_CHUNK):
                flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * 8)
                del rows
                array = flat.reshape(-1, 8)
                self.index.put_many(*(array[:, i] for i in range(8)))
        self.feed.start_at(head)
        return len(self.index)

    # --- reads ---------------------------------------------------------------------------------------------
    def lookup(self, number: int) -> Listing | None:
        return self.index.get(number)

    def lookup_many(self, numbers: np.ndarray) -> LookupResult:
        return self.index.lookup_many(numbers)

    def listed(self, number: int) -> Listing | None:
        """The listing of ``number`` when it counts as listed now (not decayed), for answers without a score."""
        found = self.assess(number)
        return found.listing if found is not None and found.listed else None

    def assess(self, number: int, options: LookupOptions = DEFAULT_OPTIONS) -> Assessment | None:
        """The listing of ``number`` as a lookup now sees it (score, decayed or listed); None if not in the index."""
        return assess(self.scorer, self.index.get(number), self.clock.now_ms(), options)

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
                conn.execute(
                    update(reports)
                    .where(reports.c.id == row.id)
                    .values(withdrawn_ms=now, withdrawn_reason=RemovalReason.WITHDRAWN.value, withdrawn_by=member.id)
                )
                before = self._listings(conn, [row.number]).get(row.number)
                after = self._rebuild(conn, [row.number], now).get(row.number)
                batch = self._record(conn, now, member.id, RemovalReason.WITHDRAWN, None, [(row.number, before, after)])
            self.feed.committed(batch)
        return self._get_report(row.id)

    def remove_listing(self, admin: Member, number: int) -> int:
        """An admin takes a number off the registry: all its standing reports are removed (kept as history)."""
        if not admin.role.allows(Role.ADMIN):
            raise Forbidden("only an admin can remove a listing", code="forbidden_role")
        retired = self.retire(admin, number, reason=RemovalReason.REMOVED)
        if not retired.reports:
            raise NotFound(f"+{number} is not listed", code="not_listed", details={"number": f"+{number}"})
        return retired.reports

    def expire(self, admin: Member, number: int, note: str | None = None) -> Retired:
        """An admin expires a listing outright (as decay would): its reports stop standing, the listing leaves."""
        if not admin.role.allows(Role.ADMIN):
            raise Forbidden("only an admin can expire a listing", code="forbidden_role")
        retired = self.retire(admin, number, reason=RemovalReason.EXPIRED, note=note)
        if retired.before is None:
            raise NotFound(f"+{number} is not listed", code="not_listed", details={"number": f"+{number}"})
        return retired

    def pin(self, admin: Member, number: int, pinned: bool = True, note: str | None = None) -> Listing:
        """Pin a listing (decay cannot take it below its threshold, the sweep leaves it) or unpin it."""
        if not admin.role.allows(Role.ADMIN):
            raise Forbidden("only an admin can pin a listing", code="forbidden_role")
        add, remove = (FLAG_PINNED, 0) if pinned else (0, FLAG_PINNED)
        listing = self.set_flags(
            admin, number, add=add, remove=remove, action="pinned" if pinned else "unpinned", note=note
        )
        if listing is None:
            raise NotFound(f"+{number} is not listed", code="not_listed", details={"number": f"+{number}"})
        return listing

    def retire(
        self,
        actor: Member | None,
        number: int,
        *,
        reason: RemovalReason,
        before_ms: int | None = None,
        note: str | None = None,
    ) -> Retired:
        """Retire the standing reports of ``number`` (all, or those that occurred before ``before_ms``), rebuild its
        listing from the rest (removed when none stand), and write the audit entry and the change, in one
        transaction. ``actor`` None: ringfence itself."""
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                self.feed.log.lock(conn)
                before = self._listings(conn, [number]).get(number)
                reporters = self._retire_reports(conn, now, actor, reason, [(number, before_ms)])
                count = sum(reporters.values())
                after = self._rebuild(conn, [number], now).get(number) if count else before
                batch = (
                    self._record(conn, now, actor.id if actor else None, reason, note, [(number, before, after)])
                    if count
                    else None
                )
            if batch is not None:
                self.feed.committed(batch)
        return Retired(before, after, count, frozenset(reporters))

    def set_flags(
        self,
        actor: Member | None,
        number: int,
        *,
        add: int = 0,
        remove: int = 0,
        action: str,
        note: str | None = None,
    ) -> Listing | None:
        """Set and clear flag bits of a listing (change ``updated``, audit entry ``action``); None if not listed."""
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                self.feed.log.lock(conn)
                before = self._listings(conn, [number]).get(number)
                if before is None:
                    return None
                flags = (before.flags | add) & ~remove
                if flags == before.flags:
                    return before
                conn.execute(update(listings).where(listings.c.number == number).values(flags=flags, updated_ms=now))
                after = before._replace(flags=flags)
                AuditLog.write(
                    conn, at_ms=now, actor_id=actor.id if actor else None, action=action, number=number,
                    note=note, before=before, after=after,
                )  # fmt: skip
                batch = self.feed.log.append(conn, now, ChangeKind.UPDATED, [tuple(after)], True)
            self.feed.committed(batch)
        return after

    def expire_decayed(self, scorer: Scorer, *, chunk: int = 20_000) -> int:
        """The expiry sweep: retire every listing whose score is below its threshold (pinned ones excepted).

        Candidates come from the index in one vectorised pass; each chunk is then checked again against the store
        under the write lock (a report may have refreshed a listing meanwhile) and retired in one transaction."""
        now = self.clock.now_ms()
        columns = self.index.snapshot(ordered=False)  # a scan: order does not matter, the sort would
        if not len(columns["number"]):
            return 0
        decayed = scorer.decayed_many(
            columns["categories"], columns["last_ms"], columns["weight"], columns["flags"], now
        )
        candidates = columns["number"][decayed].tolist()
        expired = 0
        for start in range(0, len(candidates), chunk):
            expired += self._expire_chunk(scorer, candidates[start : start + chunk])
        return expired

    def _expire_chunk(self, scorer: Scorer, numbers: list[int]) -> int:
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                self.feed.log.lock(conn)
                current = list(self._listings(conn, numbers).values())
                if not current:
                    return 0
                rows = np.array(current, dtype=np.int64).reshape(-1, 8)
                decayed = scorer.decayed_many(rows[:, 5], rows[:, 2], rows[:, 6], rows[:, 7], now)
                due = [listing for listing, gone in zip(current, decayed.tolist(), strict=True) if gone]
                if not due:
                    return 0
                gone = [listing.number for listing in due]
                self._retire_reports(conn, now, None, RemovalReason.EXPIRED, [(n, None) for n in gone], count=False)
                self._delete_listings(conn, gone)
                batch = self._record(
                    conn, now, None, RemovalReason.EXPIRED, "decayed below its threshold",
                    [(listing.number, listing, None) for listing in due],
                )  # fmt: skip
            self.feed.committed(batch)
        return len(due)

    def apply_disconnects(self, actor: Member | None, rows: Sequence[Disconnect]) -> DisconnectOutcome:
        """Apply a chunk of a reassigned/disconnected numbers feed (see :mod:`ringfence.registry.disconnects`), in
        one transaction: only rows naming a listed number reach the store."""
        outcome = DisconnectOutcome(rows=len(rows))
        plan = plan_disconnects(self.index, rows)
        outcome.listed = plan.listed
        if not plan.disconnects and not plan.ports:
            return outcome
        actor_id = actor.id if actor else None
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                self.feed.log.lock(conn)
                numbers = [n for n, _ in plan.disconnects]
                before = self._listings(conn, numbers)
                self._retire_reports(conn, now, actor, RemovalReason.OWNER_CHANGE, plan.disconnects)
                touched = [n for n in numbers if n in before]
                after = self._rebuild(conn, touched, now)
                states = [(n, before[n], after.get(n)) for n in touched]
                batch = self._record(
                    conn, now, actor_id, RemovalReason.OWNER_CHANGE, "disconnected or reassigned after the report",
                    states,
                )  # fmt: skip
                ported = self._flag_many(conn, now, actor_id, plan.ports, FLAG_PORTED, "ported")
            self.feed.committed(batch)
            self.feed.committed(ported)
        outcome.removed = sum(1 for _, _, a in states if a is None)
        outcome.updated = sum(1 for _, b, a in states if a is not None and a != b)
        outcome.ported = len(ported)
        return outcome

    def _flag_many(
        self, conn: Connection, now: int, actor_id: int | None, numbers: Sequence[int], add: int, action: str
    ) -> ChangeBatch:
        """Set a flag on many listings in ``conn``'s transaction (those that lack it); their change batch."""
        current = self._listings(conn, numbers)
        changed = [(listing, listing._replace(flags=listing.flags | add)) for listing in current.values()]
        changed = [(b, a) for b, a in changed if a.flags != b.flags]
        if changed:
            mark = placeholder(conn)
            cursor = conn.connection.cursor()
            try:
                cursor.executemany(
                    f"UPDATE listings SET flags = {mark}, updated_ms = {mark} WHERE number = {mark}",
                    [(a.flags, now, a.number) for _, a in changed],
                )
            finally:
                cursor.close()
        AuditLog.write_many(conn, now, actor_id, action, None, None, changed, [a.number for _, a in changed])
        return self.feed.log.append(conn, now, ChangeKind.UPDATED, [tuple(a) for _, a in changed], True)

    # --- the parts of a retirement ----------------------------------------------------------------------------
    @staticmethod
    def _listings(conn: Connection, numbers: Sequence[int]) -> dict[int, Listing]:
        found: dict[int, Listing] = {}
        mark = placeholder(conn)
        for start in range(0, len(numbers), _IN_CHUNK):
            part = list(numbers[start : start + _IN_CHUNK])
            sql = f"SELECT {_LISTING_SQL} FROM listings WHERE number IN ({', '.join([mark] * len(part))})"
            found.update((row[0], Listing(*row)) for row in fetch(conn, sql, tuple(part)))
        return found

    @staticmethod
    def _retire_reports(
        conn: Connection,
        now: int,
        actor: Member | None,
        reason: RemovalReason,
        targets: Sequence[tuple[int, int | None]],
        *,
        count: bool = True,
    ) -> dict[int, int]:
        """Mark standing reports retired: of each number, all (``None``) or those that occurred before a time.
        Returns member id -> how many of its reports were retired (empty without ``count``: the sweep needs none)."""
        mark = placeholder(conn)
        by = actor.id if actor else None
        counts: dict[int, int] = {}
        everything = [n for n, before in targets if before is None]
        partly = [(n, before) for n, before in targets if before is not None]
        for start in range(0, len(everything), _IN_CHUNK):
            part = everything[start : start + _IN_CHUNK]
            where = f"withdrawn_ms IS NULL AND number IN ({', '.join([mark] * len(part))})"
            if count:
                for member_id, retired in fetch(
                    conn, f"SELECT member_id, count(*) FROM reports WHERE {where} GROUP BY member_id", tuple(part)
                ):
                    counts[int(member_id)] = counts.get(int(member_id), 0) + int(retired)
            execute(
                conn,
                f"UPDATE reports SET withdrawn_ms = {mark}, withdrawn_reason = {mark}, withdrawn_by = {mark} "
                f"WHERE {where}",
                (now, reason.value, by, *part),
            )
        if partly:
            where = f"withdrawn_ms IS NULL AND number = {mark} AND occurred_ms < {mark}"
            for number, before in partly:
                for member_id, count in fetch(
                    conn, f"SELECT member_id, count(*) FROM reports WHERE {where} GROUP BY member_id", (number, before)
                ):
                    counts[int(member_id)] = counts.get(int(member_id), 0) + int(count)
            cursor = conn.connection.cursor()
            try:
                cursor.executemany(
                    f"UPDATE reports SET withdrawn_ms = {mark}, withdrawn_reason = {mark}, withdrawn_by = {mark} "
                    f"WHERE {where}",
                    [(now, reason.value, by, number, before) for number, before in partly],
                )
            finally:
                cursor.close()
        return counts

    def _rebuild(self, conn: Connection, numbers: Sequence[int], now: int) -> dict[int, Listing]:
        """Rebuild listings from their standing reports (weight from the reporters' current reputations, flags
        kept); listings with none left are deleted. Returns the listings that still stand."""
        mark = placeholder(conn)
        standing: dict[int, list[tuple[int, str, int]]] = {}
        for start in range(0, len(numbers), _IN_CHUNK):
            part = list(numbers[start : start + _IN_CHUNK])
            sql = (
                "SELECT number, member_id, category, occurred_ms FROM reports WHERE withdrawn_ms IS NULL "
                f"AND number IN ({', '.join([mark] * len(part))})"
            )
            for number, member_id, category, occurred in fetch(conn, sql, tuple(part)):
                standing.setdefault(int(number), []).append((int(member_id), category, int(occurred)))
        gone = [n for n in numbers if n not in standing]
        self._delete_listings(conn, gone)
        if not standing:
            return {}
        weights = reputation.reputations(conn, {m for rows in standing.values() for m, _, _ in rows})
        flags = {n: listing.flags for n, listing in self._listings(conn, list(standing)).items()}
        rebuilt: dict[int, Listing] = {}
        for number, rows in standing.items():
            categories = 0
            for _, category, _ in rows:
                categories |= CATEGORY_BITS[Category(category)]
            reporters = {m for m, _, _ in rows}
            rebuilt[number] = Listing(
                number,
                min(r[2] for r in rows),
                max(r[2] for r in rows),
                len(rows),
                len(reporters),
                categories,
                sum(weights.get(m, reputation.STANDING) for m in reporters),
                flags.get(number, 0),
            )
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(
                f"UPDATE listings SET first_ms = {mark}, last_ms = {mark}, report_count = {mark}, "
                f"reporter_count = {mark}, categories = {mark}, weight = {mark}, updated_ms = {mark} "
                f"WHERE number = {mark}",
                [(*listing[1:7], now, listing.number) for listing in rebuilt.values()],
            )
        finally:
            cursor.close()
        return rebuilt

    @staticmethod
    def _delete_listings(conn: Connection, numbers: Sequence[int]) -> None:
        mark = placeholder(conn)
        for start in range(0, len(numbers), _IN_CHUNK):
            part = list(numbers[start : start + _IN_CHUNK])
            execute(conn, f"DELETE FROM listings WHERE number IN ({', '.join([mark] * len(part))})", tuple(part))

    def _record(
        self,
        conn: Connection,
        now: int,
        actor_id: int | None,
        reason: RemovalReason,
        note: str | None,
        states: Sequence[tuple[int, Listing | None, Listing | None]],
    ) -> ChangeBatch:
        """The audit entries and the changes of a retirement: one per number whose listing changed."""
        changed = [(n, b, a) for n, b, a in states if b is not None and a != b]
        AuditLog.write_many(
            conn,
            now,
            actor_id,
            reason.value,
            reason.value,
            note,
            [(b, a) for _, b, a in changed],
            [n for n, _, _ in changed],
        )
        kind = _KIND_OF[reason]
        return self.feed.log.append(
            conn,
            now,
            kind,
            [tuple(a if a is not None else b) for _, b, a in changed],
            [a is not None for _, _, a in changed],
        )

    def _get_report(self, report_id: int) -> Report:
        with self.engine.connect() as conn:
            return _report(conn.execute(select(reports).where(reports.c.id == report_id)).one())

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
        if self.guard is not None:
            refused = self.guard(np.fromiter((r.number for r in batch), np.int64, len(batch)))
            if refused:
                outcome.errors.extend(RowError(lines[i], error) for i, error in refused.items())
                kept = [i for i in range(len(batch)) if i not in refused]
                batch, lines = [batch[i] for i in kept], [lines[i] for i in kept]
                if not batch:
                    return outcome, stored
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                self.feed.log.lock(conn)
                fresh = self._drop_repeats(conn, member, batch, lines, outcome, stored if collect else None)
                if not fresh:
                    return outcome, stored
                already, listed_before = numbers_reported_by(conn, member.id, {r.number for r in fresh})
                confirmed = [n for n in listed_before if n not in already]
                if confirmed:  # the other reporters of these numbers are confirmed by this member
                    for other, count in confirmed_reporters(conn, member.id, confirmed).items():
                        reputation.adjust(conn, [other], reputation.CONFIRM_BONUS * count)
                standing = reputation.reputations(conn, [member.id]).get(member.id, reputation.STANDING)
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
                additions = _additions(fresh, already, now, standing)
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


def _additions(fresh: list[NewReport], already: set[int], now: int, reputation: int) -> list[tuple[int, ...]]:
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
    weight = new_reporter * reputation
    columns = (unique, first, last, count, new_reporter, categories, stamp, weight)
    return list(zip(*(c.tolist() for c in columns), strict=True))
