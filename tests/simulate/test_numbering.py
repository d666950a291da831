"""Numbers for simulated traffic: valid for their country, of the kind asked, canonical, reproducible."""

from __future__ import annotations

import numpy as np
import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.errors import InvalidInput
from ringfence.numbers import normalise_many
from ringfence.simulate.numbering import Block, Kind, draw_block, draw_numbers, e164_texts

_CASES = [
    ("GB", Kind.MOBILE, phonenumbers.PhoneNumberType.MOBILE),
    ("GB", Kind.FIXED, phonenumbers.PhoneNumberType.FIXED_LINE),
    ("LV", Kind.PREMIUM, phonenumbers.PhoneNumberType.PREMIUM_RATE),
    ("LT", Kind.PREMIUM, phonenumbers.PhoneNumberType.PREMIUM_RATE),
    ("CU", Kind.MOBILE, phonenumbers.PhoneNumberType.MOBILE),
    ("TV", Kind.MOBILE, phonenumbers.PhoneNumberType.MOBILE),
    ("DE", Kind.MOBILE, phonenumbers.PhoneNumberType.MOBILE),
]


@pytest.mark.parametrize(("country", "kind", "pn_type"), _CASES)
def test_drawn_numbers_are_valid_distinct_and_of_their_kind(
    country: str, kind: Kind, pn_type: phonenumbers.PhoneNumberType
) -> None:
    numbers = draw_numbers(np.random.default_rng(5), country, kind, 300)
    assert len(set(numbers.tolist())) == 300
    for number in numbers[:60].tolist():
        parsed = phonenumbers.parse(f"+{number}")
        assert phonenumbers.is_valid_number(parsed), number
        assert phonenumbers.region_code_for_number(parsed) == country
        assert phonenumbers.number_type(parsed) == pn_type
    values, errors = normalise_many(e164_texts(numbers))
    assert not errors and values.tolist() == numbers.tolist()


def test_non_geographic_satellite_numbers_are_valid() -> None:
    numbers = draw_numbers(np.random.default_rng(1), "882", Kind.MOBILE, 50)
    assert all(str(n).startswith("882") for n in numbers.tolist())
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(f"+{n}")) for n in numbers.tolist())


def test_the_same_seed_draws_the_same_numbers() -> None:
    first = draw_numbers(np.random.default_rng(9), "GB", Kind.MOBILE, 100)
    again = draw_numbers(np.random.default_rng(9), "GB", Kind.MOBILE, 100)
    other = draw_numbers(np.random.default_rng(10), "GB", Kind.MOBILE, 100)
    assert first.tolist() == again.tolist() != other.tolist()


def test_a_block_is_the_valid_numbers_under_its_prefix() -> None:
    block = draw_block(np.random.default_rng(2), "LV", Kind.PREMIUM, 3)
    assert block.pattern == f"+{block.prefix}???"
    assert 500 <= block.members.shape[0] <= 1000
    assert all(n // 1000 == block.prefix for n in block.members.tolist())
    assert block.covers(block.members).all()
    assert not block.covers(block.members + 1000).any()


def test_a_block_avoids_the_blocks_it_is_told_to() -> None:
    rng = np.random.default_rng(4)
    taken = tuple(draw_block(rng, "TV", Kind.MOBILE, 2) for _ in range(10))
    fresh = draw_block(rng, "TV", Kind.MOBILE, 2, avoid=taken)
    assert not any(fresh.overlaps(b) for b in taken)


@given(
    prefix=st.integers(10**6, 10**7 - 1),
    free=st.integers(0, 4),
    other=st.integers(10**6, 10**7 - 1),
    other_free=st.integers(0, 4),
)
def test_blocks_overlap_exactly_when_they_share_a_number(prefix: int, free: int, other: int, other_free: int) -> None:
    # make the two blocks equally long numbers so they can meet
    other_prefix = other // 10 ** max(0, other_free - free) if other_free > free else other * 10 ** (free - other_free)
    a = Block(prefix, free, np.empty(0, np.int64))
    b = Block(other_prefix, other_free, np.empty(0, np.int64))
    in_a = set(range(prefix * 10**free, (prefix + 1) * 10**free))
    in_b = range(other_prefix * 10**other_free, (other_prefix + 1) * 10**other_free)
    assert a.overlaps(b) == b.overlaps(a) == any(n in in_a for n in in_b)


def test_an_unknown_country_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="'ZZ'") as caught:
        draw_numbers(np.random.default_rng(0), "ZZ", Kind.MOBILE, 1)
    assert caught.value.code == "unknown_numbering"
