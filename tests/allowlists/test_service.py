"""The allowlist service on SQLite and PostgreSQL: the never-list, members' own numbers, members' private lists,
refusals with stable codes, persistence, and reloading what another process wrote."""

from __future__ import annotations

import numpy as np
import pytest

from ringfence.allowlists import AllowlistService, EntryKind, ListKind, PatternType, Source
from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.errors import Conflict, Forbidden, InvalidInput, InvalidNumber, NotFound
from ringfence.registry.models import Category, Member, NewReport, Role
from ringfence.runtime import Runtime

FREEPHONE = 448001234567
LONDON = 442079460000


@pytest.fixture
def people(runtime: Runtime) -> dict[str, Member]:
    return {
        "admin": runtime.members.add("admin-org", Role.ADMIN)[0],
        "carrier": runtime.members.add("carrier-a", Role.REPORTER)[0],
        "bank": runtime.members.add("bank-b", Role.REPORTER)[0],
        "reader": runtime.members.add("contact-centre-c", Role.READER)[0],
    }


def report(runtime: Runtime, member: Member, number: int) -> None:
    runtime.registry.report(member, NewReport(number, Category.VISHING, runtime.clock.now_ms()))


def test_admins_add_numbers_and_prefixes_and_lookups_see_them(runtime: Runtime, people: dict[str, Member]) -> None:
    lists = runtime.allowlists
    prefix = lists.add(people["admin"], "+44 800*", "service", "UK freephone").entry
    assert (prefix.pattern, prefix.value, prefix.prefix_len, prefix.text) == (PatternType.PREFIX, 44800, 5, "+44800*")
    number = lists.add(people["admin"], "020 7946 0000", EntryKind.EMERGENCY, region="GB").entry
    assert (number.pattern, number.value, number.kind) == (PatternType.NUMBER, LONDON, EntryKind.EMERGENCY)
    assert number.created_by == people["admin"].id and number.member_id is None
    assert [e.id for e in lists.entries()] == [prefix.id, number.id]
    found = lists.protected(FREEPHONE)
    assert found is not None and found.pattern == "+44800*" and found.note == "UK freephone"
    assert found.source is Source.CONSORTIUM and found.entry_id == prefix.id
    assert lists.protected(LONDON) == number.protection()
    assert lists.protected(LONDON + 1) is None
    idx, protections = lists.protected_many(np.array([FREEPHONE, LONDON + 1, LONDON], np.int64))
    assert [protections[i].entry_id if i >= 0 else None for i in idx] == [prefix.id, None, number.id]
    removed = lists.remove(people["admin"], prefix.id)
    assert removed.id == prefix.id and lists.protected(FREEPHONE) is None
    assert lists.version == 3


def test_the_never_list_refuses_bad_input_and_non_admins(runtime: Runtime, people: dict[str, Member]) -> None:
    lists = runtime.allowlists
    for member in ("carrier", "reader"):
        with pytest.raises(Forbidden) as refused:
            lists.add(people[member], "+44800*", "service")
        assert refused.value.code == "forbidden_role"
    cases = {
        "+44*": "invalid_pattern",  # a whole country
        "44800*": "invalid_pattern",  # not international form
        "+0800*": "invalid_pattern",
        "+99999*": "invalid_pattern",  # no such country code
        "+44 8a0*": "invalid_pattern",
        f"+{'4' * 18}*": "invalid_pattern",
    }
    for pattern, code in cases.items():
        with pytest.raises(InvalidInput) as bad:
            lists.add(people["admin"], pattern, "service")
        assert bad.value.code == code and pattern in bad.value.message
    with pytest.raises(InvalidNumber) as junk:
        lists.add(people["admin"], "junk", "service")
    assert junk.value.details == {"input": "junk", "reason": "not_a_number"}
    with pytest.raises(InvalidInput) as kind:
        lists.add(people["admin"], "+442079460000", "vip")
    assert kind.value.code == "unknown_kind" and "'vip'" in kind.value.message
    with pytest.raises(InvalidInput) as note:
        lists.add(people["admin"], "+442079460000", "service", "x" * 501)
    assert note.value.code == "field_too_long"
    with pytest.raises(InvalidInput) as own_prefix:
        lists.add(people["admin"], "+44800*", "member_own")
    assert own_prefix.value.code == "invalid_pattern"
    with pytest.raises(InvalidInput) as owner:
        lists.add(None, "+442079460000", "member_own")
    assert owner.value.code == "owner_required"
    lists.add(people["admin"], "+442079460000", "service")
    with pytest.raises(Conflict) as twice:
        lists.add(people["admin"], "+44 20 7946 0000", "emergency")
    assert twice.value.code == "never_list_exists"
    with pytest.raises(NotFound) as missing:
        lists.remove(people["admin"], 999)
    assert missing.value.code == "never_list_entry_not_found"
    assert lists.version == 1  # refused writes changed nothing


def test_members_publish_their_own_numbers(runtime: Runtime, people: dict[str, Member]) -> None:
    lists = runtime.allowlists
    placed = lists.publish_own(people["carrier"], "+442079460001", "our fraud hotline")
    assert placed.created and placed.entry.kind is EntryKind.MEMBER_OWN
    assert placed.entry.member_id == people["carrier"].id
    again = lists.publish_own(people["carrier"], "+44 20 7946 0001")
    assert not again.created and again.entry == placed.entry
    shown = lists.protected(442079460001)
    assert shown is not None and shown.source is Source.MEMBER_OWN and shown.note == "our fraud hotline"
    with pytest.raises(Conflict) as taken:
        lists.publish_own(people["bank"], "+442079460001")
    assert taken.value.code == "never_list_exists" and "carrier" not in taken.value.message
    with pytest.raises(Forbidden):
        lists.publish_own(people["reader"], "+442079460002")
    assert lists.own_entries(people["carrier"]) == [placed.entry] and lists.own_entries(people["bank"]) == []
    with pytest.raises(NotFound) as not_theirs:
        lists.unpublish_own(people["bank"], "+442079460001")
    assert not_theirs.value.code == "never_list_entry_not_found"
    assert lists.unpublish_own(people["carrier"], 442079460001).id == placed.entry.id
    assert lists.protected(442079460001) is None
    admin_own = lists.add(None, "+442079460003", "member_own", owner=people["bank"]).entry
    assert admin_own.member_id == people["bank"].id and admin_own.created_by is None


def test_new_entries_retire_the_listings_they_cover(runtime: Runtime, people: dict[str, Member]) -> None:
    """The runtime wires the never-list to the registry: an admin's entry takes the listings it covers off (with an
    audit entry and a change); a member publishing its own number only protects it from new reports."""
    lists = runtime.allowlists
    for number in (FREEPHONE, FREEPHONE + 1, LONDON):
        report(runtime, people["carrier"], number)
    placed = lists.add(people["admin"], "+44800*", "service")
    assert sorted(placed.retired) == [FREEPHONE, FREEPHONE + 1]
    assert runtime.registry.lookup(FREEPHONE) is None and runtime.registry.lookup(LONDON) is not None
    removed = runtime.registry.audit.query(number=FREEPHONE)
    assert removed[0].action == "removed" and removed[0].note == "never-list: +44800* (service)"
    assert lists.publish_own(people["carrier"], LONDON).retired == ()
    assert runtime.registry.lookup(LONDON) is not None  # still listed: a member's claim alone removes nothing


def test_a_failing_retirement_leaves_the_entry_in_place(runtime: Runtime, people: dict[str, Member]) -> None:
    def broken(_actor: Member | None, _number: int, _note: str) -> None:
        raise RuntimeError("registry away")

    runtime.allowlists.on_protected = broken
    placed = runtime.allowlists.add(people["admin"], "+442079460000", "service")
    assert placed.retired == () and runtime.allowlists.protected(LONDON) is not None


def test_members_keep_private_lists(runtime: Runtime, people: dict[str, Member]) -> None:
    lists = runtime.allowlists
    carrier, bank = people["carrier"], people["reader"]
    entry = lists.set_member_entry(carrier, "020 7946 0000", "deny", "scam caller", region="GB")
    assert (entry.number, entry.list, entry.note) == (LONDON, ListKind.DENY, "scam caller")
    lists.set_member_entry(carrier, FREEPHONE, ListKind.ALLOW)
    lists.set_member_entry(bank, LONDON, "allow", "our supplier")
    assert lists.member_list(carrier.id, LONDON) == "deny" and lists.member_list(bank.id, LONDON) == "allow"
    assert lists.member_list(carrier.id, LONDON + 1) is None and lists.member_list(999, LONDON) is None
    codes = lists.member_list_many(carrier.id, np.array([LONDON, FREEPHONE, 1, LONDON], np.int64))
    assert codes.dtype == np.int8 and codes.tolist() == [2, 1, 0, 2]
    assert lists.member_list_many(people["admin"].id, [LONDON]).tolist() == [0]
    moved = lists.set_member_entry(carrier, LONDON, "allow")
    assert moved.note is None and lists.member_list_many(carrier.id, [LONDON]).tolist() == [1]
    assert [e.number for e in lists.member_entries(carrier)] == [LONDON, FREEPHONE]
    assert lists.member_entries(carrier, "deny") == []
    assert [e.note for e in lists.member_entries(bank)] == ["our supplier"]
    removed = lists.remove_member_entry(carrier, "+442079460000")
    assert removed.list is ListKind.ALLOW and lists.member_list(carrier.id, LONDON) is None
    with pytest.raises(NotFound) as gone:
        lists.remove_member_entry(carrier, LONDON)
    assert gone.value.code == "not_on_lists"
    with pytest.raises(NotFound):
        lists.member_entry(carrier, LONDON)
    assert lists.member_entry(bank, LONDON).list is ListKind.ALLOW  # one member's removal is its own
    with pytest.raises(InvalidInput) as bad:
        lists.set_member_entry(carrier, LONDON, "grey")
    assert bad.value.code == "unknown_list"
    with pytest.raises(InvalidNumber):
        lists.set_member_entry(carrier, "+44", "allow")


def test_everything_survives_a_restart(settings: Settings, clock: FixedClock) -> None:
    first = Runtime.open(settings, clock=clock)
    try:
        admin = first.members.add("admin-org", Role.ADMIN)[0]
        carrier = first.members.add("carrier-a", Role.REPORTER)[0]
        first.allowlists.add(admin, "+44800*", "service", "freephone")
        first.allowlists.publish_own(carrier, LONDON)
        first.allowlists.set_member_entry(carrier, FREEPHONE, "deny", "scam")
        version = first.allowlists.version
    finally:
        first.close()
    again = Runtime.open(settings, clock=clock)
    try:
        lists = again.allowlists
        assert lists.version == version
        assert [(e.text, e.kind, e.note) for e in lists.entries()] == [
            ("+44800*", EntryKind.SERVICE, "freephone"),
            ("+442079460000", EntryKind.MEMBER_OWN, None),
        ]
        assert lists.protected(FREEPHONE) is not None and lists.member_list(carrier.id, FREEPHONE) == "deny"
    finally:
        again.close()


def test_a_second_process_reloads_what_the_first_wrote(settings: Settings, clock: FixedClock) -> None:
    one = Runtime.open(settings, clock=clock)
    two = Runtime.open(settings, clock=clock)
    try:
        admin = one.members.add("admin-org", Role.ADMIN)[0]
        carrier = one.members.add("carrier-a", Role.REPORTER)[0]
        assert two.allowlists.protected(FREEPHONE) is None and not two.allowlists.refresh()
        entry = one.allowlists.add(admin, "+44800*", "service").entry
        one.allowlists.set_member_entry(carrier, LONDON, "deny")
        assert two.allowlists.protected(FREEPHONE) is None  # not yet: it holds what it read
        assert two.allowlists.refresh() and not two.allowlists.refresh()
        assert two.allowlists.protected(FREEPHONE) is not None and two.allowlists.member_list(carrier.id, LONDON)
        # a write of its own while behind: it reads everything again, the other's writes included
        one.allowlists.set_member_entry(carrier, FREEPHONE, "allow")
        two.allowlists.remove(admin, entry.id)
        assert two.allowlists.member_list(carrier.id, FREEPHONE) == "allow"
        assert two.allowlists.protected(FREEPHONE) is None
        assert one.allowlists.refresh() and one.allowlists.protected(FREEPHONE) is None
        assert one.allowlists.version == two.allowlists.version == 4
    finally:
        one.close()
        two.close()


def test_the_service_loads_lazily_on_first_use(runtime: Runtime) -> None:
    fresh = AllowlistService(runtime.engine, runtime.clock)
    assert fresh.protected(2710111) is not None and fresh.version == 0
