"""Column mappings: how a CDR layout's columns become the canonical fields of :data:`~ringfence.cdrs.models.CDR_SCHEMA`.

Switches, SBCs and wholesale platforms all write call records, each in its own columns, time formats and number
styles. A :class:`CdrMapping` says, per canonical field, which column holds it (by header name, or by position for
headerless files) and how to read it: the time format and zone, the duration unit, how "answered" and the
direction are decided, and how numbers are written. Mappings are data: the presets below are written in the same
form a user writes in YAML or JSON (:func:`load_mapping`), and go through the same validation, so a preset can
never do something a user's mapping cannot.

A mapping may start from a preset (``preset: asterisk``) and change only what differs, e.g. the time zone of a PBX
that writes local time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from ringfence.cdrs.models import Direction
from ringfence.errors import InvalidInput
from ringfence.numbers.regions import check_region

__all__ = [
    "PRESETS",
    "AnsweredBy",
    "AnsweredRule",
    "CdrMapping",
    "Column",
    "DirectionRule",
    "NumberStyle",
    "column_key",
    "detect",
    "load_mapping",
    "mapping_from_dict",
    "preset",
]

#: A column: a header name, or a 1-based position in the line.
Column = str | int


class NumberStyle(StrEnum):
    """How a layout writes phone numbers."""

    E164 = "e164"  # "+447700900123" (other written forms are read too, through the one normalisation path)
    INTERNATIONAL = "international"  # "447700900123", "+447700900123" or "00447700900123"
    NATIONAL = "national"  # "07700900123" with the mapping's (or the reader's) region; "+..." and "00..." too


class AnsweredBy(StrEnum):
    COLUMN = "column"  # a column's value is one of ``values`` (truthy words by default)
    CONNECT_TIME = "connect_time"  # a connect (answer) time is present
    DURATION = "duration"  # the duration is above zero
    DISPOSITION = "disposition"  # a disposition column's value is one of ``values`` (ANSWERED by default)


#: Words read as "answered" / "not answered" by ``answered: {by: column}`` (compared lower-case).
TRUE_WORDS: Final = ("true", "t", "yes", "y", "1", "answered", "connected")
FALSE_WORDS: Final = ("false", "f", "no", "n", "0", "unanswered", "not answered", "")

#: Values every direction column understands (lower-case), beside the mapping's own.
DIRECTION_WORDS: Final[dict[str, Direction]] = {
    **{d.label: d for d in Direction},
    "roaming out": Direction.ROAMING_OUT,
    "roaming in": Direction.ROAMING_IN,
    "roaming-out": Direction.ROAMING_OUT,
    "roaming-in": Direction.ROAMING_IN,
    "out": Direction.OUTGOING,
    "in": Direction.INCOMING,
    "mo": Direction.OUTGOING,
    "mt": Direction.INCOMING,
    "moc": Direction.OUTGOING,
    "mtc": Direction.INCOMING,
    "orig": Direction.OUTGOING,
    "term": Direction.INCOMING,
    "originating": Direction.OUTGOING,
    "terminating": Direction.INCOMING,
    "outbound": Direction.OUTGOING,
    "inbound": Direction.INCOMING,
}

#: ``time_format`` values that are not patterns.
TIME_KEYWORDS: Final = ("iso", "epoch_s", "epoch_ms")
_STRFTIME: Final = re.compile(r"%(?:[-_0#^]?[0-9]*[a-zA-Z+%]|\.[0-9]?f|:z|::z|#z)")
_STRFTIME_OK: Final = set("YyCmbBhdeHIklMSpPfjzaAuwUWGgVsT%D")
#: Java / .NET date pattern letters (``d/M/yyyy HH:mm:ss``) and their strftime equivalents (chrono, which polars uses,
#: reads one or two digits for the numeric ones, so ``d`` and ``dd`` are the same).
_JAVA: Final = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%m"),
    ("dd", "%d"),
    ("d", "%d"),
    ("HH", "%H"),
    ("H", "%H"),
    ("hh", "%I"),
    ("h", "%I"),
    ("mm", "%M"),
    ("m", "%M"),
    ("ss", "%S"),
    ("s", "%S"),
    ("SSSSSSSSS", "%9f"),
    ("SSSSSS", "%6f"),
    ("SSS", "%3f"),
    ("a", "%p"),
    ("XXX", "%#z"),
    ("XX", "%#z"),
    ("X", "%#z"),
    ("ZZZZZ", "%#z"),
    ("Z", "%#z"),
]
_OFFSET: Final = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


@dataclass(frozen=True)
class AnsweredRule:
    by: AnsweredBy
    column: Column | None = None
    values: tuple[str, ...] = ()  # lower-case
    or_duration: bool = False  # connect_time: also answered when the duration is above zero


@dataclass(frozen=True)
class DirectionRule:
    fixed: Direction | None = None
    column: Column | None = None
    #: Lower-case column values, beside DIRECTION_WORDS; ``"*"``: every other value.
    values: Mapping[str, Direction] = field(default_factory=dict)
    default: Direction | None = None  # for an empty value; None: a row without a direction is quarantined


@dataclass(frozen=True)
class TextField:
    """A free-text field (subscriber, route): a column, optionally narrowed by a regex's first group."""

    column: Column
    pattern: str | None = None


@dataclass(frozen=True)
class CdrMapping:
    """One layout. Columns are header names (compared without case, spaces, ``_`` or ``-``) or 1-based positions."""

    called: Column
    start: Column
    caller: Column | None = None
    time_format: str = "iso"  # iso | epoch_s | epoch_ms | a strftime pattern (Java style is converted)
    timezone: str = "UTC"  # for times written without a zone: UTC, an offset ("+02:00") or an IANA zone
    duration: Column | None = None
    duration_unit: str = "s"  # s | ms
    answered: AnsweredRule = AnsweredRule(AnsweredBy.DURATION)
    direction: DirectionRule = DirectionRule(fixed=Direction.OUTGOING)
    numbers: NumberStyle = NumberStyle.E164
    region: str | None = None
    subscriber: TextField | None = None
    route: TextField | None = None
    cost: Column | None = None
    header: bool = True
    columns: tuple[str, ...] = ()  # headerless: the names of the positions (first is position 1)
    optional: tuple[str, ...] = ()  # columns that may be missing from a header (read as empty)
    delimiter: str | None = None  # None: the one of , ; tab | the header uses most (headerless: ",")
    name: str | None = None  # the preset's name, when it is one

    @property
    def strftime(self) -> str | None:
        """The time pattern in strftime form, None for the keywords."""
        return None if self.time_format in TIME_KEYWORDS else to_strftime(self.time_format)

    def referenced(self) -> dict[str, Column]:
        """Every column the mapping reads, by the role it plays (``connect``, ``disposition``, … beside fields)."""
        refs: dict[str, Column | None] = {
            "caller": self.caller,
            "called": self.called,
            "start": self.start,
            "duration": self.duration,
            "answered": self.answered.column,
            "direction": self.direction.column,
            "subscriber": self.subscriber.column if self.subscriber else None,
            "route": self.route.column if self.route else None,
            "cost": self.cost,
        }
        return {role: col for role, col in refs.items() if col is not None}

    def describe(self) -> dict[str, Any]:
        """The mapping as the data :func:`mapping_from_dict` reads (what ``GET /v1/cdrs/presets`` shows)."""
        answered: dict[str, Any] = {"by": self.answered.by.value}
        if self.answered.column is not None:
            answered["column"] = self.answered.column
        if self.answered.values:
            answered["values"] = list(self.answered.values)
        if self.answered.or_duration:
            answered["or_duration"] = True
        direction: Any
        if self.direction.fixed is not None:
            direction = self.direction.fixed.label
        else:
            direction = {"column": self.direction.column}
            if self.direction.values:
                direction["values"] = {k: v.label for k, v in self.direction.values.items()}
            if self.direction.default is not None:
                direction["default"] = self.direction.default.label
        out: dict[str, Any] = {
            "header": self.header,
            "caller": self.caller,
            "called": self.called,
            "start": self.start,
            "time_format": self.time_format,
            "timezone": self.timezone,
            "duration": self.duration,
            "duration_unit": self.duration_unit,
            "answered": answered,
            "direction": direction,
            "numbers": self.numbers.value,
            "region": self.region,
            "subscriber": _text_view(self.subscriber),
            "route": _text_view(self.route),
            "cost": self.cost,
        }
        if self.columns:
            out["columns"] = list(self.columns)
        if self.optional:
            out["optional"] = list(self.optional)
        if self.delimiter is not None:
            out["delimiter"] = self.delimiter
        return out


def _text_view(text: TextField | None) -> Any:
    if text is None:
        return None
    return text.column if text.pattern is None else {"column": text.column, "pattern": text.pattern}


def column_key(name: str) -> str:
    """How header names are compared: ``Setup Time``, ``setup_time`` and ``SETUP-TIME`` are one column."""
    return re.sub(r"[\s_\-]+", "", name.strip().strip('"').strip().lstrip("\ufeff")).lower()


def to_strftime(pattern: str) -> str:
    """A strftime pattern as it is, or a Java/.NET one (``d/M/yyyy HH:mm:ss``) converted; text in single quotes
    is literal (``yyyy-MM-dd'T'HH:mm:ss``)."""
    if "%" in pattern:
        return pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1 : end] or "'")
            i = end + 1
            continue
        for token, spec in _JAVA:
            if pattern.startswith(token, i):
                out.append(spec)
                i += len(token)
                break
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def fixed_offset_minutes(zone: str) -> int | None:
    """Minutes east of UTC for ``UTC``, ``Z``, ``+02:00``, ``-0530``, ``UTC+3``; None for anything else."""
    text = zone.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return 0
    m = _OFFSET.match(text)
    if m is None:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 23 or minutes > 59:
        return None
    return (hours * 60 + minutes) * (1 if m.group(1) == "+" else -1)


# --- validation ---------------------------------------------------------------------------------------------------
def _bad(key: str, reason: str, value: object = None) -> InvalidInput:
    return InvalidInput(
        f"CDR mapping: {key}: {reason}",
        code="invalid_mapping",
        details={"key": key, "reason": reason, **({} if value is None else {"input": repr(value)[:200]})},
    )


def _column(key: str, value: object, *, required: bool = False) -> Column | None:
    if value is None or value == "":
        if required:
            raise _bad(key, "a column is required (a header name, or a position from 1)")
        return None
    if isinstance(value, bool):
        raise _bad(key, "expected a column name or a position from 1", value)
    if isinstance(value, int):
        if value < 1:
            raise _bad(key, "positions count from 1", value)
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise _bad(key, "expected a column name or a position from 1", value)


def _choice(key: str, value: object, allowed: Sequence[str], default: str) -> str:
    if value is None:
        return default
    text = value.strip().lower() if isinstance(value, str) else None
    if text is None or text not in allowed:
        raise _bad(key, f"expected one of {', '.join(allowed)}", value)
    return text


def _words(key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item).strip().lower())
        else:
            raise _bad(key, "expected a list of values", value)
    return tuple(out)


def _direction_label(key: str, value: object) -> Direction:
    if isinstance(value, str) and value.strip().lower() in DIRECTION_WORDS:
        return DIRECTION_WORDS[value.strip().lower()]
    raise _bad(key, "expected outgoing, incoming, roaming_out or roaming_in", value)


def _time_format(value: object) -> str:
    if value is None:
        return "iso"
    if not isinstance(value, str) or not value.strip():
        raise _bad("time_format", "expected iso, epoch_s, epoch_ms or a pattern like %Y-%m-%d %H:%M:%S", value)
    text = value.strip()
    if text.lower() in TIME_KEYWORDS:
        return text.lower()
    pattern = to_strftime(text)
    specs = _STRFTIME.findall(pattern)
    for spec in specs:
        letter = spec[-1]
        if spec.startswith("%.") or spec in (":z", "::z", "#z") or spec.endswith(("z", "f")):
            continue
        if letter not in _STRFTIME_OK:
            raise _bad("time_format", f"{spec!r} is not a time field", value)
    if not any(s[-1] in "YyCsD" for s in specs):
        raise _bad("time_format", "the pattern has no year (%Y, or yyyy)", value)
    return text


def _timezone(value: object) -> str:
    if value is None:
        return "UTC"
    if not isinstance(value, str) or not value.strip():
        raise _bad("timezone", "expected UTC, an offset like +02:00 or a zone like Europe/Berlin", value)
    text = value.strip()
    if fixed_offset_minutes(text) is not None:
        return text
    if text in available_timezones():
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return text
    raise _bad("timezone", "expected UTC, an offset like +02:00 or a zone like Europe/Berlin", value)


def _answered(value: object) -> AnsweredRule:
    if value is None:
        return AnsweredRule(AnsweredBy.DURATION)
    if isinstance(value, str | int) and not isinstance(value, bool):
        return AnsweredRule(AnsweredBy.COLUMN, _column("answered", value), TRUE_WORDS)
    if not isinstance(value, dict):
        raise _bad("answered", "expected a column, or {by: column|connect_time|duration|disposition, ...}", value)
    _only("answered", value, ("by", "column", "values", "or_duration"))
    by = AnsweredBy(_choice("answered.by", value.get("by"), [b.value for b in AnsweredBy], "column"))
    column = _column("answered.column", value.get("column"), required=by is not AnsweredBy.DURATION)
    if by is AnsweredBy.DURATION and column is not None:
        raise _bad("answered.column", "by: duration reads the duration field, not a column", column)
    values = _words("answered.values", value.get("values"))
    if by is AnsweredBy.COLUMN:
        values = values or TRUE_WORDS
    elif by is AnsweredBy.DISPOSITION:
        values = values or ("answered",)
    elif values:
        raise _bad("answered.values", f"values are read only by column or disposition, not by {by.value}")
    or_duration = value.get("or_duration", False)
    if not isinstance(or_duration, bool):
        raise _bad("answered.or_duration", "expected true or false", or_duration)
    return AnsweredRule(by, column, values, or_duration)


def _direction(value: object) -> DirectionRule:
    if value is None:
        return DirectionRule(fixed=Direction.OUTGOING)
    if isinstance(value, str):
        return DirectionRule(fixed=_direction_label("direction", value))
    if not isinstance(value, dict):
        raise _bad("direction", "expected a fixed direction or {column, values, default}", value)
    _only("direction", value, ("column", "values", "default"))
    column = _column("direction.column", value.get("column"), required=True)
    raw_values = value.get("values") or {}
    if not isinstance(raw_values, dict):
        raise _bad("direction.values", "expected a map of column values to directions", raw_values)
    values = {str(k).strip().lower(): _direction_label(f"direction.values.{k}", v) for k, v in raw_values.items()}
    default = value.get("default")
    return DirectionRule(
        column=column,
        values=values,
        default=None if default is None else _direction_label("direction.default", default),
    )


def _text(key: str, value: object) -> TextField | None:
    if isinstance(value, dict):
        _only(key, value, ("column", "pattern"))
        column = _column(f"{key}.column", value.get("column"), required=True)
        assert column is not None
        pattern = value.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str):
                raise _bad(f"{key}.pattern", "expected a regular expression", pattern)
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise _bad(f"{key}.pattern", f"not a regular expression: {exc}", pattern) from None
            if compiled.groups < 1:
                raise _bad(f"{key}.pattern", "needs a group: the first group is the value kept", pattern)
        return TextField(column, pattern)
    column = _column(key, value)
    return None if column is None else TextField(column)


def _only(key: str, value: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise _bad(key, f"unknown key {unknown[0]!r}; expected {', '.join(allowed)}")


_TOP_KEYS: Final = (
    "preset",
    "header",
    "columns",
    "delimiter",
    "caller",
    "called",
    "start",
    "time_format",
    "timezone",
    "duration",
    "duration_unit",
    "answered",
    "direction",
    "numbers",
    "region",
    "subscriber",
    "route",
    "cost",
    "optional",
)


def mapping_from_dict(data: Mapping[str, Any], *, name: str | None = None) -> CdrMapping:
    """A mapping from its data form (see docs/cdrs.md); every key checked, errors name the key and the reason."""
    if not isinstance(data, Mapping):
        raise _bad("(top)", "a mapping is an object of keys (caller, called, start, …)", data)
    _only("(top)", data, _TOP_KEYS)
    base = data.get("preset")
    if base is not None:
        if not isinstance(base, str) or base not in _PRESET_DATA:
            raise _bad("preset", f"expected one of {', '.join(_PRESET_DATA)}", base)
        merged = dict(_PRESET_DATA[base])
        merged.update({k: v for k, v in data.items() if k != "preset"})
        data = merged
    header = data.get("header", True)
    if not isinstance(header, bool):
        raise _bad("header", "expected true (columns by name) or false (headerless: by position)", header)
    columns_raw = data.get("columns") or []
    if not isinstance(columns_raw, list) or not all(isinstance(c, str) and c.strip() for c in columns_raw):
        raise _bad("columns", "expected a list of column names", columns_raw)
    columns = tuple(c.strip() for c in columns_raw)
    if header and columns:
        raise _bad("columns", "names positions of headerless files only (header: false)")
    optional_raw = data.get("optional") or []
    if not isinstance(optional_raw, list) or not all(isinstance(c, str) for c in optional_raw):
        raise _bad("optional", "expected a list of column names", optional_raw)
    delimiter = data.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n'):
        raise _bad("delimiter", "expected one character (not a quote or a line end)", delimiter)
    numbers = NumberStyle(_choice("numbers", data.get("numbers"), [s.value for s in NumberStyle], "e164"))
    region_raw = data.get("region")
    if region_raw is not None and not isinstance(region_raw, str):
        raise _bad("region", "expected a region code like GB", region_raw)
    try:
        region = check_region(region_raw)
    except InvalidInput:
        raise _bad("region", "not a region phonenumbers knows (ISO 3166 alpha-2, e.g. GB)", region_raw) from None
    mapping = CdrMapping(
        called=_column("called", data.get("called"), required=True),  # type: ignore[arg-type]
        start=_column("start", data.get("start"), required=True),  # type: ignore[arg-type]
        caller=_column("caller", data.get("caller")),
        time_format=_time_format(data.get("time_format")),
        timezone=_timezone(data.get("timezone")),
        duration=_column("duration", data.get("duration")),
        duration_unit=_choice("duration_unit", data.get("duration_unit"), ["s", "ms"], "s"),
        answered=_answered(data.get("answered")),
        direction=_direction(data.get("direction")),
        numbers=numbers,
        region=region,
        subscriber=_text("subscriber", data.get("subscriber")),
        route=_text("route", data.get("route")),
        cost=_column("cost", data.get("cost")),
        header=header,
        columns=columns,
        optional=tuple(c.strip() for c in optional_raw),
        delimiter=delimiter,
        name=name,
    )
    _check_columns(mapping)
    return mapping


def _check_columns(mapping: CdrMapping) -> None:
    by_duration = mapping.answered.by is AnsweredBy.DURATION or mapping.answered.or_duration
    if by_duration and mapping.duration is None:
        raise _bad("answered", "decided by the duration, but there is no duration column: give answered or duration")
    for role, col in mapping.referenced().items():
        if isinstance(col, str) and not mapping.header:
            if not mapping.columns:
                raise _bad(role, "a headerless layout names its columns by position (or lists columns)", col)
            if column_key(col) not in {column_key(c) for c in mapping.columns}:
                raise _bad(role, f"{col!r} is not one of the layout's columns", col)


def load_mapping(text: str) -> CdrMapping:
    """A mapping from YAML or JSON text (JSON is YAML), as a ``--mapping`` file holds it."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInput(
            f"CDR mapping: (top): not YAML or JSON: {str(exc).splitlines()[0] if str(exc) else exc!r}",
            code="invalid_mapping",
            details={"key": "(top)", "reason": "not YAML or JSON"},
        ) from None
    if not isinstance(data, dict):
        raise _bad("(top)", "a mapping is an object of keys (caller, called, start, …)", data)
    return mapping_from_dict(data)


# --- presets ------------------------------------------------------------------------------------------------------
_ASTERISK_COLUMNS: Final = [
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
]
_PRESET_DATA: Final[dict[str, dict[str, Any]]] = {
    # What the simulator writes and what ringfence reads by default (CSV header, or the same keys in JSONL).
    "ringfence": {
        "caller": "caller",
        "called": "called",
        "start": "start",
        "time_format": "iso",
        "duration": "duration_s",
        "duration_unit": "s",
        "answered": {"by": "column", "column": "answered"},
        "direction": {"column": "direction", "default": "outgoing"},
        "numbers": "e164",
        "subscriber": "subscriber",
        "route": "route",
        "cost": "cost",
        "optional": ["subscriber", "route", "cost"],
    },
    # Wholesale carriers' CDR exports (Buyer, Seller, Route, CLD, CLI, …, Setup/Connect/Disconnect Time).
    "wholesale": {
        "caller": "CLI",
        "called": "CLD",
        "start": "Setup Time",
        "time_format": "%Y-%m-%d %H:%M:%S",
        "duration": "Duration",
        "duration_unit": "s",
        "answered": {"by": "connect_time", "column": "Connect Time", "or_duration": True},
        "direction": "outgoing",
        "numbers": "international",
        "subscriber": "Buyer",
        "route": "Route",
        "cost": "Cost",
        "optional": ["Buyer", "Route", "Cost", "Connect Time"],
    },
    # Asterisk cdr-csv (Master.csv): headerless; uniqueid and userfield are written only when configured.
    "asterisk": {
        "header": False,
        "columns": _ASTERISK_COLUMNS,
        "caller": "src",
        "called": "dst",
        "start": "start",
        "time_format": "%Y-%m-%d %H:%M:%S",
        "duration": "billsec",
        "duration_unit": "s",
        "answered": {"by": "disposition", "column": "disposition", "values": ["ANSWERED"]},
        "direction": "outgoing",
        "numbers": "national",
        "subscriber": "accountcode",
        "route": {"column": "dstchannel", "pattern": r"^(?:[^/]+/)?(.+?)(?:-[0-9a-fA-F]+(?:;\d+)?)?$"},
    },
}

PRESETS: Final[Mapping[str, CdrMapping]] = {
    name: mapping_from_dict(data, name=name) for name, data in _PRESET_DATA.items()
}


def preset(name: str) -> CdrMapping:
    """The preset called ``name``; :class:`InvalidInput` listing the presets for any other name."""
    key = name.strip().lower() if isinstance(name, str) else name
    found = PRESETS.get(key) if isinstance(key, str) else None
    if found is None:
        raise InvalidInput(
            f"unknown CDR preset {name!r}; expected one of {', '.join(PRESETS)}",
            code="unknown_preset",
            details={"input": repr(name) if not isinstance(name, str) else name, "allowed": list(PRESETS)},
        )
    return found


def required_columns(mapping: CdrMapping) -> list[str]:
    """The header names a file of this layout must have (positions need no header)."""
    optional = {column_key(c) for c in mapping.optional}
    seen: list[str] = []
    for col in mapping.referenced().values():
        if isinstance(col, str) and column_key(col) not in optional and col not in seen:
            seen.append(col)
    return seen


def detect(fields: Sequence[str]) -> CdrMapping | None:
    """The header preset whose required columns ``fields`` (a header line's fields, or JSON keys) all hold."""
    keys = {column_key(f) for f in fields}
    for mapping in PRESETS.values():
        if mapping.header and all(column_key(c) in keys for c in required_columns(mapping)):
            return mapping
    return None


def detect_error(fields: Sequence[str]) -> InvalidInput:
    """Why ``fields`` fit no preset: what each expected."""
    expected = {name: required_columns(m) for name, m in PRESETS.items() if m.header}
    shown = ", ".join(f[:40] for f in list(fields)[:20])
    return InvalidInput(
        "the CDR layout is not recognised from its header ("
        + shown
        + "); expected "
        + "; or ".join(f"{name}: {', '.join(cols)}" for name, cols in expected.items())
        + " (or the headerless asterisk layout); name a preset or give a mapping",
        code="unknown_layout",
        details={"header": list(fields)[:50], "expected": expected},
    )
