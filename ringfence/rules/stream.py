"""The streaming mode: records fed frame by frame (a followed file, HTTP batches, a NATS subject), state kept
between frames, alerts answered as soon as the frame that completes a pattern is fed.

Per frame, everything stateless is vectorised (:class:`~ringfence.rules.prepared.Prepared`: lateness, remote
party, country, number type, international, hotlist entries, each rule's filter); the window state is then updated
record by record in plain Python, only for the records each rule's filter keeps. Rules keep independent state, so
each walks the frame's records in input order on its own; a callback rule runs after its source and applies the
source's firings by input position. After the frame, state that no live record can reach any more (windows ending
at or before the watermark minus the lateness allowance) is dropped: memory is bounded by the live windows.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from ringfence.rules.collector import collector_paused
from ringfence.rules.config import RuleSet
from ringfence.rules.evaluators import build_evaluators, firing_order
from ringfence.rules.hotlist import HotlistLookup
from ringfence.rules.models import Alert
from ringfence.rules.prepared import Prepared

__all__ = ["StreamEngine"]


class StreamEngine:
    """Feed it frames of :data:`~ringfence.cdrs.models.CDR_SCHEMA` in input order; ``hotlists`` is asked for the
    current lookup once per frame (hotlists change while a stream runs)."""

    def __init__(self, rules: RuleSet, hotlists: Callable[[], HotlistLookup]) -> None:
        self.rules = rules
        self._hotlists = hotlists
        self._evaluators = build_evaluators(rules)
        self._watermark: int | None = None
        self._origin: int | None = None
        #: Records ignored as late so far.
        self.late = 0
        #: Records fed so far.
        self.fed = 0

    @property
    def watermark(self) -> int | None:
        """The latest start time fed so far (None before the first record)."""
        return self._watermark

    @property
    def state_size(self) -> int:
        """Window states held, over all rules (memory is proportional to it)."""
        return sum(evaluator.size for evaluator in self._evaluators)

    def feed(self, frame: pl.DataFrame) -> list[Alert]:
        """Evaluate ``frame``'s records after everything fed before; the alerts they fire, in firing order."""
        if not frame.height:
            return []
        with collector_paused():
            prep = Prepared(frame, self.rules, self._hotlists(), self._watermark, self._origin, all_rows=True)
            alerts: list[Alert] = []
            for evaluator in self._evaluators:
                alerts.extend(evaluator.run(prep, batch=False))
            alerts.sort(key=firing_order)
            self._watermark, self._origin = prep.watermark, prep.origin_ms
            self.late += prep.late
            self.fed += frame.height
            if self._watermark is not None:
                horizon = self._watermark - self.rules.lateness_ms
                for evaluator in self._evaluators:
                    evaluator.evict(horizon)
        return alerts
