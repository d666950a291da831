"""Call records for the monitoring tests, in the canonical ``ringfence`` CSV layout."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

__all__ = ["HEADER", "at", "csv_of", "row"]

HEADER = "start,caller,called,duration_s,answered,direction,subscriber,route,cost"
T0_MS = 1_790_000_000_000  # conftest START_MS: 2026-09-21T14:13:20Z


def at(offset_s: float) -> str:
    """ISO 8601 UTC text of T0 + offset."""
    moment = datetime.fromtimestamp(T0_MS / 1000 + offset_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def row(
    offset_s: float,
    caller: str,
    called: str,
    duration_s: float = 60,
    *,
    answered: bool = True,
    direction: str = "outgoing",
    subscriber: str = "",
    route: str = "T1",
) -> str:
    return (
        f"{at(offset_s)},{caller},{called},{duration_s},{str(answered).lower()},{direction},{subscriber},{route},0.10"
    )


def csv_of(rows: Sequence[str]) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()
