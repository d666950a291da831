"""Number info lookups: :func:`info` (one number, plain Python) and :func:`info_many` (numpy batch).

Both walk the compiled per-country-code DFAs of :mod:`ringfence.numbers.plan`; neither calls phonenumbers.

* ``info`` splits the decimal string into country code (phonenumbers' rule: the first 1, 2 or 3 digit prefix
  that is a known code) and NSN, then steps ``byte_trans[state][ord(digit)]`` over Python lists (~1 µs).
* ``info_many`` merges the plans of all country codes seen so far into one set of numpy tables (state ids
  offset per plan, see :class:`_Tables`), computes each number's digit count, country code and NSN with integer
  arithmetic, and advances *all* numbers one NSN digit position at a time with a single fancy-index per step.
  Codes not compiled yet are compiled on demand and the merged tables rebuilt once per batch.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ringfence.errors import InvalidNumber
from ringfence.numbers.plan import (
    CC_BY_PREFIX,
    COUNTRY_CODES,
    MAX_DIGITS,
    NSN_LENGTHS,
    _plans,
    info_plan,
)
from ringfence.numbers.types import NUMBER_TYPES, NumberInfo, NumberType

__all__ = ["country_code_of", "info", "info_codes", "info_many", "split_country_code"]

POW10 = np.array([10**k for k in range(MAX_DIGITS)], dtype=np.int64)
_UPOW10 = np.array([10**k for k in range(MAX_DIGITS + 1)], dtype=np.uint64)
_LEFT_DIV = {size: _UPOW10[MAX_DIGITS - size] for size in (1, 2, 3)}
CC_VALID = np.zeros(1000, dtype=np.bool_)
CC_VALID[sorted(COUNTRY_CODES)] = True
_UNKNOWN_CODE = NUMBER_TYPES.index(NumberType.UNKNOWN)
_INT64_MAX = 2**63 - 1


def country_code_of(digits: str) -> int:
    """phonenumbers' ``_extract_country_code`` on an E.164 digit string; 0 when no known code prefixes it."""
    for size in (1, 2, 3):
        cc = CC_BY_PREFIX.get(digits[:size])
        if cc is not None:
            return cc
    return 0


def info(number: int) -> NumberInfo:
    """Region, type and validity of the E.164 number ``number`` (digits as int), exactly as phonenumbers says.

    Raises :class:`~ringfence.errors.InvalidNumber` (``"not_a_number"``) for anything that is not a positive
    integer of at most 19 digits, and (``"invalid_country_code"``) when no known country code prefixes it.
    """
    if type(number) is not int and (isinstance(number, bool) or not isinstance(number, int | np.integer)):
        raise InvalidNumber(number, "not_a_number", "expected a positive integer of E.164 digits")
    if not 0 < number <= _INT64_MAX:
        raise InvalidNumber(number, "not_a_number", "expected a positive integer of E.164 digits")
    digits = str(int(number))
    cc = CC_BY_PREFIX.get(digits[:1]) or CC_BY_PREFIX.get(digits[:2]) or CC_BY_PREFIX.get(digits[:3])
    if cc is None:
        raise InvalidNumber(number, "invalid_country_code", "no known country calling code starts this number")
    plan = _plans.get(cc) or info_plan(cc)
    trans = plan.byte_trans
    state = 0
    nsn = digits[len(str(cc)) :]
    for byte in nsn.encode():
        state = trans[state][byte]
    return plan.infos[state][len(nsn)]


class _Tables(NamedTuple):
    """All compiled plans merged: ``start[cc]`` (-1 = not compiled/unknown) indexes the flat tables."""

    ccs: frozenset[int]
    start: npt.NDArray[np.int32]
    trans: npt.NDArray[np.int32]  # flat: trans[state * 10 + digit]
    region: npt.NDArray[np.int16]  # flat: region[state * NSN_LENGTHS + nsn_len]
    ntype: npt.NDArray[np.uint8]
    valid: npt.NDArray[np.bool_]


_tables = _Tables(frozenset(), np.full(1000, -1, np.int32), np.zeros(0, np.int32), *[np.zeros(0, t) for t in "HBb"])
_lock = threading.Lock()


def _tables_for(ccs: npt.NDArray[np.int64]) -> _Tables:
    global _tables
    tables = _tables
    wanted = {int(c) for c in np.unique(ccs) if c}
    if wanted <= tables.ccs:
        return tables
    with _lock:
        all_ccs = sorted(_tables.ccs | wanted)
        plans = [info_plan(cc) for cc in all_ccs]
        start = np.full(1000, -1, np.int32)
        offset = 0
        trans_parts = []
        for plan in plans:
            start[plan.country_code] = offset
            trans_parts.append(plan.trans_np + offset)
            offset += plan.trans_np.shape[0]
        _tables = _Tables(
            frozenset(all_ccs),
            start,
            np.concatenate(trans_parts).ravel(),
            np.concatenate([p.region_np for p in plans]).ravel(),
            np.concatenate([p.type_np for p in plans]).ravel(),
            np.concatenate([p.valid_np for p in plans]).ravel(),
        )
        return _tables


def split_country_code(numbers: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Vectorised ``country_code_of``: (country code or 0, digit count) of positive int64 E.164 numbers."""
    ndig = np.searchsorted(POW10, numbers, side="right").astype(np.int64)
    left = _left_aligned(numbers, ndig)
    cc = np.zeros(numbers.shape, np.int64)
    for size in (3, 2, 1):  # the shortest known prefix wins, so try it last
        lead = (left // _LEFT_DIV[size]).astype(np.int64)
        cc = np.where((ndig >= size) & CC_VALID[lead], lead, cc)
    return cc, ndig


def _left_aligned(numbers: npt.NDArray[np.int64], ndig: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """Each number's digits shifted to fill 19 decimal places (uint64), so that its k-th digit is always
    ``left // 10**(18-k) % 10``: divisions by one scalar each, which numpy does far faster than by an array."""
    return numbers.astype(np.uint64) * _UPOW10[np.maximum(MAX_DIGITS - ndig, 0)]


def info_codes(
    numbers: npt.ArrayLike,
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8], npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """:func:`info_many` and the country calling code (0 where none is known) of each number."""
    nums = np.asarray(numbers, dtype=np.int64).ravel()
    size = nums.shape[0]
    region = np.full(size, -1, np.int16)
    ntype = np.full(size, _UNKNOWN_CODE, np.uint8)
    valid = np.zeros(size, np.bool_)
    codes = np.zeros(size, np.int64)
    positive = nums > 0
    idx = None if positive.all() else np.flatnonzero(positive)
    work = nums if idx is None else nums[idx]
    cc, ndig = split_country_code(work)
    if idx is None:
        codes = cc
    else:
        codes[idx] = cc
    known = cc > 0
    if not known.all():
        keep = np.flatnonzero(known)
        idx = keep if idx is None else idx[keep]
        work, cc, ndig = work[keep], cc[keep], ndig[keep]
    if work.shape[0] == 0:
        return region, ntype, valid, codes
    tables = _tables_for(cc)
    cc_len = np.searchsorted(POW10, cc, side="right")
    nsn_len = ndig - cc_len
    left = _left_aligned(work, ndig)
    state = tables.start[cc].astype(np.int64)
    # NSN digit `pos` is digit cc_len + pos of the number; walk positions 1..max in lock-step.
    first = int(cc_len.min())
    for k in range(first, int(ndig.max())):
        digit = (left // _UPOW10[MAX_DIGITS - 1 - k] % np.uint64(10)).astype(np.int64)
        active = (k >= cc_len) & (k < ndig)
        state = np.where(active, tables.trans[state * 10 + digit], state)
    flat = state * NSN_LENGTHS + nsn_len
    if idx is None:
        return tables.region[flat], tables.ntype[flat], tables.valid[flat], codes
    region[idx] = tables.region[flat]
    ntype[idx] = tables.ntype[flat]
    valid[idx] = tables.valid[flat]
    return region, ntype, valid, codes


def info_many(
    numbers: npt.ArrayLike,
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """Vectorised :func:`info`: ``(region index into REGIONS or -1, type code into NUMBER_TYPES, valid)``.

    Entries that :func:`info` would reject (<= 0, no known country code) give ``(-1, unknown, False)``.
    """
    region, ntype, valid, _codes = info_codes(numbers)
    return region, ntype, valid
