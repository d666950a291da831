"""What the alert service keeps: incidents (alerts of one rule about one subject, grouped in time), the alerts as
stored, their events, and the parsing of outside input.

Stored values (statuses, verdicts, event kinds) are the enums' values: rename nothing, only add.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ringfence.choices import parse_choice
from ringfence.errors import InvalidInput, NotFound
from ringfence.rules.models import Severity

__all__ = [
    "DEFAULT_INCIDENT_GAP_MS",
    "MAX_NOTE",
    "MAX_RULE",
    "MAX_SUBJECT",
    "AlertEvent",
    "CloseOutcome",
    "EventKind",
    "Incident",
    "IncidentFilter",
    "IncidentStatus",
    "NumberReport",
    "Recorded",
    "StoredAlert",
    "Summary",
    "Verdict",
    "parse_incident_id",
    "parse_note",
    "parse_severity",
    "parse_status",
    "parse_verdict",
]

#: An alert joins an open incident of its rule and subject when its window starts within this of the incident's last
#: alert window end (24 h: a pattern that pauses overnight is still one case for the analyst).
DEFAULT_INCIDENT_GAP_MS: Final = 86_400_000
#: The longest note an analyst may attach to an acknowledgement or a closure (as for reports).
MAX_NOTE: Final = 2000
#: Limits of what the rules engine names (the store's column widths).
MAX_RULE: Final = 64
MAX_SUBJECT: Final = 200


class IncidentStatus(StrEnum):
    """Where an incident stands: open → acknowledged (someone is on it) → closed (with a verdict)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"

    @property
    def active(self) -> bool:
        """Open or acknowledged: it still takes new alerts."""
        return self is not IncidentStatus.CLOSED


class Verdict(StrEnum):
    """How a closed incident ended."""

    FRAUD = "fraud"
    FALSE_POSITIVE = "false_positive"


class EventKind(StrEnum):
    """What happened to an incident. The first alert of an incident is ``opened``; every later one ``alert``."""

    OPENED = "opened"
    ALERT = "alert"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Incident:
    """Alerts of one ``rule`` about one ``subject`` of one member, close enough in time to be one case.

    ``severity`` is the highest of its alerts; ``numbers`` the union of the numbers they implicate (sorted);
    ``window_start_ms`` / ``window_end_ms`` the span of their windows (the end decides whether a new alert joins);
    ``first_fired_ms`` / ``last_fired_ms`` when the first and the latest fired. ``reports`` is what closing it as
    fraud reported to the registry (None when nothing was reported).
    """

    id: int
    member_id: int
    member_name: str
    rule: str
    subject: str
    category: str
    severity: Severity
    status: IncidentStatus
    verdict: Verdict | None
    first_fired_ms: int
    last_fired_ms: int
    window_start_ms: int
    window_end_ms: int
    alert_count: int
    numbers: tuple[int, ...]
    opened_ms: int
    updated_ms: int
    acknowledged_ms: int | None = None
    acknowledged_by: int | None = None
    acknowledged_by_name: str | None = None
    ack_note: str | None = None
    closed_ms: int | None = None
    closed_by: int | None = None
    closed_by_name: str | None = None
    close_note: str | None = None
    reports: tuple[NumberReport, ...] | None = None


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as the store keeps it: the rule engine's :class:`~ringfence.rules.models.Alert` with the incident
    it joined, where it came from (``source``: the file, stream or batch) and when it was recorded. ``evidence`` is
    the records that fired it, as ``Cdr.to_dict()`` gave them (call records themselves are not kept)."""

    id: int
    incident_id: int
    member_id: int
    rule: str
    subject: str
    window_start_ms: int
    window_end_ms: int
    fired_ms: int
    seq: int
    severity: Severity
    category: str
    numbers: tuple[int, ...]
    summary: str
    facts: Mapping[str, Any]
    evidence: tuple[Mapping[str, Any], ...]
    source: str
    recorded_ms: int


@dataclass(frozen=True, slots=True)
class Recorded:
    """What :meth:`AlertService.record` did: ``new`` alerts stored, ``duplicates`` already stored (the same member,
    rule, subject and window start), ``incidents`` the incident of each alert in the order given (for a duplicate,
    the incident it joined when first recorded), and ``opened`` the incidents this call opened."""

    new: int
    duplicates: int
    incidents: tuple[int, ...]
    opened: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """Something that happened to an incident, numbered in commit order (``id``: the events cursor). ``severity``,
    ``status``, ``alert_count`` and ``verdict`` are the incident's just after the event; ``alert_id`` is the alert
    of an ``opened`` or ``alert`` event; ``actor_id`` who acknowledged or closed."""

    id: int
    at_ms: int
    kind: EventKind
    incident_id: int
    member_id: int
    rule: str
    subject: str
    severity: Severity
    status: IncidentStatus
    alert_count: int
    verdict: Verdict | None = None
    alert_id: int | None = None
    actor_id: int | None = None


@dataclass(frozen=True, slots=True)
class NumberReport:
    """What closing an incident as fraud did with one number: ``reported`` (a new report), ``already_reported``
    (a retry: the report of this incident and number existed), or ``refused`` with the error's code and message."""

    number: int
    outcome: str
    report_id: str
    code: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "outcome": self.outcome,
            "report_id": self.report_id,
            "code": self.code,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> NumberReport:
        return cls(int(raw["number"]), str(raw["outcome"]), str(raw["report_id"]), raw.get("code"), raw.get("message"))


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    """A closure: the incident as closed, and what was reported (empty unless closed as fraud with a report)."""

    incident: Incident
    reports: tuple[NumberReport, ...] = ()


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """Which incidents a query wants. ``member_id`` None: everyone's (the service narrows it to the viewer's own for
    a member that is not an admin). ``since_ms`` / ``until_ms`` select incidents with activity in that span: the
    latest alert fired at or after ``since_ms``, the first before ``until_ms``."""

    status: IncidentStatus | None = None
    rule: str | None = None
    min_severity: Severity | None = None
    subject: str | None = None
    member_id: int | None = None
    since_ms: int | None = None
    until_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts of the incidents a filter selects: in all, per status, per rule (per status), per severity (per status)
    and per verdict of the closed ones."""

    total: int
    by_status: dict[str, int]
    by_rule: dict[str, dict[str, int]]
    by_severity: dict[str, dict[str, int]]
    by_verdict: dict[str, int]


def parse_status(raw: object) -> IncidentStatus:
    return parse_choice(IncidentStatus, raw, "status", "unknown_status")


def parse_verdict(raw: object) -> Verdict:
    return parse_choice(Verdict, raw, "verdict", "unknown_verdict")


def parse_severity(raw: object) -> Severity:
    """A severity by name (``low``, ``medium``, ``high``, ``critical``)."""
    if isinstance(raw, str):
        try:
            return Severity.parse(raw)
        except ValueError:
            pass
    allowed = [s.label for s in Severity]
    raise InvalidInput(
        f"unknown severity {raw!r}; expected one of: {', '.join(allowed)}",
        code="unknown_severity",
        details={"input": raw if isinstance(raw, str) else repr(raw), "allowed": allowed},
    )


def parse_note(raw: object) -> str | None:
    """A note as given (stripped; empty is none), refused when it is not text or too long."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput("note must be text", code="invalid_note", details={"input": repr(raw)})
    text = raw.strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput(
            f"note is {len(text)} characters; at most {MAX_NOTE}", code="invalid_note", details={"limit": MAX_NOTE}
        )
    return text or None


def parse_incident_id(raw: object) -> int:
    """An incident id from a URL or a command line; anything else is as missing as an unknown id."""
    text = str(raw).strip()
    if text.isdigit() and 0 < len(text) <= 18:
        return int(text)
    raise NotFound(f"no incident {raw!r}", code="incident_not_found", details={"id": str(raw)})
