"""Rules whose condition is one record: ``hotlist_hit`` and ``invalid_destination``.

The condition needs no other record, so both modes select the matching records with one vectorised mask and walk
only those; the window state is the set of subjects that fired per window (an alert fires once per subject and
window, at the first matching record of that window). Windows follow each other (one per record): with one record
as the whole condition, overlapping windows would only fire twice for one call.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from ringfence.cdrs.models import Direction
from ringfence.rules.models import Alert
from ringfence.rules.prepared import Prepared, Row
from ringfence.rules.specs import HotlistHitRule, InvalidDestinationRule
from ringfence.rules.windows import WindowStates, make_alert, span_text, window_singles

__all__ = ["HotlistHitEvaluator", "InvalidDestinationEvaluator"]


class _Fired:
    """Per window, the subjects that fired."""

    def __init__(self, window_ms: int) -> None:
        self.states: WindowStates[bool] = WindowStates(window_ms, hop_ms=window_ms)

    @property
    def size(self) -> int:
        return self.states.size

    def evict(self, horizon_ms: int) -> None:
        self.states.evict(horizon_ms)

    def first(self, w: int, subject: Hashable) -> bool:
        """True the first time ``subject`` is seen in window ``w``."""
        fired = self.states.window(w)
        if subject in fired:
            return False
        fired[subject] = None
        return True


class HotlistHitEvaluator(_Fired):
    """A call to or from a number a hotlist covers; one alert per matched number (caller and called may both
    match) and window. Category ``wangiri`` for the caller of an incoming call, ``irsf`` otherwise."""

    def __init__(self, rule: HotlistHitRule) -> None:
        super().__init__(rule.window_ms)
        self.rule = rule
        self.name = rule.name

    def run(self, prep: Prepared, *, batch: bool) -> list[Alert]:
        hot_caller, hot_called = prep.hot_caller, prep.hot_called
        idx = np.flatnonzero(prep.live & ((hot_caller >= 0) | (hot_called >= 0)))
        if not idx.size:
            return []
        rows = prep.rows(idx)
        entries = list(zip(hot_caller[idx].tolist(), hot_called[idx].tolist(), strict=True))
        positions, windows = window_singles(prep.start[idx], self.states.window_ms)
        alerts = []
        for p, w in zip(positions, windows, strict=True):
            row = rows[p]
            for side, entry, number in (("caller", entries[p][0], row[2]), ("called", entries[p][1], row[3])):
                if entry >= 0 and self.first(w, number):
                    alerts.append(self._fire(prep, w, row, side, entry, number))
        return alerts

    def _fire(self, prep: Prepared, w: int, row: Row, side: str, entry: int, number: int) -> Alert:
        rule = self.rule
        described = prep.hotlists.describe(entry)
        direction = Direction(row[8])
        incoming_caller = direction is Direction.INCOMING and side == "caller"
        lead = f"{rule.description}: " if rule.description else ""
        return make_alert(
            rule=rule.name,
            subject=f"number:+{number}",
            bounds=self.states.bounds(w),
            evidence=[row],
            severity=rule.severity,
            category="wangiri" if incoming_caller else "irsf",
            numbers=[number],
            summary=f"{lead}{direction.label} call with the {side} +{number} on a hotlist: {described}",
            facts={"entry": described, "side": side, "direction": direction.label},
        )


class InvalidDestinationEvaluator(_Fired):
    """An originating call to a number no numbering plan allows: refused by normalisation (``called_plan``
    false: unknown country code, impossible length) or not valid in its country's plan (unallocated)."""

    def __init__(self, rule: InvalidDestinationRule) -> None:
        super().__init__(rule.window_ms)
        self.rule = rule
        self.name = rule.name

    def run(self, prep: Prepared, *, batch: bool) -> list[Alert]:
        bad = prep.live & prep.originating & ~(prep.called_plan & prep.remote_valid)
        idx = np.flatnonzero(bad)
        if not idx.size:
            return []
        rows = prep.rows(idx)
        positions, windows = window_singles(prep.start[idx], self.states.window_ms)
        alerts = []
        rule = self.rule
        lead = f"{rule.description}: " if rule.description else ""
        for p, w in zip(positions, windows, strict=True):
            row = rows[p]
            number = row[3]
            if not self.first(w, number):
                continue
            if row[4]:
                reason, text = "unallocated", "is not valid in its country's numbering plan (unallocated)"
            else:
                reason, text = "not_in_plan", "is no number any numbering plan allows"
            alerts.append(
                make_alert(
                    rule=rule.name,
                    subject=f"number:+{number}",
                    bounds=self.states.bounds(w),
                    evidence=[row],
                    severity=rule.severity,
                    category=rule.category,
                    numbers=[number],
                    summary=f"{lead}call to +{number}, which {text} (first in {span_text(rule.window_ms)})",
                    facts={"reason": reason},
                )
            )
        return alerts
