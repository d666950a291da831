"""The alert service on SQLite and PostgreSQL: recording and grouping alerts into incidents, idempotent re-recording,
the life cycle and its refusals, who sees what, queries and counts, events, and durability across a restart."""

from __future__ import annotations

import pytest

from ringfence.alerts.models import EventKind, IncidentFilter, IncidentStatus, Verdict
from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.errors import Conflict, Forbidden, InvalidInput, NotFound
from ringfence.registry.models import Member, Role
from ringfence.rules.models import Severity
from ringfence.runtime import Runtime
from tests.alerts.factory import HOUR, MINUTE, NUMBER, SUBJECT, T0, make_alert, make_cdr

GAP = 24 * HOUR


@pytest.fixture
def carrier(runtime: Runtime) -> Member:
    return runtime.members.add("carrier-a", Role.REPORTER)[0]


@pytest.fixture
def bank(runtime: Runtime) -> Member:
    return runtime.members.add("bank-b", Role.REPORTER)[0]


@pytest.fixture
def reader(runtime: Runtime) -> Member:
    return runtime.members.add("contact-centre-c", Role.READER)[0]


@pytest.fixture
def admin(runtime: Runtime) -> Member:
    return runtime.members.add("admin-org", Role.ADMIN)[0]


# --- grouping ----------------------------------------------------------------------------------------------------
def test_alerts_within_the_gap_join_one_incident_and_a_later_one_opens_another(
    runtime: Runtime, carrier: Member
) -> None:
    first = make_alert(T0)
    within = make_alert(T0 + 10 * MINUTE + GAP)  # starts exactly one gap after the first window ends
    beyond = make_alert(T0 + 20 * MINUTE + 2 * GAP + 1)  # one millisecond more than a gap after `within` ends
    recorded = runtime.alerts.record(carrier.id, [first, within, beyond], source="day1.csv")
    assert (recorded.new, recorded.duplicates) == (3, 0)
    one, _, two = recorded.incidents
    assert recorded.incidents == (one, one, two) and one != two
    assert recorded.opened == (one, two)
    incident = runtime.alerts.get(one)
    assert (incident.alert_count, incident.window_start_ms, incident.window_end_ms) == (
        2,
        T0,
        T0 + 20 * MINUTE + GAP,
    )
    assert (incident.first_fired_ms, incident.last_fired_ms) == (first.fired_ms, within.fired_ms)
    assert (incident.rule, incident.subject, incident.category, incident.member_id) == (
        "hotlist_hit",
        SUBJECT,
        "irsf",
        carrier.id,
    )


def test_other_rules_subjects_and_members_make_their_own_incidents(
    runtime: Runtime, carrier: Member, bank: Member
) -> None:
    made = runtime.alerts.record(
        carrier.id,
        [make_alert(T0), make_alert(T0, rule="range_velocity"), make_alert(T0, subject="range:+3725521")],
        source="f",
    )
    assert len(set(made.incidents)) == 3
    theirs = runtime.alerts.record(bank.id, [make_alert(T0)], source="f")  # same key, another member: not a duplicate
    assert (theirs.new, theirs.duplicates) == (1, 0) and theirs.incidents[0] not in made.incidents


def test_severity_is_the_highest_of_the_alerts_and_numbers_their_union(runtime: Runtime, carrier: Member) -> None:
    runtime.alerts.record(
        carrier.id,
        [make_alert(T0, severity=Severity.MEDIUM, numbers=(NUMBER, 3725521299))],
        source="a",
    )
    made = runtime.alerts.record(
        carrier.id,
        [
            make_alert(T0 + HOUR, severity=Severity.CRITICAL, numbers=(3725521200,)),
            make_alert(T0 + 2 * HOUR, severity=Severity.LOW, numbers=(NUMBER,)),
        ],
        source="b",
    )
    incident = runtime.alerts.get(made.incidents[0])
    assert incident.severity is Severity.CRITICAL and incident.alert_count == 3
    assert incident.numbers == (3725521200, NUMBER, 3725521299)


def test_recording_again_records_nothing_twice(runtime: Runtime, carrier: Member) -> None:
    batch = [make_alert(T0), make_alert(T0 + HOUR), make_alert(T0, rule="wangiri")]
    first = runtime.alerts.record(carrier.id, batch, source="day1.csv")
    events = runtime.alerts.events()
    again = runtime.alerts.record(carrier.id, list(reversed(batch)), source="day1.csv")
    assert (again.new, again.duplicates, again.opened) == (0, 3, ())
    assert again.incidents == tuple(reversed(first.incidents))
    assert runtime.alerts.events() == events  # nothing happened
    assert runtime.alerts.get(first.incidents[0]).alert_count == 2
    inside = runtime.alerts.record(carrier.id, [make_alert(T0 + 5 * HOUR), make_alert(T0 + 5 * HOUR)], source="x")
    assert (inside.new, inside.duplicates) == (1, 1) and inside.incidents[0] == inside.incidents[1]


def test_a_closed_incident_takes_no_new_alert(runtime: Runtime, carrier: Member) -> None:
    first = runtime.alerts.record(carrier.id, [make_alert(T0)], source="a").incidents[0]
    runtime.alerts.close(carrier, first, Verdict.FALSE_POSITIVE)
    later = runtime.alerts.record(carrier.id, [make_alert(T0 + HOUR)], source="b")
    assert later.opened == later.incidents and later.incidents[0] != first
    assert runtime.alerts.get(first).alert_count == 1
    assert runtime.alerts.get(later.incidents[0]).status is IncidentStatus.OPEN


def test_an_acknowledged_incident_takes_new_alerts_and_stays_acknowledged(runtime: Runtime, carrier: Member) -> None:
    first = runtime.alerts.record(carrier.id, [make_alert(T0)], source="a").incidents[0]
    runtime.alerts.acknowledge(carrier, first, "looking")
    assert runtime.alerts.record(carrier.id, [make_alert(T0 + HOUR)], source="b").incidents == (first,)
    incident = runtime.alerts.get(first)
    assert (incident.status, incident.alert_count) == (IncidentStatus.ACKNOWLEDGED, 2)
    assert runtime.alerts.events()[-1].status is IncidentStatus.ACKNOWLEDGED


def test_an_out_of_order_alert_joins_when_it_ends_within_the_gap_of_the_first_window(
    runtime: Runtime, carrier: Member
) -> None:
    start = T0 + 3 * GAP
    incident = runtime.alerts.record(carrier.id, [make_alert(start)], source="a").incidents[0]
    near = runtime.alerts.record(carrier.id, [make_alert(start - GAP)], source="late")  # ends within a gap before
    far = runtime.alerts.record(carrier.id, [make_alert(start - 3 * GAP)], source="later")
    assert near.incidents == (incident,) and far.opened == far.incidents
    assert runtime.alerts.get(incident).window_start_ms == start - GAP


def test_the_gap_is_configurable(runtime: Runtime, carrier: Member) -> None:
    from ringfence.alerts.service import AlertService

    tight = AlertService(runtime.engine, runtime.clock, runtime.registry, incident_gap_ms=MINUTE)
    made = tight.record(
        carrier.id, [make_alert(T0), make_alert(T0 + 11 * MINUTE), make_alert(T0 + 30 * MINUTE)], source="a"
    )
    assert made.incidents[0] == made.incidents[1] != made.incidents[2]
    with pytest.raises(InvalidInput):
        AlertService(runtime.engine, runtime.clock, runtime.registry, incident_gap_ms=-1)


def test_evidence_and_facts_are_kept_with_the_alert(runtime: Runtime, carrier: Member) -> None:
    cdrs = [make_cdr(i, start_ms=T0 + i * 1000) for i in range(5)]
    alert = make_alert(T0, evidence=cdrs, facts={"calls": 5, "threshold": 3, "share": 0.8})
    incident = runtime.alerts.record(carrier.id, [alert], source="day1.csv").incidents[0]
    (stored,) = runtime.alerts.alerts(incident)
    assert stored.evidence == tuple(c.to_dict() for c in cdrs)
    assert dict(stored.facts) == {"calls": 5, "threshold": 3, "share": 0.8}
    assert (stored.source, stored.seq, stored.summary, stored.recorded_ms) == ("day1.csv", 4, alert.summary, T0)


def test_bad_input_is_refused_and_nothing_is_stored(runtime: Runtime, carrier: Member) -> None:
    with pytest.raises(NotFound) as missing:
        runtime.alerts.record(10_000, [make_alert(T0)], source="a")
    assert missing.value.code == "member_not_found"
    with pytest.raises(InvalidInput) as bad:
        runtime.alerts.record(carrier.id, [make_alert(T0), make_alert(T0 + HOUR, subject="x" * 201)], source="a")
    assert bad.value.code == "invalid_alert" and "subject" in bad.value.message
    assert runtime.alerts.list() == [] and runtime.alerts.events() == []
    assert runtime.alerts.record(carrier.id, [], source="a").new == 0


# --- life cycle and who may act --------------------------------------------------------------------------------
def test_life_cycle_open_acknowledged_closed(runtime: Runtime, carrier: Member, clock: FixedClock) -> None:
    incident = runtime.alerts.record(carrier.id, [make_alert(T0)], source="a").incidents[0]
    clock.advance(MINUTE)
    acked = runtime.alerts.acknowledge(carrier, incident, " on it ")
    assert (acked.status, acked.acknowledged_ms, acked.acknowledged_by_name, acked.ack_note) == (
        IncidentStatus.ACKNOWLEDGED,
        T0 + MINUTE,
        "carrier-a",
        "on it",
    )
    assert runtime.alerts.acknowledge(carrier, incident) == acked  # again: no change, no event
    clock.advance(MINUTE)
    closed = runtime.alerts.close(carrier, str(incident), "false_positive", "test traffic").incident
    assert (closed.status, closed.verdict, closed.closed_ms, closed.closed_by_name, closed.close_note) == (
        IncidentStatus.CLOSED,
        Verdict.FALSE_POSITIVE,
        T0 + 2 * MINUTE,
        "carrier-a",
        "test traffic",
    )
    assert closed.reports is None
    assert [e.kind for e in runtime.alerts.events()] == [EventKind.OPENED, EventKind.ACKNOWLEDGED, EventKind.CLOSED]
    for attempt in (
        lambda: runtime.alerts.acknowledge(carrier, incident),
        lambda: runtime.alerts.close(carrier, incident, Verdict.FRAUD),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "incident_closed"


def test_closing_straight_from_open_and_bad_closures(runtime: Runtime, carrier: Member) -> None:
    incident = runtime.alerts.record(carrier.id, [make_alert(T0)], source="a").incidents[0]
    with pytest.raises(InvalidInput) as verdict:
        runtime.alerts.close(carrier, incident, "guilty")
    assert verdict.value.code == "unknown_verdict"
    with pytest.raises(InvalidInput) as report:
        runtime.alerts.close(carrier, incident, Verdict.FALSE_POSITIVE, report=True)
    assert report.value.code == "report_needs_fraud"
    with pytest.raises(InvalidInput) as note:
        runtime.alerts.close(carrier, incident, Verdict.FRAUD, "x" * 2001)
    assert note.value.code == "invalid_note"
    assert runtime.alerts.get(incident).status is IncidentStatus.OPEN
    assert runtime.alerts.close(carrier, incident, Verdict.FRAUD).incident.status is IncidentStatus.CLOSED


def test_members_see_and_act_on_their_own_incidents_admins_on_all(
    runtime: Runtime, carrier: Member, bank: Member, reader: Member, admin: Member
) -> None:
    mine = runtime.alerts.record(carrier.id, [make_alert(T0)], source="a").incidents[0]
    theirs = runtime.alerts.record(reader.id, [make_alert(T0)], source="a").incidents[0]
    for attempt in (
        lambda: runtime.alerts.get(mine, viewer=bank),
        lambda: runtime.alerts.alerts(mine, viewer=bank),
        lambda: runtime.alerts.acknowledge(bank, mine),
        lambda: runtime.alerts.close(bank, mine, Verdict.FRAUD),
    ):
        with pytest.raises(NotFound) as hidden:
            attempt()
        assert hidden.value.code == "incident_not_found"
    assert runtime.alerts.list(viewer=bank) == []
    assert [i.id for i in runtime.alerts.list(IncidentFilter(member_id=carrier.id), viewer=bank)] == []
    assert [i.id for i in runtime.alerts.list(viewer=admin)] == [theirs, mine]
    assert [i.id for i in runtime.alerts.list(viewer=None)] == [theirs, mine]  # the operator
    # a reader acknowledges its own, but may not close it
    assert runtime.alerts.acknowledge(reader, theirs).status is IncidentStatus.ACKNOWLEDGED
    with pytest.raises(Forbidden) as role:
        runtime.alerts.close(reader, theirs, Verdict.FALSE_POSITIVE)
    assert role.value.code == "forbidden_role"
    # an admin acts on anyone's
    assert runtime.alerts.close(admin, theirs, Verdict.FALSE_POSITIVE).incident.closed_by_name == "admin-org"
    with pytest.raises(NotFound):
        runtime.alerts.get("nope", viewer=admin)


# --- queries -----------------------------------------------------------------------------------------------------
def test_list_filters_and_pages_newest_first(runtime: Runtime, carrier: Member, bank: Member) -> None:
    made = runtime.alerts.record(
        carrier.id,
        [
            make_alert(T0, severity=Severity.LOW),
            make_alert(T0, rule="wangiri", subject="number:+3725521299", severity=Severity.HIGH),
            make_alert(T0 + 3 * GAP, rule="wangiri", severity=Severity.CRITICAL),
        ],
        source="a",
    ).incidents
    other = runtime.alerts.record(bank.id, [make_alert(T0)], source="a").incidents[0]
    runtime.alerts.acknowledge(carrier, made[1])

    def ids(**wanted: object) -> list[int]:
        return [i.id for i in runtime.alerts.list(IncidentFilter(**wanted))]  # type: ignore[arg-type]

    assert ids() == [other, made[2], made[1], made[0]]
    assert ids(status=IncidentStatus.ACKNOWLEDGED) == [made[1]]
    assert ids(rule="wangiri") == [made[2], made[1]]
    assert ids(min_severity=Severity.HIGH) == [other, made[2], made[1]]
    assert ids(subject=SUBJECT) == [other, made[2], made[0]]
    assert ids(member_id=bank.id) == [other]
    assert ids(since_ms=T0 + 2 * GAP) == [made[2]]
    assert ids(until_ms=T0 + 2 * GAP) == [other, made[1], made[0]]
    page = runtime.alerts.list(limit=2)
    rest = runtime.alerts.list(limit=2, before=page[-1].id)
    assert [i.id for i in page + rest] == ids()


def test_summary_counts_per_status_rule_severity_and_verdict(runtime: Runtime, carrier: Member, bank: Member) -> None:
    made = runtime.alerts.record(
        carrier.id,
        [
            make_alert(T0, severity=Severity.LOW),
            make_alert(T0, rule="wangiri", severity=Severity.HIGH),
            make_alert(T0, rule="wangiri", subject="range:+37255", severity=Severity.HIGH),
        ],
        source="a",
    ).incidents
    runtime.alerts.record(bank.id, [make_alert(T0)], source="a")
    runtime.alerts.acknowledge(carrier, made[1])
    runtime.alerts.close(carrier, made[2], Verdict.FRAUD)
    counts = runtime.alerts.summary(viewer=carrier)
    assert counts.total == 3
    assert counts.by_status == {"open": 1, "acknowledged": 1, "closed": 1}
    assert counts.by_rule == {
        "hotlist_hit": {"open": 1, "acknowledged": 0, "closed": 0},
        "wangiri": {"open": 0, "acknowledged": 1, "closed": 1},
    }
    assert counts.by_severity["high"] == {"open": 0, "acknowledged": 1, "closed": 1}
    assert counts.by_severity["low"] == {"open": 1, "acknowledged": 0, "closed": 0}
    assert counts.by_verdict == {"fraud": 1, "false_positive": 0}
    assert runtime.alerts.summary().total == 4
    assert runtime.alerts.summary(IncidentFilter(min_severity=Severity.HIGH)).total == 3  # the bank's too


def test_alerts_of_an_incident_page_in_recorded_order(runtime: Runtime, carrier: Member) -> None:
    made = runtime.alerts.record(carrier.id, [make_alert(T0 + i * HOUR) for i in range(5)], source="a")
    incident = made.incidents[0]
    first = runtime.alerts.alerts(incident, limit=3)
    rest = runtime.alerts.alerts(incident, after=first[-1].id, limit=3)
    assert [a.window_start_ms for a in first + rest] == [T0 + i * HOUR for i in range(5)]


# --- events ------------------------------------------------------------------------------------------------------
def test_events_number_what_happened_in_order_and_members_see_their_own(
    runtime: Runtime, carrier: Member, bank: Member, admin: Member
) -> None:
    heard: list[tuple[int, EventKind]] = []
    stop = runtime.alerts.subscribe(lambda e: heard.append((e.id, e.kind)))
    mine = runtime.alerts.record(carrier.id, [make_alert(T0), make_alert(T0 + HOUR)], source="a").incidents[0]
    theirs = runtime.alerts.record(bank.id, [make_alert(T0)], source="a").incidents[0]
    runtime.alerts.acknowledge(carrier, mine)
    runtime.alerts.close(admin, mine, Verdict.FRAUD)
    every = runtime.alerts.events()
    assert [(e.kind, e.incident_id) for e in every] == [
        (EventKind.OPENED, mine),
        (EventKind.ALERT, mine),
        (EventKind.OPENED, theirs),
        (EventKind.ACKNOWLEDGED, mine),
        (EventKind.CLOSED, mine),
    ]
    ids = [e.id for e in every]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert heard == [(e.id, e.kind) for e in every]
    assert every[1].alert_count == 2 and every[1].alert_id is not None
    assert (every[4].verdict, every[4].actor_id, every[4].status) == (Verdict.FRAUD, admin.id, IncidentStatus.CLOSED)
    assert [e.incident_id for e in runtime.alerts.events(viewer=bank)] == [theirs]
    assert runtime.alerts.events(viewer=admin) == every
    assert runtime.alerts.events(ids[1], limit=2) == every[2:4]
    stop()
    runtime.alerts.record(bank.id, [make_alert(T0 + HOUR)], source="a")
    assert len(heard) == 5  # stopped
    with pytest.raises(InvalidInput):
        runtime.alerts.events(-1)


def test_a_listener_hears_events_of_another_process_on_refresh(
    runtime: Runtime, carrier: Member, settings: Settings
) -> None:
    heard: list[int] = []
    runtime.alerts.subscribe(lambda e: heard.append(e.incident_id))
    other = Runtime.open(settings, clock=FixedClock(T0), load_index=False)
    try:
        made = other.alerts.record(carrier.id, [make_alert(T0)], source="elsewhere")
    finally:
        other.close()
    assert heard == []
    runtime.alerts.refresh()
    assert heard == list(made.incidents)


def test_a_failing_listener_does_not_fail_the_write(runtime: Runtime, carrier: Member) -> None:
    def broken(_event: object) -> None:
        raise RuntimeError("listener bug")

    runtime.alerts.subscribe(broken)
    assert runtime.alerts.record(carrier.id, [make_alert(T0)], source="a").new == 1


# --- durability ----------------------------------------------------------------------------------------------
def test_incidents_outlive_a_restart(settings: Settings, clock: FixedClock) -> None:
    first = Runtime.open(settings, clock=clock)
    try:
        member = first.members.add("carrier-a", Role.REPORTER)[0]
        made = first.alerts.record(member.id, [make_alert(T0), make_alert(T0 + HOUR)], source="day1.csv")
        first.alerts.acknowledge(member, made.incidents[0])
    finally:
        first.close()
    again = Runtime.open(settings, clock=clock)
    try:
        incident = again.alerts.get(made.incidents[0])
        assert (incident.status, incident.alert_count) == (IncidentStatus.ACKNOWLEDGED, 2)
        assert len(again.alerts.alerts(incident.id)[0].evidence) == 1
        replay = again.alerts.record(member.id, [make_alert(T0 + HOUR), make_alert(T0 + 2 * HOUR)], source="day1.csv")
        assert (replay.new, replay.duplicates, replay.incidents) == (1, 1, (incident.id, incident.id))
        assert [e.id for e in again.alerts.events()] == [1, 2, 3, 4]
    finally:
        again.close()


def test_two_processes_recording_the_same_alerts_at_once_record_each_once(
    runtime: Runtime, carrier: Member, settings: Settings
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    batch = [make_alert(T0 + i * HOUR, subject=f"number:+3725521{i % 7:03d}") for i in range(60)]
    other = Runtime.open(settings, clock=FixedClock(T0), load_index=False)
    try:
        with ThreadPoolExecutor(2) as pool:
            done = list(pool.map(lambda rt: rt.alerts.record(carrier.id, batch, source="twice"), [runtime, other]))
    finally:
        other.close()
    assert sorted(r.new for r in done) == [0, 60] and sum(r.duplicates for r in done) == 60
    assert done[0].incidents == done[1].incidents
    assert sum(i.alert_count for i in runtime.alerts.list()) == 60 and len(runtime.alerts.events()) == 60
