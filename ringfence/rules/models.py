"""What the rules engine answers: :class:`Alert`, one firing of one rule about one subject in one window.

Both modes of the engine (batch over a whole frame, streaming record by record) must produce equal alerts for the
same input, so an alert holds only what is decided by the input: no wall-clock time, no ids from a store. The
alert service (:mod:`ringfence.alerts`) groups alerts into incidents and keeps their life cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final

from ringfence.cdrs.models import Cdr

__all__ = ["MAX_EVIDENCE", "Alert", "Severity"]

#: The most CDRs an alert carries as evidence: the latest ones that counted, the firing record last.
MAX_EVIDENCE: Final = 50


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"{text!r} is not a severity (one of {names})") from None


@dataclass(frozen=True, slots=True)
class Alert:
    """One firing of ``rule`` about ``subject`` in the window ``[window_start_ms, window_end_ms)``.

    ``subject`` is text naming what the alert is about, with a kind prefix: ``number:+882161234567``,
    ``range:+3725521``, ``subscriber:234150000000001``, ``country:LV``, ``route:TRUNK7``. ``fired_ms`` and ``seq``
    are the start time and stream position of the record that completed the pattern; ``evidence`` the records that
    counted (at most :data:`MAX_EVIDENCE`, in input order, ending with the firing one). ``numbers`` are the numbers
    the alert implicates (closing it as fraud reports them to the registry under ``category``). ``facts`` holds the
    measured values and the thresholds they crossed, for the analyst.
    """

    rule: str
    subject: str
    window_start_ms: int
    window_end_ms: int
    fired_ms: int
    seq: int
    severity: Severity
    category: str
    numbers: tuple[int, ...]
    evidence: tuple[Cdr, ...]
    summary: str
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int]:
        """What identifies the alert: no rule fires twice for one subject in one window."""
        return (self.rule, self.subject, self.window_start_ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "window_start_ms": self.window_start_ms,
            "window_end_ms": self.window_end_ms,
            "fired_ms": self.fired_ms,
            "seq": self.seq,
            "severity": self.severity.label,
            "category": self.category,
            "numbers": [f"+{n}" for n in self.numbers],
            "evidence": [c.to_dict() for c in self.evidence],
            "summary": self.summary,
            "facts": dict(self.facts),
        }
