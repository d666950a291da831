"""Members' private allow and deny lists in memory: one number for a call, or a whole batch, answered without SQL.

Each member's list is a dict (number → list code) for single numbers, and, built on the first batch after a change,
a sorted array of its numbers with their codes for ``searchsorted``. A write changes the dict under the list's lock
and drops the arrays; a reader of one number needs no lock (a dict read is atomic in CPython).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from ringfence.allowlists.models import LIST_CODES, ListKind, MemberEntry

__all__ = ["CODE_LISTS", "MemberLists"]

#: A list code (as :meth:`MemberLists.code` answers) → the list; 0 is "on neither".
CODE_LISTS: dict[int, ListKind] = {code: kind for kind, code in LIST_CODES.items()}


class _List:
    """One member's list."""

    def __init__(self) -> None:
        self.entries: dict[int, MemberEntry] = {}
        self.codes: dict[int, int] = {}
        self.arrays: tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]] | None = None
        self.lock = threading.Lock()

    def put(self, entry: MemberEntry) -> None:
        with self.lock:
            self.entries[entry.number] = entry
            self.codes[entry.number] = LIST_CODES[entry.list]
            self.arrays = None

    def remove(self, number: int) -> None:
        with self.lock:
            self.entries.pop(number, None)
            self.codes.pop(number, None)
            self.arrays = None

    def sorted_arrays(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
        arrays = self.arrays
        if arrays is None:
            with self.lock:
                arrays = self.arrays
                if arrays is None:
                    numbers = np.fromiter(self.codes.keys(), np.int64, len(self.codes))
                    codes = np.fromiter(self.codes.values(), np.int8, len(self.codes))
                    order = np.argsort(numbers)
                    arrays = self.arrays = (numbers[order], codes[order])
        return arrays


class MemberLists:
    """Every member's private list."""

    def __init__(self, entries: Iterable[MemberEntry] = ()) -> None:
        self._lists: dict[int, _List] = {}
        for entry in entries:
            self.put(entry)

    def put(self, entry: MemberEntry) -> None:
        found = self._lists.get(entry.member_id)
        if found is None:
            found = self._lists.setdefault(entry.member_id, _List())
        found.put(entry)

    def remove(self, member_id: int, number: int) -> None:
        found = self._lists.get(member_id)
        if found is not None:
            found.remove(number)

    def entry(self, member_id: int, number: int) -> MemberEntry | None:
        found = self._lists.get(member_id)
        return None if found is None else found.entries.get(number)

    def entries(self, member_id: int) -> list[MemberEntry]:
        """A member's entries, by number."""
        found = self._lists.get(member_id)
        if found is None:
            return []
        with found.lock:
            return sorted(found.entries.values(), key=lambda e: e.number)

    def count(self, member_id: int) -> int:
        found = self._lists.get(member_id)
        return 0 if found is None else len(found.codes)

    def code(self, member_id: int, number: int) -> int:
        """1 (allow), 2 (deny) or 0 (neither) for one number of one member's list."""
        found = self._lists.get(member_id)
        return 0 if found is None else found.codes.get(number, 0)

    def codes(self, member_id: int, numbers: npt.ArrayLike) -> npt.NDArray[np.int8]:
        """:meth:`code` of every number (int8: 0 neither, 1 allow, 2 deny)."""
        nums = np.asarray(numbers, dtype=np.int64).ravel()
        out = np.zeros(nums.shape[0], np.int8)
        found = self._lists.get(member_id)
        if found is None or not found.codes or nums.shape[0] == 0:
            return out
        keys, codes = found.sorted_arrays()
        if keys.shape[0] == 0:
            return out
        pos = np.searchsorted(keys, nums)
        np.minimum(pos, keys.shape[0] - 1, out=pos)
        hit = keys[pos] == nums
        out[hit] = codes[pos[hit]]
        return out
