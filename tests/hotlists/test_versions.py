"""Hotlist versions on the store (SQLite and PostgreSQL): every import a version, diffs between any two, lists that
retain or drop what a new version no longer publishes, refused files that leave the current version alone, and
checks answered from the matcher rebuilt after every version."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ringfence.clock import FixedClock
from ringfence.errors import Conflict, InvalidInput, NotFound
from ringfence.hotlists.checks import check_many, check_one
from ringfence.hotlists.models import HotlistVersion
from ringfence.hotlists.service import HotlistOptions, HotlistService
from ringfence.registry.models import Role
from ringfence.runtime import Runtime
from tests.conftest import START_MS

DAY = 86_400_000


def service_of(runtime: Runtime) -> HotlistService:
    return runtime.hotlists


def imported(runtime: Runtime, name: str, *lines: str, clock: FixedClock | None = None) -> HotlistVersion:
    if clock is not None:
        clock.advance(DAY)
    return runtime.hotlists.import_file(None, name, ("\n".join(lines) + "\n").encode(), source=f"{name}.txt").version


def counts(version: HotlistVersion) -> tuple[int, int, int, int]:
    return version.added, version.unchanged, version.removed, version.retained


def patterns(entries: list[object]) -> list[str]:
    return [e.pattern for e in entries]  # type: ignore[attr-defined]


def test_every_import_is_a_version_and_the_diff_says_what_changed(runtime: Runtime, clock: FixedClock) -> None:
    runtime.hotlists.create(None, "irsf")
    v1 = imported(runtime, "irsf", "+3725521234", "+3725521235", "+88216*", "junk", "+3725521234")
    assert (v1.number, counts(v1), v1.invalid, v1.duplicates, v1.entries) == (1, (3, 0, 0, 0), 1, 1, 3)
    assert v1.source == "irsf.txt" and len(v1.sha256) == 64
    v2 = imported(runtime, "irsf", "+3725521235", "+88216*", "+88213xxxxxx", clock=clock)
    assert (v2.number, counts(v2), v2.entries) == (2, (1, 2, 1, 0), 3)

    diff = runtime.hotlists.diff("irsf", 2)
    assert (diff.version, diff.against) == (2, 1)
    assert patterns(diff.added) == ["+88213??????"]
    assert patterns(diff.removed) == ["+3725521234"]
    assert diff.retained == []
    from_empty = runtime.hotlists.diff("irsf", 2, 0)
    assert patterns(from_empty.added) == ["+3725521235", "+88213??????", "+88216*"]
    backwards = runtime.hotlists.diff("irsf", 1, 2)
    assert patterns(backwards.added) == ["+3725521234"] and patterns(backwards.removed) == ["+88213??????"]

    [removed] = runtime.hotlists.diff("irsf", 2).removed
    assert (removed.first_seen_ms, removed.last_seen_ms, removed.present) == (START_MS, START_MS, False)
    [kept] = [e for e in runtime.hotlists.entries_of("irsf") if e.pattern == "+3725521235"]
    assert (kept.first_seen_ms, kept.last_seen_ms, kept.first_version, kept.last_version) == (
        START_MS,
        START_MS + DAY,
        1,
        2,
    )
    assert [v.number for v in runtime.hotlists.versions("irsf")] == [1, 2]


def test_a_list_that_retains_keeps_what_a_version_no_longer_publishes(runtime: Runtime, clock: FixedClock) -> None:
    runtime.hotlists.create(None, "vendor", HotlistOptions(retain_missing=True))
    imported(runtime, "vendor", "+3725521234", "+3725521235")
    v2 = imported(runtime, "vendor", "+3725521235", clock=clock)
    assert counts(v2) == (0, 1, 0, 1) and v2.entries == 2
    v3 = imported(runtime, "vendor", "+3725521236", clock=clock)
    assert counts(v3) == (1, 0, 0, 2) and v3.entries == 3
    v4 = imported(runtime, "vendor", "+3725521234", "+3725521236", clock=clock)  # it reappears
    assert counts(v4) == (0, 2, 0, 1)

    assert patterns(runtime.hotlists.diff("vendor", 2).retained) == ["+3725521234"]
    assert patterns(runtime.hotlists.diff("vendor", 3).retained) == ["+3725521234", "+3725521235"]
    assert runtime.hotlists.diff("vendor", 3).removed == []
    assert patterns(runtime.hotlists.diff("vendor", 4).retained) == ["+3725521235"]
    assert runtime.hotlists.diff("vendor", 4).added == []

    [retained] = [m.entry for m in runtime.hotlists.check(3725521235)]
    assert runtime.hotlists.retained(retained) and retained.last_seen_ms == START_MS + DAY  # last published in v2
    answer = check_one(runtime.hotlists, "+3725521235", None)
    assert answer["hotlisted"] and answer["match"]["retained"] is True
    assert check_one(runtime.hotlists, "+3725521234", None)["match"]["retained"] is False

    runtime.hotlists.update(None, "vendor", HotlistOptions(retain_missing=False))
    v5 = imported(runtime, "vendor", "+3725521236", clock=clock)
    assert counts(v5) == (0, 1, 2, 0) and v5.entries == 1
    assert patterns(runtime.hotlists.diff("vendor", 5).removed) == ["+3725521234", "+3725521235"]
    assert runtime.hotlists.check(3725521235) == []


def test_a_list_that_drops_takes_missing_entries_out_and_back_in(runtime: Runtime, clock: FixedClock) -> None:
    runtime.hotlists.create(None, "dropper")
    imported(runtime, "dropper", "+3725521234", "+3725521235")
    imported(runtime, "dropper", "+3725521235", clock=clock)
    assert runtime.hotlists.check(3725521234) == []
    v3 = imported(runtime, "dropper", "+3725521234", "+3725521235", clock=clock)
    assert counts(v3) == (1, 1, 0, 0)
    [back] = runtime.hotlists.check(3725521234)
    assert (back.entry.first_seen_ms, back.entry.last_seen_ms) == (START_MS, START_MS + 2 * DAY)
    assert patterns(runtime.hotlists.diff("dropper", 3, 1).added) == []


def test_a_file_with_no_valid_numbers_is_refused_and_the_current_version_stays(runtime: Runtime) -> None:
    runtime.hotlists.create(None, "irsf")
    imported(runtime, "irsf", "+3725521234")
    for body in (b"junk\n+999 1\n", b"", b"# only a comment\n"):
        with pytest.raises(InvalidInput) as refused:
            runtime.hotlists.import_file(None, "irsf", body)
        assert refused.value.code == "no_valid_numbers"
        assert "keeps its current version" in refused.value.message
    assert [v.number for v in runtime.hotlists.versions("irsf")] == [1]
    assert runtime.hotlists.check(3725521234) != []


def test_wildcard_last_derives_premium_ranges_from_test_numbers(runtime: Runtime, clock: FixedClock) -> None:
    runtime.hotlists.create(None, "wangiri", HotlistOptions(wildcard_last=2))
    v1 = imported(runtime, "wangiri", "+3725521234", "+3725521299", "+442079460018")
    assert (v1.added, v1.derived, v1.entries) == (5, 2, 5)
    match = runtime.hotlists.check(3725521200)
    assert [(m.entry.pattern, m.entry.derived) for m in match] == [("+37255212??", True)]
    exact = runtime.hotlists.check(3725521234)
    assert [m.entry.pattern for m in exact] == ["+3725521234", "+37255212??"]  # most specific first
    v2 = imported(runtime, "wangiri", "+442079460018", clock=clock)
    assert patterns(runtime.hotlists.diff("wangiri", 2).removed) == ["+3725521234", "+3725521299", "+37255212??"]
    assert v2.derived == 1


def test_checks_answer_the_longest_match_and_every_match_across_lists(runtime: Runtime) -> None:
    runtime.hotlists.create(None, "a-vendor")
    runtime.hotlists.create(None, "b-vendor")
    runtime.hotlists.import_file(None, "a-vendor", b"+88216*\n+882161234??\n", source="a.csv")
    runtime.hotlists.import_file(None, "b-vendor", b"number,source\n+88216123456,b-desk\n", source="b.csv")
    [one] = check_many(runtime.hotlists, ["+88216123456"], None, limit=10)
    assert one["hotlisted"] is True
    assert one["match"]["hotlist"] == "b-vendor" and one["match"]["pattern"] == "+88216123456"
    assert one["match"]["source"] == "b-desk" and one["match"]["kind"] == "number"
    assert [(m["hotlist"], m["pattern"], m["kind"]) for m in one["matches"]] == [
        ("b-vendor", "+88216123456", "number"),
        ("a-vendor", "+882161234??", "range"),
        ("a-vendor", "+88216*", "prefix"),
    ]
    assert one["match"]["first_seen_at"] == "2026-09-21T14:13:20.000Z"

    results = check_many(runtime.hotlists, ["+88216555123", "+442079460018", "junk", "020 7946 0018"], "GB", limit=10)
    assert [r.get("hotlisted") for r in results] == [True, False, None, False]
    assert results[0]["match"]["pattern"] == "+88216*" and results[1]["match"] is None
    assert results[2] == {"input": "junk", "error": results[2]["error"]}
    assert results[2]["error"]["code"] == "invalid_number"
    with pytest.raises(Exception) as too_many:
        check_many(runtime.hotlists, ["+88216555123"] * 3, None, limit=2)
    assert getattr(too_many.value, "code", None) == "batch_too_large"

    batch = runtime.hotlists.check_many(np.array([88216123456, 0, 3725521234], np.int64))
    assert [len(m) for m in batch] == [3, 0, 0]


def test_lists_are_named_once_and_options_are_checked(runtime: Runtime, tmp_path: object) -> None:
    created = runtime.hotlists.create(
        None,
        "IRSF-Weekly",
        HotlistOptions(description="vendor list", region="gb", url="https://lists.example/irsf.csv", every_s=60),
    )
    assert (created.name, created.region, created.sync_url, created.sync_every_s) == (
        "irsf-weekly",
        "GB",
        "https://lists.example/irsf.csv",
        60,
    )
    with pytest.raises(Conflict):
        runtime.hotlists.create(None, "irsf-weekly")
    for name in ("", "bad name", "check", "events", "-x"):
        with pytest.raises(InvalidInput):
            runtime.hotlists.create(None, name)
    for options in (
        HotlistOptions(wildcard_last=9),
        HotlistOptions(url="ftp://x"),
        HotlistOptions(folder=f"{tmp_path}/missing"),
        HotlistOptions(every_s=0),
        HotlistOptions(region="XX"),
    ):
        with pytest.raises(InvalidInput):
            runtime.hotlists.create(None, "other", options)
    with pytest.raises(NotFound):
        runtime.hotlists.import_file(None, "nope", b"+3725521234\n")
    with pytest.raises(NotFound):
        runtime.hotlists.diff("irsf-weekly", 1)
    cleared = runtime.hotlists.update(None, "irsf-weekly", HotlistOptions(url="", folder=str(tmp_path)))
    assert cleared.sync_url is None and cleared.sync_folder == str(tmp_path)


def test_versions_are_events_and_listeners_hear_of_each(runtime: Runtime) -> None:
    heard: list[tuple[str, int]] = []
    stop = runtime.hotlists.subscribe(lambda v: heard.append((v.hotlist, v.number)))
    runtime.hotlists.create(None, "one")
    runtime.hotlists.create(None, "two")
    first = imported(runtime, "one", "+3725521234")
    imported(runtime, "two", "+3725521235")
    imported(runtime, "one", "+3725521236")
    assert heard == [("one", 1), ("two", 1), ("one", 2)]
    assert [(v.hotlist, v.number) for v in runtime.hotlists.events(first.id)] == [("two", 1), ("one", 2)]
    assert runtime.hotlists.events(runtime.hotlists.events()[-1].id) == []
    stop()
    imported(runtime, "two", "+3725521237")
    assert len(heard) == 3


def test_another_process_s_version_reaches_this_one_on_refresh(runtime: Runtime, clock: FixedClock) -> None:
    runtime.hotlists.create(None, "shared")
    imported(runtime, "shared", "+3725521234")
    assert runtime.hotlists.check(3725521234) != []
    heard: list[int] = []
    runtime.hotlists.subscribe(lambda v: heard.append(v.number))
    other = Runtime.open(dataclasses.replace(runtime.settings), clock=clock, load_index=False)
    try:
        other.hotlists.import_file(None, "shared", b"+3725521299\n")
        assert runtime.hotlists.check(3725521299) == []  # not seen yet
        assert runtime.hotlists.refresh() is True
        assert runtime.hotlists.check(3725521299) != [] and runtime.hotlists.check(3725521234) == []
        assert heard == [2]
        assert runtime.hotlists.refresh() is False
    finally:
        other.close()


def test_the_admin_who_imported_is_recorded(runtime: Runtime) -> None:
    admin, _key = runtime.members.add("boss", Role.ADMIN)
    runtime.hotlists.create(admin, "irsf")
    outcome = runtime.hotlists.import_file(admin, "irsf", b"+3725521234\nx\n", source="weekly.txt")
    assert outcome.version.imported_by == admin.id
    assert [(e.line, e.error.code) for e in outcome.errors] == [(2, "invalid_pattern")]
