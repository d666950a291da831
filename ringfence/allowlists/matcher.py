"""The never-list in memory: which entry covers a number, for one number and for a batch.

An exact number entry wins, then the longest prefix entry, then the numbering plan (emergency numbers and short
codes, :mod:`ringfence.allowlists.shortcodes`). A :class:`NeverIndex` is built once per change of the never-list
and never modified, so readers use it without a lock while a writer builds the next one.

The batch path is numpy throughout: exact entries are one sorted array searched with ``searchsorted``; prefix
entries are grouped by length, and a number is cut to a group's length by integer division
(``number // 10**(digits - length)``) before the same search; groups are tried longest first, each only for the
numbers still unmatched. 10,000 numbers take a few tens of microseconds plus a few per prefix length in use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ringfence.allowlists.models import EntryKind, NeverEntry, PatternType, Protection, Source
from ringfence.allowlists.shortcodes import KINDS, short_kind, short_kinds
from ringfence.numbers import format_e164
from ringfence.numbers.lookup import POW10

__all__ = ["NeverIndex", "covered", "plan_protection"]

_EMPTY_KEYS = np.zeros(0, np.int64)
_EMPTY_IDX = np.zeros(0, np.int32)
_NOTES = {
    EntryKind.EMERGENCY: "an emergency number",
    EntryKind.SHORT_CODE: "a network short code",
    EntryKind.SERVICE: "a toll-free service number",
}


def plan_protection(number: int, kind: EntryKind) -> Protection:
    """The protection the numbering plan gives ``number`` (no never-list entry: ``entry_id`` is None)."""
    return Protection(kind, format_e164(number), Source.CONSORTIUM, f"{_NOTES[kind]} in the numbering plan")


def _plan_kind(code: int) -> EntryKind:
    kind = KINDS[code]
    assert kind is not None
    return kind


def _digits(numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """How many decimal digits each positive number has (0 for zero and negatives)."""
    return np.searchsorted(POW10, numbers, side="right").astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Group:
    """The prefix entries of one length: sorted prefixes and, for each, its position in the index's protections."""

    length: int
    keys: npt.NDArray[np.int64]
    idx: npt.NDArray[np.int32]
    by_key: dict[int, int]


class NeverIndex:
    """An immutable lookup structure over never-list entries."""

    def __init__(self, entries: Iterable[NeverEntry]) -> None:
        self.entries: tuple[NeverEntry, ...] = tuple(sorted(entries, key=lambda e: e.id))
        self.protections: tuple[Protection, ...] = tuple(e.protection() for e in self.entries)
        exact = [(e.value, i) for i, e in enumerate(self.entries) if e.pattern is PatternType.NUMBER]
        self._exact: dict[int, int] = dict(exact)
        exact.sort()
        self._exact_keys = np.array([v for v, _ in exact], np.int64) if exact else _EMPTY_KEYS
        self._exact_idx = np.array([i for _, i in exact], np.int32) if exact else _EMPTY_IDX
        by_length: dict[int, list[tuple[int, int]]] = {}
        for i, e in enumerate(self.entries):
            if e.pattern is PatternType.PREFIX:
                by_length.setdefault(e.prefix_len, []).append((e.value, i))
        self._groups: tuple[_Group, ...] = tuple(
            _Group(
                length,
                np.array([v for v, _ in sorted(rows)], np.int64),
                np.array([i for _, i in sorted(rows)], np.int32),
                dict(rows),
            )
            for length, rows in sorted(by_length.items(), reverse=True)  # longest first
        )

    def __len__(self) -> int:
        return len(self.entries)

    def _find(self, number: int) -> int:
        """The position of the entry covering ``number``: its exact entry, else its longest prefix entry; -1: none."""
        i = self._exact.get(number)
        if i is not None:
            return i
        if self._groups:
            digits = len(str(number))
            for group in self._groups:
                if digits >= group.length:
                    i = group.by_key.get(number // 10 ** (digits - group.length))
                    if i is not None:
                        return i
        return -1

    def entry_for(self, number: int) -> NeverEntry | None:
        """The never-list entry covering ``number`` (exact entry first, then the longest prefix), or None."""
        i = self._find(number)
        return None if i < 0 else self.entries[i]

    def protected(self, number: int) -> Protection | None:
        """The entry covering ``number``, else what the numbering plan says of it, else None."""
        i = self._find(number)
        if i >= 0:
            return self.protections[i]
        kind = short_kind(number)
        return None if kind is None else plan_protection(number, kind)

    def protected_many(self, numbers: npt.ArrayLike) -> tuple[npt.NDArray[np.int32], list[Protection]]:
        """:meth:`protected` of every number: an index into the returned list of protections per number (-1: none).

        The list holds only the protections the batch needs, each once.
        """
        nums = np.asarray(numbers, dtype=np.int64).ravel()
        out = np.full(nums.shape[0], -1, np.int32)
        if nums.shape[0] == 0:
            return out, []
        if self._exact_keys.shape[0]:
            self._search(self._exact_keys, self._exact_idx, nums, out, None)
        if self._groups:
            digits = _digits(nums)
            for group in self._groups:
                todo = np.flatnonzero((out < 0) & (digits >= group.length))
                if todo.shape[0] == 0:
                    continue
                cut = nums[todo] // POW10[digits[todo] - group.length]
                self._search(group.keys, group.idx, cut, out, todo)
        base = len(self.protections)
        unmatched = np.flatnonzero(out < 0)
        extra: list[Protection] = []
        if unmatched.shape[0]:
            kinds = short_kinds(nums[unmatched])
            seen: dict[int, int] = {}
            for position in np.flatnonzero(kinds).tolist():
                row = int(unmatched[position])
                number = int(nums[row])
                slot = seen.get(number)
                if slot is None:
                    slot = seen[number] = base + len(extra)
                    extra.append(plan_protection(number, _plan_kind(int(kinds[position]))))
                out[row] = slot
        return self._compact(out, extra)

    @staticmethod
    def _search(
        keys: npt.NDArray[np.int64],
        idx: npt.NDArray[np.int32],
        values: npt.NDArray[np.int64],
        out: npt.NDArray[np.int32],
        rows: npt.NDArray[np.intp] | None,
    ) -> None:
        """Where ``values`` are in sorted ``keys``, put their ``idx`` into ``out`` (at ``rows``, or in order)."""
        pos = np.searchsorted(keys, values)
        np.minimum(pos, keys.shape[0] - 1, out=pos)
        found = keys[pos] == values
        if not found.any():
            return
        if rows is None:
            out[found] = idx[pos[found]]
        else:
            out[rows[found]] = idx[pos[found]]

    def _compact(
        self, out: npt.NDArray[np.int32], extra: list[Protection]
    ) -> tuple[npt.NDArray[np.int32], list[Protection]]:
        hit = out >= 0
        if not hit.any():
            return out, []
        used, inverse = np.unique(out[hit], return_inverse=True)
        out[hit] = inverse.astype(np.int32)
        base = len(self.protections)
        chosen = [self.protections[u] if u < base else extra[u - base] for u in used.tolist()]
        return out, chosen


def covered(pattern: PatternType, value: int, length: int, numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The numbers among ``numbers`` that a never-list pattern covers (for a number: itself, when present)."""
    nums: npt.NDArray[np.int64] = np.asarray(numbers, dtype=np.int64).ravel()
    if pattern is PatternType.NUMBER:
        found: npt.NDArray[np.int64] = nums[nums == value]
        return found
    digits = _digits(nums)
    eligible = np.flatnonzero(digits >= length)
    cut = nums[eligible] // POW10[digits[eligible] - length]
    inside: npt.NDArray[np.int64] = nums[eligible[cut == value]]
    return inside
