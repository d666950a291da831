"""How incidents, alerts and their events look to the outside: one rendering for the HTTP answers and the CLI's
``--json``. Numbers are ``+E.164`` text and times ISO 8601 UTC, as everywhere in ringfence.

Whose incident it is (``member_id``, ``member``) is shown to admins and the operator only: a member only ever sees
its own incidents, so it knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ringfence.alerts.models import AlertEvent, Incident, NumberReport, StoredAlert, Summary
from ringfence.numbers import format_e164
from ringfence.registry.views import iso

__all__ = [
    "alert_view",
    "event_view",
    "events_page",
    "incident_detail",
    "incident_view",
    "incidents_page",
    "report_view",
    "summary_view",
]


def report_view(report: NumberReport) -> dict[str, Any]:
    error = None if report.code is None else {"code": report.code, "message": report.message}
    return {
        "number": format_e164(report.number),
        "outcome": report.outcome,
        "report_id": report.report_id,
        "error": error,
    }


def incident_view(incident: Incident, *, include_member: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": incident.id,
        "rule": incident.rule,
        "subject": incident.subject,
        "category": incident.category,
        "severity": incident.severity.label,
        "status": incident.status.value,
        "verdict": None if incident.verdict is None else incident.verdict.value,
        "alert_count": incident.alert_count,
        "numbers": [format_e164(n) for n in incident.numbers],
        "first_fired_at": iso(incident.first_fired_ms),
        "last_fired_at": iso(incident.last_fired_ms),
        "window_start_at": iso(incident.window_start_ms),
        "window_end_at": iso(incident.window_end_ms),
        "opened_at": iso(incident.opened_ms),
        "updated_at": iso(incident.updated_ms),
        "acknowledged_at": iso(incident.acknowledged_ms),
        "acknowledged_by": incident.acknowledged_by_name,
        "ack_note": incident.ack_note,
        "closed_at": iso(incident.closed_ms),
        "closed_by": incident.closed_by_name,
        "close_note": incident.close_note,
        "reports": None if incident.reports is None else [report_view(r) for r in incident.reports],
    }
    if include_member:
        view["member_id"] = incident.member_id
        view["member"] = incident.member_name
    return view


def alert_view(alert: StoredAlert) -> dict[str, Any]:
    """One stored alert with its evidence (the call records as ``Cdr.to_dict()`` gave them)."""
    return {
        "id": alert.id,
        "incident": alert.incident_id,
        "rule": alert.rule,
        "subject": alert.subject,
        "severity": alert.severity.label,
        "category": alert.category,
        "window_start_at": iso(alert.window_start_ms),
        "window_end_at": iso(alert.window_end_ms),
        "fired_at": iso(alert.fired_ms),
        "seq": alert.seq,
        "numbers": [format_e164(n) for n in alert.numbers],
        "summary": alert.summary,
        "facts": dict(alert.facts),
        "source": alert.source,
        "recorded_at": iso(alert.recorded_ms),
        "evidence": [dict(cdr) for cdr in alert.evidence],
    }


def incident_detail(
    incident: Incident, alerts: Sequence[StoredAlert], limit: int, *, include_member: bool = False
) -> dict[str, Any]:
    """An incident with a page of its alerts; ``next_alert`` (the ``after`` of the next page) when it is full."""
    return {
        "incident": incident_view(incident, include_member=include_member),
        "alerts": [alert_view(a) for a in alerts],
        "next_alert": alerts[-1].id if alerts and len(alerts) == limit else None,
    }


def incidents_page(found: Sequence[Incident], limit: int, *, include_member: bool = False) -> dict[str, Any]:
    """A page of incidents, newest first; ``next`` (the ``before`` of the following page) when the page is full."""
    return {
        "incidents": [incident_view(i, include_member=include_member) for i in found],
        "next": found[-1].id if found and len(found) == limit else None,
    }


def summary_view(summary: Summary) -> dict[str, Any]:
    return {
        "total": summary.total,
        "by_status": summary.by_status,
        "by_rule": summary.by_rule,
        "by_severity": summary.by_severity,
        "by_verdict": summary.by_verdict,
    }


def event_view(event: AlertEvent, *, include_member: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": event.id,
        "at": iso(event.at_ms),
        "kind": event.kind.value,
        "incident": event.incident_id,
        "rule": event.rule,
        "subject": event.subject,
        "severity": event.severity.label,
        "status": event.status.value,
        "alert_count": event.alert_count,
        "verdict": None if event.verdict is None else event.verdict.value,
        "alert": event.alert_id,
    }
    if include_member:
        view["member_id"] = event.member_id
    return view


def events_page(found: Sequence[AlertEvent], since: int, *, include_member: bool = False) -> dict[str, Any]:
    """Events oldest first and ``last_id``, the ``since`` of the next call."""
    return {
        "events": [event_view(e, include_member=include_member) for e in found],
        "last_id": found[-1].id if found else since,
    }
