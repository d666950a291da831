from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from ringfence.errors import InvalidNumber
from ringfence.numbers import NUMBER_TYPES, REGIONS, NumberInfo, NumberType, info, info_many
from tests.numbers.numbers_reference import COUNTRY_CODES, example_numbers, reference_info


def _info_or_none(number: int) -> NumberInfo | None:
    try:
        return info(number)
    except InvalidNumber:
        return None


def _many(numbers: list[int]) -> list[NumberInfo | None]:
    """info_many's answers, shaped like info's (None where info raises; then info_many must say unknown)."""
    region, ntype, valid = info_many(np.array(numbers, dtype=np.int64))
    out: list[NumberInfo | None] = []
    for n, r, t, v in zip(numbers, region.tolist(), ntype.tolist(), valid.tolist(), strict=True):
        single = _info_or_none(n)
        if single is None:
            assert (r, NUMBER_TYPES[t], v) == (-1, NumberType.UNKNOWN, False)
            out.append(None)
        else:
            out.append(NumberInfo(REGIONS[r] if r >= 0 else None, single.country_code, NUMBER_TYPES[t], v))
    return out


def test_gb_example() -> None:
    assert info(442079460018) == NumberInfo("GB", 44, NumberType.FIXED_LINE, True)
    assert info(442079460018).to_dict() == {"country": "GB", "country_code": 44, "type": "fixed_line", "valid": True}


def test_shared_and_non_geographic_codes() -> None:
    assert info(12025550123).country == "US"
    assert info(14165550123).country == "CA"
    assert info(78001234567).country_code == 7
    assert info(80012345678).country == "001"


def test_every_example_number_exhaustively() -> None:
    numbers = [int(d) for d in example_numbers()]
    assert len(numbers) > 1000
    for n in numbers:
        assert info(n) == reference_info(n), n
    assert _many(numbers) == [info(n) for n in numbers]


def test_info_rejects() -> None:
    for bad in (0, -5, True, 2**63):
        with pytest.raises(InvalidNumber):
            info(bad)
    with pytest.raises(InvalidNumber) as caught:
        info(999123456)
    assert caught.value.reason == "invalid_country_code"


def test_info_many_unknowns() -> None:
    region, ntype, valid = info_many(np.array([0, -1, 999123456, 442079460018], dtype=np.int64))
    assert region.dtype == np.int16 and ntype.dtype == np.uint8 and valid.dtype == np.bool_
    assert region.tolist()[:3] == [-1, -1, -1]
    assert [NUMBER_TYPES[t] for t in ntype.tolist()[:3]] == [NumberType.UNKNOWN] * 3
    assert valid.tolist() == [False, False, False, True]
    assert REGIONS[region[3]] == "GB"


@st.composite
def mutated_numbers(draw: st.DrawFn) -> int:
    """Example numbers with random digit changes, truncations and extensions, or random digits after a code."""
    if draw(st.booleans()):
        digits = list(draw(st.sampled_from(example_numbers())))
        for _ in range(draw(st.integers(0, 3))):
            pos = draw(st.integers(1, len(digits) - 1))
            digits[pos] = draw(st.sampled_from("0123456789"))
        cut = draw(st.integers(0, 3))
        digits = digits[: max(len(digits) - cut, 3)] if draw(st.booleans()) else digits
        digits += draw(st.text(alphabet="0123456789", max_size=3))
        text = "".join(digits)
    else:
        cc = draw(st.sampled_from(COUNTRY_CODES))
        text = str(cc) + draw(st.text(alphabet="0123456789", min_size=0, max_size=15))
    return int(text[:18])


@settings(max_examples=3000, deadline=None)
@given(number=mutated_numbers())
def test_info_matches_phonenumbers(number: int) -> None:
    digits = str(number)
    if not any(int(digits[:k]) in COUNTRY_CODE_TO_REGION_CODE for k in (1, 2, 3)):
        with pytest.raises(InvalidNumber):
            info(number)
        return
    cc_len = next(k for k in (1, 2, 3) if int(digits[:k]) in COUNTRY_CODE_TO_REGION_CODE)
    assume(len(digits) > cc_len)  # phonenumbers cannot represent an empty NSN (national_number=0 means "0")
    assert info(number) == reference_info(number)


@settings(max_examples=200, deadline=None)
@given(numbers=st.lists(mutated_numbers(), min_size=1, max_size=40))
def test_info_many_matches_info(numbers: list[int]) -> None:
    assert _many(numbers) == [_info_or_none(n) for n in numbers]
