"""Tables for the canonical ``"+<digits>"`` fast path of :func:`ringfence.numbers.normalise_many`.

For ``"+" + digits`` phonenumbers' ``parse`` does three things that depend on the country code ``cc`` (found
with the 1-2-3 digit prefix rule): it may strip a *national prefix* from the NSN (``_maybe_strip_national_
prefix_carrier_code`` with the main region's ``national_prefix_for_parsing``, even after a ``+``), it rejects
NSNs shorter than 2 or longer than 17 digits, and ``is_possible_number`` then checks the NSN length against the
main region's possible lengths.  We precompute:

* ``possible[cc, nsn_len]``: reason code index (0 = possible) straight from
  ``phonenumbers.is_possible_number_with_reason`` on a number of that length, so the table is exact.
* a *risk* DFA per country code that accepts an NSN iff ``national_prefix_for_parsing`` can match at its start
  (``re.match`` semantics, ``$`` honoured).  Only NSNs the regex cannot match at all are guaranteed to be left
  untouched; every risky NSN goes to the slow (exact) path, so the fast path never has to reason about prefix
  stripping.  Merged states: 0 = cannot match any more (safe), 1 = matched (risky).
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import phonenumbers

from ringfence.numbers.automaton import PatternSpec, determinise
from ringfence.numbers.normalise import POSSIBLE_REASON
from ringfence.numbers.plan import COUNTRY_CODES, MAX_DIGITS, metadata_for

__all__ = ["REASON_CODES", "ParseTables", "parse_tables"]

#: Index -> reason code of ``ParseTables.possible`` (0 = possible).
REASON_CODES: tuple[str | None, ...] = (
    None,
    "too_short",
    "too_long",
    "not_possible",
    "invalid_country_code",
    "local_only",
)
SAFE, RISKY = 0, 1


class ParseTables(NamedTuple):
    possible: npt.NDArray[np.int8]  # [1000, MAX_DIGITS + 1] by country code and NSN length
    risk_start: npt.NDArray[np.int32]  # [1000]
    risk_trans: npt.NDArray[np.int32]  # flat [state * 10 + digit]
    risk_end: npt.NDArray[np.bool_]  # [state]: risky if the NSN ends in this state


def _possible_row(cc: int) -> list[int]:
    row = [REASON_CODES.index("too_short")]
    for length in range(1, MAX_DIGITS + 1):
        number = phonenumbers.PhoneNumber(country_code=cc, national_number=int("1" * length))
        reason = POSSIBLE_REASON[phonenumbers.is_possible_number_with_reason(number)]
        row.append(REASON_CODES.index(reason))
    return row


def _build() -> ParseTables:
    possible = np.full((1000, MAX_DIGITS + 1), REASON_CODES.index("invalid_country_code"), np.int8)
    risk_start = np.zeros(1000, np.int32)
    rows: list[list[int]] = [[SAFE] * 10, [RISKY] * 10]
    ends: list[bool] = [False, True]
    for cc in sorted(COUNTRY_CODES):
        possible[cc] = _possible_row(cc)
        md = metadata_for(cc, phonenumbers.region_code_for_country_code(cc))
        pattern = md.national_prefix_for_parsing
        if not pattern:
            continue
        dfa = determinise([PatternSpec(pattern, 0, prefix=True, end_anchor_id=1)])
        live = {s for s, m in enumerate(dfa.masks) if m}  # co-reachability of any accepting state
        changed = True
        while changed:
            changed = False
            for s, row in enumerate(dfa.trans):
                if s not in live and any(t in live for t in row):
                    live.add(s)
                    changed = True
        ids: dict[int, int] = {}
        kept: list[int] = []
        for s, m in enumerate(dfa.masks):
            if m & 1:
                ids[s] = RISKY
            elif s in live:
                ids[s] = len(ends) + len(kept)
                kept.append(s)
        for s in kept:
            rows.append([ids.get(t, SAFE) for t in dfa.trans[s]])
            ends.append(bool(dfa.masks[s] & 2))
        risk_start[cc] = ids.get(0, SAFE)
    return ParseTables(possible, risk_start, np.array(rows, np.int32).ravel(), np.array(ends, np.bool_))


_tables: ParseTables | None = None
_lock = threading.Lock()


def parse_tables() -> ParseTables:
    """The fast-path tables for all country codes (built once, on first use)."""
    global _tables
    if _tables is None:
        with _lock:
            if _tables is None:
                _tables = _build()
    return _tables
