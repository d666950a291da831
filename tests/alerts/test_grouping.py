"""Which incident an alert joins, without a store: the gap, the choice among several open incidents, and that the
order alerts arrive in within one call does not change the incidents they make."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ringfence.alerts.grouping import Group, choose, plan
from ringfence.rules.models import Alert, Severity
from tests.alerts.factory import HOUR, MINUTE, SUBJECT, T0, make_alert

GAP = 24 * HOUR


def group(alerts: list[Alert], gap: int = GAP) -> list[frozenset[tuple[str, int]]]:
    """The incidents a batch makes on an empty store, each as the set of its alerts' subject and window start."""
    decided = plan(alerts, {}, {}, gap)
    members: dict[int, set[tuple[str, int]]] = {}
    for alert, taken in zip(alerts, decided.taken, strict=True):
        assert isinstance(taken, Group)
        members.setdefault(id(taken), set()).add((alert.subject, alert.window_start_ms))
    return sorted((frozenset(m) for m in members.values()), key=sorted)


def test_a_plan_counts_stored_and_repeated_alerts_once_and_extends_the_active_incidents() -> None:
    stored_alert, repeated, joining, apart = (
        make_alert(T0),
        make_alert(T0 + HOUR),
        make_alert(T0 + 2 * HOUR),
        make_alert(T0 + 9 * GAP),
    )
    active = Group.start(stored_alert)
    active.id = 7
    decided = plan(
        [repeated, stored_alert, apart, joining, repeated],
        {stored_alert.key: 7},
        {("hotlist_hit", SUBJECT): [active]},
        GAP,
    )
    assert decided.taken[1] == 7 and decided.taken[0] is decided.taken[4] is decided.taken[3] is active
    assert [(a.alert, a.opened, a.alert_count) for a in decided.added] == [
        (repeated, False, 2),
        (joining, False, 3),
        (apart, True, 1),
    ]
    assert decided.made == [decided.taken[2]] and active.changed and active.window_end_ms == joining.window_end_ms


def test_the_gap_is_measured_from_the_last_window_end() -> None:
    first = Group.start(make_alert(T0, length_ms=10 * MINUTE))
    assert first.takes(make_alert(T0 + 10 * MINUTE + GAP), GAP)
    assert not first.takes(make_alert(T0 + 10 * MINUTE + GAP + 1), GAP)
    assert first.takes(make_alert(T0 - GAP - MINUTE, length_ms=MINUTE), GAP)  # ends a gap before: out of order
    assert not first.takes(make_alert(T0 - GAP - 2 * MINUTE, length_ms=MINUTE), GAP)


def test_of_several_open_incidents_an_alert_joins_the_one_reaching_latest() -> None:
    early = Group.start(make_alert(T0))
    late = Group.start(make_alert(T0 + HOUR))
    assert choose([early, late], make_alert(T0 + 2 * HOUR), GAP) is late
    assert choose([late, early], make_alert(T0 + 2 * HOUR), GAP) is late
    assert choose([early, late], make_alert(T0 + 5 * GAP), GAP) is None


def test_adding_keeps_the_highest_severity_and_every_number() -> None:
    incident = Group.start(make_alert(T0, severity=Severity.HIGH, numbers=(1, 2)))
    incident.add(make_alert(T0 + HOUR, severity=Severity.LOW, numbers=(2, 3)))
    assert (incident.severity, incident.numbers, incident.alert_count) == (Severity.HIGH, {1, 2, 3}, 2)


_alerts = st.lists(
    st.builds(
        lambda start, subject, rule: make_alert(T0 + start * HOUR, subject=f"number:+37255212{subject}", rule=rule),
        st.integers(0, 24 * 10),
        st.integers(10, 12),
        st.sampled_from(["hotlist_hit", "wangiri"]),
    ),
    max_size=30,
    unique_by=lambda a: a.key,
)


@given(_alerts, st.randoms(use_true_random=False))
def test_the_order_of_a_batch_does_not_change_its_incidents(alerts: list[Alert], random: object) -> None:
    shuffled = list(alerts)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert group(shuffled) == group(alerts)


@given(_alerts)
def test_incidents_are_the_runs_of_windows_that_start_within_the_gap_of_the_one_before(alerts: list[Alert]) -> None:
    expected: list[frozenset[tuple[str, int]]] = []
    for rule, subject in {(a.rule, a.subject) for a in alerts}:
        windows = sorted((a.window_start_ms, a.window_end_ms) for a in alerts if (a.rule, a.subject) == (rule, subject))
        run = [windows[0]]
        for window in windows[1:]:
            if window[0] > run[-1][1] + GAP:
                expected.append(frozenset((subject, start) for start, _ in run))
                run = []
            run.append(window)
        expected.append(frozenset((subject, start) for start, _ in run))
    assert group(alerts) == sorted(expected, key=sorted)
