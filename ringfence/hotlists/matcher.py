"""The hotlist range matcher: which hotlist entries cover a number, for one number and for batches of them.

An IRSF or Wangiri hotlist holds millions of entries: exact test numbers, prefixes (``+88216*``), trailing-wildcard
ranges (``+3725521??``) and the "last N digits wildcarded" ranges derived from test numbers
(:mod:`ringfence.hotlists.patterns`). Call screening asks of every number which entries cover it: the most specific
one (:meth:`RangeMatcher.longest_many`) to decide, and all of them (:meth:`RangeMatcher.all_many`) to explain. It
must answer a million numbers a second over five million entries, so the matcher is a static structure of a few
numpy arrays, built once per hotlist version and never modified: the hotlist service builds the next one aside and
swaps the reference, and readers need no lock.

Model
-----
An entry is ``(prefix, prefix_len, length)``: it covers a number of ``d`` digits when ``d >= prefix_len``, the
number's first ``prefix_len`` digits are ``prefix`` and ``length`` is 0 (any length) or ``d``. Specificity orders
the entries covering a number: the longer prefix first; at equal prefix, a fixed-length entry before an any-length
one; at equal pattern, the smaller entry id first (the same pattern may come from several sources).

Design
------
* **One key per pattern.** ``prefix * 16 + length`` (length 0 = any) is unique per pattern, since a prefix never
  starts with 0 and so its value gives its length. A number of ``d`` digits can only be covered by the keys
  ``(number // 10**(d - L)) * 16 + d`` and ``... * 16 + 0`` for the prefix lengths ``L <= d``: at most 30
  candidates, and only the (prefix length, length) pairs that some entry has are probed.
* **A bucketed hash, not sorted arrays.** Binary search over five million keys costs about a microsecond per
  probe in numpy (a cache miss per level below the cached top); a hash costs one or two. The unique keys are
  sorted by a 64-bit bijective hash (xor-shift then Fibonacci multiply, as in the registry index) and cut into
  ``2**bits >= keys`` buckets by its top bits, with int32 offsets over the buckets: a bucket is a contiguous run
  of about one key and there is no empty slot to pay for. Sorting by the full hash also puts equal keys side by
  side, so one sort does the whole build. Ids sit in key order (with per-key offsets only when some pattern has
  several ids): about 28 bytes an entry, 5,000,000 entries in about 140 MB. The build keeps its temporaries small
  (the hashes are sorted in place, computed again rather than kept, and the buckets laid out in chunks), since the
  service builds the next matcher while the current one still answers.
* **Misses are the cost, so they are filtered twice.** Most numbers screened are covered by nothing, and most
  candidate keys of a covered number miss; a miss in the hash is two cache misses in arrays of tens of MB. A head
  bitmap (1.25 MB) says which first-seven-digit heads any entry may cover, so a number in no hotlisted range is
  dismissed with one bit read and no probe. Then a fingerprint byte per bucket (the next three hash bits of its
  keys, as a set of eight) stops most remaining misses before the offsets and keys are read.
* **Batches probe level by level.** Candidate keys are made per prefix length, longest first, each with one scalar
  division of the left-aligned numbers (``number * 10**(15 - d)``, so every number of the batch is cut to a
  prefix length by the same divisor: numpy divides by a scalar several times faster than by an array).
  :meth:`RangeMatcher.longest_many` probes each level only for the numbers still unmatched (most covered numbers
  are test numbers and stop at the first level); :meth:`RangeMatcher.all_many` probes all levels in one pass and
  sorts the hits by number, stably, which keeps each number's matches most specific first.
* **The scalar path** walks the same arrays through memoryviews with plain Python ints (no numpy scalars), with
  the same filters, so both paths answer from one structure; the tests check both against a naive scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from ringfence.errors import InvalidInput
from ringfence.hotlists.patterns import MAX_DIGITS, Pattern

__all__ = ["RangeMatcher"]

I64Array = npt.NDArray[np.int64]

_MAX_NUMBER = 10**MAX_DIGITS - 1
_I64_MAX = 2**63 - 1
_I32_MAX = 2**31 - 1
_M64 = 0xFFFFFFFFFFFFFFFF
_GOLDEN = 0x9E3779B97F4A7C15
_U_GOLDEN = np.uint64(_GOLDEN)
_U29 = np.uint64(29)
#: 10**k for k = 0 .. 15; ``searchsorted(_POW10, n, "right")`` is the digit count of n (16 for >= 10**15, 0 for <= 0).
_POW10 = np.array([10**k for k in range(MAX_DIGITS + 1)], dtype=np.int64)
#: The factor that left-aligns a number of d digits to 15 (0 for counts that are no E.164 number).
_ALIGN = np.array([0] + [10 ** (MAX_DIGITS - d) for d in range(1, MAX_DIGITS + 1)] + [0], dtype=np.int64)
_NO_IDS = np.zeros(0, dtype=np.int64)
_NO_POSITIONS = np.zeros(0, dtype=np.intp)
#: The head filter looks at a number's first 7 digits (left-aligned): 10**7 bits, 1.25 MB.
_HEAD_DIGITS = 7
_HEAD_DIVISOR = 10 ** (MAX_DIGITS - _HEAD_DIGITS)
_CHUNK = 1 << 18  # keys hashed at a time when the buckets are laid out


def _hash64(keys: I64Array) -> npt.NDArray[np.uint64]:
    """The 64-bit bijective hash of non-negative int64 keys: its top bits are the bucket, the next three the
    fingerprint."""
    x = keys.view(np.uint64)
    h = x >> _U29
    h ^= x
    h *= _U_GOLDEN
    return h


def _head_bitmap(prefixes: I64Array, prefix_lens: I64Array) -> npt.NDArray[np.uint8]:
    """Bit ``h`` (little-endian within bytes) is set when some entry may cover a number whose first seven digits,
    left-aligned, are ``h``: a prefix of 7 digits or more sets the bit of its first 7, a shorter one all the heads
    it starts."""
    flags = np.zeros(10**_HEAD_DIGITS, dtype=np.bool_)
    for length in np.unique(prefix_lens).tolist():
        mine = prefixes[prefix_lens == length]
        if length >= _HEAD_DIGITS:
            flags[mine // 10 ** (length - _HEAD_DIGITS)] = True
        else:
            flags.reshape(10**length, -1)[mine] = True  # row p holds the heads that start with p
    return np.packbits(flags, bitorder="little")


def _column(name: str, values: Any, low: int, high: int) -> I64Array:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional", code="invalid_entries", details={"field": name})
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise InvalidInput(
            f"{name} must hold integers, not {arr.dtype}", code="invalid_entries", details={"field": name}
        )
    if int(arr.min()) < low or int(arr.max()) > high:
        raise InvalidInput(
            f"{name} has values outside [{low}, {high}]", code="invalid_entries", details={"field": name}
        )
    return arr.astype(np.int64, copy=False)


class _Level:
    """The probes of one prefix length in a batch: which digit counts probe its fixed-length and any-length keys."""

    __slots__ = ("any_for", "divisor", "fixed_for", "prefix_len")

    def __init__(self, prefix_len: int, lengths: set[int]) -> None:
        self.prefix_len = prefix_len
        self.divisor = 10 ** (MAX_DIGITS - prefix_len)  # left-aligned number // divisor = its first prefix_len digits
        fixed = np.zeros(MAX_DIGITS + 2, dtype=np.bool_)
        fixed[[d for d in lengths if d]] = True
        self.fixed_for = fixed if fixed.any() else None
        anyl = np.zeros(MAX_DIGITS + 2, dtype=np.bool_)
        anyl[prefix_len : MAX_DIGITS + 1] = 0 in lengths
        self.any_for = anyl if anyl.any() else None


class RangeMatcher:
    """An immutable index of hotlist entries answering which of them cover a number; see the module docstring.

    Build it with :meth:`build` (arrays) or :meth:`from_patterns`; it is never modified afterwards, so it may be
    shared between threads without a lock and replaced by building a new one.
    """

    __slots__ = (
        "_bstart",
        "_candidates",
        "_entries",
        "_fingerprints",
        "_heads",
        "_ids",
        "_keys",
        "_levels",
        "_mv_bstart",
        "_mv_fingerprints",
        "_mv_heads",
        "_mv_ids",
        "_mv_keys",
        "_mv_starts",
        "_shift",
        "_starts",
        "_u_fp_shift",
    )

    def __init__(
        self,
        keys: I64Array,
        ids: I64Array,
        starts: npt.NDArray[np.int32] | None,
        bstart: npt.NDArray[np.int32],
        shift: int,
        pairs: Iterable[tuple[int, int]],
        heads: npt.NDArray[np.uint8],
        fingerprints: npt.NDArray[np.uint8],
    ) -> None:
        """Private: use :meth:`build`. ``keys`` sorted by hash, ``bstart`` their bucket offsets, ``ids`` per key
        (``starts`` the offsets into ``ids`` when some key has several), ``pairs`` the (prefix_len, length) in use,
        ``heads`` the head filter (:func:`_head_bitmap`), ``fingerprints`` a byte per bucket."""
        for arr in (keys, ids, starts, bstart, heads, fingerprints):
            if arr is not None:
                arr.flags.writeable = False
        self._keys, self._ids, self._starts, self._bstart = keys, ids, starts, bstart
        self._entries = len(ids)
        self._shift = shift
        self._u_fp_shift = np.uint64(shift - 3)
        self._fingerprints, self._mv_fingerprints = fingerprints, fingerprints.data
        self._mv_keys, self._mv_ids, self._mv_bstart = keys.data, ids.data, bstart.data
        self._mv_starts = None if starts is None else starts.data
        self._heads, self._mv_heads = heads, heads.data
        by_len: dict[int, set[int]] = {}
        for prefix_len, length in pairs:
            by_len.setdefault(prefix_len, set()).add(length)
        self._levels = tuple(_Level(pl, by_len[pl]) for pl in sorted(by_len, reverse=True))
        # Scalar path: per digit count d, the candidates most specific first, as (divisor of the number, length).
        candidates: list[tuple[tuple[int, int], ...]] = [()]
        for d in range(1, MAX_DIGITS + 1):
            cands: list[tuple[int, int]] = []
            for pl in sorted((pl for pl in by_len if pl <= d), reverse=True):
                cands += [(10 ** (d - pl), length) for length in (d, 0) if length in by_len[pl]]
            candidates.append(tuple(cands))
        self._candidates = tuple(candidates)

    # ---------------------------------------------------------------- construction

    @classmethod
    def build(
        cls, prefixes: npt.ArrayLike, prefix_lens: npt.ArrayLike, lengths: npt.ArrayLike, ids: npt.ArrayLike
    ) -> RangeMatcher:
        """A matcher over equal-length 1-D integer arrays, one row per entry: the digits prefix, its digit count
        (1 to 15), the exact total length or 0 for any length, and the entry's id (a non-negative int64: -1 answers
        "no entry").

        Rows repeating both pattern and id count once; the same pattern under several ids is kept under each.
        Raises :class:`~ringfence.errors.InvalidInput` (``invalid_entries``) naming the first bad column.
        """
        pre = _column("prefixes", prefixes, 1, _MAX_NUMBER)
        plen = _column("prefix_lens", prefix_lens, 1, MAX_DIGITS)
        length = _column("lengths", lengths, 0, MAX_DIGITS)
        ident = _column("ids", ids, 0, _I64_MAX)
        n = len(pre)
        if not len(plen) == len(length) == len(ident) == n:
            raise InvalidInput(
                "prefixes, prefix_lens, lengths and ids must have the same length",
                code="invalid_entries",
                details={"field": "prefixes"},
            )
        if n > _I32_MAX:
            raise InvalidInput(f"a matcher holds at most {_I32_MAX} entries", code="invalid_entries")
        if n == 0:
            return cls.empty()
        if not np.array_equal(np.searchsorted(_POW10, pre, side="right"), plen):
            raise InvalidInput(
                "prefixes must have exactly prefix_lens digits", code="invalid_entries", details={"field": "prefixes"}
            )
        if not np.all((length == 0) | (length >= plen)):
            raise InvalidInput(
                "lengths must be 0 (any length) or at least prefix_lens",
                code="invalid_entries",
                details={"field": "lengths"},
            )
        codes = (plen.astype(np.uint8) << 4) | length.astype(np.uint8)  # (prefix_len, length) in one byte
        pairs = np.flatnonzero(np.bincount(codes, minlength=256)).tolist()
        del codes
        heads = _head_bitmap(pre, plen)
        keys = pre * 16
        keys += length
        del pre, plen, length
        hashed = _hash64(keys)
        # Sorted by hash: buckets contiguous, equal keys adjacent (the hash is a bijection). The plain argsort is
        # several times faster than a two-key sort; only the runs of a repeated pattern are then sorted by id.
        order = np.argsort(hashed)
        hashed.sort()  # the same as hashed[order], in place
        same_key = hashed[1:] == hashed[:-1]
        if same_key.any():
            member = np.zeros(n, dtype=np.bool_)
            member[1:] = same_key
            member[:-1] |= same_key
            at = np.flatnonzero(member)
            del member
            run = order[at]
            order[at] = run[np.lexsort((ident[run], hashed[at]))]
            del at, run
        del hashed  # hashed again once the keys are unique: cheaper than holding it through the gathers
        keys = keys[order]
        ident = ident[order]
        del order
        if same_key.any():
            repeat = same_key & (ident[1:] == ident[:-1])
            if repeat.any():  # the same pattern under the same id: once is enough
                keep = np.concatenate(([True], ~repeat))
                keys, ident = keys[keep], ident[keep]
                same_key = keys[1:] == keys[:-1]
        starts: npt.NDArray[np.int32] | None = None
        if same_key.any():
            new_run = np.concatenate(([True], ~same_key))
            keys = keys[new_run]
            first = np.flatnonzero(new_run)
            del new_run
            starts = np.empty(len(first) + 1, dtype=np.int32)
            starts[:-1] = first
            starts[-1] = len(ident)
            del first
        del same_key
        bits = max(1, (len(keys) - 1).bit_length())
        shift = 64 - bits
        bstart = np.zeros((1 << bits) + 1, dtype=np.int32)
        fingerprints = np.zeros(1 << bits, dtype=np.uint8)
        sizes, one = bstart[1:], np.ones(min(len(keys), _CHUNK), dtype=np.int32)
        for i in range(0, len(keys), _CHUNK):  # in chunks: a few MB of temporaries, not tens
            top = (_hash64(keys[i : i + _CHUNK]) >> np.uint64(shift - 3)).astype(np.intp)  # bucket * 8 + fingerprint
            bucket = top >> 3
            np.add.at(sizes, bucket, one[: len(top)])
            np.bitwise_or.at(fingerprints, bucket, np.left_shift(np.uint8(1), (top & 7).astype(np.uint8)))
        np.cumsum(bstart, dtype=np.int32, out=bstart)
        return cls(keys, ident, starts, bstart, shift, ((p >> 4, p & 15) for p in pairs), heads, fingerprints)

    @classmethod
    def from_patterns(cls, patterns: Iterable[Pattern], ids: Iterable[int]) -> RangeMatcher:
        """A matcher over :class:`~ringfence.hotlists.patterns.Pattern` objects and their ids, pairwise."""
        rows = [(p.prefix, p.prefix_len, p.length or 0, i) for p, i in zip(patterns, ids, strict=True)]
        if not rows:
            return cls.empty()
        cols = np.array(rows, dtype=np.int64).T
        return cls.build(cols[0], cols[1], cols[2], cols[3])

    @classmethod
    def empty(cls) -> RangeMatcher:
        """A matcher with no entries: every number is uncovered."""
        return cls(
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            None,
            np.zeros(3, np.int32),
            63,
            (),
            np.zeros(10**_HEAD_DIGITS // 8, np.uint8),
            np.zeros(2, np.uint8),
        )

    def __len__(self) -> int:
        """How many entries (pattern and id) it holds."""
        return self._entries

    def __repr__(self) -> str:
        return f"<RangeMatcher {self._entries} entries, {len(self._keys)} patterns, {self.nbytes / 1e6:.1f} MB>"

    @property
    def nbytes(self) -> int:
        """Bytes held by its arrays."""
        arrays = (self._keys, self._ids, self._starts, self._bstart, self._heads, self._fingerprints)
        return sum(int(a.nbytes) for a in arrays if a is not None)

    # ---------------------------------------------------------------- scalar path

    def _find(self, key: int) -> int:
        """The row of ``key`` among the unique keys, or -1."""
        top = (((key ^ (key >> 29)) * _GOLDEN) & _M64) >> (self._shift - 3)
        h = top >> 3
        if not (self._mv_fingerprints[h] >> (top & 7)) & 1:
            return -1
        bstart, keys = self._mv_bstart, self._mv_keys
        for row in range(bstart[h], bstart[h + 1]):
            if keys[row] == key:
                return row
        return -1

    def _rows(self, number: object) -> Iterable[int]:
        """The key rows covering ``number``, most specific first (lazily: :meth:`longest` stops at the first)."""
        if isinstance(number, bool) or not isinstance(number, int | np.integer):
            raise InvalidInput(
                f"a number is an int of E.164 digits, not {type(number).__name__}", details={"field": "number"}
            )
        n = int(number)
        if not 0 < n <= _MAX_NUMBER:
            return
        d = len(str(n))
        head = n * 10 ** (MAX_DIGITS - d) // _HEAD_DIVISOR
        if not (self._mv_heads[head >> 3] >> (head & 7)) & 1:
            return
        find = self._find
        for divisor, length in self._candidates[d]:
            row = find((n // divisor) * 16 + length)
            if row >= 0:
                yield row

    def longest(self, number: int | np.integer[Any]) -> int:
        """The id of the most specific entry covering ``number``, or -1 (exactly :meth:`longest_many`'s answer)."""
        starts, ids = self._mv_starts, self._mv_ids
        for row in self._rows(number):
            id_: int = ids[row if starts is None else starts[row]]
            return id_
        return -1

    def all(self, number: int | np.integer[Any]) -> list[int]:
        """The ids of every entry covering ``number``, most specific first (as :meth:`all_many` gives them)."""
        starts, ids = self._mv_starts, self._mv_ids
        out: list[int] = []
        for row in self._rows(number):
            if starts is None:
                out.append(ids[row])
            else:
                out.extend(ids[starts[row] : starts[row + 1]].tolist())
        return out

    # ---------------------------------------------------------------- batch path

    def _probe_many(self, keys: I64Array) -> npt.NDArray[np.int32]:
        """Vectorised :meth:`_find`: each key's row, or -1.

        A probe first reads its bucket's fingerprint byte (the next three hash bits of each key in the bucket, as a
        set of 8): most misses stop there, on an array a quarter the size of the offsets, and so does every probe
        of an empty bucket (its byte is 0). The rest compare their key with the first of the bucket without reading
        the bucket's end; only the misses whose bucket holds more keys go on, in lock-step.
        """
        top = (_hash64(keys) >> self._u_fp_shift).astype(np.intp)  # bucket * 8 + fingerprint
        buckets = top >> 3
        maybe = np.flatnonzero((self._fingerprints[buckets] >> (top & 7).astype(np.uint8)) & 1)
        found = np.full(len(keys), -1, dtype=np.int32)
        if not maybe.size:
            return found
        buckets = buckets[maybe]
        want = keys[maybe]
        pos = self._bstart[buckets]
        table = self._keys
        hit = table[pos] == want
        found[maybe[hit]] = pos[hit]
        live = np.flatnonzero(~hit)
        if live.size:
            pos = pos[live] + 1
            end = self._bstart[buckets[live] + 1]
            more = pos < end
            live, pos, end = maybe[live[more]], pos[more], end[more]
            want = keys[live]
            while live.size:
                hit = table[pos] == want
                found[live[hit]] = pos[hit]
                pos += 1
                go = (pos < end) & ~hit
                live, pos, end, want = live[go], pos[go], end[go], want[go]
        return found

    def _candidates_of(self, numbers: npt.ArrayLike) -> tuple[int, npt.NDArray[np.intp], I64Array, I64Array]:
        """Batch size, and the positions, digit counts and left-aligned values of the numbers that pass the head
        filter: the only ones any entry may cover."""
        arr = np.asarray(numbers)
        if arr.ndim != 1:
            raise InvalidInput("numbers must be one-dimensional", details={"field": "numbers"})
        size = len(arr)
        if size and arr.dtype.kind not in "iu":
            raise InvalidInput(f"numbers must hold integers, not {arr.dtype}", details={"field": "numbers"})
        if size == 0 or not self._levels:
            return size, _NO_POSITIONS, _NO_IDS, _NO_IDS
        if arr.dtype.kind == "u" and int(arr.max()) > _I64_MAX:
            arr = np.where(arr > _MAX_NUMBER, 0, arr)  # cannot be covered; avoid int64 wrap-around
        nums = arr.astype(np.int64, copy=False)
        digits = np.searchsorted(_POW10, nums, side="right")
        left = nums * _ALIGN[digits]  # 15 digits each (0 for no E.164 number): first L digits = left // 10**(15-L)
        head = left // _HEAD_DIVISOR
        sel = np.flatnonzero((self._heads[head >> 3] >> (head & 7).astype(np.uint8)) & 1)
        if sel.size < size:
            digits, left = digits[sel], left[sel]
        return size, sel, digits, left

    def _level_probes(
        self, level: _Level, digits: I64Array, left: I64Array, todo: npt.NDArray[np.bool_] | None
    ) -> Iterator[tuple[npt.NDArray[np.intp], I64Array]]:
        """The probes of one level, fixed length first: (positions among the candidates, keys); only where
        ``todo`` is still set when given (it is read as each probe is made, so a fixed-length hit stops the
        any-length probe of the same level)."""
        for table, fixed in ((level.fixed_for, True), (level.any_for, False)):
            if table is None:
                continue
            wanted = table[digits]
            if todo is not None:
                wanted &= todo
            at = np.flatnonzero(wanted)
            if at.size:
                keys = left[at] // level.divisor
                keys *= 16
                if fixed:
                    keys += digits[at]
                yield at, keys

    def _id_of(self, rows: npt.NDArray[np.int32]) -> I64Array:
        """The id of each key row (the smallest, when the pattern has several)."""
        ids: I64Array = self._ids[rows if self._starts is None else self._starts[rows]]
        return ids

    def longest_many(self, numbers: npt.ArrayLike) -> I64Array:
        """For each number of a 1-D integer array, the id of its most specific covering entry, or -1.

        Numbers that are no E.164 number (0, negative, more than 15 digits) are covered by nothing. Levels are
        probed most specific first and each only for the numbers still unmatched: most covered numbers are test
        numbers themselves and stop at the first probe.
        """
        size, sel, digits, left = self._candidates_of(numbers)
        out = np.full(size, -1, dtype=np.int64)
        if not sel.size:
            return out
        best = np.full(sel.size, -1, dtype=np.int32)
        todo = np.ones(sel.size, dtype=np.bool_)
        for level in self._levels:
            for at, keys in self._level_probes(level, digits, left, todo):
                found = self._probe_many(keys)
                hit = found >= 0
                if hit.any():
                    at = at[hit]
                    best[at] = found[hit]
                    todo[at] = False
        got = np.flatnonzero(best >= 0)
        out[sel[got]] = self._id_of(best[got])
        return out

    def all_many(self, numbers: npt.ArrayLike) -> tuple[I64Array, I64Array]:
        """Every covering entry of every number, CSR-style: ``(offsets, ids)`` where the ids of number ``i`` are
        ``ids[offsets[i]:offsets[i + 1]]``, most specific first (as :meth:`all` gives them).

        Every level is probed for every candidate number, all in one vectorised pass; the probes are generated most
        specific first, so sorting the hits by number (stably) puts each number's matches in order.
        """
        size, sel, digits, left = self._candidates_of(numbers)
        offsets = np.zeros(size + 1, dtype=np.int64)
        probes = [probe for level in self._levels for probe in self._level_probes(level, digits, left, None)]
        if not probes:
            return offsets, _NO_IDS.copy()
        found = self._probe_many(np.concatenate([keys for _, keys in probes]))
        hit = found >= 0
        at = sel[np.concatenate([at for at, _ in probes])[hit]]
        rows = found[hit]
        if not at.size:
            return offsets, _NO_IDS.copy()
        order = np.argsort(at, kind="stable")  # by number, keeping the most-specific-first order of each
        at, rows = at[order], rows[order]
        if self._starts is None:
            np.cumsum(np.bincount(at, minlength=size), out=offsets[1:])
            ids: I64Array = self._ids[rows]
            return offsets, ids
        first = self._starts[rows].astype(np.intp)
        count = self._starts[rows + 1] - first
        np.cumsum(np.bincount(at, weights=count, minlength=size).astype(np.int64), out=offsets[1:])
        # Expand each hit row into its run of ids: position = run start + index within the run.
        run_end = np.cumsum(count)
        within = np.arange(int(run_end[-1])) - np.repeat(run_end - count, count)
        ids = self._ids[np.repeat(first, count) + within]
        return offsets, ids
