"""Windows, window state and what every evaluator shares: how an alert is made from the rows that counted.

A rule's window of length W starts every W/2 from the epoch, so window ``w`` covers ``[w*W/2, w*W/2 + W)`` and a
record starting at ``t`` lies in windows ``t // (W/2)`` and the one before: exactly two, and any pattern lasting
at most W/2 lies wholly inside one of them whatever the boundaries. A rule whose condition is one record
(``hotlist_hit``, ``invalid_destination``, ``wangiri_callback``) gains nothing from the overlap and would only fire
twice for one call, so its windows follow each other (``hop = W``: window ``w`` covers ``[w*W, (w+1)*W)``).

State is kept per window index, then per key, so that eviction drops whole windows: window ``w`` is dropped once
``w*W/2 + W <= watermark - lateness``, since any record still to come that falls in it would start before the
watermark minus the allowance and be late. Dropping it therefore changes no answer, which is what keeps the
streaming engine equal to the batch engine while its memory stays bounded by the live windows.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from ringfence.rules.models import MAX_EVIDENCE, Alert, Severity
from ringfence.rules.prepared import SEQ, START, Prepared, Row, cdr_of

__all__ = [
    "TRIM_AT",
    "Chain",
    "Evaluator",
    "WindowStates",
    "add_evidence",
    "chain_rows",
    "make_alert",
    "span_text",
    "trimmed",
    "window_pairs",
    "window_singles",
]

S = TypeVar("S")


class Evaluator(Protocol):
    """One rule's engine. ``run`` evaluates the live records of a frame in input order and answers the alerts
    they fire; with ``batch`` the frame is the whole input, the state is fresh, and the evaluator may skip groups
    that provably cannot fire. ``evict`` drops the state no record from ``horizon_ms`` on can reach."""

    name: str

    def run(self, prep: Prepared, *, batch: bool) -> list[Alert]: ...

    def evict(self, horizon_ms: int) -> None: ...

    @property
    def size(self) -> int: ...


class WindowStates(Generic[S]):
    """Per window index, per key, a state (``None`` once the key has fired in that window: it fires once)."""

    __slots__ = ("by_window", "half", "window_ms")

    def __init__(self, window_ms: int, *, hop_ms: int | None = None) -> None:
        self.window_ms = window_ms
        self.half = window_ms // 2 if hop_ms is None else hop_ms  # how far apart windows start
        self.by_window: dict[int, dict[Hashable, S | None]] = {}

    def window(self, w: int) -> dict[Hashable, S | None]:
        states = self.by_window.get(w)
        if states is None:
            states = self.by_window[w] = {}
        return states

    def evict(self, horizon_ms: int) -> None:
        for w in [w for w in self.by_window if w * self.half + self.window_ms <= horizon_ms]:
            del self.by_window[w]

    @property
    def size(self) -> int:
        return sum(len(states) for states in self.by_window.values())

    def bounds(self, w: int) -> tuple[int, int]:
        return w * self.half, w * self.half + self.window_ms


def window_pairs(starts: npt.NDArray[np.int64], half: int) -> tuple[list[int], list[int]]:
    """For records starting at ``starts``: (position, window index) of each record's two windows, in record order
    (the later window first)."""
    first = starts // half
    positions = np.repeat(np.arange(len(starts)), 2)
    windows = np.empty(2 * len(starts), dtype=np.int64)
    windows[0::2] = first
    windows[1::2] = first - 1
    return positions.tolist(), windows.tolist()


def window_singles(starts: npt.NDArray[np.int64], window_ms: int) -> tuple[list[int], list[int]]:
    """For records starting at ``starts``: (position, window index) of each record's one window, in record order,
    with windows that follow each other (``hop = window``)."""
    return list(range(len(starts))), (starts // window_ms).tolist()


def add_evidence(evidence: list[Row], row: Row) -> None:
    """Append, keeping at least the latest :data:`MAX_EVIDENCE` (trimmed in steps, not on every append)."""
    evidence.append(row)
    if len(evidence) >= 2 * MAX_EVIDENCE:
        del evidence[:-MAX_EVIDENCE]


#: Evidence held in window state as a chain of tuples, newest first: ``(row, older chain or None)``. Unlike a list,
#: a tuple of immutable values is untracked by the cyclic garbage collector once it has seen it young, so state
#: that lives for hours costs the collector nothing (with lists, collections took a third of streaming time).
Chain = tuple[Row, Any] | None
TRIM_AT: Final = 2 * MAX_EVIDENCE


def chain_rows(chain: Chain, limit: int = MAX_EVIDENCE) -> list[Row]:
    """The latest ``limit`` rows of a chain, oldest first."""
    rows: list[Row] = []
    while chain is not None and len(rows) < limit:
        rows.append(chain[0])
        chain = chain[1]
    rows.reverse()
    return rows


def trimmed(chain: Chain) -> Chain:
    """The chain of its latest :data:`MAX_EVIDENCE` rows (called when it reaches :data:`TRIM_AT`)."""
    out: Chain = None
    for row in chain_rows(chain):
        out = (row, out)
    return out


def make_alert(
    *,
    rule: str,
    subject: str,
    bounds: tuple[int, int],
    evidence: Sequence[Row],
    severity: Severity,
    category: str,
    numbers: Iterable[int],
    summary: str,
    facts: Mapping[str, Any],
) -> Alert:
    """The alert fired by the last row of ``evidence`` (the latest :data:`MAX_EVIDENCE` rows are kept)."""
    last = evidence[-1]
    return Alert(
        rule=rule,
        subject=subject,
        window_start_ms=bounds[0],
        window_end_ms=bounds[1],
        fired_ms=last[START],
        seq=last[SEQ],
        severity=severity,
        category=category,
        numbers=tuple(dict.fromkeys(numbers)),
        evidence=tuple(cdr_of(row) for row in evidence[-MAX_EVIDENCE:]),
        summary=summary,
        facts=dict(facts),
    )


def span_text(ms: int) -> str:
    """A window length for humans: ``90 s``, ``10 min``, ``1 h``, ``7 d``."""
    seconds = ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
