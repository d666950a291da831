"""Disputes on SQLite and PostgreSQL: opening flags a listing, upholding removes it and costs its reporters reputation,
rejecting and withdrawing keep it, and every event reaches the change feed and the audit log."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ringfence.clock import FixedClock
from ringfence.disputes.models import DisputeReason, DisputeStatus
from ringfence.errors import Conflict, Forbidden, InvalidInput, NotFound
from ringfence.feed.models import ChangeKind
from ringfence.registry.audit import AuditLog
from ringfence.registry.models import FLAG_DISPUTED, Category, Member, NewReport, Role
from ringfence.registry.reputation import STANDING, UPHELD_PENALTY
from ringfence.runtime import Runtime
from ringfence.store.tables import disputes, listings, members, reports
from tests.conftest import START_MS

LONDON = 442079460018
OTHER = 442079460019
HOUR = 3_600_000


class Org:
    """The members of a test: two reporters, a bank's contact centre (reader) and an admin."""

    def __init__(self, runtime: Runtime) -> None:
        self.carrier = runtime.members.add("carrier-a", Role.REPORTER)[0]
        self.bank = runtime.members.add("bank-b", Role.REPORTER)[0]
        self.centre = runtime.members.add("contact-centre-c", Role.READER)[0]
        self.admin = runtime.members.add("admin-org", Role.ADMIN)[0]


@pytest.fixture
def org(runtime: Runtime) -> Org:
    return Org(runtime)


def _report(runtime: Runtime, member: Member, number: int = LONDON) -> None:
    runtime.registry.report(member, NewReport(number, Category.VISHING, START_MS - HOUR))


def _flags(runtime: Runtime, number: int = LONDON) -> int | None:
    with runtime.engine.connect() as conn:
        value = conn.execute(sa.select(listings.c.flags).where(listings.c.number == number)).scalar_one_or_none()
    return None if value is None else int(value)


def _reputation(runtime: Runtime, member: Member) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(sa.select(members.c.reputation).where(members.c.id == member.id)).scalar_one())


def _kinds_since(runtime: Runtime, seq: int) -> list[tuple[ChangeKind, int, bool]]:
    return [(c.kind, c.number, c.listing is not None) for c in runtime.feed.log.read(seq, 100)]


def _actions(runtime: Runtime, number: int = LONDON) -> list[str]:
    return [entry.action for entry in reversed(AuditLog(runtime.engine).query(number=number))]


def test_opening_a_dispute_flags_the_listing_and_tells_the_feed(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    head = runtime.feed.log.head()
    dispute = runtime.disputes.open(org.centre, LONDON, "legitimate_customer", "  our customer since 2019 ")
    assert dispute.status is DisputeStatus.OPEN and dispute.reason is DisputeReason.LEGITIMATE_CUSTOMER
    assert (dispute.member_id, dispute.member_name, dispute.note) == (
        org.centre.id,
        org.centre.name,
        "our customer since 2019",
    )
    assert dispute.opened_ms == START_MS and dispute.resolved_ms is None
    assert _flags(runtime) == FLAG_DISPUTED
    changes = runtime.feed.log.read(head, 100)
    assert [(c.kind, c.number) for c in changes] == [(ChangeKind.UPDATED, LONDON)]
    assert changes[0].listing is not None and changes[0].listing.flags & FLAG_DISPUTED
    indexed = runtime.registry.lookup(LONDON)
    assert indexed is not None and indexed.flags & FLAG_DISPUTED  # the index follows the feed
    entry = AuditLog(runtime.engine).query(number=LONDON, action="dispute_opened")[0]
    assert entry.actor_id == org.centre.id and entry.note is not None and f"dispute {dispute.id}" in entry.note


def test_a_second_dispute_of_a_flagged_listing_is_audited_without_a_change(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    runtime.disputes.open(org.centre, LONDON, DisputeReason.LEGITIMATE_CUSTOMER)
    head = runtime.feed.log.head()
    second = runtime.disputes.open(org.bank, LONDON, "reassigned")
    assert second.status is DisputeStatus.OPEN
    assert runtime.feed.log.read(head, 100) == []  # the flag was set already: nothing for members to learn
    assert _actions(runtime).count("dispute_opened") == 2


def test_one_open_dispute_per_member_and_number(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    _report(runtime, org.carrier, OTHER)
    first = runtime.disputes.open(org.centre, LONDON, "own_number")
    with pytest.raises(Conflict) as caught:
        runtime.disputes.open(org.centre, LONDON, "reassigned")
    assert caught.value.code == "dispute_exists" and caught.value.details["id"] == str(first.id)
    runtime.disputes.open(org.centre, OTHER, "own_number")  # another number is another dispute
    runtime.disputes.withdraw(org.centre, first.id)
    again = runtime.disputes.open(org.centre, LONDON, "reassigned")  # a closed dispute does not block a new one
    assert again.id != first.id


def test_only_a_listed_number_can_be_disputed(runtime: Runtime, org: Org) -> None:
    with pytest.raises(NotFound) as caught:
        runtime.disputes.open(org.centre, LONDON, "own_number")
    assert caught.value.code == "not_listed"
    assert runtime.disputes.list() == []


def test_upheld_removes_the_listing_and_lowers_the_reporters_reputation(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    _report(runtime, org.bank)
    first = runtime.disputes.open(org.centre, LONDON, "legitimate_customer")
    runtime.disputes.open(org.admin, LONDON, "reassigned")
    _report(runtime, org.carrier, OTHER)
    other = runtime.disputes.open(org.centre, OTHER, "own_number")
    head = runtime.feed.log.head()
    standing = {m.id: _reputation(runtime, m) for m in (org.carrier, org.bank, org.centre)}  # confirmations count
    runtime.clock.advance(HOUR)  # type: ignore[attr-defined]

    upheld = runtime.disputes.resolve(org.admin, first.id, "upheld", "customer verified by phone")
    assert upheld.status is DisputeStatus.UPHELD and upheld.resolved_ms == START_MS + HOUR
    assert (upheld.resolved_by, upheld.resolution_note) == (org.admin.id, "customer verified by phone")
    assert _flags(runtime) is None and runtime.registry.lookup(LONDON) is None
    assert _kinds_since(runtime, head) == [(ChangeKind.DISPUTE, LONDON, False)]
    assert _reputation(runtime, org.carrier) == standing[org.carrier.id] - UPHELD_PENALTY
    assert _reputation(runtime, org.bank) == standing[org.bank.id] - UPHELD_PENALTY
    assert _reputation(runtime, org.centre) == standing[org.centre.id] == STANDING  # it reported nothing
    with runtime.engine.connect() as conn:
        reasons = conn.execute(sa.select(reports.c.withdrawn_reason).where(reports.c.number == LONDON)).scalars()
        assert set(reasons) == {"dispute"}  # the reports are kept, as history
    # every open dispute of the number is upheld with it; another number's is untouched
    assert {d.status for d in runtime.disputes.list(number=LONDON)} == {DisputeStatus.UPHELD}
    assert runtime.disputes.get(other.id).status is DisputeStatus.OPEN
    removal = AuditLog(runtime.engine).query(number=LONDON)[0]
    assert removal.reason == "dispute" and removal.actor_id == org.admin.id and removal.after is None
    assert removal.note is not None and "customer verified by phone" in removal.note


def test_upheld_after_the_listing_left_is_recorded_and_penalises_nobody(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    dispute = runtime.disputes.open(org.centre, LONDON, "reassigned")
    runtime.registry.withdraw(org.carrier, runtime.registry.reports(member=org.carrier)[0].id)
    assert runtime.disputes.resolve(org.admin, dispute.id, "upheld").status is DisputeStatus.UPHELD
    assert _reputation(runtime, org.carrier) == STANDING
    assert _actions(runtime)[-1] == "dispute_upheld"


def test_rejected_clears_the_flag_and_the_listing_stays(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    dispute = runtime.disputes.open(org.centre, LONDON, "legitimate_customer")
    head = runtime.feed.log.head()
    rejected = runtime.disputes.resolve(org.admin, dispute.id, "rejected", "confirmed fraud by two carriers")
    assert rejected.status is DisputeStatus.REJECTED and rejected.resolution_note == "confirmed fraud by two carriers"
    assert _flags(runtime) == 0
    assert _kinds_since(runtime, head) == [(ChangeKind.UPDATED, LONDON, True)]
    assert _reputation(runtime, org.carrier) == STANDING
    assert _actions(runtime)[-1] == "dispute_rejected"


def test_the_flag_stays_while_another_dispute_is_open(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    first = runtime.disputes.open(org.centre, LONDON, "legitimate_customer")
    second = runtime.disputes.open(org.bank, LONDON, "legitimate_customer")
    head = runtime.feed.log.head()
    runtime.disputes.resolve(org.admin, first.id, "rejected")
    assert _flags(runtime) == FLAG_DISPUTED and runtime.feed.log.read(head, 100) == []
    runtime.disputes.withdraw(org.bank, second.id)
    assert _flags(runtime) == 0
    assert _kinds_since(runtime, head) == [(ChangeKind.UPDATED, LONDON, True)]
    assert _actions(runtime)[-2:] == ["dispute_rejected", "dispute_withdrawn"]


def test_withdraw_is_for_the_disputing_member_only_and_idempotent(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    dispute = runtime.disputes.open(org.centre, LONDON, "own_number")
    with pytest.raises(NotFound) as caught:
        runtime.disputes.withdraw(org.bank, dispute.id)  # another member's dispute is as missing as none
    assert caught.value.code == "dispute_not_found"
    withdrawn = runtime.disputes.withdraw(org.centre, str(dispute.id))
    assert withdrawn.status is DisputeStatus.WITHDRAWN and withdrawn.resolved_by == org.centre.id
    assert runtime.disputes.withdraw(org.centre, dispute.id) == withdrawn
    assert _flags(runtime) == 0
    with pytest.raises(Conflict) as closed:
        runtime.disputes.resolve(org.admin, dispute.id, "upheld")
    assert closed.value.code == "dispute_closed" and closed.value.details["status"] == "withdrawn"


def test_resolving_needs_an_admin_and_an_open_dispute(runtime: Runtime, org: Org) -> None:
    _report(runtime, org.carrier)
    dispute = runtime.disputes.open(org.centre, LONDON, "own_number")
    with pytest.raises(Forbidden) as forbidden:
        runtime.disputes.resolve(org.carrier, dispute.id, "upheld")
    assert forbidden.value.code == "forbidden_role"
    with pytest.raises(InvalidInput) as bad:
        runtime.disputes.resolve(org.admin, dispute.id, "maybe")
    assert bad.value.code == "unknown_outcome"
    runtime.disputes.resolve(org.admin, dispute.id, "rejected")
    with pytest.raises(Conflict) as twice:
        runtime.disputes.resolve(org.admin, dispute.id, "upheld")
    assert twice.value.code == "dispute_closed"
    with pytest.raises(Conflict):
        runtime.disputes.withdraw(org.centre, dispute.id)
    assert runtime.registry.lookup(LONDON) is not None


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (lambda rt, o: rt.disputes.open(o.centre, LONDON, "dislike"), InvalidInput, "unknown_reason"),
        (lambda rt, o: rt.disputes.open(o.centre, LONDON, "own_number", "x" * 2001), InvalidInput, "field_too_long"),
        (lambda rt, o: rt.disputes.get("abc"), NotFound, "dispute_not_found"),
        (lambda rt, o: rt.disputes.get(99), NotFound, "dispute_not_found"),
        (lambda rt, o: rt.disputes.resolve(o.admin, "9" * 30, "upheld"), NotFound, "dispute_not_found"),
    ],
)
def test_bad_input_is_refused_with_a_stable_code(
    runtime: Runtime, org: Org, call: object, error: type[Exception], code: str
) -> None:
    _report(runtime, org.carrier)
    with pytest.raises(error) as caught:
        call(runtime, org)  # type: ignore[operator]
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert runtime.disputes.list() == [] and _flags(runtime) == 0


def test_lists_are_newest_first_and_a_member_sees_its_own(runtime: Runtime, org: Org, clock: FixedClock) -> None:
    _report(runtime, org.carrier)
    _report(runtime, org.carrier, OTHER)
    a = runtime.disputes.open(org.centre, LONDON, "own_number")
    clock.advance(1000)
    b = runtime.disputes.open(org.bank, LONDON, "reassigned")
    c = runtime.disputes.open(org.centre, OTHER, "reassigned")
    assert [d.id for d in runtime.disputes.list()] == [c.id, b.id, a.id]
    assert [d.id for d in runtime.disputes.list(member=org.centre)] == [c.id, a.id]
    assert [d.id for d in runtime.disputes.list(number=LONDON)] == [b.id, a.id]
    assert [d.id for d in runtime.disputes.list(limit=2, before=c.id)] == [b.id, a.id]
    runtime.disputes.withdraw(org.bank, b.id)
    assert [d.id for d in runtime.disputes.list(status=DisputeStatus.OPEN)] == [c.id, a.id]
    assert runtime.disputes.get(a.id, member=org.centre) == a
    with pytest.raises(NotFound):
        runtime.disputes.get(a.id, member=org.bank)


def test_the_store_itself_holds_one_open_dispute_per_member_and_number(runtime: Runtime, org: Org) -> None:
    """The partial unique index: what keeps two nodes from opening the same dispute at once."""
    _report(runtime, org.carrier)
    runtime.disputes.open(org.centre, LONDON, "own_number")
    row = {"number": LONDON, "member_id": org.centre.id, "reason": "own_number", "opened_ms": START_MS}
    with pytest.raises(sa.exc.IntegrityError), runtime.engine.begin() as conn:
        conn.execute(sa.insert(disputes).values(**row, status="open"))
    with runtime.engine.begin() as conn:  # closed ones do not count
        conn.execute(sa.insert(disputes).values(**row, status="withdrawn"))
        conn.execute(sa.insert(disputes).values(**row, status="withdrawn"))
