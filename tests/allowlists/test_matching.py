"""The never-list in memory: exact entries before the longest prefix before the numbering plan, and the batch path
giving exactly the single-number answer for every number."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.allowlists.matcher import NeverIndex, covered
from ringfence.allowlists.models import EntryKind, NeverEntry, PatternType, Source

BASE = 442079460000


def entry(entry_id: int, pattern: PatternType, value: int, kind: EntryKind = EntryKind.SERVICE) -> NeverEntry:
    member = 7 if kind is EntryKind.MEMBER_OWN else None
    return NeverEntry(entry_id, pattern, value, len(str(value)), kind, f"note {entry_id}", member, 0, None)


def test_exact_entry_wins_over_prefixes_and_the_longest_prefix_wins() -> None:
    index = NeverIndex(
        [
            entry(1, PatternType.PREFIX, 4420),
            entry(2, PatternType.PREFIX, 442079),
            entry(3, PatternType.NUMBER, BASE, EntryKind.MEMBER_OWN),
        ]
    )
    own = index.protected(BASE)
    assert own is not None and own.entry_id == 3 and own.source is Source.MEMBER_OWN
    assert own.pattern == "+442079460000" and own.kind is EntryKind.MEMBER_OWN
    longest = index.protected(BASE + 1)
    assert longest is not None and longest.entry_id == 2 and longest.pattern == "+442079*"
    assert longest.source is Source.CONSORTIUM and longest.note == "note 2"
    short = index.protected(442071234567)
    assert short is not None and short.entry_id == 1
    assert index.protected(441234567890) is None
    assert index.protected(4420) is not None  # a prefix covers the number made of exactly its digits


def test_the_numbering_plan_protects_emergency_numbers_that_pass_normalisation() -> None:
    index = NeverIndex([])
    police = index.protected(2710111)  # +27 10111, the South African police
    assert police is not None and police.kind is EntryKind.EMERGENCY and police.entry_id is None
    assert police.pattern == "+2710111" and police.source is Source.CONSORTIUM
    assert index.protected(BASE) is None
    overridden = NeverIndex([entry(9, PatternType.NUMBER, 2710111)]).protected(2710111)
    assert overridden is not None and overridden.entry_id == 9  # an explicit entry comes first


def test_a_batch_lists_each_protection_once() -> None:
    index = NeverIndex([entry(1, PatternType.PREFIX, 44800), entry(2, PatternType.NUMBER, BASE)])
    numbers = np.array([448001, 1, BASE, 448002, 2710111, 2710111, BASE + 5], np.int64)
    idx, found = index.protected_many(numbers)
    assert idx.dtype == np.int32
    assert [None if i < 0 else found[i].pattern for i in idx] == [
        "+44800*",
        None,
        "+442079460000",
        "+44800*",
        "+2710111",
        "+2710111",
        None,
    ]
    assert len(found) == 3
    empty_idx, nothing = index.protected_many(np.array([1, 2], np.int64))
    assert empty_idx.tolist() == [-1, -1] and nothing == []
    assert index.protected_many(np.zeros(0, np.int64))[0].shape == (0,)


numbers = st.one_of(
    st.integers(min_value=-5, max_value=2**63 - 1),
    st.integers(min_value=10**6, max_value=10**13),
    st.builds(lambda tail: int(f"44207946{tail:04d}"), st.integers(0, 9999)),
    st.builds(lambda tail: int(f"2710{tail:03d}"), st.integers(0, 999)),
    st.builds(lambda tail: int(f"4911{tail:04d}"), st.integers(0, 9999)),
)
patterns = st.one_of(
    st.builds(lambda v: (PatternType.NUMBER, v), numbers.filter(lambda n: n > 0)),
    st.builds(lambda v: (PatternType.PREFIX, v), st.integers(min_value=1, max_value=10**12)),
    st.builds(lambda tail: (PatternType.PREFIX, int(f"4420{tail}")), st.integers(0, 999)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(patterns, max_size=25, unique=True), st.lists(numbers, max_size=60))
def test_the_batch_path_equals_the_single_number_path(chosen: list[tuple[PatternType, int]], asked: list[int]) -> None:
    index = NeverIndex([entry(i + 1, pattern, value) for i, (pattern, value) in enumerate(chosen)])
    probe = asked + [value for _, value in chosen]  # every entry's own value, too
    idx, found = index.protected_many(np.array(probe, np.int64))
    assert len(set(found)) == len(found)
    for number, i in zip(probe, idx.tolist(), strict=True):
        assert (None if i < 0 else found[i]) == index.protected(number), number


@given(st.integers(min_value=1, max_value=10**9), st.lists(st.integers(min_value=1, max_value=2**63 - 1), max_size=40))
def test_covered_finds_exactly_what_a_prefix_covers(prefix: int, listed: list[int]) -> None:
    probe = np.unique(np.array([*listed, prefix, prefix * 10 + 3, prefix * 1000 + 999], np.int64))  # as listed: once
    one = entry(1, PatternType.PREFIX, prefix)
    assert sorted(covered(PatternType.PREFIX, prefix, len(str(prefix)), probe).tolist()) == sorted(
        n for n in probe.tolist() if one.covers(n)
    )
    assert covered(PatternType.NUMBER, prefix, len(str(prefix)), probe).tolist() == [prefix]


def test_ten_thousand_numbers_take_well_under_a_millisecond_or_two() -> None:
    rng = np.random.default_rng(4)
    entries = [entry(i + 1, PatternType.NUMBER, int(v)) for i, v in enumerate(rng.integers(10**10, 10**12, 5_000))]
    entries += [entry(10_000 + i, PatternType.PREFIX, int(f"44{800 + i}")) for i in range(50)]
    entries += [entry(20_000 + i, PatternType.PREFIX, int(f"1800{i:03d}")) for i in range(50)]
    index = NeverIndex(entries)
    batch = rng.integers(10**10, 10**12, 10_000)
    index.protected_many(batch)
    best = min(_timed(index, batch) for _ in range(20))
    assert best < 0.002, f"{best * 1000:.2f} ms"


def _timed(index: NeverIndex, batch: np.ndarray) -> float:
    started = time.perf_counter()
    index.protected_many(batch)
    return time.perf_counter() - started
