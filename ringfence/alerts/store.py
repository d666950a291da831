"""The SQL of the alert service: incidents, alerts and their events, on SQLite and PostgreSQL alike.

Every write transaction of the alert service first bumps the ``alerts_version`` counter of ``feed_state``: the row
lock it takes (the database write lock on SQLite) serialises alert writers across processes and nodes, so "is this
alert stored already?" and "which incident is open?" hold until commit, and event ids grow in commit order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import orjson
from sqlalchemy import Connection, Select, and_, bindparam, func, insert, select, update

from ringfence.alerts.grouping import Group
from ringfence.alerts.models import (
    AlertEvent,
    EventKind,
    Incident,
    IncidentFilter,
    IncidentStatus,
    NumberReport,
    StoredAlert,
    Verdict,
)
from ringfence.rules.models import Alert, Severity
from ringfence.store.tables import alert_events, alerts, feed_state, incidents, members

__all__ = [
    "VERSION_KEY",
    "active_groups",
    "alert_row",
    "alerts_of",
    "bump_version",
    "count_incidents",
    "dumps",
    "event_row",
    "events_after",
    "existing_alerts",
    "get_incident",
    "insert_alerts",
    "insert_events",
    "insert_incidents",
    "list_incidents",
    "member_exists",
    "newest_event_id",
    "read_version",
    "update_incidents",
    "update_status",
]

VERSION_KEY: Final = "alerts_version"
_IN_CHUNK: Final = 500

_ACKER = members.alias("acker")
_CLOSER = members.alias("closer")
_INCIDENTS = select(
    incidents,
    members.c.name.label("member_name"),
    _ACKER.c.name.label("acknowledged_by_name"),
    _CLOSER.c.name.label("closed_by_name"),
).select_from(
    incidents.join(members, members.c.id == incidents.c.member_id)
    .outerjoin(_ACKER, _ACKER.c.id == incidents.c.acknowledged_by)
    .outerjoin(_CLOSER, _CLOSER.c.id == incidents.c.closed_by)
)
_EVENTS = select(alert_events, incidents.c.rule, incidents.c.subject).join(
    incidents, incidents.c.id == alert_events.c.incident_id
)


def dumps(value: Any) -> str:
    """JSON text of ``value`` (anything orjson cannot write, such as a stray object in an alert's facts, as text)."""
    return orjson.dumps(value, default=str).decode()


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


# --- the write counter ---------------------------------------------------------------------------------------
def read_version(conn: Connection) -> int:
    value = conn.execute(select(feed_state.c.value).where(feed_state.c.name == VERSION_KEY)).scalar()
    return int(value or 0)


def bump_version(conn: Connection) -> None:
    """Count one more write, taking the alerts' write lock until commit (the migration made the row)."""
    bumped = conn.execute(
        update(feed_state).where(feed_state.c.name == VERSION_KEY).values(value=feed_state.c.value + 1)
    ).rowcount
    if not bumped:
        conn.execute(insert(feed_state).values(name=VERSION_KEY, value=1))


def member_exists(conn: Connection, member_id: int) -> bool:
    return conn.execute(select(members.c.id).where(members.c.id == member_id)).first() is not None


# --- recording -------------------------------------------------------------------------------------------------
def existing_alerts(
    conn: Connection, member_id: int, keys: Iterable[tuple[str, str, int]]
) -> dict[tuple[str, str, int], int]:
    """Which of ``keys`` (rule, subject, window start) the member has stored already, with their incident."""
    wanted = set(keys)
    rules = sorted({rule for rule, _, _ in wanted})
    found: dict[tuple[str, str, int], int] = {}
    for part in _chunks(subject for _, subject, _ in wanted):
        query = select(alerts.c.rule, alerts.c.subject, alerts.c.window_start_ms, alerts.c.incident_id).where(
            alerts.c.member_id == member_id, alerts.c.rule.in_(rules), alerts.c.subject.in_(part)
        )
        for row in conn.execute(query):
            key = (row.rule, row.subject, row.window_start_ms)
            if key in wanted:
                found[key] = row.incident_id
    return found


def active_groups(
    conn: Connection, member_id: int, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[Group]]:
    """The member's open and acknowledged incidents of each (rule, subject) of ``pairs``."""
    wanted = set(pairs)
    rules = sorted({rule for rule, _ in wanted})
    found: dict[tuple[str, str], list[Group]] = {}
    for part in _chunks(subject for _, subject in wanted):
        query = select(incidents).where(
            incidents.c.member_id == member_id,
            incidents.c.rule.in_(rules),
            incidents.c.subject.in_(part),
            incidents.c.status != IncidentStatus.CLOSED.value,
        )
        for row in conn.execute(query):
            if (row.rule, row.subject) not in wanted:
                continue
            group = Group(
                id=row.id,
                rule=row.rule,
                subject=row.subject,
                category=row.category,
                severity=Severity(row.severity),
                first_fired_ms=row.first_fired_ms,
                last_fired_ms=row.last_fired_ms,
                window_start_ms=row.window_start_ms,
                window_end_ms=row.window_end_ms,
                alert_count=row.alert_count,
                numbers=set(orjson.loads(row.numbers_json)),
                status=IncidentStatus(row.status),
            )
            found.setdefault((row.rule, row.subject), []).append(group)
    return found


def _group_values(group: Group) -> dict[str, Any]:
    return {
        "severity": int(group.severity),
        "first_fired_ms": group.first_fired_ms,
        "last_fired_ms": group.last_fired_ms,
        "window_start_ms": group.window_start_ms,
        "window_end_ms": group.window_end_ms,
        "alert_count": group.alert_count,
        "numbers_json": dumps(sorted(group.numbers)),
    }


def insert_incidents(conn: Connection, member_id: int, groups: Sequence[Group], now_ms: int) -> list[int]:
    """Store new incidents (open); their ids in the order given."""
    if not groups:
        return []
    rows = [
        {
            "member_id": member_id,
            "rule": group.rule,
            "subject": group.subject,
            "category": group.category,
            "status": IncidentStatus.OPEN.value,
            "opened_ms": now_ms,
            "updated_ms": now_ms,
            **_group_values(group),
        }
        for group in groups
    ]
    result = conn.execute(insert(incidents).returning(incidents.c.id, sort_by_parameter_order=True), rows)
    return [int(i) for i in result.scalars().all()]


def update_incidents(conn: Connection, groups: Sequence[Group], now_ms: int) -> None:
    """Store what new alerts changed of incidents (one statement, executed for many)."""
    if not groups:
        return
    rows = [{"key": group.id, **_group_values(group), "updated_ms": now_ms} for group in groups]
    conn.execute(update(incidents).where(incidents.c.id == bindparam("key")), rows)


def insert_alerts(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Store alert rows (as made by the service); their ids in the order given."""
    if not rows:
        return []
    result = conn.execute(insert(alerts).returning(alerts.c.id, sort_by_parameter_order=True), list(rows))
    return [int(i) for i in result.scalars().all()]


def alert_row(member_id: int, incident_id: int, alert: Alert, source: str, now_ms: int) -> dict[str, Any]:
    """The row of a :class:`~ringfence.rules.models.Alert` joining ``incident_id``."""
    return {
        "incident_id": incident_id,
        "member_id": member_id,
        "rule": alert.rule,
        "subject": alert.subject,
        "window_start_ms": alert.window_start_ms,
        "window_end_ms": alert.window_end_ms,
        "fired_ms": alert.fired_ms,
        "seq": alert.seq,
        "severity": int(alert.severity),
        "category": alert.category,
        "numbers_json": dumps(list(alert.numbers)),
        "summary": alert.summary,
        "facts_json": dumps(dict(alert.facts)),
        "evidence_json": dumps([cdr.to_dict() for cdr in alert.evidence]),
        "source": source,
        "recorded_ms": now_ms,
    }


def insert_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(alert_events), list(rows))


def event_row(
    kind: EventKind,
    incident_id: int,
    member_id: int,
    now_ms: int,
    *,
    severity: Severity,
    status: IncidentStatus,
    alert_count: int,
    verdict: Verdict | None = None,
    alert_id: int | None = None,
    actor_id: int | None = None,
) -> dict[str, Any]:
    return {
        "at_ms": now_ms,
        "kind": kind.value,
        "incident_id": incident_id,
        "member_id": member_id,
        "alert_id": alert_id,
        "actor_id": actor_id,
        "severity": int(severity),
        "status": status.value,
        "alert_count": alert_count,
        "verdict": None if verdict is None else verdict.value,
    }


def update_status(conn: Connection, incident_id: int, values: Mapping[str, Any], *, was: Sequence[str]) -> bool:
    """Move an incident on, only from one of the statuses ``was`` (True when it did)."""
    done = conn.execute(
        update(incidents).where(incidents.c.id == incident_id, incidents.c.status.in_(list(was))).values(**values)
    ).rowcount
    return bool(done)


# --- reading ---------------------------------------------------------------------------------------------------
def _incident(row: Any) -> Incident:
    reports = None
    if row.reports_json is not None:
        reports = tuple(NumberReport.from_dict(r) for r in orjson.loads(row.reports_json))
    return Incident(
        id=row.id,
        member_id=row.member_id,
        member_name=row.member_name,
        rule=row.rule,
        subject=row.subject,
        category=row.category,
        severity=Severity(row.severity),
        status=IncidentStatus(row.status),
        verdict=None if row.verdict is None else Verdict(row.verdict),
        first_fired_ms=row.first_fired_ms,
        last_fired_ms=row.last_fired_ms,
        window_start_ms=row.window_start_ms,
        window_end_ms=row.window_end_ms,
        alert_count=row.alert_count,
        numbers=tuple(orjson.loads(row.numbers_json)),
        opened_ms=row.opened_ms,
        updated_ms=row.updated_ms,
        acknowledged_ms=row.acknowledged_ms,
        acknowledged_by=row.acknowledged_by,
        acknowledged_by_name=row.acknowledged_by_name,
        ack_note=row.ack_note,
        closed_ms=row.closed_ms,
        closed_by=row.closed_by,
        closed_by_name=row.closed_by_name,
        close_note=row.close_note,
        reports=reports,
    )


def get_incident(conn: Connection, incident_id: int) -> Incident | None:
    row = conn.execute(_INCIDENTS.where(incidents.c.id == incident_id)).first()
    return None if row is None else _incident(row)


def _filtered(query: Select[Any], wanted: IncidentFilter) -> Select[Any]:
    conditions = []
    if wanted.status is not None:
        conditions.append(incidents.c.status == wanted.status.value)
    if wanted.rule is not None:
        conditions.append(incidents.c.rule == wanted.rule)
    if wanted.min_severity is not None:
        conditions.append(incidents.c.severity >= int(wanted.min_severity))
    if wanted.subject is not None:
        conditions.append(incidents.c.subject == wanted.subject)
    if wanted.member_id is not None:
        conditions.append(incidents.c.member_id == wanted.member_id)
    if wanted.since_ms is not None:
        conditions.append(incidents.c.last_fired_ms >= wanted.since_ms)
    if wanted.until_ms is not None:
        conditions.append(incidents.c.first_fired_ms < wanted.until_ms)
    return query.where(and_(*conditions)) if conditions else query


def list_incidents(conn: Connection, wanted: IncidentFilter, limit: int, before: int | None) -> list[Incident]:
    """Incidents ``wanted`` selects, newest (highest id) first, below id ``before``."""
    query = _filtered(_INCIDENTS, wanted)
    if before is not None:
        query = query.where(incidents.c.id < before)
    return [_incident(row) for row in conn.execute(query.order_by(incidents.c.id.desc()).limit(limit))]


def count_incidents(conn: Connection, wanted: IncidentFilter) -> list[tuple[str, str, int, str | None, int]]:
    """(status, rule, severity, verdict, count) of the incidents ``wanted`` selects."""
    columns = (incidents.c.status, incidents.c.rule, incidents.c.severity, incidents.c.verdict)
    query = _filtered(select(*columns, func.count()).select_from(incidents), wanted).group_by(*columns)
    return [(r[0], r[1], int(r[2]), r[3], int(r[4])) for r in conn.execute(query)]


def _stored_alert(row: Any) -> StoredAlert:
    return StoredAlert(
        id=row.id,
        incident_id=row.incident_id,
        member_id=row.member_id,
        rule=row.rule,
        subject=row.subject,
        window_start_ms=row.window_start_ms,
        window_end_ms=row.window_end_ms,
        fired_ms=row.fired_ms,
        seq=row.seq,
        severity=Severity(row.severity),
        category=row.category,
        numbers=tuple(orjson.loads(row.numbers_json)),
        summary=row.summary,
        facts=orjson.loads(row.facts_json),
        evidence=tuple(orjson.loads(row.evidence_json)),
        source=row.source,
        recorded_ms=row.recorded_ms,
    )


def alerts_of(conn: Connection, incident_id: int, after: int | None, limit: int) -> list[StoredAlert]:
    """The alerts of an incident in the order they were recorded, after alert id ``after``."""
    query = select(alerts).where(alerts.c.incident_id == incident_id)
    if after is not None:
        query = query.where(alerts.c.id > after)
    return [_stored_alert(row) for row in conn.execute(query.order_by(alerts.c.id).limit(limit))]


def _event(row: Any) -> AlertEvent:
    return AlertEvent(
        id=row.id,
        at_ms=row.at_ms,
        kind=EventKind(row.kind),
        incident_id=row.incident_id,
        member_id=row.member_id,
        rule=row.rule,
        subject=row.subject,
        severity=Severity(row.severity),
        status=IncidentStatus(row.status),
        alert_count=row.alert_count,
        verdict=None if row.verdict is None else Verdict(row.verdict),
        alert_id=row.alert_id,
        actor_id=row.actor_id,
    )


def events_after(conn: Connection, since: int, limit: int, member_id: int | None = None) -> list[AlertEvent]:
    """Events after id ``since``, oldest first; with ``member_id``, only those of that member's incidents."""
    query = _EVENTS.where(alert_events.c.id > since)
    if member_id is not None:
        query = query.where(alert_events.c.member_id == member_id)
    return [_event(row) for row in conn.execute(query.order_by(alert_events.c.id).limit(limit))]


def newest_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.max(alert_events.c.id))).scalar() or 0)
