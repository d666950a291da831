"""What a monitoring run answers: how many records it read, which it quarantined, and what the rules raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ringfence.cdrs.models import Quarantined
from ringfence.rules.models import Alert

__all__ = ["Mode", "ScanOutcome"]


class Mode(StrEnum):
    """How records are evaluated.

    ``stream``: record by record through the member's streaming engine, whose window state lives on between
    batches, so a pattern spread over several uploads (or over a followed file) is seen whole. ``batch``: the
    records of this input alone, vectorised; what a one-off scan of a day's file wants. Both apply the same rules
    with the same semantics: the same input gives the same alerts.
    """

    STREAM = "stream"
    BATCH = "batch"


@dataclass(slots=True)
class ScanOutcome:
    """One input's result. ``rows``: records read (good and bad); ``processed``: records the rules saw;
    ``late``: records older than the lateness allowance behind newer ones (not evaluated); ``alerts``: what fired;
    ``new_alerts`` / ``duplicates``: how many of them the store had not / had already seen (a re-scan records
    nothing twice); ``incidents``: the incident id of each alert, in order."""

    source: str
    mode: Mode
    rows: int = 0
    processed: int = 0
    late: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    incidents: list[int | None] = field(default_factory=list)
    new_alerts: int = 0
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: ScanOutcome) -> None:
        """Fold another chunk's outcome into this one (a file read in chunks)."""
        self.rows += other.rows
        self.processed += other.processed
        self.late += other.late
        self.quarantined.extend(other.quarantined)
        self.alerts.extend(other.alerts)
        self.incidents.extend(other.incidents)
        self.new_alerts += other.new_alerts
        self.duplicates += other.duplicates
        self.notes.extend(n for n in other.notes if n not in self.notes)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "mode": self.mode.value,
            "rows": self.rows,
            "processed": self.processed,
            "late": self.late,
            "quarantined": len(self.quarantined),
            "alerts": len(self.alerts),
            "new_alerts": self.new_alerts,
            "duplicates": self.duplicates,
        }
