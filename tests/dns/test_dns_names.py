"""Query names -> numbers: every E.164 number round-trips through its name in every form, and any other name under
a zone is NXDOMAIN (or the apex, or an empty non-terminal), never an exception; names elsewhere are refused."""

from __future__ import annotations

import dns.name
import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.dns.names import Match, Outcome, Zones, digits_number, is_canonical, name_for_number, parse_name
from ringfence.numbers import normalise

ZONES = Zones.from_text("bl.ringfence.internal", "e164.arpa")
ZONE = ZONES.zone
ENUM = parse_name("e164.arpa")
ENUM_IN_ZONE = parse_name("e164.arpa.bl.ringfence.internal")
LONDON = 442079460018


def _examples() -> list[int]:
    numbers = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                text = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                try:
                    numbers.add(normalise(text))
                except Exception:
                    continue
    return sorted(numbers)


EXAMPLES = _examples()


@st.composite
def e164_numbers(draw: st.DrawFn) -> int:
    """A number ringfence accepts: an example number of some region and type, its last digits drawn at random."""
    example = draw(st.sampled_from(EXAMPLES))
    scale = 10 ** draw(st.integers(0, 4))
    number = example // scale * scale + draw(st.integers(0, scale - 1))
    return number if is_canonical(number) else example


def _forms(number: int) -> list[tuple[dns.name.Name, dns.name.Name]]:
    """(query name, the zone it falls in) for every form of ``number``."""
    return [
        (name_for_number(number, ZONE), ZONE),
        (name_for_number(number, ENUM_IN_ZONE), ZONE),
        (name_for_number(number, ENUM), ENUM),
    ]


def _recased(name: dns.name.Name, flips: list[bool]) -> dns.name.Name:
    labels = [
        bytes(c ^ 0x20 if flip and chr(c).isalpha() else c for c in label)
        for label, flip in zip(name.labels, flips + [False] * len(name.labels), strict=False)
    ]
    return dns.name.Name(labels)


def test_there_are_examples_of_every_kind() -> None:
    assert len(EXAMPLES) > 900  # every region, most types


@given(e164_numbers(), st.lists(st.booleans(), max_size=40))
def test_every_number_round_trips_through_its_name_in_every_form(number: int, flips: list[bool]) -> None:
    for name, apex in _forms(number):
        assert ZONES.match(_recased(name, flips)) == Match(Outcome.NUMBER, apex, number)


def test_the_documented_name_of_a_london_number() -> None:
    name = name_for_number(LONDON, "bl.ringfence.internal")
    assert name.to_text() == "8.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal."
    assert ZONES.match(parse_name("8.1.0.0.6.4.9.7.0.2.4.4.e164.arpa")) == Match(Outcome.NUMBER, ENUM, LONDON)


def test_names_and_zones_are_read_with_or_without_the_trailing_dot_and_in_any_case() -> None:
    assert parse_name("8.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal") == parse_name(
        "8.1.0.0.6.4.9.7.0.2.4.4.BL.RingFence.Internal."
    )
    assert Zones.from_text("BL.ringfence.internal.", "e164.ARPA.") == ZONES
    assert ZONES.match(parse_name("8.1.0.0.6.4.9.7.0.2.4.4.E164.Arpa.BL.ringfence.INTERNAL")).number == LONDON


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("bl.ringfence.internal", Outcome.APEX),
        ("e164.arpa", Outcome.APEX),
        ("e164.arpa.bl.ringfence.internal", Outcome.EMPTY),
        ("arpa.bl.ringfence.internal", Outcome.EMPTY),
        ("example.com", Outcome.REFUSED),
        ("ringfence.internal", Outcome.REFUSED),
        ("arpa", Outcome.REFUSED),
        ("8.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal.example", Outcome.REFUSED),
        ("x.bl.ringfence.internal", Outcome.NXDOMAIN),
        ("81.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal", Outcome.NXDOMAIN),  # a two-digit label
        ("4.4.bl.ringfence.internal", Outcome.NXDOMAIN),  # a country code is no number
        ("8.1.0.0.6.4.9.7.0.2.4.4.0.bl.ringfence.internal", Outcome.NXDOMAIN),  # leading 0
        ("8.1.0.0.6.4.9.7.0.2.0.4.4.bl.ringfence.internal", Outcome.NXDOMAIN),  # +44 (0)20: not canonical
        ("1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.1.bl.ringfence.internal", Outcome.NXDOMAIN),  # 16 digits
        ("9.9.9.bl.ringfence.internal", Outcome.NXDOMAIN),  # +999: no such country code
        ("8.1.0.0.6.4.9.7.0.2.4.4.arpa.bl.ringfence.internal", Outcome.NXDOMAIN),
        ("8.1.0.0.6.4.9.7.0.2.4.4.e164.bl.ringfence.internal", Outcome.NXDOMAIN),
    ],
)
def test_names_that_are_not_numbers(text: str, outcome: Outcome) -> None:
    match = ZONES.match(parse_name(text))
    assert match.outcome is outcome
    assert match.number == 0


def test_without_an_enum_suffix_only_the_plain_form_is_served() -> None:
    plain = Zones.from_text("bl.ringfence.internal", "")
    assert plain.apexes == (ZONE,)
    assert plain.match(parse_name("8.1.0.0.6.4.9.7.0.2.4.4.e164.arpa")).outcome is Outcome.REFUSED
    assert plain.match(parse_name("8.1.0.0.6.4.9.7.0.2.4.4.e164.arpa.bl.ringfence.internal")).outcome is (
        Outcome.NXDOMAIN
    )
    assert plain.match(parse_name("8.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal")).number == LONDON


def test_a_zone_inside_the_other_takes_its_own_names() -> None:
    nested = Zones.from_text("ringfence.internal", "enum.ringfence.internal")
    assert nested.match(name_for_number(LONDON, "enum.ringfence.internal")) == Match(
        Outcome.NUMBER, parse_name("enum.ringfence.internal"), LONDON
    )
    assert nested.match(name_for_number(LONDON, "ringfence.internal")).apex == parse_name("ringfence.internal")


def test_the_root_is_no_zone() -> None:
    with pytest.raises(ValueError, match="root"):
        Zones.from_text(".", "")


LABEL = st.one_of(
    st.sampled_from([b"0", b"1", b"4", b"9", b"e164", b"arpa", b"ARPA", b"-", b"*", b"\x00", b"12"]),
    st.binary(min_size=1, max_size=30),  # at most 5 of them: the name stays within 255 bytes
)


@given(st.lists(LABEL, max_size=5), st.lists(st.sampled_from([b"1", b"4", b"9", b"0", b"7"]), max_size=17))
def test_any_labels_under_a_zone_are_a_number_only_when_they_spell_one(
    garbage: list[bytes], digits: list[bytes]
) -> None:
    for apex in (ZONE, ENUM, ENUM_IN_ZONE):
        name = dns.name.Name([*garbage, *digits]).concatenate(apex)
        match = ZONES.match(name)
        assert match.outcome in {Outcome.NUMBER, Outcome.NXDOMAIN, Outcome.EMPTY, Outcome.APEX}
        if match.outcome is Outcome.NUMBER:
            assert is_canonical(match.number)
            assert name_for_number(match.number, apex) == name


@given(st.lists(st.binary(min_size=1, max_size=20), max_size=6))
def test_names_outside_the_zones_are_refused(labels: list[bytes]) -> None:
    name = dns.name.Name([*labels, b"example", b"org", b""])
    assert ZONES.match(name) == Match(Outcome.REFUSED)


@given(st.lists(st.binary(max_size=3), max_size=18))
def test_digits_number_maps_digits_one_to_one(labels: list[bytes]) -> None:
    number = digits_number(labels)
    if number is not None:
        assert [str(d).encode() for d in reversed(str(number))] == labels
        assert 1 <= len(labels) <= 15
    else:
        assert not (1 <= len(labels) <= 15 and all(len(x) == 1 and x.isdigit() for x in labels) and labels[-1] != b"0")
