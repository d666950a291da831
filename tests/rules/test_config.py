"""Rule sets: the built-in defaults, YAML changes and custom rules, and refusals that name the key and reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.cdrs.models import Direction
from ringfence.config import Settings
from ringfence.errors import InvalidInput
from ringfence.rules.config import BUILTIN_RULES, RuleSet
from ringfence.rules.models import Severity
from ringfence.rules.specs import CallbackRule, Key, ThresholdRule
from tests.rules.records import EE, MIN, UK, both, inc, only, out

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_the_defaults_hold_every_built_in_rule() -> None:
    rules = RuleSet.default("GB")
    assert set(rules.names) == set(BUILTIN_RULES)
    assert rules.names[-1] == "wangiri_callback"  # after the rule it listens to
    assert rules.home_region == "GB" and rules.lateness_ms == 3_600_000
    velocity = rules.rule("range_velocity")
    assert isinstance(velocity, ThresholdRule)
    assert velocity.key == Key("called_range", 3) and velocity.window_ms == 600_000
    assert velocity.conditions.min_calls == 6 and velocity.conditions.min_distinct == ("subscriber", 3)
    assert Direction.INCOMING not in velocity.filter.directions


def test_changes_merge_into_a_built_in_key_by_key() -> None:
    rules = RuleSet.from_yaml(
        """
lateness_s: 600
rules:
  range_velocity:
    window_s: 900
    conditions: {min_calls: 8}
  subscriber_velocity:
    conditions: {min_minutes: null}
  short_call_ratio:
    enabled: false
"""
    )
    velocity = rules.rule("range_velocity")
    assert isinstance(velocity, ThresholdRule)
    assert velocity.window_ms == 900_000 and velocity.conditions.min_calls == 8
    assert velocity.conditions.min_distinct == ("subscriber", 3)  # kept
    subscriber = rules.rule("subscriber_velocity")
    assert isinstance(subscriber, ThresholdRule) and subscriber.conditions.min_minutes_ms is None
    assert "short_call_ratio" not in rules.names and rules.lateness_ms == 600_000


def test_home_region_from_the_file_wins_over_the_argument() -> None:
    assert RuleSet.from_yaml("home_region: fr", "GB").home_region == "FR"
    assert RuleSet.from_yaml("rules: {}", "GB").home_region == "GB"
    assert RuleSet.from_yaml("", None).home_region is None


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("rules: {wangiri: {filter: {direction: [incoming]}}}", "rules.wangiri.filter.direction", "unknown key"),
        ("rules: {wangiri: {window_s: ten}}", "rules.wangiri.window_s", "expected an integer"),
        ("rules: {wangiri: {window_s: 0}}", "rules.wangiri.window_s", "from 2 to"),
        ("rules: {wangiri: {severity: urgent}}", "rules.wangiri.severity", "not a severity"),
        ("rules: {wangiri: {category: fraud}}", "rules.wangiri.category", "expected one of"),
        ("rules: {wangiri: {key: caller_range}}", "rules.wangiri.key", "trailing digits"),
        ("rules: {wangiri: {kind: spike}}", "rules.wangiri.kind", "cannot change kind"),
        ("rules: {wangiri: {conditions: {min_distinct: {field: subscriber}}}}", "rules.wangiri.conditions", "count"),
        ("rules: {mine: {key: subscriber, window_s: 60}}", "rules.mine.conditions", "missing"),
        ("rules: {mine: {kind: spike}}", "rules.mine.kind", "expected one of"),
        ("rules: {Mine: {}}", "rules.Mine", "lower-case"),
        ("rules: {destination_spike: {factor: 0.5}}", "rules.destination_spike.factor", "from 1.0"),
        ("rules: {wangiri: {enabled: false}}", "rules.wangiri_callback.source", "not an enabled threshold rule"),
        ("rules: {wangiri: {filter: {destination: [abroad]}}}", "rules.wangiri.filter.destination[0]", "one of"),
        ("rulez: {}", "(top).rulez", "unknown key"),
        ("rules: [1, 2]", "rules", "expected a mapping"),
        ("home_region: XX", "home_region", "not a region"),
        ("rules: {a: [}", "line 1", "not valid YAML"),
    ],
)
def test_bad_rules_are_refused_naming_the_key_and_the_reason(text: str, key: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RuleSet.from_yaml(text)
    assert caught.value.code == "invalid_rules"
    assert caught.value.details["key"].startswith(key)
    assert reason in caught.value.message


@settings(max_examples=200, deadline=None)
@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=8), c),
        max_leaves=12,
    )
)
def test_any_yaml_is_a_rule_set_or_a_clear_refusal(doc: object) -> None:
    text = yaml.safe_dump({"rules": {"wangiri": doc}})
    try:
        rules = RuleSet.from_yaml(text)
    except InvalidInput as exc:
        assert exc.code == "invalid_rules" and exc.details["key"]
    else:
        assert rules.names


def test_load_reads_the_settings_file_and_region(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules: {hotlist_hit: {severity: critical}}\n")
    rules = RuleSet.load(Settings(rules_file=str(path), default_region="GB"))
    assert rules.home_region == "GB" and rules.rule("hotlist_hit").severity is Severity.CRITICAL
    assert RuleSet.load(Settings()).names == RuleSet.default().names
    with pytest.raises(InvalidInput) as caught:
        RuleSet.load(Settings(rules_file=str(tmp_path / "missing.yaml")))
    assert caught.value.code == "invalid_rules" and "missing.yaml" in caught.value.message
    path.write_text("rules: {hotlist_hit: {window: 3}}\n")
    with pytest.raises(InvalidInput) as caught:
        RuleSet.load(Settings(rules_file=str(path)))
    assert str(path) in caught.value.message and caught.value.details["key"] == "rules.hotlist_hit.window"


def test_the_settings_variable_names_the_file(tmp_path: Path) -> None:
    settings_ = Settings.from_env({"RINGFENCE_RULES_FILE": str(tmp_path / "r.yaml")})
    assert settings_.rules_file == str(tmp_path / "r.yaml")


def _docs_example() -> str:
    text = DOCS.read_text()
    found = re.search(r"<!-- example rules: tested -->\s*```yaml\n(.*?)```", text, re.S)
    assert found, "docs/rules.md lost its tested example"
    return found.group(1)


def test_the_example_in_the_docs_loads_and_does_what_it_says() -> None:
    rules = RuleSet.from_yaml(_docs_example())
    assert "short_call_ratio" not in rules.names
    custom = rules.rule("premium_burst")
    assert isinstance(custom, ThresholdRule) and custom.severity is Severity.HIGH
    callback = rules.rule("callback_to_pbx_ring")
    assert isinstance(callback, CallbackRule) and callback.source == "pbx_ring"
    # premium_burst: 8 premium-rate calls by one subscriber within 10 minutes.
    premium = [out(1, 449098790000 + i, i * MIN, seconds=20) for i in range(8)]
    assert {a.subject for a in only(both(premium, rules), "premium_burst")} == {"subscriber:s1"}
    # pbx_ring: one foreign range ringing 3 of our subscribers, then a callback to it.
    ring = [inc(EE + 1, 10 + i, i * MIN) for i in range(3)] + [out(4, EE + 1, 10 * MIN)]
    alerts = both(ring, rules)
    assert {a.subject for a in only(alerts, "pbx_ring")} == {f"range:+{(EE + 1) // 100}"}
    assert {a.subject for a in only(alerts, "callback_to_pbx_ring")} == {"subscriber:s4"}
    assert not only(both([out(1, UK + i, i * MIN, seconds=1) for i in range(30)], rules), "short_call_ratio")
