"""Each built-in rule on hand-written traffic: when it fires, when it does not, and what the alert says.

Every case goes through ``both``: the batch answer is checked equal to the streaming engine's, fed record by
record, in one frame and in random frames.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ringfence.cdrs.models import CDR_SCHEMA, Direction
from ringfence.rules.batch import evaluate, late_count
from ringfence.rules.config import RuleSet
from ringfence.rules.hotlist import MatcherLookup
from ringfence.rules.models import MAX_EVIDENCE, Severity
from tests.rules.records import EE, GB_PREMIUM, HOME, HOUR, LV, MIN, SEC, T0, UK, Call, at, both, frame, inc, only, out

EE_RANGE = "range:+37255010"


def tuned(yaml_rules: str) -> RuleSet:
    return RuleSet.from_yaml(f"home_region: GB\nrules:\n{yaml_rules}")


# ---------------------------------------------------------------- hotlist_hit


def test_hotlist_hit_fires_once_per_number_and_window_with_the_entry() -> None:
    hot = MatcherLookup.from_texts(["+37255010???", "+447400100009"])
    calls = [
        out(1, EE + 5, 1 * HOUR),
        out(2, EE + 5, 2 * HOUR),  # same number, same windows: nothing new
        out(1, UK + 3, 3 * HOUR),  # not listed
        inc(EE + 7, 4, 4 * HOUR),  # the caller of an incoming call: Wangiri
        out(3, EE + 5, 25 * HOUR),  # the next day's window: fires again
    ]
    alerts = only(both(calls, hotlists=hot), "hotlist_hit")
    first = [a for a in alerts if a.subject == "number:+37255010005"]
    # One record is the whole condition, so windows of 24 h follow each other (no overlap): one alert per day.
    assert [a.window_start_ms - T0 for a in first] == [0, 24 * HOUR]
    assert [at(a) for a in first] == [1 * HOUR, 25 * HOUR]
    assert first[0].category == "irsf" and first[0].severity is Severity.HIGH
    assert first[0].facts == {"entry": "+37255010???", "side": "called", "direction": "outgoing"}
    assert first[0].numbers == (EE + 5,) and [c.seq for c in first[0].evidence] == [0]
    wangiri = [a for a in alerts if a.subject == "number:+37255010007"]
    assert wangiri and all(a.category == "wangiri" and a.facts["side"] == "caller" for a in wangiri)
    assert {a.subject for a in alerts} == {"number:+37255010005", "number:+37255010007"}


def test_hotlist_hit_on_both_parties_gives_an_alert_each() -> None:
    hot = MatcherLookup.from_texts(["+37255010???", "+447400100001"])
    alerts = only(both([out(1, EE + 5, 0)], hotlists=hot), "hotlist_hit")
    assert {(a.subject, a.facts["side"]) for a in alerts} == {
        ("number:+447400100001", "caller"),
        ("number:+37255010005", "called"),
    }


def test_seed_case_one_hotlist_alert_per_listed_number_and_none_for_the_others() -> None:
    """An attack of 18,000 calls to 745 distinct numbers, 260 of them hotlisted."""
    rng = np.random.default_rng(5)
    targets = 88_216_000_000 + np.arange(745) * 7  # +882 16 …: an IRSF-prone non-geographic range
    listed = targets[rng.permutation(745)[:260]]
    hot = MatcherLookup.from_texts([f"+{n}" for n in listed])
    n = 18_000
    called = np.concatenate((targets, rng.choice(targets, n - 745)))[rng.permutation(n)]
    data = pl.DataFrame(
        {
            "seq": np.arange(n),
            "line": np.arange(n) + 2,
            "caller": HOME + rng.integers(0, 400, n),
            "called": called,
            "called_plan": np.ones(n, np.bool_),
            "start_ms": T0 + np.sort(rng.integers(0, 6 * HOUR, n)),
            "duration_ms": rng.integers(0, 300_000, n),
            "answered": np.ones(n, np.bool_),
            "direction": np.zeros(n, np.int8),
            "subscriber": [f"s{i % 400}" for i in range(n)],
            "route": None,
            "cost": None,
        },
        schema=CDR_SCHEMA,
    )
    alerts = only(evaluate(data, RuleSet.default("GB"), hot), "hotlist_hit")
    assert {a.subject for a in alerts} == {f"number:+{n}" for n in listed}
    assert all(a.category == "irsf" for a in alerts)


# ---------------------------------------------------------------- irsf_test_call


def test_irsf_test_call_fires_when_test_calls_are_followed_by_other_numbers_of_the_range() -> None:
    calls = [
        out(1, EE + 5, 0, seconds=4),
        out(1, EE + 5, 1 * MIN, seconds=0),  # unanswered counts as short
        out(2, EE + 300, 2 * MIN),  # another subscriber: its own sequence
        out(1, EE + 17, 5 * MIN, seconds=200),
        out(1, EE + 5, 6 * MIN, seconds=200),  # the test number again: no follower
        out(1, EE + 230, 7 * MIN, seconds=200),
    ]
    alerts = only(both(calls), "irsf_test_call")
    assert {a.subject for a in alerts} == {f"subscriber:s1/{EE_RANGE}"}
    alert = alerts[0]
    assert at(alert) == 7 * MIN
    assert alert.facts["test_number"] == f"+{EE + 5}" and alert.facts["test_calls"] == 2
    assert alert.facts["followers"] == 2
    assert alert.numbers == (EE + 5, EE + 17, EE + 230)
    assert [c.seq for c in alert.evidence] == [0, 1, 3, 4, 5]


def test_irsf_test_call_needs_the_pattern() -> None:
    long_first = [out(1, EE + 5, 0, seconds=60), out(1, EE + 17, MIN), out(1, EE + 230, 2 * MIN)]
    too_many_tests = [out(1, EE + 5, i * SEC, seconds=2) for i in range(6)] + [
        out(1, EE + 17, MIN),
        out(1, EE + 230, 2 * MIN),
    ]
    one_follower = [out(1, EE + 5, 0, seconds=2), out(1, EE + 17, MIN), out(1, EE + 17, 2 * MIN)]
    domestic = [out(1, UK + 5, 0, seconds=2), out(1, UK + 17, MIN), out(1, UK + 230, 2 * MIN)]
    for calls in (long_first, too_many_tests, one_follower, domestic):
        assert not only(both(calls), "irsf_test_call")
    five_tests = [out(1, EE + 5, i * SEC, seconds=2) for i in range(5)] + [
        out(1, EE + 17, MIN),
        out(1, EE + 230, 2 * MIN),
    ]
    assert only(both(five_tests), "irsf_test_call")


# ---------------------------------------------------------------- range_velocity


def test_range_velocity_fires_on_the_sixth_call_from_three_subscribers() -> None:
    calls = [out(1 + i % 3, EE + 10 * i, i * MIN) for i in range(7)]
    alerts = only(both(calls), "range_velocity")
    assert {a.subject for a in alerts} == {EE_RANGE}
    assert {at(a) for a in alerts} == {5 * MIN}
    assert alerts[0].facts["calls"] == 6 and alerts[0].facts["distinct_subscriber"] == 3
    assert alerts[0].numbers == tuple(EE + 10 * i for i in range(6))
    assert not only(both(calls[:5]), "range_velocity")
    two_subscribers = [out(1 + i % 2, EE + 10 * i, i * MIN) for i in range(8)]
    assert not only(both(two_subscribers), "range_velocity")


def test_range_velocity_catches_a_burst_across_a_window_boundary() -> None:
    """Windows of 10 min start every 5 min: a burst from minute 7 to 12 crosses the boundary at 10 and lies
    inside the window from 5 to 15."""
    calls = [out(1 + i % 3, EE + i, 7 * MIN + i * 50 * SEC) for i in range(6)]
    alerts = only(both(calls), "range_velocity")
    assert [a.window_start_ms - T0 for a in alerts] == [5 * MIN]


def test_evidence_is_the_latest_records_that_counted() -> None:
    rules = tuned("  range_velocity:\n    conditions: {min_calls: 70}\n")
    calls = [out(1 + i % 3, EE + i, i * SEC) for i in range(75)]
    alert = only(both(calls, rules), "range_velocity")[0]
    assert len(alert.evidence) == MAX_EVIDENCE
    assert [c.seq for c in alert.evidence] == list(range(70 - MAX_EVIDENCE, 70))
    assert alert.evidence[-1].seq == alert.seq == 69


# ---------------------------------------------------------------- subscriber_velocity


def test_subscriber_velocity_on_distinct_numbers_or_on_minutes() -> None:
    distinct = [out(1, EE + 100 * i, i * MIN, seconds=5) for i in range(11)]
    alerts = only(both(distinct), "subscriber_velocity")
    assert {a.subject for a in alerts} == {"subscriber:s1"} and {at(a) for a in alerts} == {9 * MIN}
    assert alerts[0].facts["distinct_called"] == 10
    long_calls = [out(1, GB_PREMIUM + 1, 0, seconds=1800), out(1, GB_PREMIUM + 1, 31 * MIN, seconds=1800)]
    alerts = only(both(long_calls), "subscriber_velocity")
    assert alerts and {at(a) for a in alerts} == {31 * MIN} and alerts[0].facts["minutes"] == 60.0
    domestic = [out(1, UK + 100 * i, i * MIN, seconds=3600) for i in range(12)]
    assert not only(both(domestic), "subscriber_velocity")


# ---------------------------------------------------------------- wangiri and callbacks


def test_wangiri_fires_on_the_fifth_subscriber_and_callbacks_follow() -> None:
    ring = [inc(EE + i, 10 + i, i * MIN, seconds=0) for i in range(5)]
    calls = [
        out(7, EE + 900, -5 * MIN, seconds=30),  # before the firing: no callback
        *ring,
        inc(EE + 5, 10, 6 * MIN),  # a subscriber already counted
        out(7, EE + 901, 20 * MIN, seconds=30),
        out(8, LV + 1, 21 * MIN, seconds=30),  # another range
    ]
    alerts = both(calls)
    wangiri = only(alerts, "wangiri")
    assert {a.subject for a in wangiri} == {EE_RANGE} and {at(a) for a in wangiri} == {4 * MIN}
    assert wangiri[0].category == "wangiri" and wangiri[0].numbers == tuple(EE + i for i in range(5))
    assert wangiri[0].facts["distinct_subscriber"] == 5
    callbacks = only(alerts, "wangiri_callback")
    assert {a.subject for a in callbacks} == {"subscriber:s7"} and {at(a) for a in callbacks} == {20 * MIN}
    assert callbacks[0].numbers == (EE + 901,) and callbacks[0].facts["range"] == "+37255010"


def test_wangiri_ignores_answered_calls_and_domestic_callers() -> None:
    answered = [inc(EE + i, 10 + i, i * MIN, seconds=40) for i in range(6)]
    domestic = [inc(UK + i, 10 + i, i * MIN, seconds=0) for i in range(6)]
    four = [inc(EE + i, 10 + i, i * MIN, seconds=0) for i in range(4)]
    for calls in (answered, domestic, four):
        assert not only(both(calls), "wangiri")


def test_callbacks_are_watched_for_seven_days() -> None:
    ring = [inc(EE + i, 10 + i, i * MIN, seconds=0) for i in range(5)]
    late_callback = [*ring, out(7, EE + 901, 8 * 24 * HOUR, seconds=30)]
    assert not only(both(late_callback), "wangiri_callback")
    in_time = [*ring, out(7, EE + 901, 6 * 24 * HOUR, seconds=30)]
    assert only(both(in_time), "wangiri_callback")


# ---------------------------------------------------------------- short_call_ratio


def test_short_call_ratio_needs_the_share_and_the_attempts() -> None:
    shorts = [out(1, UK + i, i * MIN, seconds=2) for i in range(21)]
    alerts = only(both(shorts), "short_call_ratio")
    assert {a.subject for a in alerts} == {"subscriber:s1"} and {at(a) for a in alerts} == {19 * MIN}
    assert alerts[0].facts["short_ratio"] == 1.0 and alerts[0].numbers == ()
    mixed = [out(1, UK + i, i * SEC, seconds=60) for i in range(5)] + [
        out(1, UK + i, (10 + i) * SEC, seconds=1) for i in range(21)
    ]
    alerts = only(both(mixed), "short_call_ratio")
    # 5 long then short ones: at 25 attempts 20 are short (0.8), not before.
    assert {a.seq for a in alerts} == {24} and alerts[0].facts["short_calls"] == 20
    incoming = [inc(LV + 1, 10 + i, i * MIN, seconds=1) for i in range(20)]
    alerts = only(both(incoming), "short_call_ratio")
    assert {a.subject for a in alerts} == {f"number:+{LV + 1}"} and alerts[0].numbers == (LV + 1,)


# ---------------------------------------------------------------- destination_spike


def test_destination_spike_against_a_final_baseline() -> None:
    history = [out(1 + i % 50, LV + i, h * HOUR + i * MIN, seconds=30) for h in range(3) for i in range(10)]
    # Hour 3 may still receive records when hour 4 starts (lateness 1 h): it is not in hour 4's baseline.
    busy_hour_3 = [out(1 + i % 50, LV + i, 3 * HOUR + i * SEC, seconds=30) for i in range(45)]
    spike = [out(1 + i % 50, LV + i, 4 * HOUR + i * SEC, seconds=30) for i in range(52)]
    alerts = only(both(history + busy_hour_3 + spike), "destination_spike")
    assert {a.subject for a in alerts} == {"country:LV"}
    alert = alerts[0]
    assert alert.window_start_ms == T0 + 4 * HOUR and alert.window_end_ms == T0 + 5 * HOUR
    assert alert.facts["baseline_mean"] == 10.0 and alert.facts["baseline_buckets"] == 3
    assert alert.facts["threshold"] == 50.0 and alert.facts["value"] == 51
    assert alert.seq == len(history) + len(busy_hour_3) + 50
    # Five times the baseline: with 30 calls an hour before, 51 is not enough.
    more_history = [out(1 + i % 50, LV + i, h * HOUR + i * SEC, seconds=30) for h in range(3) for i in range(30)]
    assert not only(both(more_history + spike), "destination_spike")


def test_destination_spike_waits_for_history() -> None:
    spike = [out(1 + i % 50, LV + i, i * SEC, seconds=30) for i in range(200)]
    assert not only(both(spike), "destination_spike")


# ---------------------------------------------------------------- invalid_destination


def test_invalid_destination_names_the_reason() -> None:
    calls = [
        out(1, 99999, 0, called_plan=False),
        out(1, 447700900123, MIN),  # a GB number of the right length that is not allocated
        out(1, UK + 1, 2 * MIN),
        inc(99998, 2, 3 * MIN),  # incoming: not ours to dial
    ]
    alerts = only(both(calls), "invalid_destination")
    reasons = {a.subject: a.facts["reason"] for a in alerts}
    assert reasons == {"number:+99999": "not_in_plan", "number:+447700900123": "unallocated"}


# ---------------------------------------------------------------- lateness, home region, custom rules


def test_late_records_count_for_no_rule() -> None:
    hot = MatcherLookup.from_texts(["+37255010???"])
    # The watermark is 3 h: a record starting before 2 h is late, one starting after 2 h counts.
    calls = [out(1, UK + 1, 3 * HOUR), out(1, EE + 5, 2 * HOUR - SEC), out(1, EE + 6, 2 * HOUR + SEC)]
    alerts = only(both(calls, hotlists=hot), "hotlist_hit")
    assert {a.subject for a in alerts} == {f"number:+{EE + 6}"}
    assert late_count(frame(calls), RuleSet.default()) == 1


def test_without_a_home_region_international_means_another_code_than_the_local_party() -> None:
    # Our subscribers are Estonian numbers here: calls to the EE range are domestic, to GB international.
    calls = [Call(at=i * MIN, caller=EE + 900, called=EE + 10 * i, subscriber="e1") for i in range(11)]
    assert not only(both(calls, RuleSet.default()), "subscriber_velocity")
    calls = [Call(at=i * MIN, caller=EE + 900, called=UK + 10 * i, subscriber="e1") for i in range(11)]
    assert only(both(calls, RuleSet.default()), "subscriber_velocity")
    assert not only(both(calls, RuleSet.default("GB")), "subscriber_velocity")


def test_a_custom_rule_over_routes() -> None:
    rules = tuned(
        "  route_burst:\n"
        "    filter: {directions: [outgoing], answered: false}\n"
        "    key: route\n"
        "    window_s: 600\n"
        "    conditions: {min_calls: 3, min_distinct: {field: called, count: 3}}\n"
        "    severity: low\n"
        "    numbers: none\n"
        "    description: unanswered burst on a route\n"
    )
    calls = [out(1, UK + i, i * MIN, seconds=0, route="TRUNK7") for i in range(3)]
    calls.append(out(1, UK + 9, 4 * MIN, seconds=0))  # no route: no key
    alerts = only(both(calls, rules), "route_burst")
    assert {a.subject for a in alerts} == {"route:TRUNK7"} and alerts[0].severity is Severity.LOW
    assert alerts[0].summary.startswith("unanswered burst on a route: route:TRUNK7: 3 calls")
    assert alerts[0].numbers == () and alerts[0].category == "other"


def test_alerts_are_sorted_by_record_rule_and_subject() -> None:
    hot = MatcherLookup.from_texts(["+37255010???"])
    calls = [out(1 + i % 3, EE + i, i * SEC, seconds=2) for i in range(30)]
    alerts = both(calls, hotlists=hot)
    keys = [(a.seq, a.rule, a.subject, a.window_start_ms) for a in alerts]
    assert keys == sorted(keys) and len({a.key for a in alerts}) == len(alerts)
    assert {a.rule for a in alerts} >= {"hotlist_hit", "range_velocity", "irsf_test_call"}
    assert all(a.evidence[-1].seq == a.seq and a.evidence[-1].direction is Direction.OUTGOING for a in alerts)


def test_an_empty_frame_fires_nothing() -> None:
    empty = frame([])
    assert evaluate(empty, RuleSet.default("GB"), MatcherLookup.from_texts(["+37255010???"])) == []
    assert late_count(empty, RuleSet.default()) == 0
