"""Batch normalisation: :func:`normalise_many`, a vectorised fast path for canonical E.164 text.

Canonical entries (``"+"`` followed by digits only) are handled with numpy, never phonenumbers:

1. the strings become a fixed-width byte matrix (``np.array(raws, "S20")`` viewed as ``uint8``; ``"+"`` and up
   to 19 digits), validated column-wise; the true ``len()`` of every string is compared so embedded/trailing
   NULs and over-long strings cannot sneak through numpy's fixed-width conversion;
2. the country code follows phonenumbers' rule (first known 1, 2 or 3 digit prefix), looked up in a
   1000-entry table;
3. the NSN length is checked against ``possible[cc, len]`` (exact ``is_possible_number_with_reason`` table) and
   the NSN walked through the national-prefix *risk* DFA (:mod:`ringfence.numbers.prefix`);
4. the value is the left-aligned uint64 dot product of the digit matrix with powers of ten, shifted right by
   the number of missing digits.

Everything else — non-canonical text, risky NSNs (phonenumbers might strip a national prefix), unknown country
codes, too few/many digits, non-ASCII — falls back to :func:`ringfence.numbers.normalise` one by one, so the
results are identical to calling ``normalise`` element-wise (values *and* error reasons/messages).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ringfence.errors import InvalidNumber
from ringfence.numbers.lookup import CC_VALID
from ringfence.numbers.normalise import invalid, normalise
from ringfence.numbers.plan import MAX_DIGITS
from ringfence.numbers.prefix import REASON_CODES, RISKY, SAFE, parse_tables

__all__ = ["normalise_many"]

_WIDTH = MAX_DIGITS + 1  # "+" and up to 19 digits
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN / _MAX_LENGTH_FOR_NSN
_LEFT_POWERS = np.array([10 ** (MAX_DIGITS - 1 - j) for j in range(MAX_DIGITS)], dtype=np.uint64)
_POW10 = np.array([10**k for k in range(MAX_DIGITS + 1)], dtype=np.uint64)


def _divide_by_powers(values: npt.NDArray[np.uint64], exponents: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """``values // 10**exponents``, one scalar division per distinct exponent (a batch has few), which numpy does
    several times faster than dividing by an array."""
    low, high = int(exponents.min()), int(exponents.max())
    if low == high:
        same: npt.NDArray[np.uint64] = values // _POW10[low]
        return same
    out = np.empty_like(values)
    for exp in np.unique(exponents).tolist():
        rows = exponents == exp
        out[rows] = values[rows] // _POW10[exp]
    return out


def _fast(strings: list[str]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """(handled, value, reason index) for ``strings``; rows not handled must take the slow path."""
    size = len(strings)
    try:
        mat = np.array(strings, dtype=f"S{_WIDTH}").view(np.uint8).reshape(size, _WIDTH)
    except UnicodeEncodeError:  # some non-ASCII entry: none of those is canonical
        ascii_rows = [i for i, s in enumerate(strings) if s.isascii()]
        handled = np.zeros(size, np.bool_)
        value = np.zeros(size, np.int64)
        reason = np.zeros(size, np.int8)
        if ascii_rows:
            h, v, r = _fast([strings[i] for i in ascii_rows])
            handled[ascii_rows], value[ascii_rows], reason[ascii_rows] = h, v, r
        return handled, value, reason
    # A row's length in the matrix (up to its last non-NUL byte) is never more than the string's, and is less
    # only for a string longer than the width or ending in NUL; equal sums prove every row equal.
    lens = _WIDTH - np.argmax(mat[:, ::-1] != 0, axis=1)
    lens[(lens == _WIDTH) & (mat[:, -1] == 0)] = 0  # argmax found no non-NUL byte: an empty row
    if int(lens.sum()) != len("".join(strings)):
        lens = np.fromiter(map(len, strings), np.int64, size)
    digits = mat[:, 1:] - np.uint8(48)  # uint8 arithmetic: non-digits (and the NUL padding) wrap to values > 9
    is_digit = digits <= 9
    ndig = lens - 1
    canonical = (
        (mat[:, 0] == 43)
        & (lens <= _WIDTH)
        & (ndig > 2)
        & (np.count_nonzero(is_digit, axis=1) == ndig)  # positions 1..ndig are digits (the rest is padding)
        & (digits[:, 0] > 0)
        & (digits[:, 0] <= 9)
    )
    clean = digits * is_digit
    c1 = np.where(canonical, clean[:, 0], 0).astype(np.int64)
    c2 = c1 * 10 + clean[:, 1]
    c3 = c2 * 10 + clean[:, 2]
    v1, v2, v3 = CC_VALID[c1], CC_VALID[np.minimum(c2, 999)], CC_VALID[np.minimum(c3, 999)]
    cc = np.where(v1, c1, np.where(v2, c2, np.where(v3, c3, 0)))
    cc_len = np.where(v1, 1, np.where(v2, 2, 3))
    nsn_len = ndig - cc_len
    handled = canonical & (cc > 0) & (nsn_len >= _MIN_NSN) & (nsn_len <= _MAX_NSN)
    tables = parse_tables()
    state = np.where(handled, tables.risk_start[cc], SAFE)
    pos = 0
    rows = np.flatnonzero(state > RISKY)
    while rows.size:
        live = rows[nsn_len[rows] > pos]
        ended = rows[nsn_len[rows] <= pos]
        state[ended] = np.where(tables.risk_end[state[ended]], RISKY, SAFE)
        state[live] = tables.risk_trans[state[live] * 10 + clean[live, cc_len[live] + pos]]
        rows = live[state[live] > RISKY]
        pos += 1
    handled &= state == SAFE
    # Left-aligned value in uint64 (19 digits always fit), then shift right by the missing digits.
    left = clean.astype(np.uint64) @ _LEFT_POWERS
    value = _divide_by_powers(left, MAX_DIGITS - np.clip(ndig, 0, MAX_DIGITS)).astype(np.int64)
    # an all-zero national number is refused by the exact path: leave it to that path
    handled &= (left - _divide_by_powers(left, MAX_DIGITS - cc_len) * _POW10[MAX_DIGITS - cc_len]) != 0
    reason = tables.possible[cc, np.clip(nsn_len, 0, MAX_DIGITS)]
    return handled, value, reason


def normalise_many(
    raws: Sequence[object], region: str | None = None
) -> tuple[npt.NDArray[np.int64], dict[int, InvalidNumber]]:
    """Normalise every entry: ``(int64 E.164 values, 0 where invalid; {position: error})``.

    Element-wise identical to :func:`ringfence.numbers.normalise` (non-``str`` entries: ``"not_a_string"``).
    """
    items = list(raws)
    out = np.zeros(len(items), np.int64)
    errors: dict[int, InvalidNumber] = {}
    if not items:
        return out, errors
    if set(map(type, items)) == {str}:
        positions = np.arange(len(items))
        strings: list[str] = items  # type: ignore[assignment]
    else:
        positions = np.array([i for i, x in enumerate(items) if isinstance(x, str)], dtype=np.int64)
        strings = [items[i] for i in positions]  # type: ignore[misc]
        for i, x in enumerate(items):
            if not isinstance(x, str):
                errors[i] = invalid(x, "not_a_string")
    if strings:
        handled, value, reason = _fast(strings)
        good = handled & (reason == 0)
        out[positions[good]] = value[good]
        for k in np.flatnonzero(handled & (reason != 0)).tolist():
            errors[int(positions[k])] = invalid(strings[k], REASON_CODES[reason[k]] or "not_a_number")
        for k in np.flatnonzero(~handled).tolist():
            try:
                out[positions[k]] = normalise(strings[k], region)
            except InvalidNumber as exc:
                errors[int(positions[k])] = exc
    return out, dict(sorted(errors.items()))
