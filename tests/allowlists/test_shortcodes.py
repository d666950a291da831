"""The numbering plan's protections are exactly phonenumbers' short-number answers, for every number that passes
normalisation, and the batch path equals the single-number path."""

from __future__ import annotations

import numpy as np
import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import shortnumberinfo
from phonenumbers.phonemetadata import PhoneMetadata

from ringfence.allowlists.models import EntryKind
from ringfence.allowlists.shortcodes import KINDS, candidates, short_kind, short_kinds
from ringfence.errors import InvalidNumber
from ringfence.numbers import normalise


def reference(number: int) -> EntryKind | None:
    """phonenumbers itself, for a number that passes normalisation (see the module docstring of shortcodes)."""
    parsed = phonenumbers.parse(f"+{number}")
    nsn = phonenumbers.national_significant_number(parsed)
    regions = phonenumbers.region_codes_for_country_code(parsed.country_code)
    if any(shortnumberinfo.is_emergency_number(nsn, r) for r in regions):
        return EntryKind.EMERGENCY
    if phonenumbers.is_valid_number(parsed):
        return None
    for region in regions:
        if not shortnumberinfo.is_valid_short_number_for_region(parsed, region):
            continue
        if shortnumberinfo.is_carrier_specific_for_region(parsed, region):
            return EntryKind.SHORT_CODE
        if shortnumberinfo.expected_cost_for_region(parsed, region) == shortnumberinfo.ShortNumberCost.TOLL_FREE:
            return EntryKind.SERVICE
    return None


def passes_normalisation(number: int) -> bool:
    try:
        return normalise(f"+{number}") == number
    except InvalidNumber:
        return False


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        (2710111, EntryKind.EMERGENCY),  # South African police
        (2710177, EntryKind.EMERGENCY),  # South African ambulance
        (49116117, EntryKind.SERVICE),  # the German on-call medical service, a toll-free 116 number
        (442079460000, None),
        (12015550123, None),
        (0, None),
        (-2710111, None),
    ],
)
def test_known_numbers(number: int, kind: EntryKind | None) -> None:
    assert short_kind(number) is kind
    assert KINDS[int(short_kinds(np.array([number], np.int64))[0])] is kind
    if number > 0 and passes_normalisation(number):
        assert reference(number) is kind


pairs = sorted(candidates())


@st.composite
def candidate_numbers(draw: st.DrawFn) -> int:
    """A number of a country code and national length where the numbering plan may protect something, with
    national digits biased towards the short codes' leading digits."""
    cc, length = draw(st.sampled_from(pairs))
    lead = draw(st.sampled_from(["", "1", "11", "116", "10", "9", "2", "7", "8", "5"]))
    rest = draw(st.text("0123456789", min_size=length, max_size=length))
    return int(f"{cc}{(lead + rest)[:length]}")


@settings(max_examples=3000, deadline=None)
@given(candidate_numbers())
def test_equals_phonenumbers_for_every_normalised_number(number: int) -> None:
    assume(passes_normalisation(number))
    assert short_kind(number) is reference(number)


def _full_lengths() -> list[tuple[int, int]]:
    out = []
    for cc in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        region = phonenumbers.region_code_for_country_code(cc)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
        out += [(cc, n) for n in metadata.general_desc.possible_length] if metadata is not None else []
    return out


@st.composite
def any_numbers(draw: st.DrawFn) -> int:
    """A number of any country code, of a length its full numbers have."""
    cc, length = draw(st.sampled_from(_full_lengths()))
    first = draw(st.sampled_from("123456789"))
    rest = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    return int(f"{cc}{first}{rest}")


@settings(max_examples=500, deadline=None)
@given(any_numbers())
def test_equals_phonenumbers_for_numbers_of_any_country(number: int) -> None:
    assume(passes_normalisation(number))
    assert short_kind(number) is reference(number)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(candidate_numbers(), st.integers(min_value=-10, max_value=2**63 - 1)), max_size=80))
def test_the_batch_path_equals_the_single_number_path(numbers: list[int]) -> None:
    codes = short_kinds(np.array(numbers, np.int64))
    assert [KINDS[c] for c in codes.tolist()] == [short_kind(n) for n in numbers]


def test_every_protected_number_of_a_small_plan_is_found() -> None:
    """All 100,000 five-digit national numbers of ZA: exactly the numbers phonenumbers calls emergency numbers."""
    numbers = np.arange(2700000, 2800000, dtype=np.int64)
    found = {int(n) for n in numbers[short_kinds(numbers) > 0]}
    assert found == {2710111, 2710177}
