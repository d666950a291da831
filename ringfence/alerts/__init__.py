"""Alerts and incidents: the rules engine's alerts stored with their evidence, grouped into each member's incidents,
taken through open → acknowledged → closed (fraud or false positive), pushed as events, and, closed as fraud,
reported to the registry in one step."""

from ringfence.alerts.models import (
    AlertEvent,
    CloseOutcome,
    EventKind,
    Incident,
    IncidentFilter,
    IncidentStatus,
    NumberReport,
    Recorded,
    StoredAlert,
    Summary,
    Verdict,
)
from ringfence.alerts.service import AlertService

__all__ = [
    "AlertEvent",
    "AlertService",
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
]
