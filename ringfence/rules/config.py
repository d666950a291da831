"""The rule set: built-in defaults, YAML changes to them and custom rules, checked once into frozen specs.

A rules file is YAML::

    home_region: GB            # optional; the settings' default_region otherwise
    lateness_s: 3600           # how far behind the newest record a record may start and still count
    rules:
      range_velocity:          # a built-in: change some of its settings
        window_s: 900
        conditions: {min_calls: 8}
      short_call_ratio:
        enabled: false         # or switch it off
      premium_burst:           # a new name: a custom rule (kind threshold unless it says callback)
        filter: {destination: [premium]}
        key: subscriber
        window_s: 600
        conditions: {min_calls: 10}
        severity: high
        category: irsf

Changes merge into the built-in's settings key by key, nested mappings (``filter``, ``conditions``) too; a
``null`` removes a setting (``conditions: {min_minutes: null}``). Every key and value is checked: a typo is an
:class:`~ringfence.errors.InvalidInput` (``invalid_rules``) naming the key path (``rules.wangiri.filter.direction``)
and the reason, never a rule that silently does nothing. docs/rules.md explains every default.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, cast

import yaml

from ringfence.cdrs.models import Direction
from ringfence.config import Settings
from ringfence.errors import InvalidInput
from ringfence.numbers import NUMBER_TYPES, NumberType, check_region
from ringfence.registry.models import Category
from ringfence.rules.models import Severity
from ringfence.rules.specs import (
    DESTINATIONS,
    DISTINCT_FIELDS,
    KEY_KINDS,
    CallbackRule,
    Conditions,
    Filter,
    HotlistHitRule,
    InvalidDestinationRule,
    Key,
    RuleSpec,
    ShortRatio,
    SpikeRule,
    TestCallRule,
    ThresholdRule,
)

__all__ = ["BUILTIN_RULES", "DEFAULT_LATENESS_S", "RuleSet"]

DEFAULT_LATENESS_S: Final = 3600
_ORIGINATING: Final = ["outgoing", "roaming_out", "roaming_in"]
_HOUR: Final = 3600
_DAY: Final = 86400

#: The built-in rules as a rules file would write them (docs/rules.md gives the reasons for each value).
BUILTIN_RULES: Final[dict[str, dict[str, Any]]] = {
    "hotlist_hit": {"kind": "hotlist_hit", "severity": "high", "window_s": _DAY},
    "irsf_test_call": {
        "kind": "test_call",
        "severity": "high",
        "category": "irsf",
        "window_s": _HOUR,
        "range_digits": 3,
        "test_max_s": 10,
        "max_tests": 5,
        "followers": 2,
    },
    "range_velocity": {
        "kind": "threshold",
        "severity": "high",
        "category": "irsf",
        "window_s": 600,
        "filter": {"directions": _ORIGINATING, "destination": ["international", "premium"]},
        "key": "called_range:3",
        "conditions": {"min_calls": 6, "min_distinct": {"field": "subscriber", "count": 3}},
        "numbers": "remote",
    },
    "subscriber_velocity": {
        "kind": "threshold",
        "severity": "medium",
        "category": "irsf",
        "window_s": _HOUR,
        "filter": {"directions": _ORIGINATING, "destination": ["international", "premium"]},
        "key": "subscriber",
        "conditions": {"min_distinct": {"field": "called", "count": 10}, "min_minutes": 60, "match": "any"},
        "numbers": "remote",
    },
    "wangiri": {
        "kind": "threshold",
        "severity": "high",
        "category": "wangiri",
        "window_s": 1800,
        "filter": {"directions": ["incoming"], "destination": ["international"], "max_duration_s": 3},
        "key": "caller_range:3",
        "conditions": {"min_distinct": {"field": "subscriber", "count": 5}},
        "numbers": "remote",
    },
    "wangiri_callback": {
        "kind": "callback",
        "severity": "high",
        "category": "wangiri",
        "window_s": _DAY,
        "source": "wangiri",
        "callback_s": 7 * _DAY,
    },
    "short_call_ratio": {
        "kind": "threshold",
        "severity": "medium",
        "category": "other",
        "window_s": _HOUR,
        "filter": {},
        "key": "caller",
        "conditions": {"min_short_ratio": {"ratio": 0.8, "min_attempts": 20, "short_s": 6}},
        "numbers": "key",
    },
    "destination_spike": {
        "kind": "spike",
        "severity": "medium",
        "category": "irsf",
        "bucket_s": _HOUR,
        "baseline_buckets": 24,
        "min_history": 3,
        "factor": 5.0,
        "minimum": 50,
        "measure": "calls",
    },
    "invalid_destination": {"kind": "invalid_destination", "severity": "medium", "category": "irsf", "window_s": _DAY},
}

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_KINDS: Final = ("threshold", "hotlist_hit", "test_call", "spike", "invalid_destination", "callback")
_CUSTOM_KINDS: Final = ("threshold", "callback")
_COMMON: Final = ("kind", "enabled", "severity", "description")
_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "threshold": (*_COMMON, "category", "window_s", "filter", "key", "conditions", "numbers"),
    "hotlist_hit": (*_COMMON, "window_s"),
    "test_call": (*_COMMON, "category", "window_s", "range_digits", "test_max_s", "max_tests", "followers"),
    "spike": (
        *_COMMON,
        *("category", "bucket_s", "baseline_buckets", "min_history", "factor", "minimum", "measure"),
    ),
    "invalid_destination": (*_COMMON, "category", "window_s"),
    "callback": (*_COMMON, "category", "window_s", "source", "callback_s"),
}
_FILTER_KEYS: Final = ("directions", "destination", "number_types", "max_duration_s", "answered", "hotlisted")
_CONDITION_KEYS: Final = ("min_calls", "min_distinct", "min_minutes", "min_short_ratio", "match")
_MAX_WINDOW_S: Final = 366 * _DAY


def _fail(path: str, reason: str) -> InvalidInput:
    return InvalidInput(f"rules: {path}: {reason}", code="invalid_rules", details={"key": path, "reason": reason})


def _mapping(path: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, f"expected a mapping, got {_shown(value)}")
    for key in value:
        if not isinstance(key, str):
            raise _fail(path, f"keys are names, got {_shown(key)}")
    return dict(value)


def _shown(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def _check_keys(path: str, mapping: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in mapping:
        if key not in allowed:
            raise _fail(f"{path}.{key}", f"unknown key (expected one of: {', '.join(allowed)})")


def _int(path: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"expected an integer, got {_shown(value)}")
    if not low <= value <= high:
        raise _fail(path, f"expected an integer from {low} to {high}, got {value}")
    return value


def _number(path: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _fail(path, f"expected a number, got {_shown(value)}")
    if not low <= value <= high:
        raise _fail(path, f"expected a number from {low} to {high}, got {value}")
    return float(value)


def _bool(path: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, f"expected true or false, got {_shown(value)}")
    return value


def _text(path: str, value: object) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"expected text, got {_shown(value)}")
    return value


def _choice(path: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _fail(path, f"expected one of: {', '.join(allowed)}; got {_shown(value)}")
    return value


def _choices(path: str, value: object, allowed: tuple[str, ...]) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _fail(path, f"expected a non-empty list of: {', '.join(allowed)}")
    return tuple(_choice(f"{path}[{i}]", item, allowed) for i, item in enumerate(items))


def _window_ms(path: str, value: object) -> int:
    return _int(path, value, 2, _MAX_WINDOW_S) * 1000


def _severity(path: str, value: object) -> Severity:
    try:
        return Severity.parse(_text(path, value))
    except ValueError as exc:
        raise _fail(path, str(exc)) from None


def _category(path: str, value: object) -> str:
    return _choice(path, value, tuple(c.value for c in Category))


def _merge(base: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """``change`` over ``base``, key by key and into nested mappings; ``None`` removes a key."""
    out = copy.deepcopy(base)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict) and key != "min_distinct":
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# ---------------------------------------------------------------- one rule per kind


def _filter(path: str, raw: object) -> Filter:
    spec = _mapping(path, raw)
    _check_keys(path, spec, _FILTER_KEYS)
    directions = frozenset(Direction)
    if "directions" in spec:
        labels = tuple(d.label for d in Direction)
        directions = frozenset(Direction[d.upper()] for d in _choices(f"{path}.directions", spec["directions"], labels))
    destinations = frozenset({"any"})
    if "destination" in spec:
        destinations = frozenset(_choices(f"{path}.destination", spec["destination"], DESTINATIONS))
    types = None
    if "number_types" in spec:
        names = tuple(t.value for t in NUMBER_TYPES)
        chosen = _choices(f"{path}.number_types", spec["number_types"], names)
        types = frozenset(NUMBER_TYPES.index(NumberType(t)) for t in chosen)
    max_ms = None
    if "max_duration_s" in spec:
        max_ms = round(_number(f"{path}.max_duration_s", spec["max_duration_s"], 0, _MAX_WINDOW_S) * 1000)
    answered = _bool(f"{path}.answered", spec["answered"]) if "answered" in spec else None
    hotlisted = _bool(f"{path}.hotlisted", spec["hotlisted"]) if "hotlisted" in spec else None
    return Filter(directions, destinations, types, max_ms, answered, hotlisted)


def _key(path: str, raw: object) -> Key:
    text = _text(path, raw)
    kind, _, digits = text.partition(":")
    if kind not in KEY_KINDS:
        raise _fail(path, f"expected one of: {', '.join(KEY_KINDS)} (ranges as called_range:N); got {text!r}")
    if kind.endswith("_range"):
        if not digits.isdigit() or not 1 <= int(digits) <= 8:
            raise _fail(path, f"a range key names the trailing digits it drops, 1 to 8 ({kind}:3); got {text!r}")
        return Key(kind, int(digits))
    if digits:
        raise _fail(path, f"{kind} takes no digit count; got {text!r}")
    return Key(kind)


def _conditions(path: str, raw: object) -> Conditions:
    spec = _mapping(path, raw)
    _check_keys(path, spec, _CONDITION_KEYS)
    min_calls = _int(f"{path}.min_calls", spec["min_calls"], 1, 10**9) if "min_calls" in spec else None
    distinct = None
    if "min_distinct" in spec:
        sub = _mapping(f"{path}.min_distinct", spec["min_distinct"])
        _check_keys(f"{path}.min_distinct", sub, ("field", "count"))
        for required in ("field", "count"):
            if required not in sub:
                raise _fail(f"{path}.min_distinct.{required}", "missing")
        distinct = (
            _choice(f"{path}.min_distinct.field", sub["field"], DISTINCT_FIELDS),
            _int(f"{path}.min_distinct.count", sub["count"], 1, 10**9),
        )
    minutes = None
    if "min_minutes" in spec:
        minutes = round(_number(f"{path}.min_minutes", spec["min_minutes"], 0.001, 10**9) * 60_000)
    ratio = None
    if "min_short_ratio" in spec:
        sub = _mapping(f"{path}.min_short_ratio", spec["min_short_ratio"])
        _check_keys(f"{path}.min_short_ratio", sub, ("ratio", "min_attempts", "short_s"))
        for required in ("ratio", "min_attempts"):
            if required not in sub:
                raise _fail(f"{path}.min_short_ratio.{required}", "missing")
        ratio = ShortRatio(
            _number(f"{path}.min_short_ratio.ratio", sub["ratio"], 0.0, 1.0),
            _int(f"{path}.min_short_ratio.min_attempts", sub["min_attempts"], 1, 10**9),
            round(_number(f"{path}.min_short_ratio.short_s", sub.get("short_s", 6), 0.001, 86400) * 1000),
        )
    match = cast(Literal["all", "any"], _choice(f"{path}.match", spec.get("match", "all"), ("all", "any")))
    if min_calls is None and distinct is None and minutes is None and ratio is None:
        raise _fail(path, "give at least one of min_calls, min_distinct, min_minutes, min_short_ratio")
    return Conditions(min_calls, distinct, minutes, ratio, match)


def _required(path: str, spec: Mapping[str, Any], key: str) -> Any:
    if key not in spec:
        raise _fail(f"{path}.{key}", "missing")
    return spec[key]


def _threshold(name: str, path: str, spec: dict[str, Any]) -> ThresholdRule:
    numbers = _choice(f"{path}.numbers", spec.get("numbers", "remote"), ("remote", "key", "none"))
    return ThresholdRule(
        name=name,
        severity=_severity(f"{path}.severity", spec.get("severity", "medium")),
        category=_category(f"{path}.category", spec.get("category", "other")),
        window_ms=_window_ms(f"{path}.window_s", _required(path, spec, "window_s")),
        filter=_filter(f"{path}.filter", spec.get("filter", {})),
        key=_key(f"{path}.key", _required(path, spec, "key")),
        conditions=_conditions(f"{path}.conditions", _required(path, spec, "conditions")),
        numbers=cast(Literal["remote", "key", "none"], numbers),
        description=_text(f"{path}.description", spec.get("description", "")),
    )


def _hotlist_hit(name: str, path: str, spec: dict[str, Any]) -> HotlistHitRule:
    return HotlistHitRule(
        name,
        _severity(f"{path}.severity", spec["severity"]),
        _window_ms(f"{path}.window_s", spec["window_s"]),
        _text(f"{path}.description", spec.get("description", "")),
    )


def _invalid_destination(name: str, path: str, spec: dict[str, Any]) -> InvalidDestinationRule:
    return InvalidDestinationRule(
        name,
        _severity(f"{path}.severity", spec["severity"]),
        _category(f"{path}.category", spec["category"]),
        _window_ms(f"{path}.window_s", spec["window_s"]),
        _text(f"{path}.description", spec.get("description", "")),
    )


def _test_call(name: str, path: str, spec: dict[str, Any]) -> TestCallRule:
    return TestCallRule(
        name=name,
        severity=_severity(f"{path}.severity", spec["severity"]),
        category=_category(f"{path}.category", spec["category"]),
        window_ms=_window_ms(f"{path}.window_s", spec["window_s"]),
        range_digits=_int(f"{path}.range_digits", spec["range_digits"], 1, 8),
        test_max_ms=round(_number(f"{path}.test_max_s", spec["test_max_s"], 0, 3600) * 1000),
        max_tests=_int(f"{path}.max_tests", spec["max_tests"], 1, 1000),
        followers=_int(f"{path}.followers", spec["followers"], 1, 10**6),
        description=_text(f"{path}.description", spec.get("description", "")),
    )


def _spike(name: str, path: str, spec: dict[str, Any]) -> SpikeRule:
    measure = _choice(f"{path}.measure", spec["measure"], ("calls", "minutes"))
    return SpikeRule(
        name=name,
        severity=_severity(f"{path}.severity", spec["severity"]),
        category=_category(f"{path}.category", spec["category"]),
        bucket_ms=_int(f"{path}.bucket_s", spec["bucket_s"], 60, 7 * _DAY) * 1000,
        baseline_buckets=_int(f"{path}.baseline_buckets", spec["baseline_buckets"], 1, 10_000),
        min_history=_int(f"{path}.min_history", spec["min_history"], 1, 10_000),
        factor=_number(f"{path}.factor", spec["factor"], 1.0, 1e9),
        minimum=_number(f"{path}.minimum", spec["minimum"], 0, 1e12),
        measure=cast(Literal["calls", "minutes"], measure),
        description=_text(f"{path}.description", spec.get("description", "")),
    )


def _callback(name: str, path: str, spec: dict[str, Any]) -> CallbackRule:
    return CallbackRule(
        name=name,
        severity=_severity(f"{path}.severity", spec.get("severity", "high")),
        category=_category(f"{path}.category", spec.get("category", "wangiri")),
        window_ms=_window_ms(f"{path}.window_s", _required(path, spec, "window_s")),
        source=_text(f"{path}.source", _required(path, spec, "source")),
        callback_ms=_int(f"{path}.callback_s", _required(path, spec, "callback_s"), 1, _MAX_WINDOW_S) * 1000,
        description=_text(f"{path}.description", spec.get("description", "")),
    )


_PARSERS: Final[dict[str, Callable[[str, str, dict[str, Any]], RuleSpec]]] = {
    "threshold": _threshold,
    "hotlist_hit": _hotlist_hit,
    "invalid_destination": _invalid_destination,
    "test_call": _test_call,
    "spike": _spike,
    "callback": _callback,
}


# ---------------------------------------------------------------- the set


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every enabled rule with its thresholds, the home region (``None``: international means "another country
    calling code than the local party's") and the lateness allowance. Build it with :meth:`default`,
    :meth:`from_yaml` or :meth:`load`; it is immutable."""

    rules: tuple[RuleSpec, ...]
    home_region: str | None
    lateness_ms: int

    @property
    def names(self) -> tuple[str, ...]:
        """The enabled rules' names, in evaluation order (built-ins first, then custom rules as written)."""
        return tuple(rule.name for rule in self.rules)

    def rule(self, name: str) -> RuleSpec:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    @classmethod
    def default(cls, home_region: str | None = None) -> RuleSet:
        """The built-in rules with their default thresholds."""
        return cls._build({}, home_region, DEFAULT_LATENESS_S)

    @classmethod
    def from_yaml(cls, text: str, home_region: str | None = None) -> RuleSet:
        """The built-ins changed, and custom rules added, by a rules file's text (see the module docstring); a
        ``home_region`` in the text wins over the argument."""
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(document)"
            raise _fail(where, f"not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
        if doc is None:
            doc = {}
        top = _mapping("(document)", doc)
        _check_keys("(top)", top, ("home_region", "lateness_s", "rules"))
        region = home_region
        if top.get("home_region") is not None:
            try:
                region = check_region(_text("home_region", top["home_region"]))
            except InvalidInput as exc:
                raise _fail("home_region", exc.message) from None
        lateness = _int("lateness_s", top.get("lateness_s", DEFAULT_LATENESS_S), 0, 30 * _DAY)
        changes = _mapping("rules", top.get("rules") or {})
        return cls._build(changes, region, lateness)

    @classmethod
    def load(cls, settings: Settings) -> RuleSet:
        """The rules file named by ``settings.rules_file`` (the built-in defaults when it is empty), with
        ``settings.default_region`` as the home region unless the file names one."""
        path = settings.rules_file
        if not path:
            return cls.default(settings.default_region)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                f"rules file {path!r} cannot be read: {exc}", code="invalid_rules", details={"file": path}
            ) from None
        try:
            return cls.from_yaml(text, settings.default_region)
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc.message}", code=exc.code, details={**exc.details, "file": path}) from None

    @classmethod
    def _build(cls, changes: Mapping[str, Any], home_region: str | None, lateness_s: int) -> RuleSet:
        specs: dict[str, dict[str, Any]] = {name: copy.deepcopy(spec) for name, spec in BUILTIN_RULES.items()}
        for name, raw in changes.items():
            path = f"rules.{name}"
            if not _NAME.fullmatch(name):
                raise _fail(path, "a rule name is 1 to 63 lower-case letters, digits or '_', starting with a letter")
            change = _mapping(path, raw)
            if name in specs:
                kind = specs[name]["kind"]
                if "kind" in change and change["kind"] != kind:
                    raise _fail(f"{path}.kind", f"{name} is a built-in rule of kind {kind}; it cannot change kind")
                specs[name] = _merge(specs[name], change)
            else:
                kind = _choice(f"{path}.kind", change.get("kind", "threshold"), _CUSTOM_KINDS)
                specs[name] = {**change, "kind": kind}
        rules: list[RuleSpec] = []
        for name, spec in specs.items():
            path = f"rules.{name}"
            _check_keys(path, spec, _KEYS[spec["kind"]])
            if not _bool(f"{path}.enabled", spec.get("enabled", True)):
                continue
            rules.append(_PARSERS[spec["kind"]](name, path, spec))
        by_name = {rule.name: rule for rule in rules}
        for rule in rules:
            if isinstance(rule, CallbackRule):
                source = by_name.get(rule.source)
                if not isinstance(source, ThresholdRule) or source.key.kind != "caller_range":
                    raise _fail(
                        f"rules.{rule.name}.source",
                        f"{rule.source!r} is not an enabled threshold rule keyed by caller_range",
                    )
        # Callbacks read the firings of their source: they go last.
        ordered = [r for r in rules if not isinstance(r, CallbackRule)] + [
            r for r in rules if isinstance(r, CallbackRule)
        ]
        return cls(tuple(ordered), home_region, lateness_s * 1000)
