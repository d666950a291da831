"""The change log on SQLite and PostgreSQL: every registry write leaves changes with gap-free, increasing seqs and
the listing as it stands after; retention deletes old changes and says so; a second process over the same store
catches up from it."""

from __future__ import annotations

import threading

import pytest

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.feed.filters import ChangeFilter
from ringfence.feed.models import ChangeKind
from ringfence.registry.index import Listing
from ringfence.registry.models import Category, Member, NewReport, Role
from ringfence.runtime import Runtime

LONDON = 442079460018
MOBILE = 447700900123
PARIS = 33142685300
DAY = 86_400_000


def _new(number: int, category: Category = Category.VISHING, at: int = 0, **kw: object) -> NewReport:
    return NewReport(number=number, category=category, occurred_ms=at, **kw)  # type: ignore[arg-type]


def _members(runtime: Runtime) -> tuple[Member, Member, Member]:
    a = runtime.members.add("carrier-a", Role.REPORTER)[0]
    b = runtime.members.add("bank-b", Role.REPORTER)[0]
    admin = runtime.members.add("admin", Role.ADMIN)[0]
    return a, b, admin


def test_each_write_leaves_its_change_with_the_listing_after_it(runtime: Runtime) -> None:
    a, b, admin = _members(runtime)
    t = runtime.clock.now_ms()
    report, _ = runtime.registry.report(a, _new(LONDON, at=t - 10))
    runtime.registry.report(b, _new(LONDON, Category.ROBOCALL, at=t - 5))
    runtime.registry.report(a, _new(MOBILE, at=t - 3))
    runtime.registry.withdraw(a, report.id)
    runtime.registry.withdraw(a, runtime.registry.reports(member=a)[0].id)  # MOBILE's only report
    runtime.registry.remove_listing(admin, LONDON)

    changes = runtime.feed.log.read(0, 100)
    assert [c.seq for c in changes] == [1, 2, 3, 4, 5, 6]
    assert [(c.kind, c.number) for c in changes] == [
        (ChangeKind.LISTED, LONDON),
        (ChangeKind.REREPORTED, LONDON),
        (ChangeKind.LISTED, MOBILE),
        (ChangeKind.WITHDRAWN, LONDON),
        (ChangeKind.WITHDRAWN, MOBILE),
        (ChangeKind.REMOVED, LONDON),
    ]
    assert changes[1].listing == Listing(LONDON, t - 10, t - 5, 2, 2, changes[1].categories, 2000, 0)
    assert changes[3].listing == Listing(LONDON, t - 5, t - 5, 1, 1, changes[3].categories, 1000, 0)  # b's stands
    assert changes[4].listing is None and changes[4].categories  # MOBILE left; its categories say what it was
    assert changes[5].listing is None
    assert runtime.feed.log.head() == 6 and runtime.feed.applied == 6


def test_bulk_reports_make_one_change_per_number_in_one_batch(runtime: Runtime) -> None:
    a, b, _ = _members(runtime)
    runtime.registry.report(b, _new(LONDON))
    items = [(i + 1, _new(447700900000 + i % 50)) for i in range(120)] + [(121, _new(LONDON))]
    runtime.registry.report_many(a, items)
    changes = runtime.feed.log.read(1, 1000)
    assert len(changes) == 51
    assert [c.seq for c in changes] == list(range(2, 53))
    by_number = {c.number: c for c in changes}
    assert by_number[LONDON].kind is ChangeKind.REREPORTED
    assert by_number[LONDON].listing is not None and by_number[LONDON].listing.reporter_count == 2
    assert {c.kind for n, c in by_number.items() if n != LONDON} == {ChangeKind.LISTED}
    assert all(c.listing is not None and c.listing.report_count in (2, 3) for n, c in by_number.items() if n != LONDON)


def test_an_idempotent_retry_changes_nothing(runtime: Runtime) -> None:
    a, _, _ = _members(runtime)
    runtime.registry.report(a, _new(LONDON, report_id="r-1"))
    runtime.registry.report(a, _new(LONDON, report_id="r-1"))
    assert runtime.feed.log.head() == 1


def test_filters_pick_by_category_country_and_prefix(runtime: Runtime) -> None:
    a, _, _ = _members(runtime)
    runtime.registry.report(a, _new(LONDON, Category.VISHING))
    runtime.registry.report(a, _new(MOBILE, Category.SMISHING))
    runtime.registry.report(a, _new(PARIS, Category.VISHING))

    def numbers(**kw: object) -> list[int]:
        return [c.number for c in runtime.feed.log.read(0, 100, ChangeFilter.parse(**kw))]  # type: ignore[arg-type]

    assert numbers(categories="vishing") == [LONDON, PARIS]
    assert numbers(countries=["FR"]) == [PARIS]
    assert numbers(prefixes="+4477") == [MOBILE]
    assert numbers(prefixes=["+33", "+4420"]) == [LONDON, PARIS]
    assert numbers(categories=["smishing", "robocall"], countries="GB") == [MOBILE]


def test_a_filtered_page_says_where_the_scan_stopped(runtime: Runtime) -> None:
    a, _, _ = _members(runtime)
    for i in range(5):
        runtime.registry.report(a, _new(447700900000 + i))
    runtime.registry.report(a, _new(PARIS))
    found, reached = runtime.feed.log.read_page(0, 10, ChangeFilter.parse(countries="FR"))
    assert [c.number for c in found] == [PARIS] and reached == 6
    found, reached = runtime.feed.log.read_page(0, 2)
    assert [c.seq for c in found] == [1, 2] and reached == 2
    assert runtime.feed.log.read_page(6, 10) == ([], 6)


def test_retention_deletes_old_changes_keeps_the_newest_and_raises_the_floor(
    runtime: Runtime, clock: FixedClock
) -> None:
    a, _, _ = _members(runtime)
    for i in range(4):
        runtime.registry.report(a, _new(447700900000 + i))
    clock.advance(8 * DAY)
    runtime.registry.report(a, _new(PARIS))
    deleted = runtime.feed.log.prune(clock.now_ms() - 7 * DAY)
    assert deleted == 4
    assert runtime.feed.log.floor() == 4
    assert [c.seq for c in runtime.feed.log.read(0, 10)] == [5]
    clock.advance(8 * DAY)
    assert runtime.feed.log.prune(clock.now_ms() - 7 * DAY) == 0  # the newest change always stays
    runtime.registry.report(a, _new(LONDON))
    assert runtime.feed.log.head() == 6  # the sequence goes on from the kept head


def test_retention_works_through_the_log_in_chunks_and_stops_at_the_first_recent_change(
    runtime: Runtime, clock: FixedClock
) -> None:
    a, _, _ = _members(runtime)
    for i in range(7):
        runtime.registry.report(a, _new(447700900000 + i))
    clock.advance(8 * DAY)
    for i in range(3):
        runtime.registry.report(a, _new(447700901000 + i))
    assert runtime.feed.log.prune(clock.now_ms() - 7 * DAY, chunk=2) == 7
    assert runtime.feed.log.floor() == 7
    assert [c.seq for c in runtime.feed.log.read(7, 10)] == [8, 9, 10]


def test_the_sequence_continues_after_pruning_and_a_restart(settings: Settings, clock: FixedClock) -> None:
    first = Runtime.open(settings, clock=clock)
    a = first.members.add("carrier-a", Role.REPORTER)[0]
    first.registry.report(a, _new(LONDON))
    first.registry.report(a, _new(MOBILE))
    clock.advance(8 * DAY)
    first.feed.log.prune(clock.now_ms())
    first.close()
    second = Runtime.open(settings, clock=clock)
    try:
        assert second.feed.applied == 2
        second.registry.report(a, _new(PARIS))
        assert second.feed.log.floor() == 1
        assert [c.seq for c in second.feed.log.read(1, 10)] == [2, 3]
    finally:
        second.close()


def test_another_process_over_the_same_store_catches_up(settings: Settings, clock: FixedClock) -> None:
    writer = Runtime.open(settings, clock=clock)
    reader = Runtime.open(settings, clock=clock)
    try:
        a = writer.members.add("carrier-a", Role.REPORTER)[0]
        admin = writer.members.add("admin", Role.ADMIN)[0]
        writer.registry.report(a, _new(LONDON))
        writer.registry.report_many(a, [(i, _new(447700900000 + i)) for i in range(1, 30)])
        writer.registry.remove_listing(admin, LONDON)
        assert reader.registry.lookup(447700900001) is None
        assert reader.feed.catch_up() == 31
        assert reader.registry.lookup(LONDON) is None
        assert reader.registry.index.snapshot()["number"].size == writer.registry.index.snapshot()["number"].size
        assert reader.registry.lookup(447700900001) == writer.registry.lookup(447700900001)
        assert reader.feed.catch_up() == 0
    finally:
        writer.close()
        reader.close()


@pytest.mark.postgres
def test_concurrent_writers_on_postgresql_get_gap_free_seqs_in_commit_order(pg_url: str, clock: FixedClock) -> None:
    """Two nodes writing at once: seqs stay gap-free and each number's changes grow in seq order."""
    settings = Settings(database_url=pg_url, default_region="GB")
    nodes = [Runtime.open(settings, clock=clock) for _ in range(2)]
    try:
        members = [nodes[0].members.add(f"carrier-{i}", Role.REPORTER)[0] for i in range(2)]

        def write(node: Runtime, member: Member) -> None:
            for i in range(40):
                node.registry.report(member, _new(447700900000 + i % 5))

        threads = [threading.Thread(target=write, args=(n, m)) for n, m in zip(nodes, members, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        changes = nodes[0].feed.log.read(0, 1000)
        assert [c.seq for c in changes] == list(range(1, 81))
        counts: dict[int, int] = {}
        for c in changes:
            assert c.listing is not None
            assert c.listing.report_count > counts.get(c.number, 0)  # later seq, later state
            counts[c.number] = c.listing.report_count
        assert sorted(counts.values()) == [16] * 5
        for node in nodes:
            node.feed.catch_up()
            assert node.registry.lookup(447700900000) == Listing(
                447700900000, 0, 0, 16, 2, changes[-1].categories, 2000, 0
            )
    finally:
        for node in nodes:
            node.close()
