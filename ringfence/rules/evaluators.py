"""One evaluator per rule of a rule set, in evaluation order (a callback rule after the rule it listens to)."""

from __future__ import annotations

from ringfence.rules.callback import CallbackEvaluator
from ringfence.rules.config import RuleSet
from ringfence.rules.hits import HotlistHitEvaluator, InvalidDestinationEvaluator
from ringfence.rules.models import Alert
from ringfence.rules.specs import (
    CallbackRule,
    HotlistHitRule,
    InvalidDestinationRule,
    SpikeRule,
    TestCallRule,
    ThresholdRule,
)
from ringfence.rules.spike import SpikeEvaluator
from ringfence.rules.testcall import TestCallEvaluator
from ringfence.rules.threshold import ThresholdEvaluator
from ringfence.rules.windows import Evaluator

__all__ = ["build_evaluators", "firing_order"]


def build_evaluators(rules: RuleSet) -> list[Evaluator]:
    """Fresh evaluators (empty state) for every rule of ``rules``."""
    out: list[Evaluator] = []
    thresholds: dict[str, ThresholdEvaluator] = {}
    for rule in rules.rules:
        if isinstance(rule, ThresholdRule):
            evaluator = thresholds[rule.name] = ThresholdEvaluator(rule)
            out.append(evaluator)
        elif isinstance(rule, HotlistHitRule):
            out.append(HotlistHitEvaluator(rule))
        elif isinstance(rule, InvalidDestinationRule):
            out.append(InvalidDestinationEvaluator(rule))
        elif isinstance(rule, TestCallRule):
            out.append(TestCallEvaluator(rule))
        elif isinstance(rule, SpikeRule):
            out.append(SpikeEvaluator(rule, rules.lateness_ms))
        elif isinstance(rule, CallbackRule):
            out.append(CallbackEvaluator(rule, thresholds[rule.source]))
    return out


def firing_order(alert: Alert) -> tuple[int, str, str, int]:
    """How alerts are ordered in both modes: by the record that fired them, then rule, subject and window."""
    return (alert.seq, alert.rule, alert.subject, alert.window_start_ms)
