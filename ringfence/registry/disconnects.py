"""Owner-change signals: a feed of disconnected, reassigned and ported numbers (the FCC Reassigned Numbers Database's
shape: a number and the date it was permanently disconnected).

A disconnection is decisive: a report made before it was about the previous subscriber, so reports that occurred
before the date stop standing (reason ``owner_change``); the listing is removed when none is left, and reports made
after the date stand. A port is weaker (the same subscriber may have moved carrier, or the number may have changed
hands through the port): when it happened after the listing's last report the listing is flagged *ported*, which
halves its score (:mod:`ringfence.registry.scoring`); a new report clears the flag.

Feeds list millions of numbers of which few are listed, so :func:`plan_disconnects` first looks all of a chunk up in
the in-memory index at once and only the listed ones reach the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ringfence.registry.index import ListingIndex
from ringfence.registry.models import FLAG_PORTED

__all__ = ["KINDS", "Disconnect", "DisconnectOutcome", "Plan", "plan_disconnects"]

KINDS = ("disconnect", "port")


class Disconnect(NamedTuple):
    number: int  # E.164 digits
    at_ms: int  # when the number was disconnected (or ported)
    kind: str  # "disconnect" or "port"


@dataclass(slots=True)
class DisconnectOutcome:
    rows: int = 0  # rows applied
    listed: int = 0  # of which named a listed number
    removed: int = 0  # listings removed: every report predated the disconnection
    updated: int = 0  # listings that stand on later reports, rebuilt without the earlier ones
    ported: int = 0  # listings newly flagged as ported

    def add(self, other: DisconnectOutcome) -> None:
        self.rows += other.rows
        self.listed += other.listed
        self.removed += other.removed
        self.updated += other.updated
        self.ported += other.ported


@dataclass(slots=True)
class Plan:
    listed: int = 0
    disconnects: list[tuple[int, int | None]] = field(default_factory=list)  # (number, retire reports before)
    ports: list[int] = field(default_factory=list)


def plan_disconnects(index: ListingIndex, rows: Sequence[Disconnect]) -> Plan:
    """Which rows touch a listing: disconnections after its first report, ports after its last one.

    Several rows for one number: the latest disconnection counts (it retires the most), and the latest port."""
    plan = Plan()
    if not rows:
        return plan
    numbers = np.fromiter((r.number for r in rows), np.int64, len(rows))
    at = np.fromiter((r.at_ms for r in rows), np.int64, len(rows))
    is_port = np.fromiter((r.kind == "port" for r in rows), np.bool_, len(rows))
    found = index.lookup_many(numbers)
    plan.listed = int(np.count_nonzero(found.found))
    for ported in (False, True):
        mask = found.found & (is_port == ported)
        if not mask.any():
            continue
        nums, dates = numbers[mask], at[mask]
        order = np.lexsort((dates, nums))  # by number, then date: the last of each run is the latest
        nums, dates = nums[order], dates[order]
        last = np.r_[nums[1:] != nums[:-1], True]
        nums, dates = nums[last], dates[last]
        listing_first = index.lookup_many(nums)
        if ported:
            hit = (listing_first.last_ms < dates) & ((listing_first.flags & FLAG_PORTED) == 0)
            plan.ports.extend(nums[hit].tolist())
        else:
            hit = listing_first.first_ms < dates
            plan.disconnects.extend(zip(nums[hit].tolist(), dates[hit].tolist(), strict=True))
    return plan
