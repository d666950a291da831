"""Alerts made by hand, as the rules engine would make them (the tests of the alert service need no engine)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ringfence.cdrs.models import Cdr, Direction
from ringfence.rules.models import Alert, Severity
from tests.conftest import START_MS

__all__ = ["HOUR", "MINUTE", "NUMBER", "SUBJECT", "T0", "make_alert", "make_cdr"]

T0 = START_MS
MINUTE = 60_000
HOUR = 60 * MINUTE
NUMBER = 3725521234  # +372 5521234, an Estonian mobile number
SUBJECT = f"number:+{NUMBER}"


def make_cdr(seq: int = 0, *, called: int = NUMBER, start_ms: int = T0, duration_ms: int = 3_000) -> Cdr:
    return Cdr(
        seq=seq,
        line=seq + 2,
        caller=447700900123,
        called=called,
        called_plan=True,
        start_ms=start_ms,
        duration_ms=duration_ms,
        answered=duration_ms > 0,
        direction=Direction.OUTGOING,
        subscriber="234150000000001",
        route="TRUNK7",
        cost=0.12,
    )


def make_alert(
    start_ms: int = T0,
    *,
    rule: str = "hotlist_hit",
    subject: str = SUBJECT,
    length_ms: int = 10 * MINUTE,
    severity: Severity = Severity.HIGH,
    numbers: Sequence[int] = (NUMBER,),
    category: str = "irsf",
    evidence: Sequence[Cdr] | None = None,
    facts: dict[str, Any] | None = None,
) -> Alert:
    """An alert of ``rule`` about ``subject`` in the window [start, start + length), fired a minute in."""
    fired = start_ms + min(MINUTE, length_ms)
    cdrs = tuple(evidence) if evidence is not None else (make_cdr(1, start_ms=fired),)
    return Alert(
        rule=rule,
        subject=subject,
        window_start_ms=start_ms,
        window_end_ms=start_ms + length_ms,
        fired_ms=fired,
        seq=cdrs[-1].seq if cdrs else 0,
        severity=severity,
        category=category,
        numbers=tuple(numbers),
        evidence=cdrs,
        summary=f"{rule} on {subject}",
        facts=facts if facts is not None else {"calls": 3, "threshold": 1},
    )
