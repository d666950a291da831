"""The monitoring service end to end: call records read, bad rows quarantined, rules against the hotlists in force,
alerts recorded as the member's incidents — once only, in batch and in stream mode, on SQLite and PostgreSQL."""

from __future__ import annotations

from ringfence.config import Settings
from ringfence.monitoring.models import Mode
from ringfence.registry.models import Member, Role
from ringfence.runtime import Runtime
from tests.monitoring.cdrfiles import csv_of, row

HOTLISTED = ("+88216000001", "+37255210000")


def _hotlist(runtime: Runtime) -> None:
    runtime.hotlists.create(None, "irsf")
    runtime.hotlists.import_file(None, "irsf", "\n".join(HOTLISTED).encode(), source="test")


def _member(runtime: Runtime) -> Member:
    return runtime.members.add("carrier-a", Role.REPORTER)[0]


def _day_file() -> bytes:
    return csv_of(
        [
            row(0, "+447700900001", HOTLISTED[0], 30),
            row(10, "+447700900002", "+442079460018", 120),
            row(20, "+447700900003", HOTLISTED[1], 5, answered=True),
            "2026-09-21T14:14:00Z,+447700900004,+442079460019,-4,true,outgoing,,T1,0.1",  # negative duration
            row(40, "+447700900005", HOTLISTED[0], 45),  # the same number again: same incident
        ]
    )


def test_a_file_raises_a_hotlist_alert_per_number_and_quarantines_its_bad_row(runtime: Runtime) -> None:
    _hotlist(runtime)
    member = _member(runtime)
    outcome = runtime.monitor.scan(member, lambda r: r.read_bytes(_day_file()), source="day.csv", mode=Mode.BATCH)
    assert outcome.rows == 5
    assert [(q.line, q.reason) for q in outcome.quarantined] == [(5, "negative_duration")]
    hits = {a.subject for a in outcome.alerts if a.rule == "hotlist_hit"}
    assert hits == {f"number:{n}" for n in HOTLISTED}
    assert outcome.new_alerts == len(outcome.alerts) and outcome.duplicates == 0
    assert all(i is not None for i in outcome.incidents)
    stored = runtime.monitor.quarantine.rows(member.id)
    assert [(r.row.line, r.row.reason, r.source) for r in stored] == [(5, "negative_duration", "day.csv")]


def test_a_rescan_records_nothing_twice(runtime: Runtime) -> None:
    _hotlist(runtime)
    member = _member(runtime)
    first = runtime.monitor.scan(member, lambda r: r.read_bytes(_day_file()), source="day.csv", mode=Mode.BATCH)
    again = runtime.monitor.scan(member, lambda r: r.read_bytes(_day_file()), source="day.csv", mode=Mode.BATCH)
    assert again.new_alerts == 0
    assert again.duplicates == len(first.alerts) > 0
    assert again.incidents == first.incidents


def test_stream_mode_sees_a_pattern_spread_over_two_inputs(runtime: Runtime) -> None:
    """Range velocity (more than 5 calls to one range from 3+ subscribers within 10 minutes), three calls per
    upload: only the member's stream, which keeps window state between uploads, sees six."""
    member = _member(runtime)
    calls = [row(i * 20, f"+4477009000{i:02d}", f"+3715550{i:04d}", 200, subscriber=f"sub-{i}") for i in range(6)]
    first, second = csv_of(calls[:3]), csv_of(calls[3:])
    for data in (first, second):  # batch mode: each upload alone
        alone = runtime.monitor.scan(member, lambda r, d=data: r.read_bytes(d), source="b", mode=Mode.BATCH)
        assert not [a for a in alone.alerts if a.rule == "range_velocity"]
    early = runtime.monitor.scan(member, lambda r: r.read_bytes(first), source="s1", mode=Mode.STREAM)
    later = runtime.monitor.scan(member, lambda r: r.read_bytes(second), source="s2", mode=Mode.STREAM)
    assert not [a for a in early.alerts if a.rule == "range_velocity"]
    fired = [a for a in later.alerts if a.rule == "range_velocity"]
    assert fired and fired[0].subject.startswith("range:+3715550")
    # the evidence spans both uploads, in stream order
    seqs = [c.seq for c in fired[0].evidence]
    assert seqs == sorted(seqs) and len(seqs) == 6


def test_alerts_survive_a_restart(settings: Settings, runtime: Runtime) -> None:
    _hotlist(runtime)
    member = _member(runtime)
    outcome = runtime.monitor.scan(member, lambda r: r.read_bytes(_day_file()), source="day.csv", mode=Mode.BATCH)
    runtime.close()
    reopened = Runtime.open(settings, clock=runtime.clock)
    try:
        again = reopened.monitor.scan(member, lambda r: r.read_bytes(_day_file()), source="day.csv", mode=Mode.BATCH)
        assert again.new_alerts == 0 and again.incidents == outcome.incidents
    finally:
        reopened.close()
