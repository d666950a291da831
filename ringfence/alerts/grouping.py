"""Which incident an alert joins: pure decisions over the incidents in hand, no store.

An alert joins an active (open or acknowledged) incident of its member, rule and subject when its window lies within
the incident gap of the incident's span: it starts at most ``gap_ms`` after the incident's last window end (and,
for an alert arriving out of order, ends at most ``gap_ms`` before its first window start). Of several such
incidents it joins the one that reaches latest. Otherwise it opens a new incident. A closed incident is never a
candidate: a case the analyst has decided stays decided, and a new firing is a new case.

Alerts of one call are taken in window order (:func:`in_order`), so how a batch happens to be ordered does not change
the incidents it makes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ringfence.alerts.models import IncidentStatus
from ringfence.rules.models import Alert, Severity

__all__ = ["Added", "Group", "Plan", "choose", "in_order", "plan"]


@dataclass(slots=True)
class Group:
    """An incident while a call of :meth:`AlertService.record` is adding to it (``id`` None: not stored yet)."""

    id: int | None
    rule: str
    subject: str
    category: str
    severity: Severity
    first_fired_ms: int
    last_fired_ms: int
    window_start_ms: int
    window_end_ms: int
    alert_count: int
    numbers: set[int] = field(default_factory=set)
    status: IncidentStatus = IncidentStatus.OPEN  # a new alert leaves an acknowledged incident acknowledged
    changed: bool = False

    @classmethod
    def start(cls, alert: Alert) -> Group:
        """A new incident made of ``alert`` alone."""
        return cls(
            id=None,
            rule=alert.rule,
            subject=alert.subject,
            category=alert.category,
            severity=alert.severity,
            first_fired_ms=alert.fired_ms,
            last_fired_ms=alert.fired_ms,
            window_start_ms=alert.window_start_ms,
            window_end_ms=alert.window_end_ms,
            alert_count=1,
            numbers=set(alert.numbers),
        )

    def takes(self, alert: Alert, gap_ms: int) -> bool:
        return (
            alert.window_start_ms <= self.window_end_ms + gap_ms
            and alert.window_end_ms >= self.window_start_ms - gap_ms
        )

    def add(self, alert: Alert) -> None:
        """Fold ``alert`` in: the highest severity, the widest span, every number."""
        self.severity = max(self.severity, alert.severity)
        self.first_fired_ms = min(self.first_fired_ms, alert.fired_ms)
        self.last_fired_ms = max(self.last_fired_ms, alert.fired_ms)
        self.window_start_ms = min(self.window_start_ms, alert.window_start_ms)
        self.window_end_ms = max(self.window_end_ms, alert.window_end_ms)
        self.alert_count += 1
        self.numbers.update(alert.numbers)
        self.changed = True


def choose(candidates: Sequence[Group], alert: Alert, gap_ms: int) -> Group | None:
    """The active incident ``alert`` joins among those of its rule and subject, or None: it opens a new one."""
    best: Group | None = None
    for group in candidates:
        if group.takes(alert, gap_ms) and (best is None or group.window_end_ms > best.window_end_ms):
            best = group
    return best


def in_order(alerts: Sequence[Alert]) -> list[int]:
    """The positions of ``alerts`` in the order they are grouped: by window start, then firing, then stream position."""
    return sorted(
        range(len(alerts)),
        key=lambda i: (
            alerts[i].window_start_ms,
            alerts[i].fired_ms,
            alerts[i].seq,
            alerts[i].rule,
            alerts[i].subject,
        ),
    )


class Added(NamedTuple):
    """A new alert and the incident it joins, with the incident's severity and alert count just after it joined
    (what its event says). ``opened``: it is the incident's first alert."""

    alert: Alert
    group: Group
    opened: bool
    severity: Severity
    alert_count: int


@dataclass(slots=True)
class Plan:
    """What recording a batch does: each alert's incident in the order given (an id when the alert was stored
    before), the incidents it opens, and the new alerts in the order they are grouped."""

    taken: list[Group | int]
    made: list[Group]
    added: list[Added]


def plan(
    alerts: Sequence[Alert],
    stored: Mapping[tuple[str, str, int], int],
    active: dict[tuple[str, str], list[Group]],
    gap_ms: int,
) -> Plan:
    """Group ``alerts`` given the keys already ``stored`` (with their incident ids) and the ``active`` incidents by
    rule and subject, which this extends and updates in place. An alert stored before, or twice in the batch, is
    taken as its incident's and not added again."""
    result = Plan([0] * len(alerts), [], [])
    joining: dict[tuple[str, str, int], Group] = {}
    for position in in_order(alerts):
        alert = alerts[position]
        known = stored.get(alert.key)
        if known is not None:
            result.taken[position] = known
            continue
        if alert.key in joining:
            result.taken[position] = joining[alert.key]
            continue
        candidates = active.setdefault((alert.rule, alert.subject), [])
        group = choose(candidates, alert, gap_ms)
        opened = group is None
        if group is None:
            group = Group.start(alert)
            candidates.append(group)
            result.made.append(group)
        else:
            group.add(alert)
        result.taken[position] = joining[alert.key] = group
        result.added.append(Added(alert, group, opened, group.severity, group.alert_count))
    return result
