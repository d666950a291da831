"""A reassigned-numbers feed applied to the registry, on SQLite and PostgreSQL: listings reported before a
disconnection go (``owner_change``), later reports stand, a port lowers the score and keeps the listing."""

from __future__ import annotations

import gzip
import io

import pytest

from ringfence.feed.models import ChangeKind
from ringfence.reassigned import import_disconnects, outcome_view
from ringfence.registry.models import FLAG_PORTED, Category, Member, NewReport, Role
from ringfence.runtime import Runtime
from tests.conftest import START_MS

HOUR = 3_600_000
DAY = 24 * HOUR
# START_MS is 2026-09-21T14:13:20Z
SEP_19_NOON = START_MS - 2 * DAY - 2 * HOUR - 13 * 60_000 - 20_000
SEP_20_NOON = SEP_19_NOON + DAY
SEP_21_NOON = SEP_20_NOON + DAY

GONE = 12015550101  # reported on the 20th, disconnected on the 21st
STAYS = 12015550102  # reported on the 21st at noon, disconnected that day (00:00 UTC)
MIXED = 12015550103  # reported on the 19th and the 21st, disconnected on the 20th
PORTED = 12015550104  # reported on the 20th, ported on the 21st
UNLISTED = 12015550105

FEED = """Phone_Number,Permanent_Disconnect_Date,Type
2015550101,09/21/2026,
2015550102,2026-09-21,reassigned
2015550103,20260920,disconnect
2015550104,2026-09-21T00:00:00Z,port
2015550105,09/01/2026,
2015550199,not a date,
"""


@pytest.fixture
def members(runtime: Runtime) -> tuple[Member, Member, Member]:
    reporter = runtime.members.add("carrier-a", Role.REPORTER)[0]
    other = runtime.members.add("bank-b", Role.REPORTER)[0]
    admin = runtime.members.add("admin-org", Role.ADMIN)[0]
    return reporter, other, admin


def report(runtime: Runtime, member: Member, number: int, occurred_ms: int) -> None:
    runtime.registry.report(member, NewReport(number, Category.IRSF, occurred_ms))


@pytest.fixture
def listed(runtime: Runtime, members: tuple[Member, Member, Member]) -> Member:
    reporter, other, admin = members
    report(runtime, reporter, GONE, SEP_20_NOON)
    report(runtime, other, GONE, SEP_20_NOON + HOUR)
    report(runtime, reporter, STAYS, SEP_21_NOON)
    report(runtime, reporter, MIXED, SEP_19_NOON)
    report(runtime, other, MIXED, SEP_21_NOON)
    report(runtime, reporter, PORTED, SEP_20_NOON)
    return admin


def test_a_feed_retires_what_predates_the_disconnection_and_nothing_else(runtime: Runtime, listed: Member) -> None:
    registry = runtime.registry
    score_before = registry.assess(PORTED).score  # type: ignore[union-attr]
    head = runtime.feed.log.head()

    outcome, errors = import_disconnects(registry, listed, io.BytesIO(FEED.encode()), "US")

    assert [(e.line, e.error.code) for e in errors] == [(7, "invalid_date")]
    assert (outcome.rows, outcome.listed, outcome.removed, outcome.updated, outcome.ported) == (5, 4, 1, 1, 1)
    assert registry.lookup(GONE) is None
    stays = registry.lookup(STAYS)
    assert stays is not None and stays.report_count == 1
    mixed = registry.lookup(MIXED)
    assert mixed is not None and (mixed.report_count, mixed.reporter_count, mixed.first_ms) == (1, 1, SEP_21_NOON)
    ported = registry.assess(PORTED)
    assert ported is not None and ported.listed and ported.listing.flags & FLAG_PORTED
    assert ported.score < score_before
    assert registry.lookup(UNLISTED) is None

    changes = runtime.feed.log.read(head, 100)
    kinds = {(c.number, c.kind) for c in changes}
    assert (GONE, ChangeKind.OWNER_CHANGE) in kinds and (MIXED, ChangeKind.OWNER_CHANGE) in kinds
    assert next(c for c in changes if c.number == GONE).listing is None
    assert not any(c.number == STAYS for c in changes)

    gone = registry.reports(number=GONE, include_withdrawn=True)
    assert {r.withdrawn_reason for r in gone} == {"owner_change"}
    assert {r.withdrawn_reason for r in registry.reports(number=MIXED, include_withdrawn=True)} == {
        "owner_change",
        None,
    }


def test_applying_a_feed_again_changes_nothing(runtime: Runtime, listed: Member) -> None:
    import_disconnects(runtime.registry, listed, io.BytesIO(FEED.encode()), "US")
    head = runtime.feed.log.head()
    again, _ = import_disconnects(runtime.registry, listed, io.BytesIO(gzip.compress(FEED.encode())), "US")
    assert (again.removed, again.updated, again.ported) == (0, 0, 0)
    assert runtime.feed.log.head() == head


def test_a_feed_in_small_chunks_gives_the_same_outcome(runtime: Runtime, listed: Member) -> None:
    outcome, errors = import_disconnects(runtime.registry, listed, io.BytesIO(FEED.encode()), "US", chunk=2)
    view = outcome_view(outcome, errors)
    assert {k: view[k] for k in ("rows", "listed", "removed", "updated", "ported", "rejected")} == {
        "rows": 5,
        "listed": 4,
        "removed": 1,
        "updated": 1,
        "ported": 1,
        "rejected": 1,
    }
    assert view["errors"][0]["line"] == 7 and view["errors"][0]["code"] == "invalid_date"


def test_progress_is_reported_in_bytes(runtime: Runtime, listed: Member) -> None:
    seen: list[int] = []
    import_disconnects(runtime.registry, listed, io.BytesIO(FEED.encode()), "US", progress=seen.append)
    assert seen and seen[-1] == len(FEED.encode())
