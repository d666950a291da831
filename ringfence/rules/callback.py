"""``wangiri_callback``: a subscriber calling back a range that a Wangiri rule flagged.

Wangiri pays only when the victim calls back, so the callback is the loss to prevent and the alert to act on. The
source rule (``wangiri``, keyed by ``caller_range:N``) reports its firings (input position, range, start time of
the firing record). An originating call to a number whose range (its last N digits dropped) fired earlier in the
input, and that starts before ``callback_s`` after the latest such firing, is a callback; the alert is per
subscriber and window, at the first callback of the window.

State: per flagged range, the latest firing time, dropped once ``fired + callback_s`` is at or before the
watermark minus the lateness allowance (no live record can start before that any more); per window, the
subscribers that fired.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ringfence.rules.hits import _Fired
from ringfence.rules.models import Alert
from ringfence.rules.prepared import Prepared
from ringfence.rules.specs import CallbackRule
from ringfence.rules.threshold import ThresholdEvaluator
from ringfence.rules.windows import make_alert, span_text, window_singles

__all__ = ["CallbackEvaluator"]


class CallbackEvaluator(_Fired):
    def __init__(self, rule: CallbackRule, source: ThresholdEvaluator) -> None:
        super().__init__(rule.window_ms)
        self.rule = rule
        self.name = rule.name
        self.source = source
        self.digits = source.rule.key.digits
        self.flagged: dict[int, int] = {}  # range -> latest firing start time

    @property
    def size(self) -> int:
        return super().size + len(self.flagged)

    def evict(self, horizon_ms: int) -> None:
        super().evict(horizon_ms)
        late = self.rule.callback_ms
        for prefix in [p for p, fired in self.flagged.items() if fired + late <= horizon_ms]:
            del self.flagged[prefix]

    def run(self, prep: Prepared, *, batch: bool) -> list[Alert]:
        pending = [(seq, key, fired) for seq, key, fired in self.source.firings if isinstance(key, int)]
        pending.sort()
        ranges = prep.called // 10**self.digits
        known = np.array(sorted({*self.flagged, *(key for _, key, _ in pending)}), dtype=np.int64)
        if not known.size:
            return []
        idx = np.flatnonzero(prep.live & prep.originating & np.isin(ranges, known))
        if not idx.size:
            self._absorb(pending)
            return []
        rows = prep.rows(idx)
        prefixes = ranges[idx].tolist()
        positions, windows = window_singles(prep.start[idx], self.states.window_ms)
        flagged, rule = self.flagged, self.rule
        alerts: list[Alert] = []
        at = 0
        for p, w in zip(positions, windows, strict=True):
            row = rows[p]
            while at < len(pending) and pending[at][0] < row[0]:  # firings earlier in the input
                _, prefix, fired = pending[at]
                flagged[prefix] = max(fired, flagged.get(prefix, fired))
                at += 1
            prefix = prefixes[p]
            latest = flagged.get(prefix)
            if latest is None or row[5] >= latest + rule.callback_ms or not self.first(w, row[9]):
                continue
            lead = f"{rule.description}: " if rule.description else ""
            alerts.append(
                make_alert(
                    rule=rule.name,
                    subject=f"subscriber:{row[9]}",
                    bounds=self.states.bounds(w),
                    evidence=[row],
                    severity=rule.severity,
                    category=rule.category,
                    numbers=[row[3]],
                    summary=(
                        f"{lead}subscriber {row[9]} called +{row[3]} back, in +{prefix}, which {self.source.name} "
                        f"flagged (callbacks watched for {span_text(rule.callback_ms)})"
                    ),
                    facts={
                        "range": f"+{prefix}",
                        "source": self.source.name,
                        "source_fired_ms": latest,
                        "called": f"+{row[3]}",
                        "callback_s": rule.callback_ms // 1000,
                    },
                )
            )
        self._absorb(pending[at:])
        return alerts

    def _absorb(self, firings: Sequence[tuple[int, int, int]]) -> None:
        for _, prefix, fired in firings:
            self.flagged[prefix] = max(fired, self.flagged.get(prefix, fired))
