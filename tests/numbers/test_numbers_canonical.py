"""The scalar fast path for canonical E.164 text gives exactly what the exact (phonenumbers) path gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.errors import InvalidNumber
from ringfence.numbers import normalise
from ringfence.numbers.normalise import normalise as normalise_exact
from tests.numbers.numbers_reference import COUNTRY_CODES, example_numbers


def _outcome(fn: object, raw: str) -> tuple[str, object]:
    try:
        return ("ok", fn(raw))  # type: ignore[operator]
    except InvalidNumber as exc:
        return ("error", (exc.reason, exc.message))


def test_every_example_number_agrees() -> None:
    for digits in example_numbers():
        raw = "+" + digits
        assert _outcome(normalise, raw) == _outcome(normalise_exact, raw), raw


@settings(max_examples=1500, deadline=None)
@given(cc=st.sampled_from(sorted(COUNTRY_CODES)), rest=st.text(alphabet="0123456789", min_size=0, max_size=19))
def test_random_canonical_text_agrees(cc: int, rest: str) -> None:
    raw = f"+{cc}{rest}"
    assert _outcome(normalise, raw) == _outcome(normalise_exact, raw)


@settings(max_examples=300, deadline=None)
@given(raw=st.text(alphabet="+0123456789²٣", min_size=0, max_size=24))
def test_near_canonical_text_agrees(raw: str) -> None:
    assert _outcome(normalise, raw) == _outcome(normalise_exact, raw)
