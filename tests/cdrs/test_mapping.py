"""Column mappings: presets, YAML/JSON mappings validated key by key, preset extension, detection."""

from __future__ import annotations

import json

import pytest

from ringfence.cdrs.mapping import (
    PRESETS,
    AnsweredBy,
    NumberStyle,
    detect,
    load_mapping,
    mapping_from_dict,
    preset,
    to_strftime,
)
from ringfence.cdrs.models import Direction
from ringfence.errors import InvalidInput


def test_there_are_the_three_presets_and_each_describes_itself_loadably() -> None:
    assert set(PRESETS) >= {"ringfence", "wholesale", "asterisk"}
    for name, mapping in PRESETS.items():
        again = mapping_from_dict(mapping.describe(), name=name)
        assert again == mapping
        assert json.loads(json.dumps(mapping.describe())) == mapping.describe()


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        preset("cisco")
    assert err.value.code == "unknown_preset" and "ringfence" in err.value.message


def test_yaml_and_json_mappings() -> None:
    yaml_text = """
    called: B-Number
    caller: A-Number
    start: Start
    time_format: epoch_ms
    duration: Seconds
    answered: {by: connect_time, column: Answer, or_duration: true}
    direction: {column: Dir, values: {"1": outgoing, "2": incoming, "*": roaming_in}}
    numbers: international
    """
    mapping = load_mapping(yaml_text)
    assert mapping.answered.by is AnsweredBy.CONNECT_TIME and mapping.answered.or_duration
    assert mapping.direction.values["2"] is Direction.INCOMING
    assert mapping.numbers is NumberStyle.INTERNATIONAL
    as_json = load_mapping(json.dumps({"called": 3, "start": 1, "duration": 4, "header": False}))
    assert as_json.called == 3 and not as_json.header


def test_a_mapping_may_start_from_a_preset() -> None:
    mapping = load_mapping("preset: asterisk\ntimezone: Europe/London\nregion: GB\n")
    assert mapping.columns == PRESETS["asterisk"].columns and mapping.timezone == "Europe/London"
    assert mapping.region == "GB"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("caller: A\n", "called"),
        ("called: B\nstart: S\nduration: D\nbogus: 1\n", "(top)"),
        ("called: B\nstart: S\nduration: D\ntime_format: '%Q %H'\n", "time_format"),
        ("called: B\nstart: S\nduration: D\ntime_format: 'HH:mm'\n", "time_format"),
        ("called: B\nstart: S\nduration: D\ntimezone: Mars/Olympus\n", "timezone"),
        ("called: B\nstart: S\nduration: D\nduration_unit: h\n", "duration_unit"),
        ("called: B\nstart: S\nduration: D\nnumbers: national\nregion: XX\n", "region"),
        ("called: B\nstart: S\nduration: D\nanswered: {by: magic, column: X}\n", "answered.by"),
        ("called: B\nstart: S\nanswered: {by: duration}\n", "answered"),
        ("called: B\nstart: S\nduration: D\ndirection: sideways\n", "direction"),
        ("called: B\nstart: S\nduration: D\ndirection: {column: D, values: {x: up}}\n", "direction.values.x"),
        ("called: 0\nstart: S\nduration: D\n", "called"),
        ("called: B\nstart: S\nduration: D\nroute: {column: R, pattern: 'no group'}\n", "route.pattern"),
        ("called: B\nstart: S\nduration: D\nheader: false\n", "called"),
        ("called: B\nstart: S\nduration: D\ndelimiter: ';;'\n", "delimiter"),
        ("[1, 2]", "(top)"),
        ("called: [unclosed", "(top)"),
    ],
)
def test_invalid_mappings_name_the_key(text: str, key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        load_mapping(text)
    assert err.value.code == "invalid_mapping"
    assert err.value.details["key"] == key, err.value.message
    assert key in err.value.message


def test_java_patterns_become_strftime() -> None:
    assert to_strftime("d/M/yyyy HH:mm:ss") == "%d/%m/%Y %H:%M:%S"
    assert to_strftime("yyyy-MM-dd'T'HH:mm:ss.SSSXXX") == "%Y-%m-%dT%H:%M:%S.%3f%#z"
    assert to_strftime("%Y-%m-%d %H:%M:%S") == "%Y-%m-%d %H:%M:%S"


def test_detection_by_header_or_keys() -> None:
    assert detect(["start", "caller", "called", "duration_s", "answered", "direction"]) is PRESETS["ringfence"]
    assert detect(["Buyer", "Route", "CLD", "CLI", "Duration", "Setup Time"]) is PRESETS["wholesale"]
    assert detect(["when", "from", "to"]) is None
