"""What a call detail record is once read: one canonical shape, whatever layout the switch or wholesaler wrote.

Readers (:mod:`ringfence.cdrs`) turn files, streams and HTTP batches into :class:`polars.DataFrame` frames of
:data:`CDR_SCHEMA` (the batch form every rule evaluates) and report the rows they could not use as
:class:`Quarantined`. :class:`Cdr` is one record as an object: what alerts carry as evidence and what the streaming
engine keeps in its window state.

Numbers are E.164 digits as integers (no ``+``), as everywhere in ringfence. ``caller`` is None when the caller is
withheld or absent. ``called`` is always set: a destination that the one normalisation path refuses as no number
(unknown country code, impossible length) but that is made of digits is kept as those digits with
``called_plan = False`` (dialling such numbers is itself a fraud signal: rule ``invalid_destination``); a
destination that is not digits at all quarantines the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

import polars as pl

__all__ = ["CDR_COLUMNS", "CDR_SCHEMA", "Cdr", "Direction", "Quarantined", "local_party", "remote_party"]


class Direction(IntEnum):
    """Which way a call went, seen from the operator that wrote the record (its subscriber is the local party)."""

    OUTGOING = 0  # our subscriber (A) called out
    INCOMING = 1  # someone called our subscriber (B)
    ROAMING_OUT = 2  # our subscriber, abroad, called out (A is ours)
    ROAMING_IN = 3  # a visiting subscriber on our network called out (A is the visitor)

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def originating(self) -> bool:
        """True when the local party is the caller (A): everything but incoming."""
        return self is not Direction.INCOMING


#: The batch form: one row per CDR, in input order (``seq`` increasing).
CDR_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "seq": pl.Int64,  # position in the input stream, from 0; unique within one run (evidence refers to it)
    "line": pl.Int64,  # line number in the source file (1-based, header included), or the item's index in a batch
    "caller": pl.Int64,  # A number, E.164 digits; null when withheld or absent
    "called": pl.Int64,  # B number, E.164 digits (or the dialled digits when called_plan is false)
    "called_plan": pl.Boolean,  # the numbering plan allows the called number (normalisation accepted it)
    "start_ms": pl.Int64,  # call start (setup) time, epoch milliseconds UTC
    "duration_ms": pl.Int64,  # connected duration in milliseconds, >= 0 (0 for an unanswered call)
    "answered": pl.Boolean,
    "direction": pl.Int8,  # Direction
    "subscriber": pl.String,  # IMSI / account of the local party; the local party's number (E.164 text) if absent
    "route": pl.String,  # trunk, route or carrier; null if absent
    "cost": pl.Float64,  # charged cost in the record's currency; null if absent
}
CDR_COLUMNS: Final = tuple(CDR_SCHEMA)


@dataclass(frozen=True, slots=True)
class Cdr:
    """One call detail record in canonical form (see :data:`CDR_SCHEMA` for the meaning of each field)."""

    seq: int
    line: int
    caller: int | None
    called: int
    called_plan: bool
    start_ms: int
    duration_ms: int
    answered: bool
    direction: Direction
    subscriber: str
    route: str | None
    cost: float | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Cdr:
        """A record from a row of a :data:`CDR_SCHEMA` frame (``frame.row(i, named=True)``)."""
        return cls(
            seq=row["seq"],
            line=row["line"],
            caller=row["caller"],
            called=row["called"],
            called_plan=row["called_plan"],
            start_ms=row["start_ms"],
            duration_ms=row["duration_ms"],
            answered=row["answered"],
            direction=Direction(row["direction"]),
            subscriber=row["subscriber"],
            route=row["route"],
            cost=row["cost"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data: numbers as ``+E.164`` text, the direction by name."""
        return {
            "seq": self.seq,
            "line": self.line,
            "caller": None if self.caller is None else f"+{self.caller}",
            "called": f"+{self.called}",
            "called_plan": self.called_plan,
            "start_ms": self.start_ms,
            "duration_s": self.duration_ms / 1000,
            "answered": self.answered,
            "direction": self.direction.label,
            "subscriber": self.subscriber,
            "route": self.route,
            "cost": self.cost,
        }


def local_party(direction: Direction, caller: int | None, called: int) -> int | None:
    """Our subscriber's number: the caller unless the call is incoming."""
    return caller if direction.originating else called


def remote_party(direction: Direction, caller: int | None, called: int) -> int | None:
    """The other end: the called number unless the call is incoming (then the caller, None if withheld)."""
    return called if direction.originating else caller


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A row that could not be used: where it was (line number, 1-based, header included; the item index for an
    HTTP batch), the reason code (stable, e.g. ``bad_time``, ``negative_duration``, ``invalid_number``,
    ``line_too_long``, ``bad_encoding``, ``missing_field``), a human message naming the value, and the raw text
    (cut to 500 characters)."""

    line: int
    reason: str
    message: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "message": self.message, "raw": self.raw}
