"""One rendering of a monitoring run for every door (HTTP answer, ``ringfence cdrs scan --json``)."""

from __future__ import annotations

from typing import Any

from ringfence.cdrs.mapping import CdrMapping
from ringfence.monitoring.models import ScanOutcome
from ringfence.rules.models import Alert

__all__ = ["alert_brief", "outcome_view", "preset_view"]


def alert_brief(alert: Alert, incident: int | None) -> dict[str, Any]:
    """An alert without its evidence (``GET /v1/alerts/{incident}`` has it), with the incident it joined."""
    view = alert.to_dict()
    view["evidence"] = len(alert.evidence)
    view["incident"] = incident
    return view


def outcome_view(outcome: ScanOutcome, *, max_listed: int | None = None) -> dict[str, Any]:
    """The counts, the quarantined rows (the first ``max_listed``) and the alerts raised."""
    rows = outcome.quarantined if max_listed is None else outcome.quarantined[:max_listed]
    incidents = outcome.incidents or [None] * len(outcome.alerts)
    return {
        **outcome.summary(),
        "quarantine": [q.to_dict() for q in rows],
        "notes": list(outcome.notes),
        "raised": [alert_brief(a, i) for a, i in zip(outcome.alerts, incidents, strict=True)],
    }


def preset_view(name: str, mapping: CdrMapping) -> dict[str, Any]:
    return {"name": name, **mapping.describe()}
