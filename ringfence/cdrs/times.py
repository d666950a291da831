"""Times and durations of call records, read column-wise with polars (never row by row in Python).

Every function returns a polars expression over a text column (stripped, empty for absent) that yields null where
the text cannot be read; the caller turns nulls into quarantined rows with the value in the message. Start times
become epoch milliseconds UTC:

- ``iso``: ISO 8601 date and time (``T`` or a space between), seconds optional, any fraction (``.`` or ``,``; read
  to the millisecond), a zone ``Z``, ``±HH:MM``, ``±HHMM`` or ``±HH``, or none;
- ``epoch_s`` / ``epoch_ms``: a number, fractions allowed;
- a strftime pattern (``%Y-%m-%d %H:%M:%S``; a Java-style ``d/M/yyyy HH:mm:ss`` is converted by the mapping).

A time written without a zone is in the mapping's ``timezone`` (UTC unless it names an offset or an IANA zone; a
local time that does not exist in that zone, in the hour skipped when clocks go forward, is unreadable; one that
exists twice is the earlier). Times outside the years 1970 to 9999 are unreadable.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from ringfence.cdrs.mapping import CdrMapping, fixed_offset_minutes

__all__ = ["MAX_DURATION_MS", "MAX_MS", "duration_ms", "duration_seconds", "start_ms"]

#: 9999-12-31T23:59:59.999Z + 1 ms: later times are unreadable (and never overflow).
MAX_MS: Final = 253_402_300_800_000
#: Longest call duration read (31 days); anything longer is a broken value, not a call.
MAX_DURATION_MS: Final = 31 * 86_400_000

_ISO: Final = r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
_ISO_BASE: Final = "%Y-%m-%dT%H:%M:%S"
_CLOCK: Final = r"^(?:(\d{1,6}):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$"
_AWARE: Final = ("%z", "%:z", "%::z", "%#z")


def _in_range(ms: pl.Expr) -> pl.Expr:
    return pl.when((ms >= 0) & (ms < MAX_MS)).then(ms).otherwise(None)


def _local_to_utc(naive: pl.Expr, timezone: str) -> pl.Expr:
    """Epoch ms of a naive datetime expression read in ``timezone``."""
    offset = fixed_offset_minutes(timezone)
    if offset is not None:
        return naive.dt.epoch("ms") - offset * 60_000
    return naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.epoch("ms")


def _iso_general(text: pl.Expr, timezone: str) -> pl.Expr:
    parts = text.str.extract_groups(_ISO)
    date, clock, fraction, zone = (parts.struct.field(str(i)) for i in range(1, 5))
    clock = pl.when(clock.str.len_bytes() == 5).then(clock + ":00").otherwise(clock)
    naive = (date + " " + clock).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="ms")
    millis = fraction.str.slice(0, 3).str.pad_end(3, "0").cast(pl.Int64, strict=False).fill_null(0)
    naive = naive + pl.duration(milliseconds=millis)
    sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
    digits = zone.str.replace_all(":", "")
    hours = digits.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = digits.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
    offset = (
        pl.when(zone.is_in(["Z", "z", "UTC"]))
        .then(pl.lit(0, pl.Int64))
        .when((hours <= 23) & (minutes <= 59))
        .then(sign * (hours * 60 + minutes))
        .otherwise(None)
    )
    zoned = naive.dt.epoch("ms") - offset * 60_000
    return pl.when(zone.is_null()).then(_local_to_utc(naive, timezone)).otherwise(zoned)


def _iso(text: pl.Series, timezone: str) -> pl.Series:
    """Most times are written the one way (``2026-11-22T10:00:00.250Z``): those are read from fixed positions,
    which polars does fast; only the others go through the general regular expression."""
    col = pl.col("t")
    tail = col.str.slice(19)
    millis = (
        pl.when(tail == "Z")
        .then(pl.lit(0, pl.Int64))
        .when((tail.str.len_bytes() == 5) & tail.str.starts_with(".") & tail.str.ends_with("Z"))
        .then(tail.str.slice(1, 3).cast(pl.Int64, strict=False))
        .otherwise(None)
    )
    base = col.str.slice(0, 19).str.strptime(pl.Datetime("ms"), _ISO_BASE, strict=False, cache=False)
    frame = pl.DataFrame({"t": text})
    fast = frame.select((base.dt.epoch("ms") + millis).alias("ms")).to_series()
    rest = (fast.is_null() & (text != "")).arg_true()
    if rest.len():
        slow = frame[rest].select(_iso_general(col, timezone).alias("ms")).to_series()
        fast = fast.scatter(rest, slow)
    return fast


def _epoch(text: pl.Expr, scale: int) -> pl.Expr:
    value = text.cast(pl.Float64, strict=False)
    ok = value.is_finite() & (value.abs() * scale < MAX_MS * 2)
    return pl.when(ok).then((value * scale).round(0)).otherwise(None).cast(pl.Int64, strict=False)


def start_ms(text: pl.Series, mapping: CdrMapping) -> pl.Series:
    """Epoch ms UTC of the (stripped) text column ``text``, null where unreadable (empty included)."""
    kind = mapping.time_format
    col = pl.col("t")
    if kind == "iso":
        ms = _iso(text, mapping.timezone)
        return pl.DataFrame({"ms": ms}).select(_in_range(pl.col("ms"))).to_series()
    if kind == "epoch_s":
        expr = _epoch(col, 1000)
    elif kind == "epoch_ms":
        expr = _epoch(col, 1)
    else:
        pattern = mapping.strftime
        assert pattern is not None
        parsed = col.str.to_datetime(pattern, strict=False, time_unit="ms")
        expr = (
            parsed.dt.epoch("ms")
            if any(spec in pattern for spec in _AWARE)
            else _local_to_utc(parsed, mapping.timezone)
        )
    return pl.DataFrame({"t": text}).select(_in_range(expr)).to_series()


def duration_seconds(text: pl.Expr) -> pl.Expr:
    """A duration in the column's unit: a number (``12``, ``12.5``), or a clock ``[H:]MM:SS[.fff]``; null where
    unreadable (NaN and infinities included). Empty is 0."""
    number = text.cast(pl.Float64, strict=False)
    parts = text.str.extract_groups(_CLOCK)
    h, m, s = (parts.struct.field(str(i)) for i in range(1, 4))
    clock = (
        h.cast(pl.Float64, strict=False).fill_null(0.0) * 3600
        + m.cast(pl.Float64, strict=False) * 60
        + s.cast(pl.Float64, strict=False)
    )
    value = pl.coalesce(number, clock)
    return pl.when(text == "").then(pl.lit(0.0)).when(value.is_finite()).then(value).otherwise(pl.lit(None, pl.Float64))


def duration_ms(seconds: pl.Expr, unit: str) -> pl.Expr:
    """Milliseconds (rounded) of a :func:`duration_seconds` value; null when too long (or unreadable)."""
    ms = (seconds * (1000 if unit == "s" else 1)).round(0)
    return pl.when(ms.abs() <= MAX_DURATION_MS).then(ms).otherwise(None).cast(pl.Int64)
