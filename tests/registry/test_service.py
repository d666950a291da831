"""The registry service on SQLite and PostgreSQL: reports fold into listings, withdrawals and removals undo them,
report_id retries are idempotent, and the index always equals what the store holds, across restarts too."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.errors import Conflict, Forbidden, NotFound
from ringfence.registry.models import CATEGORY_BITS, Category, Member, NewReport, Role
from ringfence.runtime import Runtime
from ringfence.store.tables import listings, reports

LONDON = 442079460018
OTHER = 442079460019
HOUR = 3_600_000


def _members(runtime: Runtime) -> tuple[Member, Member, Member]:
    a = runtime.members.add("carrier-a", Role.REPORTER)[0]
    b = runtime.members.add("bank-b", Role.REPORTER)[0]
    admin = runtime.members.add("admin", Role.ADMIN)[0]
    return a, b, admin


def _new(number: int = LONDON, category: Category = Category.VISHING, at: int = 0, **kw: object) -> NewReport:
    return NewReport(number=number, category=category, occurred_ms=at, **kw)  # type: ignore[arg-type]


def _recomputed(runtime: Runtime) -> dict[int, tuple[int, int, int, int, int]]:
    """Listings computed from scratch from the standing reports: what the index must equal."""
    out: dict[int, list[tuple[int, str, int]]] = {}
    with runtime.engine.connect() as conn:
        for row in conn.execute(sa.select(reports).where(reports.c.withdrawn_ms.is_(None))):
            out.setdefault(row.number, []).append((row.member_id, row.category, row.occurred_ms))
    result = {}
    for number, rows in out.items():
        mask = 0
        for _, category, _ in rows:
            mask |= CATEGORY_BITS[Category(category)]
        result[number] = (
            min(r[2] for r in rows),
            max(r[2] for r in rows),
            len(rows),
            len({r[0] for r in rows}),
            mask,
        )
    return result


def _index_as_dict(runtime: Runtime) -> dict[int, tuple[int, int, int, int, int]]:
    snap = runtime.registry.index.snapshot()
    return {
        int(n): (int(f), int(last), int(c), int(r), int(m))
        for n, f, last, c, r, m in zip(
            snap["number"],
            snap["first_ms"],
            snap["last_ms"],
            snap["report_count"],
            snap["reporter_count"],
            snap["categories"],
            strict=True,
        )
    }


def test_reports_fold_into_one_listing(runtime: Runtime, clock: FixedClock) -> None:
    a, b, _ = _members(runtime)
    now = clock.now_ms()
    runtime.registry.report(a, _new(at=now - 5 * HOUR))
    runtime.registry.report(a, _new(category=Category.SMISHING, at=now - 2 * HOUR))
    runtime.registry.report(b, _new(at=now - 9 * HOUR))

    listing = runtime.registry.lookup(LONDON)
    assert listing is not None
    assert listing.report_count == 3
    assert listing.reporter_count == 2
    assert listing.first_ms == now - 9 * HOUR
    assert listing.last_ms == now - 2 * HOUR
    assert listing.categories == CATEGORY_BITS[Category.VISHING] | CATEGORY_BITS[Category.SMISHING]
    assert runtime.registry.lookup(OTHER) is None
    assert _index_as_dict(runtime) == _recomputed(runtime)


def test_newest_report_moves_last_reported_at(runtime: Runtime, clock: FixedClock) -> None:
    a, b, _ = _members(runtime)
    runtime.registry.report(a, _new(at=clock.now_ms()))
    clock.advance(48 * HOUR)
    runtime.registry.report(b, _new(at=clock.now_ms()))
    listing = runtime.registry.lookup(LONDON)
    assert listing is not None and listing.last_ms == clock.now_ms()


def test_report_id_makes_a_retry_idempotent(runtime: Runtime) -> None:
    a, b, _ = _members(runtime)
    first, created = runtime.registry.report(a, _new(report_id="case-1"))
    again, created_again = runtime.registry.report(a, _new(report_id="case-1"))
    assert created and not created_again
    assert again.id == first.id
    listing = runtime.registry.lookup(LONDON)
    assert listing is not None and listing.report_count == 1
    # another member may use the same reference for its own report
    _, created_b = runtime.registry.report(b, _new(report_id="case-1"))
    assert created_b


def test_reusing_a_report_id_for_something_else_is_refused(runtime: Runtime) -> None:
    a, _, _ = _members(runtime)
    runtime.registry.report(a, _new(report_id="case-1"))
    with pytest.raises(Conflict) as caught:
        runtime.registry.report(a, _new(number=OTHER, report_id="case-1"))
    assert caught.value.code == "report_id_conflict"
    assert runtime.registry.lookup(OTHER) is None


def test_withdrawal_recomputes_and_last_withdrawal_unlists(runtime: Runtime, clock: FixedClock) -> None:
    a, b, _ = _members(runtime)
    ra, _ = runtime.registry.report(a, _new(category=Category.IRSF, at=clock.now_ms() - HOUR))
    rb, _ = runtime.registry.report(b, _new(at=clock.now_ms()))

    withdrawn = runtime.registry.withdraw(b, rb.id)
    assert withdrawn.withdrawn_reason == "withdrawn"
    listing = runtime.registry.lookup(LONDON)
    assert listing is not None
    assert (listing.report_count, listing.reporter_count) == (1, 1)
    assert listing.categories == CATEGORY_BITS[Category.IRSF]
    assert listing.last_ms == clock.now_ms() - HOUR

    with pytest.raises(NotFound):  # b cannot see, let alone withdraw, a's report
        runtime.registry.withdraw(b, ra.id)
    runtime.registry.withdraw(a, ra.id)
    assert runtime.registry.lookup(LONDON) is None
    assert runtime.registry.withdraw(a, ra.id).withdrawn_ms is not None  # idempotent
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(listings)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(reports)).scalar_one() == 2  # history kept


def test_withdraw_by_own_report_id(runtime: Runtime) -> None:
    a, _, _ = _members(runtime)
    runtime.registry.report(a, _new(report_id="ticket-77"))
    runtime.registry.withdraw(a, "ticket-77")
    assert runtime.registry.lookup(LONDON) is None


def test_admin_removes_a_whole_listing(runtime: Runtime) -> None:
    a, b, admin = _members(runtime)
    runtime.registry.report(a, _new())
    runtime.registry.report(b, _new())
    with pytest.raises(Forbidden):
        runtime.registry.remove_listing(a, LONDON)
    assert runtime.registry.remove_listing(admin, LONDON) == 2
    assert runtime.registry.lookup(LONDON) is None
    history = runtime.registry.reports(number=LONDON, include_withdrawn=True)
    assert {r.withdrawn_reason for r in history} == {"removed"}
    with pytest.raises(NotFound):
        runtime.registry.remove_listing(admin, LONDON)
    # a new report lists it again
    runtime.registry.report(a, _new())
    assert runtime.registry.lookup(LONDON) is not None


def test_bulk_counts_duplicates_and_conflicts_by_line(runtime: Runtime) -> None:
    a, _, _ = _members(runtime)
    runtime.registry.report(a, _new(report_id="r-1"))
    outcome = runtime.registry.report_many(
        a,
        [
            (2, _new(report_id="r-1")),  # retry of a stored report
            (3, _new(number=OTHER, report_id="r-1")),  # same reference, different report
            (4, _new(number=OTHER, report_id="r-2")),
            (5, _new(number=OTHER, report_id="r-2")),  # repeated inside the file
            (6, _new(number=OTHER)),
        ],
    )
    assert (outcome.accepted, outcome.duplicates) == (2, 2)
    assert [(e.line, e.error.code) for e in outcome.errors] == [(3, "report_id_conflict")]
    other = runtime.registry.lookup(OTHER)
    assert other is not None and (other.report_count, other.reporter_count) == (2, 1)


def test_bulk_across_chunks_counts_each_reporter_once(runtime: Runtime) -> None:
    a, b, _ = _members(runtime)
    numbers = np.arange(10_000, dtype=np.int64) + 447700900000
    items = [(i, _new(number=int(n), at=i)) for i, n in enumerate(numbers.tolist() * 2)]
    outcome = runtime.registry.report_many(a, items, chunk=3_000)
    runtime.registry.report_many(b, items[:100], chunk=30)
    assert outcome.accepted == 20_000 and not outcome.errors
    found = runtime.registry.lookup_many(numbers)
    assert bool(found.found.all())
    assert found.report_count[:100].tolist() == [3] * 100  # two from a, one from b
    assert found.reporter_count[:100].tolist() == [2] * 100
    assert found.reporter_count[100:].tolist() == [1] * 9_900
    assert _index_as_dict(runtime) == _recomputed(runtime)


def test_acknowledged_reports_survive_a_restart_and_the_index_is_rebuilt_identically(
    settings: Settings, clock: FixedClock
) -> None:
    first = Runtime.open(settings, clock=clock)
    a, b, _ = _members(first)
    first.registry.report(a, _new())
    first.registry.report_many(b, [(i, _new(number=447700900000 + i, at=i)) for i in range(500)])
    r, _ = first.registry.report(b, _new(number=OTHER))
    first.registry.withdraw(b, r.id)
    before = _index_as_dict(first)
    first.close()

    second = Runtime.open(settings, clock=clock)
    try:
        assert _index_as_dict(second) == before
        assert _index_as_dict(second) == _recomputed(second)
        assert len(second.registry.index) == 501
    finally:
        second.close()
