"""Request and response shapes of /v1/alerts (incidents, their alerts and events), for validation and OpenAPI.

Verdicts are plain strings here and parsed by ringfence.alerts, so an unknown one gets its own stable error code
(``unknown_verdict``) rather than a schema error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ringfence.alerts.models import MAX_NOTE, EventKind, IncidentStatus, Verdict

__all__ = [
    "AckBody",
    "AlertOut",
    "CloseAnswer",
    "CloseBody",
    "EventOut",
    "EventsAnswer",
    "IncidentAnswer",
    "IncidentDetailAnswer",
    "IncidentOut",
    "IncidentsAnswer",
    "NumberReportOut",
    "SummaryAnswer",
]

_STRICT = ConfigDict(extra="forbid")
#: Severities by name (ringfence.rules.models.Severity), least to most.
SeverityName = Literal["low", "medium", "high", "critical"]


class AckBody(BaseModel):
    model_config = _STRICT
    note: str | None = Field(None, max_length=MAX_NOTE, description="Free text for the record (no personal data)")


class CloseBody(BaseModel):
    model_config = _STRICT
    verdict: str = Field(
        json_schema_extra={"enum": [v.value for v in Verdict]},
        description="fraud, or false_positive",
    )
    note: str | None = Field(None, max_length=MAX_NOTE, description="Free text for the record (no personal data)")
    report: bool = Field(
        False,
        description="With verdict fraud: report every number of the incident to the registry, as you, in one step",
    )


class NumberReportError(BaseModel):
    code: str
    message: str | None


class NumberReportOut(BaseModel):
    number: str = Field(description="E.164")
    outcome: str = Field(description="reported, already_reported (a retry) or refused (see error)")
    report_id: str = Field(description="Your report's own reference: incident-<id>-<number>")
    error: NumberReportError | None


class IncidentOut(BaseModel):
    id: int
    rule: str
    subject: str = Field(description="What it is about, with a kind prefix: number:+…, range:+…, subscriber:…")
    category: str
    severity: SeverityName = Field(description="The highest of its alerts")
    status: IncidentStatus
    verdict: Verdict | None
    alert_count: int
    numbers: list[str] = Field(description="Every number its alerts implicate, E.164")
    first_fired_at: str
    last_fired_at: str
    window_start_at: str
    window_end_at: str
    opened_at: str
    updated_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    ack_note: str | None
    closed_at: str | None
    closed_by: str | None
    close_note: str | None
    reports: list[NumberReportOut] | None = Field(description="What closing it as fraud reported")
    member_id: int | None = Field(None, description="Whose incident it is (admins only)")
    member: str | None = Field(None, description="Whose incident it is (admins only)")


class AlertOut(BaseModel):
    id: int
    incident: int
    rule: str
    subject: str
    severity: SeverityName
    category: str
    window_start_at: str
    window_end_at: str
    fired_at: str = Field(description="Start time of the call record that completed the pattern")
    seq: int = Field(description="Stream position of that record")
    numbers: list[str]
    summary: str
    facts: dict[str, Any] = Field(description="Measured values and the thresholds they crossed")
    source: str = Field(description="Where the call records came from")
    recorded_at: str
    evidence: list[dict[str, Any]] = Field(description="The call records that fired it, the firing one last")


class IncidentsAnswer(BaseModel):
    incidents: list[IncidentOut]
    next: int | None = Field(description="Pass as before= for the next page")


class IncidentAnswer(BaseModel):
    incident: IncidentOut


class IncidentDetailAnswer(BaseModel):
    incident: IncidentOut
    alerts: list[AlertOut]
    next_alert: int | None = Field(description="Pass as after= for the next page of alerts")


class CloseAnswer(BaseModel):
    incident: IncidentOut
    reports: list[NumberReportOut] = Field(description="What this closure reported, number by number")


class SummaryAnswer(BaseModel):
    total: int
    by_status: dict[str, int]
    by_rule: dict[str, dict[str, int]] = Field(description="Per rule, per status")
    by_severity: dict[str, dict[str, int]] = Field(description="Per severity, per status")
    by_verdict: dict[str, int] = Field(description="Closed incidents per verdict")


class EventOut(BaseModel):
    id: int = Field(description="Pass the last one seen as since=")
    at: str
    kind: EventKind = Field(description="opened (its first alert), alert (another alert), acknowledged, closed")
    incident: int
    rule: str
    subject: str
    severity: SeverityName
    status: IncidentStatus
    alert_count: int
    verdict: Verdict | None
    alert: int | None = Field(description="The alert of an opened or alert event")
    member_id: int | None = Field(None, description="Whose incident (admins only)")


class EventsAnswer(BaseModel):
    events: list[EventOut]
    last_id: int = Field(description="Pass as since= to continue")
