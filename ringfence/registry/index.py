"""In-memory index of the consortium fraud-number registry.

Every member lookup ("is this number listed, since when, how often, by how many members") is answered from a
:class:`ListingIndex`, never from SQL per request. It is loaded from the store at start-up and updated on every write.

Design
------
* **Dense rows, column views.** Listings live in one packed numpy structured array of 44-byte rows (``number``,
  ``first_ms``, ``last_ms`` int64; ``report_count``, ``reporter_count``, ``categories``, ``weight``, ``flags``
  uint32) indexed by a *slot*
  ``0 .. len-1``; its fields are the numpy column views the vectorised paths use. A row store keeps one listing in
  one or two cache lines, which halves the cost of a single lookup compared with six separate columns. It grows
  geometrically (x1.5, or exactly to the size a bulk load needs). Removal moves the last row into the hole, so the
  live listings are always ``[0, len)`` and bulk operations are plain slices.
* **Hash table.** An open-addressing table of int32 slots (``-1`` = empty), power-of-two sized, load factor at most
  0.375, linear probing. Keys are not duplicated in the table: a probe compares the row's ``number``. That keeps the
  table at 11-22 bytes per listing, so 1,000,000 listings take at most about 88 MB (44 MB of rows when loaded in bulk,
  up to 66 MB after x1.5 growth, plus 11-22 MB of table); a bulk load of 1M takes 61 MB. Deletion uses backward
  shifting, so there are no tombstones and probe chains never degrade under churn; growth rehashes into a bigger
  table.
* **Hash.** Phone numbers are far from random (shared prefixes, runs of consecutive numbers), so the home bucket is
  ``((n ^ (n >> 29)) * 0x9E3779B97F4A7C15 mod 2**64) >> (64 - bits)``: an xor-shift then Fibonacci multiply-shift,
  taking the well-mixed top bits. It is one big-int multiply in plain Python and a few ufuncs in numpy.
* **Two access paths over the same bytes.** The single-number paths (:meth:`get`, :meth:`put`, :meth:`remove`) use
  ``memoryview`` scalar access to the table and ``struct`` (un)packing of a whole row at once (no numpy scalars);
  the bulk paths (:meth:`put_many`, :meth:`lookup_many`, :meth:`snapshot`) are vectorised numpy over whole arrays
  of numbers, probing all of them in lock-step and retiring each one as it hits or reaches an empty bucket.

Thread safety
-------------
One ``threading.Lock`` guards all state, and *readers take it too*. Writes come from worker threads while the
event-loop thread reads; the lock is almost always uncontended and costs about 0.12 us of a ~0.7-1 us lookup, and it
makes every read see either the whole old or the whole new listing, and never a table mid-rehash or mid-shift. A
bulk load holds the lock for its duration (under a second per million rows), so readers wait rather than see a
partial load. ``len()`` reads a single int and needs no lock.
"""

from __future__ import annotations

import struct
import threading
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ringfence.errors import InvalidInput, InvalidNumber

__all__ = ["Listing", "ListingIndex", "LookupResult"]

MAX_NUMBER = 999_999_999_999_999  # E.164: at most 15 digits
_U32_MAX = 0xFFFFFFFF
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_I32_MAX = 2**31 - 1
_M64 = 0xFFFFFFFFFFFFFFFF
_GOLDEN = 0x9E3779B97F4A7C15
_EMPTY = -1
_MAX_LOAD = 0.375
_REMOVE_ONE_BY_ONE = 256  # up to this many, remove_many deletes one by one; beyond, it rebuilds
_tuple_new = tuple.__new__

# Column name -> dtype, in Listing field order.
_COLUMNS: dict[str, str] = {
    "number": "<i8",
    "first_ms": "<i8",
    "last_ms": "<i8",
    "report_count": "<u4",
    "reporter_count": "<u4",
    "categories": "<u4",
    "weight": "<u4",
    "flags": "<u4",
}
_VALUE_COLUMNS = tuple(_COLUMNS)[1:]
_ROW_DTYPE = np.dtype(list(_COLUMNS.items()))  # packed: 44 bytes, no padding
_ROW = struct.Struct("<qqqIIIII")
_NUM = struct.Struct("<q")
_ROW_SIZE = _ROW.size
_unpack_row = _ROW.unpack_from
assert _ROW_DTYPE.itemsize == _ROW_SIZE

I64Array = npt.NDArray[np.int64]
U32Array = npt.NDArray[np.uint32]


class Listing(NamedTuple):
    """Aggregates of one listed number (``number`` is the int of its E.164 digits, without '+').

    ``weight`` is the sum of its distinct reporters' reputations in thousandths (1000 per reporter of standing
    reputation, see :mod:`ringfence.registry.reputation`); ``flags`` are :data:`ringfence.registry.models.FLAGS` bits
    (pinned, disputed, ported). Both feed the listing's score (:mod:`ringfence.registry.scoring`).
    """

    number: int
    first_ms: int
    last_ms: int
    report_count: int
    reporter_count: int
    categories: int
    weight: int
    flags: int


class LookupResult(NamedTuple):
    """Result of :meth:`ListingIndex.lookup_many`: arrays in input order, zeros where ``found`` is False."""

    found: npt.NDArray[np.bool_]
    first_ms: I64Array
    last_ms: I64Array
    report_count: U32Array
    reporter_count: U32Array
    categories: U32Array
    weight: U32Array
    flags: U32Array


def _table_bits(listings: int) -> int:
    """Smallest table size (as a power of two, at least 8) holding ``listings`` at load factor <= _MAX_LOAD."""
    bits = 3
    while (1 << bits) * _MAX_LOAD < listings:
        bits += 1
    return bits


def _check_int(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInput(f"{name} must be an int, not {type(value).__name__}", details={"field": name})
    if not low <= value <= high:
        raise InvalidInput(f"{name}={value} is outside [{low}, {high}]", details={"field": name, "value": int(value)})


def _check_number(number: int) -> None:
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
        raise InvalidNumber(number, "not_an_int", "numbers are ints of their E.164 digits")
    if not 0 < number <= MAX_NUMBER:
        raise InvalidNumber(number, "out_of_range", "an E.164 number has 1 to 15 digits and is > 0")


def _as_int_array(name: str, values: Any, low: int, high: int) -> npt.NDArray[np.integer[Any]]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional", details={"field": name})
    if arr.size and arr.dtype.kind not in "iu":
        raise InvalidInput(f"{name} must hold integers, not {arr.dtype}", details={"field": name})
    if arr.size and (int(arr.min()) < low or int(arr.max()) > high):
        raise InvalidInput(f"{name} has values outside [{low}, {high}]", details={"field": name})
    return arr


class ListingIndex:
    """Open-addressing hash index ``number -> Listing`` over dense packed rows; see the module docstring.

    ``capacity`` is the number of listings to make room for up front; the index grows past it as needed.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._lock = threading.Lock()
        self._len = 0
        self._rows: npt.NDArray[np.void] = np.zeros(0, dtype=_ROW_DTYPE)
        self._alloc_columns(max(int(capacity), 1))
        self._set_table(np.full(1 << _table_bits(capacity), _EMPTY, dtype=np.int32))

    # ---------------------------------------------------------------- storage management (lock held)

    def _alloc_columns(self, cap: int) -> None:
        """(Re)allocate the rows with room for ``cap`` listings, keeping the live ones."""
        n = self._len
        rows = np.zeros(cap, dtype=_ROW_DTYPE)
        rows[:n] = self._rows[:n]
        self._rows = rows
        self._buf = rows.view(np.uint8).data  # the same bytes, for struct access on the scalar paths
        self._cols: dict[str, npt.NDArray[Any]] = {name: rows[name] for name in _COLUMNS}  # strided views
        self._cap = cap

    def _set_table(self, table: npt.NDArray[np.int32]) -> None:
        self._table = table
        self._mv_table = table.data
        self._mask = len(table) - 1
        self._shift = 64 - (len(table).bit_length() - 1)

    def _reserve(self, total: int) -> None:
        """Make room for ``total`` listings: grow the rows (x1.5 or to fit) and rehash into a bigger table."""
        if total > _I32_MAX:
            raise InvalidInput(f"the index holds at most {_I32_MAX} listings", details={"field": "numbers"})
        if total > self._cap:
            self._alloc_columns(max(total, self._cap + self._cap // 2))
        bits = _table_bits(total)
        if (1 << bits) > len(self._table):
            self._set_table(np.full(1 << bits, _EMPTY, dtype=np.int32))
            n = self._len
            self._insert_absent(self._cols["number"][:n], np.arange(n, dtype=np.int32))

    def _home(self, number: int) -> int:
        return (((number ^ (number >> 29)) * _GOLDEN) & _M64) >> self._shift

    def _home_many(self, numbers: I64Array) -> I64Array:
        x = numbers.astype(np.uint64)
        x ^= x >> np.uint64(29)
        x *= np.uint64(_GOLDEN)
        x >>= np.uint64(self._shift)
        return x.astype(np.int64)

    def _find(self, number: int) -> tuple[int, int]:
        """Return ``(table position, slot)``; slot is -1 and position the empty bucket if ``number`` is absent."""
        table, buf, num_at, mask = self._mv_table, self._buf, _NUM.unpack_from, self._mask
        i = self._home(number)
        while True:
            s: int = table[i]
            if s < 0 or num_at(buf, s * _ROW_SIZE)[0] == number:
                return i, s
            i = (i + 1) & mask

    def _find_many(self, numbers: I64Array) -> I64Array:
        """Vectorised probe: the slot of each number, or -1 where absent."""
        table, nums, mask = self._table, self._cols["number"], self._mask
        out = np.full(len(numbers), -1, dtype=np.int64)
        idx = np.arange(len(numbers))
        pos = self._home_many(numbers)
        keys = numbers
        while idx.size:
            s = table[pos]
            empty = s < 0
            hit = nums[np.where(empty, 0, s)] == keys
            hit &= ~empty
            out[idx[hit]] = s[hit]
            go_on = ~(empty | hit)
            idx, keys, pos = idx[go_on], keys[go_on], (pos[go_on] + 1) & mask
        return out

    def _insert_absent(self, numbers: npt.NDArray[np.integer[Any]], slots: npt.NDArray[np.int32]) -> None:
        """Vectorised insert of distinct numbers known to be absent: each takes the first empty bucket it probes.

        Where several numbers reach the same empty bucket in one round, one of them wins it and the others probe on.
        """
        table, mask = self._table, self._mask
        pos = self._home_many(numbers.astype(np.int64, copy=False))
        while slots.size:
            free = table[pos] < 0
            fpos, fslots = pos[free], slots[free]
            table[fpos] = fslots
            placed = np.zeros(len(slots), dtype=bool)
            placed[free] = table[fpos] == fslots
            left = ~placed
            slots, pos = slots[left], (pos[left] + 1) & mask

    # ---------------------------------------------------------------- reads

    def get(self, number: int) -> Listing | None:
        """The listing of ``number``, or None. Plain-Python scalar path (inlined probe), under the lock."""
        with self._lock:
            table, buf, mask = self._mv_table, self._buf, self._mask
            i = (((number ^ (number >> 29)) * _GOLDEN) & _M64) >> self._shift
            while True:
                s = table[i]
                if s < 0:
                    return None
                row = _unpack_row(buf, s * _ROW_SIZE)
                if row[0] == number:
                    return _tuple_new(Listing, row)  # NamedTuple without its __new__
                i = (i + 1) & mask

    def __contains__(self, number: object) -> bool:
        if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
            return False
        number = int(number)
        with self._lock:
            return self._find(number)[1] >= 0

    def __len__(self) -> int:
        return self._len

    def lookup_many(self, numbers: npt.ArrayLike) -> LookupResult:
        """Vectorised lookup of a 1-D integer array; results in input order, zeros where not found."""
        arr = np.asarray(numbers)
        if arr.ndim != 1:
            raise InvalidInput("numbers must be one-dimensional", details={"field": "numbers"})
        if arr.size and arr.dtype.kind not in "iu":
            raise InvalidInput(f"numbers must hold integers, not {arr.dtype}", details={"field": "numbers"})
        if arr.dtype.kind == "u" and arr.size and int(arr.max()) > _I64_MAX:
            arr = np.where(arr > MAX_NUMBER, 0, arr)  # cannot be listed; avoid int64 wrap-around
        keys = arr.astype(np.int64, copy=False)
        with self._lock:
            slots = self._find_many(keys)
            found = slots >= 0
            safe = np.where(found, slots, 0)
            cols = [self._cols[name][safe] for name in _VALUE_COLUMNS]  # column gathers: measured faster than rows
        if not found.all():
            for col in cols:
                col[~found] = 0
        return LookupResult(found, *cols)

    def numbers(self) -> I64Array:
        """A copy of every listed number, in no particular order."""
        with self._lock:
            numbers: I64Array = self._cols["number"][: self._len].astype(np.int64)
        return numbers

    def snapshot(self, *, ordered: bool = True) -> dict[str, npt.NDArray[np.integer[Any]]]:
        """Copies of all listings as columns, sorted by number (``ordered=False``: in slot order, without the
        sort, for scans that do not care)."""
        with self._lock:
            n = self._len
            rows = self._rows[:n][np.argsort(self._cols["number"][:n], kind="stable")] if ordered else self._rows[:n]
            columns = {name: rows[name].astype(dt[1:]) for name, dt in _COLUMNS.items()}  # copies, under the lock
        return columns

    @property
    def nbytes(self) -> int:
        """Bytes held by the hash table and the rows (spare capacity included)."""
        with self._lock:
            return int(self._table.nbytes) + int(self._rows.nbytes)

    # ---------------------------------------------------------------- writes

    def put(self, listing: Listing) -> None:
        """Insert or replace one listing."""
        number, first_ms, last_ms, reports, reporters, categories, weight, flags = listing
        _check_number(number)
        number = int(number)
        _check_int("first_ms", first_ms, _I64_MIN, _I64_MAX)
        _check_int("last_ms", last_ms, _I64_MIN, _I64_MAX)
        _check_int("report_count", reports, 0, _U32_MAX)
        _check_int("reporter_count", reporters, 0, _U32_MAX)
        _check_int("categories", categories, 0, _U32_MAX)
        _check_int("weight", weight, 0, _U32_MAX)
        _check_int("flags", flags, 0, _U32_MAX)
        with self._lock:
            pos, s = self._find(number)
            if s < 0:
                if self._len + 1 > self._cap or (self._len + 1) > len(self._table) * _MAX_LOAD:
                    self._reserve(self._len + 1)
                    pos, s = self._find(number)
                s = self._len
            row = (number, *(int(v) for v in listing[1:]))
            _ROW.pack_into(self._buf, s * _ROW_SIZE, *row)
            if s == self._len:
                self._mv_table[pos] = s
                self._len += 1

    def put_many(
        self,
        numbers: npt.ArrayLike,
        first_ms: npt.ArrayLike,
        last_ms: npt.ArrayLike,
        report_count: npt.ArrayLike,
        reporter_count: npt.ArrayLike,
        categories: npt.ArrayLike,
        weight: npt.ArrayLike,
        flags: npt.ArrayLike,
    ) -> None:
        """Vectorised insert-or-replace of equal-length 1-D integer arrays; the last row wins for a repeated number."""
        nums = _as_int_array("numbers", numbers, 1, MAX_NUMBER)
        values = [
            _as_int_array("first_ms", first_ms, _I64_MIN, _I64_MAX),
            _as_int_array("last_ms", last_ms, _I64_MIN, _I64_MAX),
            _as_int_array("report_count", report_count, 0, _U32_MAX),
            _as_int_array("reporter_count", reporter_count, 0, _U32_MAX),
            _as_int_array("categories", categories, 0, _U32_MAX),
            _as_int_array("weight", weight, 0, _U32_MAX),
            _as_int_array("flags", flags, 0, _U32_MAX),
        ]
        n = len(nums)
        if any(len(v) != n for v in values):
            raise InvalidInput("put_many columns must all have the same length", details={"field": "numbers"})
        if n == 0:
            return
        keys = nums.astype(np.int64, copy=False)
        # Keep the last occurrence of each number: unique over the reversed array returns first indices there.
        uniq, rev_first = np.unique(keys[::-1], return_index=True)
        if len(uniq) < n:
            rows = n - 1 - rev_first
            keys = uniq
            values = [v[rows] for v in values]
        with self._lock:
            slots = self._find_many(keys)
            old = slots >= 0
            if old.any():
                at = slots[old]
                for name, v in zip(_VALUE_COLUMNS, values, strict=True):
                    self._cols[name][at] = v[old]
            new = ~old
            added = int(np.count_nonzero(new))
            if not added:
                return
            start = self._len
            self._reserve(start + added)
            stop = start + added
            self._cols["number"][start:stop] = keys[new]
            for name, v in zip(_VALUE_COLUMNS, values, strict=True):
                self._cols[name][start:stop] = v[new]
            self._insert_absent(keys[new], np.arange(start, stop, dtype=np.int32))
            self._len = stop

    def remove(self, number: int) -> bool:
        """Delete ``number``; True if it was listed. Backward-shift deletion, then the last slot fills the hole."""
        if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
            return False
        number = int(number)
        with self._lock:
            pos, s = self._find(number)
            if s < 0:
                return False
            table, buf, mask = self._mv_table, self._buf, self._mask
            # Backward shift: pull later entries of the cluster into the hole when their home allows it.
            hole, j = pos, pos
            while True:
                j = (j + 1) & mask
                t = table[j]
                if t < 0:
                    break
                home = self._home(_NUM.unpack_from(buf, t * _ROW_SIZE)[0])
                # Entry at j may move to hole iff its home is not cyclically within (hole, j].
                if (home <= hole < j) or (j < home <= hole) or (hole < j < home):
                    table[hole] = t
                    hole = j
            table[hole] = _EMPTY
            last = self._len - 1
            if s != last:
                moved = _NUM.unpack_from(buf, last * _ROW_SIZE)[0]
                buf[s * _ROW_SIZE : (s + 1) * _ROW_SIZE] = buf[last * _ROW_SIZE : (last + 1) * _ROW_SIZE]
                # The moved number is still at `last` too, so the probe stops at its own bucket (it holds `last`).
                table[self._find(moved)[0]] = s
            self._len = last
            return True

    def remove_many(self, numbers: npt.ArrayLike) -> int:
        """Delete every listed number of ``numbers``; returns how many were listed.

        A few go one by one (:meth:`remove`); many (an expiry sweep, an owner-change import) compact the rows and
        rebuild the table in one vectorised pass, which for a million removals takes well under a second.
        """
        arr = np.unique(np.asarray(numbers, dtype=np.int64))
        if len(arr) <= _REMOVE_ONE_BY_ONE:
            return sum(self.remove(n) for n in arr.tolist())
        with self._lock:
            slots = self._find_many(arr)
            slots = slots[slots >= 0]
            if not slots.size:
                return 0
            keep = np.ones(self._len, dtype=bool)
            keep[slots] = False
            live = self._rows[: self._len][keep]  # a copy
            n = len(live)
            self._rows[:n] = live
            self._len = n
            self._table.fill(_EMPTY)
            self._insert_absent(self._cols["number"][:n], np.arange(n, dtype=np.int32))
            return int(slots.size)
