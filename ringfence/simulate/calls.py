"""Simulated calls as columns: what every scenario returns, and how the parts become one frame and its labels.

Scenarios build their calls as numpy columns (:class:`Calls`), never a Python object per call: a million calls
are a few dozen array operations. :func:`assemble` puts the parts of a run in time order (stable, so calls of equal
start keep the order their scenarios gave them), numbers them (``seq`` from 0, ``line`` from 2: line 1 of the file
is the header) and splits them into the :data:`~ringfence.cdrs.models.CDR_SCHEMA` frame and the labels frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from ringfence.cdrs.models import CDR_SCHEMA

__all__ = ["COST_SCALE", "LABEL_SCHEMA", "NORMAL", "Calls", "Instance", "assemble", "cost_of", "durations_ms"]

I64 = npt.NDArray[np.int64]

#: Costs are computed in ten-thousandths of the currency unit, so the files carry exact decimals.
COST_SCALE: Final = 10_000
#: The scenario of ordinary traffic.
NORMAL: Final = "normal"
_MAX_DURATION_S: Final = 3 * 3600
#: What the labels frame holds: the CDR's stream position and file line, its scenario and attack instance
#: (empty for ordinary traffic).
LABEL_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "seq": pl.Int64,
    "line": pl.Int64,
    "scenario": pl.String,
    "instance": pl.String,
}


@dataclass(frozen=True, slots=True)
class Calls:
    """One scenario instance's calls as columns of equal length.

    ``caller`` is 0 where withheld; ``cost`` is in :data:`COST_SCALE` units; ``route`` is each call's trunk as
    an index into ``routes``. ``scenario`` and ``instance`` label all of them.
    """

    caller: I64
    called: I64
    start_ms: I64
    duration_ms: I64
    answered: npt.NDArray[np.bool_]
    direction: npt.NDArray[np.int8]
    subscriber: I64
    route: npt.NDArray[np.int32]
    routes: tuple[str, ...]
    cost: I64
    scenario: str
    instance: str

    def __len__(self) -> int:
        return int(self.called.shape[0])


@dataclass(frozen=True, slots=True)
class Instance:
    """One attack (or other episode) of a run, for whoever checks what a detector made of it: its scenario and id
    (as in the labels), the remote numbers it used (IRSF destinations, Wangiri sources), the local subscribers
    it involved (IMSIs), which of its numbers the run's hotlist lists, and scenario-specific ``facts`` (the IRSF
    test number, the ranges)."""

    scenario: str
    id: str
    numbers: tuple[int, ...]
    subscribers: tuple[str, ...]
    hotlisted: tuple[int, ...] = ()
    facts: dict[str, object] = field(default_factory=dict)


def cost_of(duration_ms: I64, rate_per_min: float | npt.NDArray[np.float64]) -> I64:
    """Per-second billing at ``rate_per_min`` currency units a minute, in :data:`COST_SCALE` units."""
    cost: I64 = np.rint(duration_ms / 60_000 * np.asarray(rate_per_min) * COST_SCALE).astype(np.int64)
    return cost


def durations_ms(rng: np.random.Generator, median_s: npt.NDArray[np.float64], sigma: float, low_s: float = 1.0) -> I64:
    """Log-normal connected durations in milliseconds around ``median_s``, between ``low_s`` and three hours."""
    seconds = np.exp(np.log(median_s) + sigma * rng.standard_normal(np.shape(median_s)))
    result: I64 = np.rint(np.clip(seconds, low_s, _MAX_DURATION_S) * 1000).astype(np.int64)
    return result


def _column(parts: Sequence[Calls], name: str) -> npt.NDArray[np.generic]:
    return np.concatenate([getattr(p, name) for p in parts]) if parts else np.empty(0)


def assemble(parts: Sequence[Calls]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The calls of all ``parts`` in time order: ``(CDR_SCHEMA frame, labels frame)``, row for row."""
    parts = [p for p in parts if len(p)]
    start = np.concatenate([p.start_ms for p in parts]) if parts else np.empty(0, np.int64)
    order = np.argsort(start, kind="stable")
    size = order.shape[0]
    seq = np.arange(size, dtype=np.int64)
    caller = _column(parts, "caller")[order]
    offsets = np.cumsum([0, *(len(p.routes) for p in parts)])
    routes = [name for p in parts for name in p.routes]
    route_codes = np.concatenate([p.route + offsets[i] for i, p in enumerate(parts)]) if parts else seq
    scenarios = np.concatenate([np.full(len(p), i, np.int32) for i, p in enumerate(parts)])[order] if parts else seq
    frame = pl.DataFrame(
        {
            "seq": seq,
            "line": seq + 2,
            "caller": pl.Series(caller, dtype=pl.Int64).set(pl.Series(caller == 0), None),
            "called": _column(parts, "called")[order],
            "called_plan": np.ones(size, np.bool_),
            "start_ms": start[order],
            "duration_ms": _column(parts, "duration_ms")[order],
            "answered": _column(parts, "answered")[order],
            "direction": _column(parts, "direction")[order],
            "subscriber": pl.Series(_column(parts, "subscriber")[order], dtype=pl.Int64).cast(pl.String),
            "route": pl.Series(routes, dtype=pl.String).gather(pl.Series(route_codes[order], dtype=pl.Int32)),
            "cost": _column(parts, "cost")[order].astype(np.float64) / COST_SCALE,
        },
        schema=CDR_SCHEMA,
    )
    names = pl.Series([p.scenario for p in parts], dtype=pl.String)
    instances = pl.Series([p.instance for p in parts], dtype=pl.String)
    index = pl.Series(scenarios, dtype=pl.Int32)
    labels = pl.DataFrame(
        {"seq": seq, "line": seq + 2, "scenario": names.gather(index), "instance": instances.gather(index)},
        schema=LABEL_SCHEMA,
    )
    return frame, labels
