"""The hotlists in force at one moment, in the shape the rules engine asks for (``ringfence.rules.hotlist``).

A snapshot holds the service's immutable matcher and entry table of that moment, so a rules run sees one consistent
set of entries even while a new version is being swapped in.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from ringfence.hotlists.inforce import InForce
from ringfence.hotlists.matcher import RangeMatcher
from ringfence.hotlists.models import Hotlist

__all__ = ["HotlistSnapshot"]


class HotlistSnapshot:
    """Which entry covers each number (most specific first), and what an entry is, in words."""

    __slots__ = ("_entries", "_lists", "_matcher")

    def __init__(self, matcher: RangeMatcher, entries: InForce, lists: Mapping[int, Hotlist]) -> None:
        self._matcher = matcher
        self._entries = entries
        self._lists = lists

    def __len__(self) -> int:
        return len(self._entries)

    def longest_many(self, numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The id of the most specific entry covering each number, -1 for none."""
        return self._matcher.longest_many(numbers)

    def describe(self, entry_id: int) -> str:
        """``"+3725521?? (list vendor-a)"``: the entry's pattern and its list."""
        entry = self._entries.entry(entry_id)
        hotlist = self._lists.get(entry.hotlist_id)
        return f"{entry.pattern} (list {hotlist.name if hotlist else entry.hotlist_id})"
