from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.errors import InvalidNumber
from ringfence.numbers import format_e164, normalise, normalise_many
from tests.numbers.numbers_reference import example_numbers, possible_in_full

GB = 442079460018


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+44 20 7946 0018", None),
        ("+442079460018", None),
        ("0044 20 7946 0018", "GB"),
        ("+44 (0)20 7946-0018", None),
        ("020 7946 0018", "GB"),
        ("020.7946.0018", "GB"),
        ("tel:+44-20-7946-0018", None),
        ("TEL:+44-20-7946-0018", None),
        ("  +44 20 7946 0018  ", "US"),
    ],
)
def test_accepts_common_formats(raw: str, region: str | None) -> None:
    assert normalise(raw, region) == GB


def test_italian_leading_zero_kept() -> None:
    assert normalise("+39 06 6982 1234") == 390669821234


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("", None, "empty"),
        ("   ", "GB", "empty"),
        ("hello", "GB", "not_a_number"),
        ("1-800-FLOWERS", "US", "not_a_number"),
        ("+1 800 FLOWERS", None, "not_a_number"),
        ("+44 20 7946 0018 ext 12", None, "not_a_number"),
        ("+44 20 7946 0018 x12", None, "not_a_number"),
        ("+44 20 7946 0018#12", None, "not_a_number"),
        ("tel:+44-20-7946-0018;phone-context=example.com", None, "not_a_number"),
        ("+999 1234 5678", None, "invalid_country_code"),
        ("0044 20 7946 0018", None, "no_region"),
        ("020 7946 0018", None, "no_region"),
        ("020 7946 0018", "XX", "no_region"),
        ("+44 1", None, "too_short"),
        ("+44 207", None, "too_short"),
        ("+44 20 7946 0018 9", None, "too_long"),
        ("+44 1234 5678 9012 3456 78", None, "too_long"),
        ("+49 1", None, "too_short"),
    ],
)
def test_rejects_with_reason(raw: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        normalise(raw, region)
    assert caught.value.reason == reason
    assert repr(raw) in caught.value.message
    assert caught.value.details == {"input": raw, "reason": reason}


def test_not_possible_length() -> None:
    # Estonia: NSN lengths 7, 8 and 10 exist, so 9 digits is between min and max but INVALID_LENGTH.
    number = phonenumbers.parse("+372 1234 56789")
    assert phonenumbers.is_possible_number_with_reason(number) == phonenumbers.ValidationResult.INVALID_LENGTH
    with pytest.raises(InvalidNumber) as caught:
        normalise("+372 1234 56789")
    assert caught.value.reason == "not_possible"


@pytest.mark.parametrize("raw", [None, 442079460018, b"+442079460018", ["+44"]])
def test_rejects_non_strings(raw: object) -> None:
    with pytest.raises(InvalidNumber) as caught:
        normalise(raw)  # type: ignore[arg-type]
    assert caught.value.reason == "not_a_string"


def test_format_e164() -> None:
    assert format_e164(GB) == "+442079460018"


def test_examples_round_trip_and_match_phonenumbers() -> None:
    for digits in example_numbers():
        raw = "+" + digits
        expected = phonenumbers.parse(raw)
        if not possible_in_full(expected):
            continue
        number = normalise(raw)
        assert format_e164(number) == phonenumbers.format_number(expected, phonenumbers.PhoneNumberFormat.E164)
        assert normalise(format_e164(number)) == number


_TEXT = st.text(alphabet="+0123456789 -().", max_size=22)


@settings(max_examples=400, deadline=None)
@given(raw=_TEXT, region=st.sampled_from([None, "GB", "US", "DE", "IT", "AR", "RU", "JP"]))
def test_agrees_with_phonenumbers(raw: str, region: str | None) -> None:
    try:
        parsed = phonenumbers.parse(raw, region)
        ok = possible_in_full(parsed) and not parsed.extension
    except phonenumbers.NumberParseException:
        ok = False
    try:
        number = normalise(raw, region)
    except InvalidNumber:
        assert not ok or not raw.strip()
        return
    assert ok
    assert format_e164(number) == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    assert normalise(format_e164(number)) == number


def test_an_all_zero_national_number_is_refused_on_every_path() -> None:
    # phonenumbers reads "000000" in DE as +49 00000 but "+4900000" back as +49 0000: no one's number either way
    for raw, region in (("000000", "DE"), ("+4900000", None), ("+440000000000", None)):
        with pytest.raises(InvalidNumber) as caught:
            normalise(raw, region)
        assert caught.value.reason == "not_a_number"
        numbers, errors = normalise_many([raw], region)
        assert numbers.tolist() == [0] and errors[0].reason == "not_a_number"
