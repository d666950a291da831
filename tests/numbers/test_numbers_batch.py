from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.errors import InvalidNumber
from ringfence.numbers import format_e164, normalise, normalise_many
from tests.numbers.numbers_reference import COUNTRY_CODES, example_numbers


def _elementwise(raws: list[object], region: str | None = None) -> tuple[list[int], dict[int, tuple[str, str]]]:
    values: list[int] = []
    errors: dict[int, tuple[str, str]] = {}
    for i, raw in enumerate(raws):
        try:
            values.append(normalise(raw, region))  # type: ignore[arg-type]
        except InvalidNumber as exc:
            values.append(0)
            errors[i] = (exc.reason, exc.message)
    return values, errors


def _check(raws: list[object], region: str | None = None) -> None:
    values, errors = normalise_many(raws, region)
    assert values.dtype == np.int64 and values.shape == (len(raws),)
    expected_values, expected_errors = _elementwise(raws, region)
    assert values.tolist() == expected_values
    assert {i: (e.reason, e.message) for i, e in errors.items()} == expected_errors


def test_mixed_batch() -> None:
    raws: list[object] = [
        "+442079460018",
        "+44 20 7946 0018",
        "020 7946 0018",
        None,
        42,
        "",
        "+999123456",
        "+44\x00",
        "+442079460018\x00",
        "+٤٤2079460018",
        "+4420794600180000000000",
        "+12",
        "+0442079460018",
        "+44020794600180",
        "+7 8001234567",
        "+78001234567",
        "+5491123456789",
    ]
    _check(raws)
    _check(raws, "GB")
    values, errors = normalise_many(raws, "GB")
    assert values[0] == values[1] == values[2] == 442079460018
    assert errors[3].reason == "not_a_string"


def test_empty() -> None:
    values, errors = normalise_many([])
    assert values.shape == (0,) and errors == {}


def test_every_example_number_fast_path() -> None:
    raws: list[object] = ["+" + d for d in example_numbers()]
    _check(raws)
    values, _ = normalise_many(raws)
    for v in values.tolist():
        if v:
            assert normalise(format_e164(v)) == v


@st.composite
def canonical_like(draw: st.DrawFn) -> object:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        digits = list(draw(st.sampled_from(example_numbers())))
        for _ in range(draw(st.integers(0, 3))):
            digits[draw(st.integers(0, len(digits) - 1))] = draw(st.sampled_from("0123456789"))
        text = "".join(digits)
        if draw(st.booleans()):
            text = text[: draw(st.integers(0, len(text)))]
        return "+" + text + draw(st.text(alphabet="0123456789", max_size=4))
    if kind == 1:
        return "+" + str(draw(st.sampled_from(COUNTRY_CODES))) + draw(st.text(alphabet="0123456789", max_size=19))
    if kind == 2:
        return "+" + draw(st.text(alphabet="0123456789", max_size=21))
    if kind == 3:
        return draw(st.text(alphabet="+0123456789 -()x\x00٤", max_size=21))
    if kind == 4:
        return draw(st.one_of(st.none(), st.integers(), st.binary(max_size=5)))
    return "+" + str(draw(st.sampled_from(COUNTRY_CODES))) + "0" + draw(st.text(alphabet="0123456789", max_size=14))


@settings(max_examples=300, deadline=None)
@given(raws=st.lists(canonical_like(), max_size=30), region=st.sampled_from([None, "GB", "US", "AR", "RU"]))
def test_normalise_many_equals_normalise(raws: list[object], region: str | None) -> None:
    _check(raws, region)
