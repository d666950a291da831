"""The client against a real server (uvicorn over a runtime, SQLite and PostgreSQL): typed answers and typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringfence.client import (
    AuthError,
    ConflictError,
    InvalidInputError,
    Listing,
    LookupFailure,
    LookupResult,
    NewReport,
    NotFoundError,
    RingfenceClient,
)
from ringfence.config import Settings
from ringfence.registry.models import Category, Role
from ringfence.registry.models import NewReport as StoredReport
from ringfence.runtime import Runtime
from tests.conftest import START_MS
from tests.live import live_server
from tests.support import Keys

MAX_BATCH = 4
OCCURRED = datetime(2026, 9, 20, 8, 30, tzinfo=UTC)  # a day before the test clock's now


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, default_region="GB", max_batch=MAX_BATCH)


@pytest.fixture
def url(runtime: Runtime) -> Iterator[str]:
    with live_server(runtime, daemons=False) as base:
        yield base


@pytest.fixture
def reader(url: str, keys: Keys) -> Iterator[RingfenceClient]:
    with RingfenceClient(url, keys.reader) as client:
        yield client


@pytest.fixture
def reporter(url: str, keys: Keys) -> Iterator[RingfenceClient]:
    with RingfenceClient(url, keys.reporter) as client:
        yield client


def _list(runtime: Runtime, number: int, category: Category = Category.IRSF) -> None:
    """A listing made directly in the registry, by a member of its own (reported an hour before now)."""
    member = runtime.members.add(f"seed-{number}-{category}", Role.REPORTER)[0]
    runtime.registry.report(member, StoredReport(number, category, START_MS - 3_600_000))


def test_lookup_answers_typed_results(runtime: Runtime, reader: RingfenceClient) -> None:
    _list(runtime, 442079460111)
    _list(runtime, 442079460111, Category.WANGIRI)

    listed = reader.lookup("+44 20 7946 0111")
    assert listed.number == "+442079460111"
    assert listed.listed is True
    assert listed.info.country == "GB" and listed.info.country_code == 44 and listed.info.type == "fixed_line"
    assert isinstance(listed.listing, Listing)
    assert listed.listing.report_count == 2 and listed.listing.reporter_count == 2
    assert listed.listing.categories == ("irsf", "wangiri")
    assert listed.listing.first_reported_at == datetime.fromtimestamp((START_MS - 3_600_000) / 1000, UTC)
    assert listed.listing.first_reported_at.tzinfo is not None

    # national format: the server's default region, or the one asked for; '/' goes through the batch route
    assert reader.lookup("020 7946 0111") == listed
    assert reader.lookup("020/7946 0111") == listed
    assert reader.lookup("(201) 555-0123", region="US").number == "+12015550123"

    clean = reader.lookup("+442079460112")
    assert clean.listed is False and clean.listing is None


def test_a_bad_number_alone_raises_typed(reader: RingfenceClient) -> None:
    for bad in ("not a number", "12/ab", ""):
        with pytest.raises(InvalidInputError) as caught:
            reader.lookup(bad)
        assert caught.value.status == 422
        assert caught.value.code == "invalid_number"


def test_a_batch_over_the_servers_limit_is_split_and_keeps_its_order(runtime: Runtime, reader: RingfenceClient) -> None:
    _list(runtime, 442079460203)
    _list(runtime, 442079460209, Category.SMISHING)
    numbers = [f"+4420794602{i:02d}" for i in range(11)]
    numbers[2] = "rubbish"
    numbers[7] = "+44"
    assert reader.max_batch > MAX_BATCH

    results = reader.lookup_many(numbers)

    assert reader.max_batch == MAX_BATCH  # learnt from the server's 413 batch_too_large
    assert len(results) == len(numbers)
    for i, (sent, result) in enumerate(zip(numbers, results, strict=True)):
        if i in (2, 7):
            assert isinstance(result, LookupFailure)
            assert result.input == sent
            assert result.code == "invalid_number"
            assert result.to_error().code == "invalid_number"
        else:
            assert isinstance(result, LookupResult)
            assert result.number == sent
            assert result.listed is (i in (3, 9))
    smishing = results[9]
    assert isinstance(smishing, LookupResult) and smishing.listing is not None
    assert smishing.listing.categories == ("smishing",)
    assert reader.lookup_many([]) == []
    with pytest.raises(TypeError):
        reader.lookup_many("+442079460111")


def test_report_and_its_idempotent_retry(reporter: RingfenceClient, reader: RingfenceClient) -> None:
    first = reporter.report(
        "+442079460300", "irsf", occurred_at=OCCURRED, note="called back 3 times", report_id="case-300"
    )
    assert first.created and not first.duplicate
    assert first.report.report_id == "case-300"
    assert first.report.number == "+442079460300"
    assert first.report.category == "irsf"
    assert first.report.occurred_at == OCCURRED
    assert first.report.received_at == datetime.fromtimestamp(START_MS / 1000, UTC)
    assert first.report.withdrawn is False
    assert first.listing is not None and first.listing.listed

    again = reporter.report(
        "+442079460300", "irsf", occurred_at=OCCURRED, note="called back 3 times", report_id="case-300"
    )
    assert again.duplicate is True
    assert again.report.id == first.report.id
    assert reader.lookup("+442079460300").listing == first.listing.listing  # counted once

    with pytest.raises(ConflictError) as caught:
        reporter.report("+442079460300", "wangiri", occurred_at=OCCURRED, report_id="case-300")
    assert caught.value.status == 409 and caught.value.code == "report_id_conflict"

    with pytest.raises(InvalidInputError) as bad:
        reporter.report("+442079460301", "nonsense")
    assert bad.value.code == "unknown_category"
    assert "irsf" in str(bad.value.details["allowed"])


def test_withdraw_and_list_reports(reporter: RingfenceClient) -> None:
    reporter.report("+442079460310", "vishing", occurred_at=OCCURRED, report_id="w-1")
    reporter.report("+442079460311", "vishing", occurred_at=OCCURRED.isoformat())

    withdrawn = reporter.withdraw("w-1")
    assert withdrawn.report.withdrawn and withdrawn.report.withdrawn_reason == "withdrawn"
    assert withdrawn.listing is not None and withdrawn.listing.listed is False
    assert reporter.withdraw("w-1").report.withdrawn_at == withdrawn.report.withdrawn_at  # idempotent

    page = reporter.reports(limit=1)
    assert [r.number for r in page.reports] == ["+442079460311"]
    assert page.next is not None
    rest = reporter.reports(limit=1, before=page.next, include_withdrawn=True)
    assert [r.report_id for r in rest.reports] == ["w-1"]

    with pytest.raises(NotFoundError) as caught:
        reporter.withdraw("no-such-report")
    assert caught.value.code == "report_not_found"


def test_bulk_report_from_reports_and_from_a_file(reporter: RingfenceClient, tmp_path: Path) -> None:
    result = reporter.bulk_report(
        [
            NewReport("+442079460400", "irsf", occurred_at=OCCURRED, report_id="b-1"),
            {"number": "not a number", "category": "irsf"},
            NewReport("+442079460401", "made_up"),
            {"number": "020 7946 0402", "category": "wangiri", "occurred_at": OCCURRED, "report_id": "b-4"},
        ]
    )
    assert (result.accepted, result.duplicates, result.rejected) == (2, 0, 2)
    assert not result.ok
    assert [(e.line, e.code) for e in result.errors] == [(2, "invalid_number"), (3, "unknown_category")]
    assert result.errors[0].details["input"] == "not a number"

    # the same reports again: the ones with a report_id (and the same content) are duplicates, not new reports
    again = reporter.bulk_report(
        [
            NewReport("+442079460400", "irsf", occurred_at=OCCURRED, report_id="b-1"),
            {"number": "020 7946 0402", "category": "wangiri", "occurred_at": OCCURRED, "report_id": "b-4"},
        ]
    )
    assert (again.accepted, again.duplicates, again.rejected) == (0, 2, 0) and again.ok

    csv = tmp_path / "reports.csv"
    csv.write_text(
        "number,category,occurred_at\n+442079460410,irsf,2026-09-20T10:00:00Z\n+44 0,irsf,\n02079460411,robocall,\n"
    )
    from_file = reporter.bulk_report(csv)
    assert (from_file.accepted, from_file.rejected) == (2, 1)
    assert [(e.line, e.code) for e in from_file.errors] == [(3, "invalid_number")]  # line 1 is the header


def test_a_reader_cannot_report_and_a_bad_key_cannot_read(url: str, reader: RingfenceClient) -> None:
    with pytest.raises(AuthError) as caught:
        reader.report("+442079460500", "irsf")
    assert caught.value.status == 403
    assert caught.value.code == "forbidden_role"
    with pytest.raises(AuthError) as bulk:
        reader.bulk_report([NewReport("+442079460500", "irsf")])
    assert bulk.value.status == 403

    with (
        RingfenceClient(url, "rf_nobody_0000000000000000000000000000000000000000000") as stranger,
        pytest.raises(AuthError) as unknown,
    ):
        stranger.lookup("+442079460500")
    assert unknown.value.status == 401


def test_changes_page_and_head(runtime: Runtime, reader: RingfenceClient, reporter: RingfenceClient) -> None:
    assert reader.head() == 0
    reporter.report("+442079460600", "irsf", occurred_at=OCCURRED)
    reporter.report("+442079460600", "wangiri", occurred_at=OCCURRED)
    reporter.report("+12015550100", "robocall", occurred_at=OCCURRED)
    assert reader.head() == 3

    page = reader.changes_page(0, limit=2)
    assert [c.seq for c in page.changes] == [1, 2] and page.next == 2 and page.head == 3
    first, second = page.changes
    assert (first.kind, first.number, first.listed) == ("listed", "+442079460600", True)
    assert second.kind == "re_reported" and second.categories == ("irsf", "wangiri")
    assert second.listing is not None and second.listing.report_count == 2
    assert second.at == datetime.fromtimestamp(START_MS / 1000, UTC)
    assert second.info.country == "GB"

    rest = reader.changes_page(page.next)
    assert [c.number for c in rest.changes] == ["+12015550100"] and rest.next == 3

    only_us = reader.changes_page(0, countries="US")
    assert [c.seq for c in only_us.changes] == [3]
    assert [c.seq for c in reader.changes_page(0, categories=["wangiri", "robocall"]).changes] == [2, 3]
    assert [c.seq for c in reader.changes_page(0, prefixes=["+1"]).changes] == [3]


def test_remove_listing_needs_an_admin(url: str, keys: Keys, reporter: RingfenceClient) -> None:
    reporter.report("+442079460700", "irsf", occurred_at=OCCURRED)
    with pytest.raises(AuthError):
        reporter.remove_listing("+442079460700")
    with RingfenceClient(url, keys.admin) as admin:
        assert admin.remove_listing("+442079460700") == 1
        assert admin.lookup("+442079460700").listed is False
