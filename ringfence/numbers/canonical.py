"""The scalar fast path of :func:`ringfence.numbers.normalise` for canonical E.164 text (``"+"`` then digits).

Most numbers arrive already canonical (from switches, from other members' systems, in URLs). For those, the same
tables as the vectorised batch path (:mod:`ringfence.numbers.prefix`) decide in plain Python, without phonenumbers:
country code by the 1-2-3 digit prefix rule, NSN length against the exact possible-length table, and the national
prefix *risk* walk. Anything the tables cannot settle (a national prefix phonenumbers might strip, any other
format) goes to the exact slow path, so the answer is always the one :func:`normalise.normalise` gives.
"""

from __future__ import annotations

from ringfence.numbers.normalise import invalid
from ringfence.numbers.normalise import normalise as normalise_exact
from ringfence.numbers.plan import COUNTRY_CODES
from ringfence.numbers.prefix import REASON_CODES, RISKY, SAFE, parse_tables

__all__ = ["normalise"]

_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN / _MAX_LENGTH_FOR_NSN
_MAX_TEXT = 20  # "+" and up to 19 digits


class _Tables:
    """The prefix tables as Python lists: list indexing beats numpy scalar indexing tenfold."""

    def __init__(self) -> None:
        tables = parse_tables()
        self.start: list[int] = tables.risk_start.tolist()
        self.trans: list[int] = tables.risk_trans.tolist()
        self.end: list[bool] = tables.risk_end.tolist()
        self.possible: list[list[int]] = tables.possible.tolist()


_tables: _Tables | None = None


def _settle(raw: str) -> int | None:
    """The E.164 value of canonical ``raw``, None when only the exact path can tell; raises for a refused one."""
    global _tables
    tables = _tables or _Tables()
    _tables = tables
    digits = raw[1:]
    if (cc := int(digits[:1])) in COUNTRY_CODES:
        cc_len = 1
    elif (cc := int(digits[:2])) in COUNTRY_CODES:
        cc_len = 2
    elif (cc := int(digits[:3])) in COUNTRY_CODES:
        cc_len = 3
    else:
        return None
    nsn_len = len(digits) - cc_len
    if not _MIN_NSN <= nsn_len <= _MAX_NSN or not digits[cc_len:].strip("0"):
        return None  # the exact path decides (and refuses an all-zero national number)
    state = tables.start[cc]
    if state > RISKY:
        trans = tables.trans
        for ch in digits[cc_len:]:
            state = trans[state * 10 + ord(ch) - 48]
            if state <= RISKY:
                break
        else:
            state = RISKY if tables.end[state] else SAFE
    if state != SAFE:
        return None
    reason = tables.possible[cc][nsn_len]
    if reason:
        raise invalid(raw, REASON_CODES[reason] or "not_a_number")
    return int(digits)


def normalise(raw: str, region: str | None = None) -> int:
    """Parse ``raw`` into E.164 digits as an int (see :func:`ringfence.numbers.normalise.normalise`)."""
    if type(raw) is str and 3 < len(raw) <= _MAX_TEXT and raw[0] == "+" and raw.isascii() and raw[1:].isdigit():
        value = _settle(raw) if raw[1] != "0" else None
        if value is not None:
            return value
    return normalise_exact(raw, region)
