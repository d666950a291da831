"""Days in the life of the registry, with the clock in the test's hand: reports, decay, re-reports, the sweep, an
owner-change feed, a port and disputes. Every answer and every change event is checked, in order, on SQLite and on
PostgreSQL."""

from __future__ import annotations

from ringfence.clock import FixedClock
from ringfence.feed.models import Change
from ringfence.registry.assess import LookupOptions
from ringfence.registry.disconnects import Disconnect
from ringfence.registry.models import Category, Member, NewReport, Role
from ringfence.registry.reputation import CONFIRM_BONUS, STANDING, UPHELD_PENALTY, reputations
from ringfence.registry.scoring import DAY_MS
from ringfence.registry.sweep import sweep_once
from ringfence.runtime import Runtime

HOUR_MS = 3_600_000
VISHER = 447700900001  # reported by one member, decays, is re-reported, then expires
CORROBORATED = 447700900002  # reported by two members: confirmation raises the first one's reputation
REASSIGNED = 447700900003  # disconnected after its report: the owner changed
PORTED = 447700900004  # ported after its report: weighs less, stays
DISPUTED = 447700900005  # disputed; the dispute is upheld


class Scenario:
    def __init__(self, runtime: Runtime, clock: FixedClock) -> None:
        self.runtime = runtime
        self.clock = clock
        self.seen = runtime.feed.log.head()
        self.a = runtime.members.add("carrier-a", Role.REPORTER)[0]
        self.b = runtime.members.add("bank-b", Role.REPORTER)[0]
        self.admin = runtime.members.add("admin-org", Role.ADMIN)[0]

    def report(self, member: Member, number: int, category: Category = Category.VISHING) -> None:
        self.runtime.registry.report(member, NewReport(number, category, self.clock.now_ms()))

    def answer(self, number: int, **options: object) -> tuple[bool, float | None]:
        found = self.runtime.registry.assess(number, LookupOptions(**options))  # type: ignore[arg-type]
        return (False, None) if found is None else (found.listed, found.score)

    def reputation(self, member: Member) -> int:
        with self.runtime.engine.connect() as conn:
            return reputations(conn, [member.id])[member.id]

    def changes(self) -> list[tuple[str, int, bool]]:
        """The change events since the last call: (kind, number, still listed)."""
        new: list[Change] = self.runtime.feed.log.read(self.seen, 1000)
        if new:
            self.seen = new[-1].seq
        return [(c.kind.value, c.number, c.listing is not None) for c in new]


def test_days_of_reports_decay_owner_changes_and_disputes(runtime: Runtime, clock: FixedClock) -> None:
    s = Scenario(runtime, clock)

    # Day 0: five numbers reported. One reporter of standing: base 70 (vishing 100 points x 0.7).
    for number in (VISHER, CORROBORATED, REASSIGNED, PORTED, DISPUTED):
        s.report(s.a, number)
    assert s.changes() == [("listed", n, True) for n in (VISHER, CORROBORATED, REASSIGNED, PORTED, DISPUTED)]
    assert s.answer(VISHER) == (True, 70.0)

    # bank-b confirms one of them: two reporters give base 100, and carrier-a's reputation rises.
    s.report(s.b, CORROBORATED)
    assert s.changes() == [("re_reported", CORROBORATED, True)]
    assert s.answer(CORROBORATED) == (True, 100.0)
    assert s.reputation(s.a) == STANDING + CONFIRM_BONUS

    # Day 1: a day's decay (10-day lifetime, speed 2.3): 70 x (1 - 0.1 ** (1 / 2.3)) = 44.3, still listed.
    clock.advance(DAY_MS)
    listed, score = s.answer(VISHER)
    assert listed and score == 44.3

    # A port after the report halves the score; a disconnect after the report removes the listing.
    outcome = runtime.registry.apply_disconnects(
        s.admin,
        [
            Disconnect(PORTED, clock.now_ms() - HOUR_MS, "port"),
            Disconnect(REASSIGNED, clock.now_ms() - HOUR_MS, "disconnect"),
            Disconnect(447700999999, clock.now_ms(), "disconnect"),  # not listed: ignored
        ],
    )
    assert (outcome.rows, outcome.listed, outcome.removed, outcome.ported) == (3, 2, 1, 1)
    assert s.changes() == [("owner_change", REASSIGNED, False), ("updated", PORTED, True)]
    assert s.answer(REASSIGNED) == (False, None)
    assert s.answer(PORTED, include_decayed=True)[1] == 22.1  # 35 x the same decay
    assert not s.answer(PORTED)[0]  # below its threshold of 30: decayed

    # A dispute marks the listing and halves its weight; upheld, it removes it and costs the reporter reputation.
    dispute = runtime.disputes.open(s.b, DISPUTED, "legitimate_customer")
    assert s.changes() == [("updated", DISPUTED, True)]
    assert runtime.registry.lookup(DISPUTED).flags  # type: ignore[union-attr]
    before = s.reputation(s.a)
    runtime.disputes.resolve(s.admin, dispute.id, "upheld")
    assert s.changes() == [("dispute", DISPUTED, False)]
    assert s.reputation(s.a) == before - UPHELD_PENALTY

    # Day 3: the single-reporter listings have decayed; lookups say so before any sweep.
    clock.advance(2 * DAY_MS)
    assert s.answer(VISHER)[0] is False
    assert s.answer(CORROBORATED)[0] is True  # base 100 lasts longer

    # A new report resets the clock (the seed's "timestamp resets with each new reporting").
    s.report(s.a, VISHER)
    assert s.changes() == [("re_reported", VISHER, True)]
    assert s.answer(VISHER)[0] is True

    # Day 4: the sweep expires what decayed: the ported number (base 35, 11.5 now). The re-reported one is a day
    # old again (44.3) and the corroborated one, four days old, keeps 100 x (1 - 0.4 ** (1 / 2.3)) = 32.9.
    clock.advance(DAY_MS)
    assert [s.answer(n) for n in (VISHER, CORROBORATED)] == [(True, 44.3), (True, 32.9)]
    assert sweep_once(runtime) == 1
    assert s.changes() == [("expired", PORTED, False)]
    assert runtime.registry.lookup(PORTED) is None
    assert sweep_once(runtime) == 0  # nothing left to expire
    assert s.changes() == []

    # Day 6: both decayed; a pinned listing survives the sweep at its base score.
    clock.advance(2 * DAY_MS)
    runtime.registry.pin(s.admin, CORROBORATED)
    assert s.changes() == [("updated", CORROBORATED, True)]
    assert s.answer(CORROBORATED) == (True, 100.0)
    assert sweep_once(runtime) == 1
    assert s.changes() == [("expired", VISHER, False)]
    expected_gone = sorted([PORTED, VISHER])

    # The audit log has every removal, with its reason; the sweep's actor is ringfence itself (None).
    audit = runtime.registry.audit.query(limit=100)
    actions = [(e.action, e.number) for e in reversed(audit)]
    assert ("owner_change", REASSIGNED) in actions
    assert ("dispute", DISPUTED) in actions
    expired = [e for e in audit if e.action == "expired"]
    assert sorted(e.number for e in expired) == expected_gone and all(e.actor_id is None for e in expired)

    # Restart: the index is rebuilt identically from the store (scores included).
    reopened = Runtime.open(runtime.settings, clock=clock)
    try:
        for number in (VISHER, CORROBORATED, REASSIGNED, PORTED, DISPUTED):
            assert reopened.registry.lookup(number) == runtime.registry.lookup(number)
            assert reopened.registry.assess(number) == runtime.registry.assess(number)
    finally:
        reopened.close()
