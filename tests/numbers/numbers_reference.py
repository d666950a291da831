"""Shared reference helpers: what phonenumbers itself says, and example inputs for every region and type."""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from ringfence.numbers.types import NumberInfo, from_phonenumbers_type

COUNTRY_CODES = sorted(COUNTRY_CODE_TO_REGION_CODE)


def reference_info(number: int) -> NumberInfo:
    """phonenumbers' answer for E.164 digits ``number`` (NSN = the digits after the country code)."""
    digits = str(number)
    cc = next(int(digits[:k]) for k in (1, 2, 3) if int(digits[:k]) in COUNTRY_CODE_TO_REGION_CODE)
    nsn = digits[len(str(cc)) :]
    zeros = 0
    if len(nsn) > 1 and nsn[0] == "0":
        while zeros < len(nsn) - 1 and nsn[zeros] == "0":
            zeros += 1
    obj = phonenumbers.PhoneNumber(
        country_code=cc,
        national_number=int(nsn) if nsn else 0,
        italian_leading_zero=True if zeros else None,
        number_of_leading_zeros=zeros if zeros > 1 else None,
    )
    assert phonenumbers.national_significant_number(obj) == nsn or not nsn
    return NumberInfo(
        phonenumbers.region_code_for_number(obj),
        cc,
        from_phonenumbers_type(phonenumbers.number_type(obj)),
        phonenumbers.is_valid_number(obj),
    )


@functools.cache
def example_numbers() -> tuple[str, ...]:
    """E.164 digit strings of phonenumbers' example number of every region and type (and non-geo entities)."""
    found: set[str] = set()
    for cc, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            for number_type in range(11):
                if region == "001":
                    example = phonenumbers.example_number_for_non_geo_entity(cc)
                else:
                    example = phonenumbers.example_number_for_type(region, number_type)
                if example is not None:
                    found.add(f"{example.country_code}{phonenumbers.national_significant_number(example)}")
    return tuple(sorted(found))


def possible_in_full(number: phonenumbers.PhoneNumber) -> bool:
    """phonenumbers' verdict as ringfence applies it: possible, not only for local dialling, not all zeros, and
    reading back as itself from its E.164 form."""
    possible = phonenumbers.is_possible_number_with_reason(number) == phonenumbers.ValidationResult.IS_POSSIBLE
    if not possible or number.national_number == 0:
        return False
    nsn = phonenumbers.national_significant_number(number)
    if not nsn.startswith("0"):
        return True
    again = phonenumbers.parse(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return bool(phonenumbers.national_significant_number(again) == nsn)
