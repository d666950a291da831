"""The batch mode: every rule over a whole frame of CDRs at once (files, HTTP batches, backtests).

Everything per record that needs no state is computed for the whole frame with numpy and polars
(:class:`~ringfence.rules.prepared.Prepared`); each rule then finds, vectorised, the groups that can fire at all and
walks only their records with the same state updates the streaming engine uses, so the two modes answer equal
alerts by construction (the tests prove it on random streams cut at random points).
"""

from __future__ import annotations

import polars as pl

from ringfence.rules.collector import collector_paused
from ringfence.rules.config import RuleSet
from ringfence.rules.evaluators import build_evaluators, firing_order
from ringfence.rules.hotlist import HotlistLookup
from ringfence.rules.models import Alert
from ringfence.rules.prepared import Prepared

__all__ = ["evaluate", "late_count"]


def evaluate(frame: pl.DataFrame, rules: RuleSet, hotlists: HotlistLookup) -> list[Alert]:
    """The alerts ``rules`` fire over ``frame`` (:data:`~ringfence.cdrs.models.CDR_SCHEMA`, in input order),
    sorted by (seq, rule, subject, window start): what a :class:`~ringfence.rules.stream.StreamEngine` fed the
    same records answers, however they are cut into frames. Late records (see :func:`late_count`) count for no
    rule."""
    with collector_paused():
        prep = Prepared(frame, rules, hotlists, None, None)
        alerts: list[Alert] = []
        for evaluator in build_evaluators(rules):
            alerts.extend(evaluator.run(prep, batch=True))
        alerts.sort(key=firing_order)
    return alerts


def late_count(frame: pl.DataFrame, rules: RuleSet) -> int:
    """How many records of ``frame`` are late: they start more than ``rules.lateness_ms`` before the latest start
    of the records before them. The streaming engine's ``late`` counts the same."""
    from ringfence.rules.hotlist import NO_HOTLISTS

    return Prepared(frame, rules, NO_HOTLISTS, None, None).late
