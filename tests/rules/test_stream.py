"""The streaming engine: equal to batch on random streams cut at random points, bounded state, hotlists per frame."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.cdrs.models import CDR_SCHEMA, Direction
from ringfence.rules.batch import evaluate, late_count
from ringfence.rules.config import RuleSet
from ringfence.rules.hotlist import NO_HOTLISTS, HotlistLookup, MatcherLookup
from ringfence.rules.stream import StreamEngine
from tests.rules.records import EE, GB_PREMIUM, HOME, HOUR, LV, MIN, SEC, T0, UK, Call, frame, inc, out, stream

#: Every rule with tiny windows and thresholds, and 30 s of lateness: small random streams fire them all, cross
#: window boundaries, arrive late and have their state evicted.
TIGHT = RuleSet.from_yaml(
    """
home_region: GB
lateness_s: 30
rules:
  hotlist_hit: {window_s: 120}
  irsf_test_call: {window_s: 120, range_digits: 2, followers: 1, max_tests: 2}
  range_velocity:
    window_s: 60
    key: "called_range:2"
    conditions: {min_calls: 3, min_distinct: {field: subscriber, count: 2}}
  subscriber_velocity: {window_s: 120, conditions: {min_distinct: {field: called, count: 3}, min_minutes: 2}}
  wangiri: {window_s: 60, key: "caller_range:2", conditions: {min_distinct: {field: subscriber, count: 2}}}
  wangiri_callback: {window_s: 60, callback_s: 90}
  short_call_ratio: {window_s: 60, conditions: {min_short_ratio: {ratio: 0.6, min_attempts: 3, short_s: 4}}}
  destination_spike: {bucket_s: 60, baseline_buckets: 3, min_history: 1, factor: 1.5, minimum: 1}
  invalid_destination: {window_s: 120}
  route_mix:
    filter: {destination: [domestic, premium], number_types: [mobile, premium_rate], hotlisted: false}
    key: route
    window_s: 60
    conditions: {min_calls: 3, min_distinct: {field: caller, count: 2}, match: any}
  country_minutes:
    filter: {answered: true, directions: [outgoing, roaming_out]}
    key: country
    window_s: 120
    conditions: {min_minutes: 3, min_distinct: {field: country, count: 1}}
  withheld_caller_ranges:
    filter: {directions: [incoming], max_duration_s: 4}
    key: "caller_range:1"
    window_s: 60
    conditions: {min_distinct: {field: route, count: 2}}
"""
)
HOT = MatcherLookup.from_texts(["+3725501000?", "+371261000*", "+447400100003", "+4490987900??"])
REMOTES = [EE + i for i in range(0, 12)] + [LV + i for i in range(4)] + [GB_PREMIUM + i for i in range(3)]
REMOTES += [UK + i for i in range(4)] + [447700900123, 99999]
DURATIONS = [0, 0, 1, 2, 3, 5, 10, 30, 70, 300]


@st.composite
def records(draw: st.DrawFn) -> list[Call]:
    n = draw(st.integers(1, 70))
    calls, now = [], 0
    for _ in range(n):
        step = draw(st.sampled_from([0, 1, 5, 10, 20, 40, -20, -45, 600]))
        now = max(now, now + step * SEC) if step >= 0 else now
        at = now + step * SEC if step < 0 else now
        direction = draw(st.sampled_from(list(Direction)))
        sub = draw(st.integers(0, 4))
        remote = draw(st.sampled_from(REMOTES))
        local = HOME + sub
        withheld = direction is Direction.INCOMING and draw(st.integers(0, 9)) == 0
        calls.append(
            Call(
                at=at,
                caller=None if withheld else (remote if direction is Direction.INCOMING else local),
                called=local if direction is Direction.INCOMING else remote,
                seconds=draw(st.sampled_from(DURATIONS)),
                answered=draw(st.sampled_from([None, None, False])),
                direction=direction,
                subscriber=f"s{sub}",
                called_plan=remote != 99999 or direction is Direction.INCOMING,
                route=draw(st.sampled_from([None, "R1", "R2"])),
            )
        )
    return calls


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=records(), cuts=st.lists(st.integers(0, 70), max_size=6), data=st.data())
def test_streaming_equals_batch_however_the_stream_is_cut(
    calls: list[Call], cuts: list[int], data: st.DataObject
) -> None:
    rules = data.draw(st.sampled_from([TIGHT, RuleSet.default("GB"), RuleSet.default()]))
    records_frame = frame(calls)
    batch = evaluate(records_frame, rules, HOT)
    alerts, engine = stream(records_frame, rules, HOT, cuts)
    assert alerts == batch
    assert engine.late == late_count(records_frame, rules)
    assert len({a.key for a in batch}) == len(batch)
    for alert in batch:
        assert alert.evidence and alert.evidence[-1].seq == alert.seq and alert.fired_ms == alert.evidence[-1].start_ms
        assert alert.window_start_ms <= alert.fired_ms < alert.window_end_ms
        assert [c.seq for c in alert.evidence] == sorted(c.seq for c in alert.evidence)


def test_the_tight_rules_all_fire_on_random_streams() -> None:
    """The property above is only as good as its streams: on a long one of them every rule fires."""
    rng = np.random.default_rng(2)
    calls = []
    for i in range(3000):
        direction = Direction(int(rng.integers(0, 4)))
        sub, remote = int(rng.integers(0, 5)), int(rng.choice(REMOTES))
        incoming = direction is Direction.INCOMING
        calls.append(
            Call(
                at=i * 7 * SEC - int(rng.integers(0, 40)) * SEC,
                caller=remote if incoming else HOME + sub,
                called=HOME + sub if incoming else remote,
                seconds=float(rng.choice(DURATIONS)),
                direction=direction,
                subscriber=f"s{sub}",
                called_plan=remote != 99999 or incoming,
                route=str(rng.choice(["R1", "R2"])),
            )
        )
    data = frame(calls)
    batch = evaluate(data, TIGHT, HOT)
    assert {a.rule for a in batch} == set(TIGHT.names)
    alerts, engine = stream(data, TIGHT, HOT, list(range(0, 3000, 97)))
    assert alerts == batch and engine.late == late_count(data, TIGHT) > 0


def test_state_stays_bounded_on_a_long_stream() -> None:
    """Two days of steady traffic: the state held after the second day is about that after the first."""
    rules = RuleSet.default("GB")
    engine = StreamEngine(rules, lambda: NO_HOTLISTS)
    rng = np.random.default_rng(1)
    sizes = []
    for hour in range(48):
        n = 2000
        subs = rng.integers(0, 3000, n)
        remotes = np.where(rng.random(n) < 0.2, EE + rng.integers(0, 5000, n), UK + rng.integers(0, 90_000, n))
        chunk = pl.DataFrame(
            {
                "seq": hour * n + np.arange(n),
                "line": hour * n + np.arange(n) + 2,
                "caller": HOME + subs,
                "called": remotes,
                "called_plan": np.ones(n, np.bool_),
                "start_ms": T0 + hour * HOUR + np.sort(rng.integers(0, HOUR, n)),
                "duration_ms": rng.integers(0, 200_000, n),
                "answered": np.ones(n, np.bool_),
                "direction": np.zeros(n, np.int8),
                "subscriber": [f"s{s}" for s in subs],
                "route": None,
                "cost": None,
            },
            schema=CDR_SCHEMA,
        )
        engine.feed(chunk)
        sizes.append(engine.state_size)
    assert engine.fed == 96_000
    assert max(sizes[36:]) <= 1.2 * max(sizes[12:24])


class _Versions:
    """A hotlist that changes between frames, as the hotlist service's does."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> HotlistLookup:
        self.calls += 1
        return HOT if self.calls > 1 else NO_HOTLISTS


def test_the_hotlists_are_asked_for_on_every_frame() -> None:
    versions = _Versions()
    engine = StreamEngine(RuleSet.default("GB"), versions)
    assert not [a for a in engine.feed(frame([out(1, EE + 1, 0)])) if a.rule == "hotlist_hit"]
    alerts = engine.feed(frame([out(1, EE + 2, MIN)], first_seq=1))
    assert {a.subject for a in alerts if a.rule == "hotlist_hit"} == {f"number:+{EE + 2}"}
    assert versions.calls == 2


def test_late_records_are_counted_and_state_of_closed_windows_dropped() -> None:
    engine = StreamEngine(RuleSet.default("GB"), lambda: NO_HOTLISTS)
    engine.feed(frame([inc(EE + i, 10 + i, i * MIN) for i in range(3)]))
    held = engine.state_size
    assert held > 0
    engine.feed(frame([out(1, UK + 1, 3 * HOUR), out(1, UK + 2, 0)], first_seq=3))
    assert engine.late == 1
    engine.feed(frame([out(1, UK + 1, 40 * 24 * HOUR)], first_seq=5))
    assert engine.state_size <= 4  # only the newest record's windows remain
    assert engine.watermark == T0 + 40 * 24 * HOUR
