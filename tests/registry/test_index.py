"""Tests of the in-memory listing index (ringfence.registry.index)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ringfence.errors import InvalidInput, InvalidNumber
from ringfence.registry.index import Listing, ListingIndex

COLUMNS = ("number", "first_ms", "last_ms", "report_count", "reporter_count", "categories", "weight", "flags")


def listing(number: int, seed: int = 0) -> Listing:
    first, last = 1_700_000_000_000 + seed, 1_700_000_500_000 + seed
    return Listing(number, first, last, seed % 1000, seed % 50, seed & 0xFFFF, seed % 50 * 900, seed & 7)


def columns(rows: list[Listing]) -> list[np.ndarray[Any, Any]]:
    return [np.array([r[i] for r in rows], dtype=np.int64) for i in range(8)]


def check_invariants(index: ListingIndex) -> None:
    """Every live row is reachable from the table, exactly once."""
    n = len(index)
    table = index._table
    occupied = table[table >= 0]
    assert len(occupied) == n
    assert sorted(occupied.tolist()) == list(range(n))


# ---------------------------------------------------------------- behaviour


def test_put_get_replace_remove_len_contains() -> None:
    index = ListingIndex()
    assert len(index) == 0
    assert index.get(447700900123) is None
    assert 447700900123 not in index
    index.put(listing(447700900123, 1))
    assert index.get(447700900123) == listing(447700900123, 1)
    assert isinstance(index.get(447700900123), Listing)
    assert 447700900123 in index
    assert len(index) == 1
    index.put(listing(447700900123, 2))  # replace
    assert index.get(447700900123) == listing(447700900123, 2)
    assert len(index) == 1
    assert index.remove(447700900123) is True
    assert index.remove(447700900123) is False
    assert index.get(447700900123) is None
    assert 447700900123 not in index
    assert len(index) == 0


def test_extreme_values_round_trip() -> None:
    index = ListingIndex()
    top = Listing(999_999_999_999_999, -(2**63), 2**63 - 1, *[2**32 - 1] * 5)
    index.put(top)
    index.put(Listing(1, 0, 0, 0, 0, 0, 0, 0))
    assert index.get(999_999_999_999_999) == top
    assert index.get(1) == Listing(1, 0, 0, 0, 0, 0, 0, 0)
    found = index.lookup_many(np.array([999_999_999_999_999], dtype=np.int64))
    assert found.last_ms[0] == 2**63 - 1 and found.categories[0] == 2**32 - 1


@pytest.mark.parametrize(
    "bad",
    [Listing(0, *[0] * 7), Listing(10**15, *[0] * 7), Listing(-5, *[0] * 7)],
)
def test_put_rejects_bad_numbers(bad: Listing) -> None:
    with pytest.raises(InvalidNumber):
        ListingIndex().put(bad)


def test_put_rejects_bad_values_without_half_writing() -> None:
    index = ListingIndex()
    index.put(listing(33612345678, 1))
    with pytest.raises(InvalidInput):
        index.put(Listing(33612345678, 5, 5, -1, 0, 0, 0, 0))
    with pytest.raises(InvalidInput):
        index.put(Listing(33612345678, 5, 5, 0, 0, 2**32, 0, 0))
    assert index.get(33612345678) == listing(33612345678, 1)
    negative_categories = columns([listing(33612345679)])
    negative_categories[5] = np.array([-1])
    with pytest.raises(InvalidInput):
        index.put_many(*negative_categories)
    with pytest.raises(InvalidInput):
        index.put_many(np.array([1, 2]), *columns([listing(1)])[1:])
    assert len(index) == 1


def test_lookups_of_junk_are_misses() -> None:
    index = ListingIndex()
    index.put(listing(12345))
    assert index.get(0) is None and index.get(-12345) is None and index.get(2**80) is None
    assert "12345" not in index and 12345.0 not in index and True not in index
    assert index.remove(-1) is False
    result = index.lookup_many(np.array([0, -12345, 12345, 2**62], dtype=np.int64))
    assert result.found.tolist() == [False, False, True, False]
    result = index.lookup_many(np.array([2**64 - 1, 12345], dtype=np.uint64))
    assert result.found.tolist() == [False, True]


def test_growth_across_many_resizes() -> None:
    index = ListingIndex(capacity=1)
    numbers = [447000000000 + i * 7 for i in range(20_000)]
    for i, number in enumerate(numbers):
        index.put(listing(number, i))
    assert len(index) == 20_000
    assert len(index._table) >= 20_000 / 0.375
    for i, number in enumerate(numbers):
        assert index.get(number) == listing(number, i)
    assert index.get(447000000001) is None
    check_invariants(index)


def test_remove_then_reinsert_with_collisions() -> None:
    index = ListingIndex(capacity=8)
    numbers = list(range(1, 3001))  # consecutive: long runs of neighbouring buckets
    for n in numbers:
        index.put(listing(n, n))
    for n in numbers[::2]:
        assert index.remove(n)
    check_invariants(index)
    for n in numbers:
        assert (index.get(n) is not None) == (n % 2 == 0)
    for n in numbers[::2]:
        index.put(listing(n, n + 1))
    check_invariants(index)
    assert len(index) == 3000
    for n in numbers:
        assert index.get(n) == listing(n, n + 1 if n % 2 else n)
    for n in numbers:
        assert index.remove(n)
    assert len(index) == 0
    assert (index._table < 0).all()


def test_remove_in_clusters_that_wrap_around_the_table_end() -> None:
    for order in (WRAPPING, WRAPPING[::-1], WRAPPING[6:] + WRAPPING[:6]):
        index = ListingIndex(capacity=24)
        for n in order:
            index.put(listing(n, n))
        assert len(index._table) == 64
        for i, n in enumerate(order):
            assert index.remove(n)
            check_invariants(index)
            for m in order[i + 1 :]:
                assert index.get(m) == listing(m, m)


def test_put_many_with_duplicates_later_wins_and_updates_existing() -> None:
    index = ListingIndex()
    index.put(listing(500, 1))
    rows = [listing(100, 1), listing(200, 2), listing(100, 3), listing(500, 4), listing(100, 5), listing(200, 6)]
    index.put_many(*columns(rows))
    assert len(index) == 3
    assert index.get(100) == listing(100, 5)
    assert index.get(200) == listing(200, 6)
    assert index.get(500) == listing(500, 4)
    index.put_many(*(np.array([], dtype=np.int64) for _ in range(8)))
    assert len(index) == 3
    check_invariants(index)


def test_put_many_accepts_strided_columns_of_one_int64_matrix() -> None:
    # How the registry service loads it: np.array(rows).reshape(-1, 8) and column slices.
    matrix = np.array([list(listing(n, n)) for n in range(1000, 2000)], dtype=np.int64).reshape(-1, 8)
    index = ListingIndex()
    index.put_many(*(matrix[:, i] for i in range(8)))
    assert len(index) == 1000
    assert index.get(1500) == listing(1500, 1500)


def test_lookup_many_mixed_keeps_input_order() -> None:
    index = ListingIndex()
    rng = np.random.default_rng(7)
    listed = np.unique(rng.integers(10**10, 10**15, 5000))
    rows = [listing(int(n), i) for i, n in enumerate(listed)]
    index.put_many(*columns(rows))
    absent = np.setdiff1d(rng.integers(10**10, 10**15, 5000), listed)
    query = rng.permutation(np.concatenate([listed[:3000], absent, listed[:10]]))
    result = index.lookup_many(query)
    by_number = {r.number: r for r in rows}
    assert len(result.found) == len(query)
    for i, number in enumerate(query.tolist()):
        expected = by_number.get(number)
        assert bool(result.found[i]) == (expected is not None)
        got = tuple(int(col[i]) for col in result[1:])
        assert got == (tuple(expected[1:]) if expected else (0,) * 7)
    assert index.lookup_many(np.array([], dtype=np.int64)).found.shape == (0,)


def test_snapshot_sorted_and_equal_after_rebuild() -> None:
    index = ListingIndex()
    rng = np.random.default_rng(3)
    numbers = rng.integers(10**9, 10**15, 20_000)
    index.put_many(
        numbers, numbers // 2, numbers, numbers % 1000, numbers % 7, numbers % 2**32, numbers % 9, numbers % 3
    )
    for n in numbers[:500].tolist():
        index.remove(n)
    snap = index.snapshot()
    assert list(snap) == list(COLUMNS)
    assert (np.diff(snap["number"]) > 0).all()
    assert len(snap["number"]) == len(index)
    rebuilt = ListingIndex()
    rebuilt.put_many(*(snap[c] for c in COLUMNS))
    again = rebuilt.snapshot()
    for c in COLUMNS:
        np.testing.assert_array_equal(snap[c], again[c])
        assert snap[c].dtype == again[c].dtype
    snap["first_ms"][:] = 0  # a snapshot is a copy
    assert index.get(int(snap["number"][0])) == rebuilt.get(int(snap["number"][0]))


def test_concurrent_writer_and_readers_see_whole_listings() -> None:
    """A listing is always (n, k, k, k, k, k) for one k: a torn read would mix two versions."""
    index = ListingIndex(capacity=4)
    numbers = list(range(10_000, 10_400))
    stop = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        for k in range(1, 60):
            for n in numbers:
                index.put(Listing(n, k, k, k, k, k, k, k))
            index.put_many(*(np.array(numbers) if i == 0 else np.full(len(numbers), k) for i in range(8)))
            for n in numbers[k % 3 :: 3]:
                index.remove(n)
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            for n in numbers:
                got = index.get(n)
                if got is not None and len(set(got[1:])) != 1:
                    errors.append(repr(got))
            result = index.lookup_many(np.array(numbers))
            f = result.found
            if not ((result.first_ms[f] == result.categories[f]) & (result.last_ms[f] == result.report_count[f])).all():
                errors.append("torn lookup_many")

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    check_invariants(index)


# ---------------------------------------------------------------- memory (a promised bound, not a timing)


def test_one_million_listings_fit_in_80_mb() -> None:
    index = ListingIndex()
    rng = np.random.default_rng(11)
    numbers = rng.integers(10**10, 10**15, 1_000_000)
    numbers = np.unique(numbers)
    while len(numbers) < 1_000_000:
        numbers = np.unique(np.concatenate([numbers, rng.integers(10**10, 10**15, 1000)]))
    numbers = numbers[:1_000_000]
    ones = np.ones(len(numbers), dtype=np.int64)
    index.put_many(numbers, ones, ones, ones, ones, ones, ones, ones)
    assert len(index) == 1_000_000
    assert index.nbytes <= 80 * 10**6
    # Also the worst case: grown one by one past a resize, with geometric spare capacity.
    grown = ListingIndex(capacity=700_000)
    grown.put_many(numbers[:700_000], *(ones[:700_000] for _ in range(7)))
    grown.put_many(numbers[700_000:], *(ones[700_000:] for _ in range(7)))
    assert len(grown) == 1_000_000
    assert grown.nbytes <= 80 * 10**6


# ---------------------------------------------------------------- model-based


def wrapping_numbers() -> list[int]:
    """Numbers whose home is one of the first or last buckets of any table up to 64 wide (clusters that wrap)."""
    probe = ListingIndex(capacity=24)
    assert len(probe._table) == 64
    candidates = np.arange(1, 5000, dtype=np.int64)
    homes = probe._home_many(candidates)
    return [int(n) for h in (62, 63, 0, 1) for n in candidates[homes == h][:6]]


WRAPPING = wrapping_numbers()
NUMBERS = st.one_of(st.integers(1, 64), st.sampled_from(WRAPPING), st.integers(10**9, 999_999_999_999_999))
VALUES = st.tuples(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
)


class IndexMatchesDict(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.index = ListingIndex(capacity=2)
        self.model: dict[int, Listing] = {}

    @rule(number=NUMBERS, values=VALUES)
    def put(self, number: int, values: tuple[int, ...]) -> None:
        self.index.put(Listing(number, *values))
        self.model[number] = Listing(number, *values)

    @rule(number=NUMBERS)
    def remove(self, number: int) -> None:
        assert self.index.remove(number) == (self.model.pop(number, None) is not None)

    @rule(rows=st.lists(st.tuples(NUMBERS, VALUES), max_size=40))
    def put_many(self, rows: list[tuple[int, tuple[int, ...]]]) -> None:
        listings = [Listing(n, *v) for n, v in rows]
        self.index.put_many(*columns(listings))
        for r in listings:
            self.model[r.number] = r

    @rule(number=NUMBERS)
    def get(self, number: int) -> None:
        assert self.index.get(number) == self.model.get(number)
        assert (number in self.index) == (number in self.model)

    @rule(numbers=st.lists(NUMBERS, max_size=30))
    def lookup_many(self, numbers: list[int]) -> None:
        result = self.index.lookup_many(np.array(numbers, dtype=np.int64))
        for i, n in enumerate(numbers):
            expected = self.model.get(n)
            assert bool(result.found[i]) == (expected is not None)
            got = tuple(int(col[i]) for col in result[1:])
            assert got == (tuple(expected[1:]) if expected else (0,) * 7)

    @invariant()
    def agrees(self) -> None:
        assert len(self.index) == len(self.model)
        check_invariants(self.index)

    def teardown(self) -> None:
        snap = self.index.snapshot()
        assert snap["number"].tolist() == sorted(self.model)
        for i, n in enumerate(snap["number"].tolist()):
            assert tuple(int(snap[c][i]) for c in COLUMNS) == self.model[n]


IndexMatchesDict.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_index_matches_dict = IndexMatchesDict.TestCase
