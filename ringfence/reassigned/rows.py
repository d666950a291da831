"""Validating the raw columns of a feed into :class:`Disconnect` rows, a whole chunk at a time.

A feed of a million rows is checked in about a second because nothing is done per row that can be done per chunk or
per distinct value:

- numbers go through the one normalisation path in bulk (:func:`ringfence.numbers.normalise_many`). The FCC writes
  US numbers as ten national digits, which phonenumbers parses at ~15 µs each; for a region of country code 1 a
  ten-digit number whose area code starts with 2-9 is exactly ``+1`` and its digits (phonenumbers reads it so for
  every NANP region, which the tests check against it), so it is handed over in that canonical form and takes the
  vectorised path. Anything else goes as written.
- dates are parsed once per distinct text (a feed has a few thousand distinct dates at most), then mapped.
- types likewise, from the few spellings there are.

A row can fail for one reason at a time, tried in this order: the number, the date, the type.
"""

from __future__ import annotations

from itertools import repeat
from typing import Final

import numpy as np
import numpy.typing as npt
import phonenumbers

from ringfence.errors import InvalidInput, RingfenceError
from ringfence.numbers import normalise, normalise_many
from ringfence.reassigned.dates import parse_disconnect_date
from ringfence.reassigned.reader import RawChunk
from ringfence.registry.disconnects import Disconnect
from ringfence.registry.service import RowError

__all__ = ["KINDS", "RowParser", "canonical_text"]

#: How a feed may name what happened to a number, and what it means here. A reassignment is a disconnection
#: followed by a new subscriber, which is what removes a listing; a port keeps the subscriber and only weakens it.
KINDS: Final[dict[str, str]] = {
    "": "disconnect",
    "disconnect": "disconnect",
    "disconnected": "disconnect",
    "reassigned": "disconnect",
    "port": "port",
    "ported": "port",
}
_BAD: Final = -1  # a date that was refused (dates before 1970 are, so no good one is -1)
_MAX_CACHED: Final = 200_000  # distinct date texts remembered; a feed with more (times to the second) starts over
_NANP_REGIONS: Final = frozenset(
    r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.country_code_for_region(r) == 1
)
_AREA_CODE_FIRST: Final = frozenset("23456789")


def _missing(name: str) -> InvalidInput:
    return InvalidInput(f"{name} is required", code="missing_field", details={"field": name})


def _unknown_kind(raw: str) -> InvalidInput:
    allowed = [k for k in KINDS if k]
    return InvalidInput(
        f"unknown type {raw!r}; expected one of: {', '.join(allowed)} (empty: disconnect)",
        code="unknown_type",
        details={"field": "type", "input": raw, "allowed": allowed},
    )


def canonical_text(numbers: list[str], region: str | None) -> list[str]:
    """``numbers`` with every ten-digit NANP national number written as ``+1`` and its digits (see the module
    docstring); the same list when the region is not a NANP one."""
    if region not in _NANP_REGIONS:
        return numbers
    first = _AREA_CODE_FIRST
    return ["+1" + s if len(s) == 10 and s[0] in first and s.isdigit() and s.isascii() else s for s in numbers]


class RowParser:
    """Validates the chunks of one feed: numbers read with ``region``, dates up to ``now_ms + future_skew_ms``.

    Keeps what it learnt about distinct dates and types from one chunk to the next.
    """

    def __init__(self, *, region: str | None, now_ms: int, future_skew_ms: int = 300_000) -> None:
        self.region = region
        self.now_ms = now_ms
        self.future_skew_ms = future_skew_ms
        self._date_ms: dict[str, int] = {}
        self._date_errors: dict[str, InvalidInput] = {}
        self._kind_of: dict[str, str] = {}

    def parse(self, chunk: RawChunk) -> tuple[list[Disconnect], list[RowError]]:
        """The good rows of ``chunk`` in file order, and the errors of the bad ones (the chunk's own too)."""
        size = len(chunk)
        errors = list(chunk.errors)
        if not size:
            return [], errors
        numbers, problems = self._numbers(chunk.numbers)
        at_ms = self._dates(chunk.dates)
        kinds = self._kinds(chunk.kinds)
        bad = (numbers == 0) | (at_ms == _BAD)
        if kinds is not None:
            bad |= np.fromiter((not k for k in kinds), np.bool_, size)
        if not bad.any():
            kind_column = kinds if kinds is not None else repeat("disconnect", size)
            return list(map(Disconnect, numbers.tolist(), at_ms.tolist(), kind_column)), errors
        for i in np.flatnonzero(bad).tolist():
            errors.append(RowError(chunk.lines[i], self._problem(chunk, i, problems)))
        good = np.flatnonzero(~bad)
        kind_list = [kinds[i] for i in good.tolist()] if kinds is not None else repeat("disconnect", len(good))
        rows = list(map(Disconnect, numbers[good].tolist(), at_ms[good].tolist(), kind_list))
        errors.sort(key=lambda e: e.line)
        return rows, errors

    def _numbers(self, raw: list[str]) -> tuple[npt.NDArray[np.int64], dict[int, RingfenceError]]:
        texts = canonical_text(raw, self.region)
        values, problems = normalise_many(texts, self.region)
        found: dict[int, RingfenceError] = {}
        for i, problem in problems.items():
            if not raw[i]:
                found[i] = _missing("number")
            elif texts[i] is not raw[i]:  # rewritten: the error, if any, is the one of the text as given
                try:
                    values[i] = normalise(raw[i], self.region)
                except InvalidInput as exc:
                    found[i] = exc.with_traceback(None)
            else:
                found[i] = problem.with_traceback(None)
        return values, found

    def _dates(self, raw: list[str]) -> npt.NDArray[np.int64]:
        known = self._date_ms
        fresh = set(raw).difference(known)
        if fresh and len(known) + len(fresh) > _MAX_CACHED:
            known.clear()
            self._date_errors.clear()
            fresh = set(raw)
        for text in fresh:
            try:
                known[text] = parse_disconnect_date(text, now_ms=self.now_ms, future_skew_ms=self.future_skew_ms)
            except InvalidInput as exc:
                known[text] = _BAD
                self._date_errors[text] = _missing("disconnect_date") if not text else exc.with_traceback(None)
        return np.fromiter(map(known.__getitem__, raw), np.int64, len(raw))

    def _kinds(self, raw: list[str] | None) -> list[str] | None:
        """The kind of each row, ``""`` where unknown; None when the feed has no type column."""
        if raw is None:
            return None
        known = self._kind_of
        for text in set(raw).difference(known):
            known[text] = KINDS.get(text.strip().lower(), "")
        return list(map(known.__getitem__, raw))

    def _problem(self, chunk: RawChunk, i: int, numbers: dict[int, RingfenceError]) -> RingfenceError:
        """Why row ``i`` is refused: its first bad field."""
        if i in numbers:
            return numbers[i]
        date = chunk.dates[i]
        if date in self._date_errors:
            return self._date_errors[date]
        assert chunk.kinds is not None
        return _unknown_kind(chunk.kinds[i])
