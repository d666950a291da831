"""Answers as a member gets them: the registry's assessment shaped by the never-list and the member's own lists,
the same for one number and for a batch, and reports of never-listed numbers refused."""

from __future__ import annotations

import orjson
import pytest

from ringfence.answers import answer_batch, answer_one
from ringfence.errors import InvalidInput
from ringfence.registry.models import Category, NewReport, Role
from ringfence.runtime import Runtime

LISTED = 447700900101
ALLOWED = 447700900102  # listed, but on carrier-a's allow list
DENIED = 447700900103  # not listed, on carrier-a's deny list
SERVICE = 442079460000  # a bank's service number on the never-list
PREFIXED = 448001234567  # covered by a never-list prefix


@pytest.fixture
def seeded(runtime: Runtime) -> tuple[Runtime, int, int]:
    admin = runtime.members.add("admin-org", Role.ADMIN)[0]
    a = runtime.members.add("carrier-a", Role.REPORTER)[0]
    b = runtime.members.add("bank-b", Role.REPORTER)[0]
    now = runtime.clock.now_ms()
    for number in (LISTED, ALLOWED, SERVICE):
        runtime.registry.report(b, NewReport(number, Category.VISHING, now))
    runtime.allowlists.set_member_entry(a, ALLOWED, "allow")
    runtime.allowlists.set_member_entry(a, DENIED, "deny")
    runtime.allowlists.add(admin, f"+{SERVICE}", "service", "bank-b's customer line")
    runtime.allowlists.add(admin, "+44800*", "service", "freephone")
    return runtime, a.id, b.id


def test_member_lists_and_the_never_list_shape_answers(seeded: tuple[Runtime, int, int]) -> None:
    runtime, a, b = seeded
    mine = {n: answer_one(runtime, n, a) for n in (LISTED, ALLOWED, DENIED, SERVICE, PREFIXED)}
    assert mine[LISTED]["listed"] and mine[LISTED]["member_list"] is None
    assert not mine[ALLOWED]["listed"] and mine[ALLOWED]["member_list"] == "allow" and mine[ALLOWED]["listing"]
    assert mine[DENIED]["listed"] and mine[DENIED]["member_list"] == "deny" and mine[DENIED]["listing"] is None
    # the admin's entry took the listing off the registry; the prefix covers numbers never reported
    assert not mine[SERVICE]["listed"] and mine[SERVICE]["listing"] is None
    assert mine[SERVICE]["never_list"]["kind"] == "service" and mine[SERVICE]["never_list"]["source"] == "consortium"
    assert mine[PREFIXED]["never_list"]["pattern"] == "+44800*"
    # another member's lists are its own: bank-b sees the registry as it is
    theirs = answer_one(runtime, ALLOWED, b)
    assert theirs["listed"] and theirs["member_list"] is None


@pytest.mark.parametrize("member", ["carrier-a", "bank-b", None])
def test_batch_answers_equal_single_answers_byte_for_byte(seeded: tuple[Runtime, int, int], member: str | None) -> None:
    runtime, a, b = seeded
    member_id = {"carrier-a": a, "bank-b": b, None: None}[member]
    raws = [f"+{n}" for n in (LISTED, ALLOWED, DENIED, SERVICE, PREFIXED)] + ["junk", "+447700900999"]
    batch = answer_batch(runtime, raws, "GB", member_id)
    answers = batch.answers()
    assert batch.to_json() == orjson.dumps({"results": answers})
    for raw, answer in zip(raws, answers, strict=True):
        if "error" not in answer:
            assert answer == answer_one(runtime, int(raw[1:]), member_id)


def test_reports_of_never_listed_numbers_are_refused_with_the_reason(seeded: tuple[Runtime, int, int]) -> None:
    runtime, _, _ = seeded
    reporter = runtime.members.add("carrier-z", Role.REPORTER)[0]
    with pytest.raises(InvalidInput) as refused:
        runtime.registry.report(reporter, NewReport(PREFIXED, Category.ROBOCALL, runtime.clock.now_ms()))
    assert refused.value.code == "never_listed" and "+44800*" in refused.value.message
    # in bulk, the protected rows are refused by line and the rest stored
    outcome = runtime.registry.report_many(
        reporter,
        [
            (1, NewReport(SERVICE, Category.VISHING, runtime.clock.now_ms())),
            (2, NewReport(447700900200, Category.VISHING, runtime.clock.now_ms())),
        ],
    )
    assert outcome.accepted == 1 and [(e.line, e.error.code) for e in outcome.errors] == [(1, "never_listed")]
    assert runtime.registry.lookup(447700900200) is not None and runtime.registry.lookup(SERVICE) is None
