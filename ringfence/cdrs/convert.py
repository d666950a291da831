"""Raw text columns of call records → the canonical columns of :data:`~ringfence.cdrs.models.CDR_SCHEMA`.

One conversion for every source (CSV, JSONL, JSON batches): the reader hands over a frame of text columns named by
the role they play (``caller``, ``called``, ``start``, ``duration``, ``answered``, ``direction``, ``subscriber``,
``route``, ``cost``; a role the layout does not have is read as empty), plus ``line`` and ``ref`` (where the row
came from). Everything is computed column-wise; only the rows that fail are looked at one by one, to say why.

Decisions a carrier's engineer would expect (docs/cdrs.md lists them with the reason codes):

- **caller**: empty, ``anonymous``, ``withheld``, ``private``, ``unknown``, … → withheld (null). Digits that no
  numbering plan allows (an extension such as ``1001``) → null too, counted in a note. Anything else that is not a
  number (letters) → the row is quarantined (``invalid_number``).
- **called**: empty → ``missing_field``; digits that no plan allows → kept as those digits with
  ``called_plan = False`` (dialling them is itself a fraud signal); anything else → ``invalid_number``.
- **duration**: empty → 0; unreadable → ``bad_duration``; below zero → ``negative_duration``. An unanswered call
  has duration 0 whatever the column says (the schema's definition of duration: connected time).
- **cost**: empty or unreadable → null (an unreadable cost is counted in a note: it costs the row nothing the
  rules need).
- **subscriber**: empty → the local party's number (``+E.164``; the caller unless the call is incoming), or empty
  text when that is withheld too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from ringfence.cdrs.mapping import (
    DIRECTION_WORDS,
    FALSE_WORDS,
    AnsweredBy,
    CdrMapping,
    NumberStyle,
    TextField,
)
from ringfence.cdrs.models import Direction
from ringfence.cdrs.times import MAX_DURATION_MS, duration_ms, duration_seconds, start_ms
from ringfence.numbers import normalise_many
from ringfence.numbers.normalise import EXPLANATIONS

__all__ = ["ROLES", "WITHHELD", "Converted", "convert"]

#: The roles a raw frame's text columns play.
ROLES: Final = ("caller", "called", "start", "duration", "answered", "direction", "subscriber", "route", "cost")
#: Caller values that mean "no number given" (compared lower-case).
WITHHELD: Final = frozenset(
    {"", "anonymous", "anon", "withheld", "private", "unknown", "restricted", "unavailable", "hidden", "none",
     "null", "n/a", "-", "clir", "blocked", "anonymous caller", "private number", "unknown caller"}
)  # fmt: skip
_OK, _KEPT, _BAD, _EMPTY = 0, 1, 2, 3
_DIGITS: Final = re.compile(r"^\+?[0-9][0-9\s\-.()/]*$")
#: More digits than this do not fit an int64; no numbering plan comes near (E.164 allows 15).
_MAX_DIGITS: Final = 18
_JOIN_UNIQUE_SHARE: Final = 0.5  # normalise distinct values only when at most this share of rows is distinct


@dataclass
class Converted:
    frame: pl.DataFrame  # CDR_SCHEMA columns but seq, plus ``ref``, in input order
    failed: list[tuple[int, int, str, str]]  # (ref, line, reason, message)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Numbers:
    value: npt.NDArray[np.int64]
    status: npt.NDArray[np.int8]
    why: dict[str, str]  # text of a _BAD value -> explanation


def _normalise(texts: pl.Series, region: str | None) -> _Numbers:
    """Every value through the one normalisation path (distinct values once when values repeat a lot)."""
    size = texts.len()
    uniq = texts.unique()
    distinct = uniq.len() <= size * _JOIN_UNIQUE_SHARE
    items = uniq.to_list() if distinct else texts.to_list()
    values, errors = normalise_many(items, region)
    status = np.zeros(len(items), np.int8)
    why: dict[str, str] = {}
    for k, exc in errors.items():
        text = items[k]
        if text == "":
            status[k] = _EMPTY
            continue
        digits = re.sub(r"\D", "", text) if _DIGITS.match(text) else ""
        if digits and len(digits.lstrip("0")) <= _MAX_DIGITS and digits.strip("0"):
            status[k] = _KEPT
            values[k] = int(digits)
        else:
            status[k] = _BAD
            why[text] = EXPLANATIONS.get(exc.reason, exc.reason) if digits == "" else f"it has {len(digits)} digits"
    if not distinct:
        return _Numbers(values, status, why)
    table = pl.DataFrame({"k": uniq, "v": values, "s": status})
    joined = pl.DataFrame({"k": texts}).join(table, on="k", how="left", maintain_order="left")
    return _Numbers(joined["v"].to_numpy(), joined["s"].to_numpy(), why)


def _number_text(col: pl.Expr, style: NumberStyle) -> pl.Expr:
    """International digits become ``+digits`` (the normalisation fast path's form); other styles as written."""
    if style is not NumberStyle.INTERNATIONAL:
        return col
    return (
        pl.when(col == "")
        .then(col)
        .when(col.str.starts_with("+"))
        .then(col)
        .when(col.str.starts_with("00"))
        .then("+" + col.str.slice(2))
        .otherwise("+" + col)
    )


def _text_field(col: pl.Expr, text: TextField | None) -> pl.Expr:
    if text is None:
        return pl.lit(None, pl.String)
    value = col if text.pattern is None else pl.coalesce(col.str.extract(text.pattern, 1), col)
    return pl.when(value == "").then(None).otherwise(value)


def _answered(frame: pl.LazyFrame, mapping: CdrMapping) -> pl.LazyFrame:
    rule = mapping.answered
    col = pl.col("answered")
    lower = col.str.to_lowercase()
    positive = pl.col("_dur_ms") > 0
    bad = pl.lit(False)
    if rule.by is AnsweredBy.COLUMN:
        answered = lower.is_in(list(rule.values))
        bad = ~answered & ~lower.is_in(list(FALSE_WORDS))
    elif rule.by is AnsweredBy.DISPOSITION:
        answered = lower.is_in(list(rule.values))
    elif rule.by is AnsweredBy.CONNECT_TIME:
        answered = col.str.contains(r"[1-9]")  # present: not empty, not all zeros (0000-00-00 00:00:00)
        if rule.or_duration:
            answered = answered | positive.fill_null(False)
    else:
        answered = positive.fill_null(False)
    return frame.with_columns(_answered=answered.fill_null(False), _ans_bad=bad)


def _direction(mapping: CdrMapping) -> pl.Expr:
    rule = mapping.direction
    if rule.fixed is not None:
        return pl.lit(int(rule.fixed), pl.Int8)
    words = {**{k: int(v) for k, v in DIRECTION_WORDS.items()}, **{k: int(v) for k, v in rule.values.items()}}
    other = words.pop("*", None)
    found = pl.col("direction").str.to_lowercase().replace_strict(words, default=other, return_dtype=pl.Int8)
    if rule.default is not None:
        found = pl.when(pl.col("direction") == "").then(pl.lit(int(rule.default), pl.Int8)).otherwise(found)
    return found


def convert(raw: pl.DataFrame, mapping: CdrMapping, region: str | None) -> Converted:
    """The canonical columns of ``raw``'s rows, and why each row that could not be read failed."""
    present = [r for r in ROLES if r in raw.columns]
    texts = [pl.col(r).fill_null("").str.strip_chars() for r in present]
    texts += [pl.lit("").alias(r) for r in ROLES if r not in present]
    frame = raw.lazy().with_columns(texts)
    frame = frame.filter(pl.any_horizontal([pl.col(r) != "" for r in present] or [pl.lit(False)]))
    caller_text = (
        pl.when(pl.col("caller").str.to_lowercase().is_in(list(WITHHELD))).then(pl.lit("")).otherwise(pl.col("caller"))
    )
    seconds = duration_seconds(pl.col("duration"))
    frame = frame.with_columns(
        _secs=seconds,
        _dur_ms=duration_ms(seconds, mapping.duration_unit),
        _direction=_direction(mapping),
        _caller_n=_number_text(caller_text, mapping.numbers),
        _called_n=_number_text(pl.col("called"), mapping.numbers),
        _cost=pl.col("cost").cast(pl.Float64, strict=False),
    )
    frame = _answered(frame, mapping)
    table = frame.collect()
    table = table.with_columns(start_ms(table["start"], mapping).alias("_start"))
    number_region = mapping.region or region
    callers = _normalise(table["_caller_n"], number_region)
    called = _normalise(table["_called_n"], number_region)
    table = table.with_columns(
        pl.Series("_caller_v", callers.value, pl.Int64),
        pl.Series("_caller_s", callers.status, pl.Int8),
        pl.Series("_called_v", called.value, pl.Int64),
        pl.Series("_called_s", called.status, pl.Int8),
    )
    reason = (
        pl.when(pl.col("called") == "")
        .then(pl.lit("missing_field"))
        .when(pl.col("start") == "")
        .then(pl.lit("missing_field"))
        .when(pl.col("_start").is_null())
        .then(pl.lit("bad_time"))
        .when(pl.col("_called_s") == _BAD)
        .then(pl.lit("invalid_number"))
        .when(pl.col("_caller_s") == _BAD)
        .then(pl.lit("invalid_number"))
        .when(pl.col("_secs").is_null() | pl.col("_dur_ms").is_null())
        .then(pl.lit("bad_duration"))
        .when(pl.col("_secs") < 0)
        .then(pl.lit("negative_duration"))
        .when(pl.col("_ans_bad"))
        .then(pl.lit("bad_answered"))
        .when(pl.col("_direction").is_null())
        .then(pl.lit("bad_direction"))
        .otherwise(None)
    )
    table = table.with_columns(_reason=reason)
    bad = table.filter(pl.col("_reason").is_not_null())
    good = table.filter(pl.col("_reason").is_null())
    failed = [_failure(row, mapping, callers.why, called.why) for row in bad.iter_rows(named=True)]
    notes: list[str] = []
    caller_kept = good.filter(pl.col("_caller_s") == _KEPT)
    if caller_kept.height:
        first = caller_kept.row(0, named=True)
        notes.append(
            f"{caller_kept.height} caller(s) are digits no numbering plan allows (e.g. {first['caller']!r} at line "
            f"{first['line']}): read as withheld"
        )
    bad_cost = good.filter((pl.col("cost") != "") & (pl.col("_cost").is_null() | ~pl.col("_cost").is_finite()))
    if bad_cost.height:
        first = bad_cost.row(0, named=True)
        notes.append(
            f"{bad_cost.height} cost(s) are not numbers (e.g. {first['cost']!r} at line {first['line']}): read as "
            "no cost"
        )
    caller = pl.when(pl.col("_caller_s") == _OK).then(pl.col("_caller_v")).otherwise(None)
    called_v = pl.col("_called_v")
    answered = pl.col("_answered")
    incoming = pl.col("_direction") == int(Direction.INCOMING)
    local = pl.when(incoming).then(called_v).otherwise(caller)
    own = _text_field(pl.col("subscriber"), mapping.subscriber)
    subscriber = pl.coalesce(own, "+" + local.cast(pl.String), pl.lit(""))
    out = good.select(
        pl.col("line").cast(pl.Int64),
        caller.alias("caller"),
        called_v.alias("called"),
        (pl.col("_called_s") == _OK).alias("called_plan"),
        pl.col("_start").alias("start_ms"),
        pl.when(answered).then(pl.col("_dur_ms")).otherwise(0).cast(pl.Int64).alias("duration_ms"),
        answered.alias("answered"),
        pl.col("_direction").cast(pl.Int8).alias("direction"),
        subscriber.alias("subscriber"),
        _text_field(pl.col("route"), mapping.route).alias("route"),
        pl.when(pl.col("_cost").is_finite()).then(pl.col("_cost")).otherwise(None).alias("cost"),
        pl.col("ref").cast(pl.Int64),
    )
    return Converted(out, failed, notes)


def _failure(
    row: dict[str, object], mapping: CdrMapping, caller_why: dict[str, str], called_why: dict[str, str]
) -> tuple[int, int, str, str]:
    reason = str(row["_reason"])
    message: str
    if reason == "missing_field":
        which = "called number" if row["called"] == "" else "start time"
        message = f"the {which} is empty"
    elif reason == "bad_time":
        fmt = mapping.time_format
        message = f"start {row['start']!r} is not a time in the layout's format ({fmt}) from 1970 on"
    elif reason == "invalid_number":
        if row["_called_s"] == _BAD:
            message = f"called {row['called']!r} is not a phone number: {called_why.get(str(row['_called_n']), '')}"
        else:
            message = f"caller {row['caller']!r} is not a phone number: {caller_why.get(str(row['_caller_n']), '')}"
    elif reason == "bad_duration":
        unit = "seconds" if mapping.duration_unit == "s" else "milliseconds"
        if row["_secs"] is not None:
            message = f"duration {row['duration']!r} is longer than {MAX_DURATION_MS // 86_400_000} days"
        else:
            message = f"duration {row['duration']!r} is not a number of {unit}"
    elif reason == "negative_duration":
        message = f"duration {row['duration']!r} is negative"
    elif reason == "bad_answered":
        message = f"answered {row['answered']!r} is not a yes/no value (true, false, yes, no, 1, 0)"
    else:
        message = (
            f"direction {row['direction']!r} is not one of outgoing, incoming, roaming_out, roaming_in"
            + (" or the layout's own values" if mapping.direction.values else "")
            if row["direction"] != ""
            else "the direction is empty"
        )
    return int(row["ref"]), int(row["line"]), reason, message  # type: ignore[call-overload]
