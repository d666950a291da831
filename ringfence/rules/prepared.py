"""One frame of CDRs as the rules read it: every per-record fact that needs no state, computed once, vectorised.

Both modes go through this: the batch engine over the whole input, the streaming engine over each frame it is
fed. What a rule asks of one record without looking at other records (is it late, who is the remote party, is
the call international or premium-rate, is the called number valid, which hotlist entry covers each party, what
is its key) is an array here, so the per-record work left to the evaluators is the window state alone.

Lateness is decided here too, since it depends only on the order of start times: the watermark before a record is
the largest start time of the records before it (input order, earlier frames included), and a record starting
more than the allowance before it is late.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import cached_property
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import phonenumbers
import polars as pl

from ringfence.cdrs.models import CDR_COLUMNS, Cdr, Direction
from ringfence.numbers import NUMBER_TYPES, REGIONS, NumberType
from ringfence.numbers.lookup import info_codes, split_country_code
from ringfence.rules.config import RuleSet
from ringfence.rules.hotlist import HotlistLookup
from ringfence.rules.specs import Filter, Key

__all__ = ["Prepared", "Row", "cdr_of", "subject_of"]

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
#: A record as a tuple of :data:`~ringfence.cdrs.models.CDR_SCHEMA` values, in schema order (what evaluators keep
#: as evidence: cheaper than a :class:`Cdr`, which is made only for alerts).
Row = tuple[Any, ...]
SEQ, START, DURATION, DIRECTION, SUBSCRIBER = 0, 5, 6, 8, 9
_NONE_WM: Final = -(2**62)
_PREMIUM: Final = NUMBER_TYPES.index(NumberType.PREMIUM_RATE)
_INCOMING: Final = int(Direction.INCOMING)


_DIRECTIONS: Final = tuple(Direction)


def cdr_of(row: Row) -> Cdr:
    """The :class:`Cdr` of a row tuple."""
    return Cdr(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], _DIRECTIONS[row[8]], row[9], row[10], row[11]
    )


def subject_of(key: Key, value: Hashable) -> str:
    """The alert subject of a key value: ``subscriber:…``, ``number:+…``, ``range:+…``, ``country:…``,
    ``route:…``."""
    kind = key.kind
    if kind == "subscriber" or (kind == "caller" and isinstance(value, str)):
        return f"subscriber:{value}"
    if kind in ("caller", "called"):
        return f"number:+{value}"
    if kind.endswith("_range"):
        return f"range:+{value}"
    return f"{kind}:{value}"


class Prepared:
    """The stateless facts of one frame (see the module docstring). ``watermark`` is the watermark before the
    frame's first record (None at the start of a stream); ``all_rows`` builds every row tuple up front (streaming
    keeps tuples of any record it counts; batch gathers only the rows of candidate groups)."""

    def __init__(
        self,
        frame: pl.DataFrame,
        rules: RuleSet,
        hotlists: HotlistLookup,
        watermark: int | None,
        origin_ms: int | None,
        *,
        all_rows: bool = False,
    ) -> None:
        self.frame = frame
        self.rules = rules
        self.hotlists = hotlists
        self.n = frame.height
        self.start: I64 = _ints(frame, "start_ms")
        self.seq: I64 = _ints(frame, "seq")
        self.duration: I64 = _ints(frame, "duration_ms")
        self.answered: Bools = _bools(frame, "answered")
        self.direction = frame["direction"].to_numpy().astype(np.int8, copy=False)
        self.caller: I64 = _ints(frame, "caller")  # 0 where withheld
        self.called: I64 = _ints(frame, "called")
        self.called_plan: Bools = _bools(frame, "called_plan")
        before = np.empty(self.n, dtype=np.int64)
        if self.n:
            before[0] = _NONE_WM if watermark is None else watermark
            np.maximum.accumulate(np.maximum(self.start[:-1], before[0]), out=before[1:])
            if watermark is None:
                before[0] = _NONE_WM + rules.lateness_ms  # the first record of a stream is never late
        self.live: Bools = self.start >= before - rules.lateness_ms
        self.late = int(self.n - np.count_nonzero(self.live))
        top = int(self.start.max()) if self.n else _NONE_WM
        self.watermark: int | None = (
            watermark if self.n == 0 else max(top, _NONE_WM if watermark is None else watermark)
        )
        self.origin_ms = origin_ms if origin_ms is not None or not self.n else int(self.start[0])
        self.originating: Bools = self.direction != _INCOMING
        self._rows: list[Row] | None = (
            list(zip(*(frame[c].to_list() for c in CDR_COLUMNS), strict=True)) if all_rows else None
        )

    # ---------------------------------------------------------------- the remote party

    @cached_property
    def remote(self) -> I64:
        """The other end: the called number, or the caller of an incoming call (0 when withheld)."""
        return np.where(self.originating, self.called, self.caller)

    @cached_property
    def _info(self) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8], Bools, I64]:
        return info_codes(self.remote)

    @property
    def remote_region(self) -> npt.NDArray[np.int16]:
        """Index into :data:`ringfence.numbers.REGIONS` of the remote party's region, -1 when none."""
        return self._info[0]

    @property
    def remote_type(self) -> npt.NDArray[np.uint8]:
        return self._info[1]

    @property
    def remote_valid(self) -> Bools:
        """The numbering plan says the remote number is valid (allocated), as phonenumbers' is_valid_number."""
        return self._info[2]

    @cached_property
    def remote_known(self) -> Bools:
        """The remote party is a number the plan accepts: present, and (for a called number) normalised."""
        return (self.remote > 0) & (self.called_plan | ~self.originating)

    @cached_property
    def international(self) -> Bools:
        """The remote party's country calling code differs from home's (or, with no home region, from the
        local party's, when that is known)."""
        codes = self._info[3]
        home = self.rules.home_region
        if home is not None:
            abroad: Bools = self.remote_known & (codes != phonenumbers.country_code_for_region(home))
            return abroad
        local = np.where(self.originating, self.caller, self.called)
        local_cc, _ = split_country_code(np.maximum(local, 1))
        other: Bools = self.remote_known & (local > 0) & (local_cc > 0) & (codes != local_cc)
        return other

    @cached_property
    def premium(self) -> Bools:
        premium: Bools = self.remote_known & (self.remote_type == _PREMIUM)
        return premium

    @cached_property
    def hot_caller(self) -> I64:
        """The hotlist entry covering the caller, -1 for none (and for a withheld caller)."""
        return self.hotlists.longest_many(self.caller)

    @cached_property
    def hot_called(self) -> I64:
        return self.hotlists.longest_many(self.called)

    @cached_property
    def hot_remote(self) -> Bools:
        return np.where(self.originating, self.hot_called, self.hot_caller) >= 0

    # ---------------------------------------------------------------- filters

    def passes(self, spec: Filter) -> Bools:
        """Live records that pass ``spec``."""
        mask = self.live.copy()
        if len(spec.directions) < len(Direction):
            mask &= np.isin(self.direction, [int(d) for d in spec.directions])
        if "any" not in spec.destinations:
            dest = np.zeros(self.n, dtype=np.bool_)
            for kind in spec.destinations:
                if kind == "international":
                    dest |= self.international
                elif kind == "domestic":
                    dest |= self.remote_known & ~self.international
                else:
                    dest |= self.premium
            mask &= dest
        if spec.number_types is not None:
            mask &= self.remote_known & np.isin(self.remote_type, list(spec.number_types))
        if spec.max_duration_ms is not None:
            mask &= self.duration <= spec.max_duration_ms
        if spec.answered is not None:
            mask &= self.answered == spec.answered
        if spec.hotlisted is not None:
            mask &= self.hot_remote == spec.hotlisted
        return mask

    # ---------------------------------------------------------------- rows, keys and values

    def rows(self, idx: Sequence[int] | I64) -> list[Row]:
        """The row tuples of positions ``idx``."""
        if self._rows is not None:
            rows = self._rows
            return [rows[i] for i in (idx.tolist() if isinstance(idx, np.ndarray) else idx)]
        return self.frame[np.asarray(idx, dtype=np.int64)].rows()

    @cached_property
    def subscribers(self) -> list[str]:
        return self.frame["subscriber"].to_list()

    def _subscribers_at(self, idx: I64) -> list[str]:
        if "subscribers" in self.__dict__ or len(idx) * 4 > self.n:
            subs = self.subscribers
            return [subs[i] for i in idx.tolist()]
        return self.frame["subscriber"].gather(idx).to_list()

    @cached_property
    def subscriber_hash(self) -> I64:
        return self.frame["subscriber"].hash(seed=0).to_numpy().view(np.int64)

    @cached_property
    def route_hash(self) -> I64:
        return self.frame["route"].hash(seed=0).to_numpy().view(np.int64)

    def values(self, field: str, idx: I64) -> list[Hashable | None]:
        """The exact values of ``field`` (a key kind or a distinct field) at positions ``idx``; None where the
        record has none (a withheld caller, no route, no region, a range of a number shorter than the range)."""
        if field == "subscriber":
            return list(self._subscribers_at(idx))
        if field == "caller":
            return _nones(self.caller[idx])
        if field == "called":
            return _nones(self.called[idx])
        if field == "country":
            regions = self.remote_region[idx].tolist()
            return [REGIONS[r] if r >= 0 else None for r in regions]
        if field == "route":
            return self.frame["route"].gather(idx).to_list()
        raise ValueError(field)

    def key_values(self, key: Key, idx: I64) -> list[Hashable | None]:
        """The exact key values at positions ``idx`` (None: the record has no such key and is skipped)."""
        if key.kind == "called_range":
            return _nones(self.called[idx] // 10**key.digits)
        if key.kind == "caller_range":
            return _nones(self.caller[idx] // 10**key.digits)
        if key.kind == "caller":
            subs = self._subscribers_at(idx)
            callers = self.caller[idx].tolist()
            outgoing = self.originating[idx].tolist()
            return [s if o else (c or None) for s, c, o in zip(subs, callers, outgoing, strict=True)]
        return self.values(key.kind, idx)

    def codes(self, field: str, idx: I64) -> tuple[I64, Bools]:
        """Integer stand-ins for :meth:`values` / :meth:`key_values` (``field`` a key text or a distinct field)
        and where a value exists. Equal values have equal codes; unequal ones almost always differ (64-bit hashes
        of text), which is all the batch pruning needs: a merged group only counts more."""
        kind, _, digits = field.partition(":")
        if kind == "subscriber":
            return self.subscriber_hash[idx], np.ones(len(idx), np.bool_)
        if kind == "caller" and not digits and field == "caller":
            # As a key: the subscriber of an originating call, the caller number of an incoming one.
            return np.where(self.originating[idx], self.subscriber_hash[idx], self.caller[idx]), (
                self.originating[idx] | (self.caller[idx] > 0)
            )
        if kind == "caller_number":
            return self.caller[idx], self.caller[idx] > 0
        if kind == "called":
            return self.called[idx], np.ones(len(idx), np.bool_)
        if kind == "called_range":
            codes = self.called[idx] // 10 ** int(digits)
            return codes, codes > 0
        if kind == "caller_range":
            codes = self.caller[idx] // 10 ** int(digits)
            return codes, codes > 0
        if kind == "country":
            regions = self.remote_region[idx].astype(np.int64)
            return regions, regions >= 0
        if kind == "route":
            return self.route_hash[idx], self.frame["route"].is_not_null().to_numpy()[idx]
        raise ValueError(field)


def _ints(frame: pl.DataFrame, name: str) -> I64:
    column = frame[name]
    if column.null_count():
        column = column.fill_null(0)
    return column.to_numpy().astype(np.int64, copy=False)


def _bools(frame: pl.DataFrame, name: str) -> Bools:
    column = frame[name]
    if column.null_count():
        column = column.fill_null(False)
    return column.to_numpy().astype(np.bool_, copy=False)


def _nones(values: I64) -> list[Hashable | None]:
    """``values`` as a list, None where 0 or below (no such number)."""
    out: list[Hashable | None] = values.tolist()
    if len(values) and int(values.min()) <= 0:
        for i in np.flatnonzero(values <= 0).tolist():
            out[i] = None
    return out
