"""Disconnect dates as feeds write them, turned into epoch milliseconds (UTC).

The FCC's Reassigned Numbers Database speaks in US dates (``MM/DD/YYYY``); carriers' own exports use ISO dates, with
or without dashes, sometimes with a time. All of them are read here, and only here, so a date means the same thing
in a file, a JSON body and a test. A bare date is the start of that day in UTC: a report made at any time on the
day of the disconnection is taken as made after it, which errs on the side of keeping a listing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from ringfence.errors import InvalidInput

__all__ = ["DATE_FORMATS", "EARLIEST_MS", "parse_disconnect_date"]

DATE_FORMATS: Final = "YYYY-MM-DD, YYYYMMDD, MM/DD/YYYY or ISO 8601 with a time"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)
#: Dates before this are refused: no number was disconnected before the epoch the store counts time from.
EARLIEST_MS: Final = 0
_US_DATE: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_ISO_DATE: Final = re.compile(r"\d{4}-?\d{2}-?\d{2}", re.ASCII)


def _invalid(raw: str, why: str, code: str = "invalid_date") -> InvalidInput:
    return InvalidInput(f"disconnect date {raw!r} {why}", code=code, details={"field": "disconnect_date", "input": raw})


def parse_disconnect_date(raw: str, *, now_ms: int, future_skew_ms: int) -> int:
    """``raw`` (see :data:`DATE_FORMATS`) as epoch milliseconds; a bare date is 00:00 UTC, a time without an offset
    is UTC. Refused (``invalid_date``) when unreadable or before 1970, and (``date_in_future``) when it lies further
    in the future than ``future_skew_ms``: a disconnection that has not happened must not remove anything."""
    text = raw.strip()
    us = _US_DATE.fullmatch(text)
    try:
        if us is not None:
            moment = datetime(int(us[3]), int(us[1]), int(us[2]), tzinfo=UTC)
        elif text.isascii() and (_ISO_DATE.fullmatch(text) or len(text) > 10):
            moment = datetime.fromisoformat(text)
        else:
            raise ValueError(text)
    except ValueError:
        raise _invalid(raw, f"is not a date ({DATE_FORMATS})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = (moment - _EPOCH) // _MS
    if ms < EARLIEST_MS:
        raise _invalid(raw, "lies before 1970")
    if ms > now_ms + future_skew_ms:
        raise _invalid(raw, "lies in the future", "date_in_future")
    return ms
