"""Change filters: prefixes match exactly the numbers whose E.164 digits start so, bad filter input is refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.errors import InvalidInput
from ringfence.feed.filters import ChangeFilter
from ringfence.feed.models import ChangeBatch

numbers = st.integers(min_value=10**6, max_value=10**15 - 1)


def _batch(values: list[int], categories: list[int] | None = None) -> ChangeBatch:
    cats = categories or [1] * len(values)
    rows = [(i + 1, 0, 0, n, 1, 0, 0, 1, 1, c, 1000, 0) for i, (n, c) in enumerate(zip(values, cats, strict=True))]
    return ChangeBatch.from_rows(rows)


@given(
    st.lists(numbers, min_size=1, max_size=50), st.lists(st.from_regex(r"[1-9][0-9]{0,5}", fullmatch=True), max_size=3)
)
def test_prefixes_match_as_text_prefixes_of_the_digits(values: list[int], prefixes: list[str]) -> None:
    where = ChangeFilter.parse(prefixes=[f"+{p}" for p in prefixes])
    got = where.mask(_batch(values)).tolist()
    expected = [not prefixes or any(str(v).startswith(p) for p in prefixes) for v in values]
    assert got == expected


def test_categories_are_any_of() -> None:
    where = ChangeFilter.parse(categories="vishing,robocall")  # robocall is bit 0, vishing bit 1
    assert where.mask(_batch([1, 2, 3, 4], [1, 2, 4, 3])).tolist() == [True, True, False, True]


def test_countries_use_the_numbers_region_or_the_main_region_of_its_code() -> None:
    where = ChangeFilter.parse(countries=["gb"])
    values = [442079460018, 447700900123, 441534700000, 33142685300]  # London, UK drama range, Jersey, Paris
    assert where.mask(_batch(values)).tolist() == [True, True, False, False]
    assert ChangeFilter.parse(countries="JE").mask(_batch(values)).tolist() == [False, False, True, False]


def test_an_empty_filter_passes_everything() -> None:
    where = ChangeFilter.parse(None, [], "")
    assert where.is_empty() and where.mask(_batch([1, 2])).all()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"categories": "scam"}, "unknown_category"),
        ({"countries": "UK"}, "unknown_country"),
        ({"countries": "GBR"}, "unknown_country"),
        ({"prefixes": "+0044"}, "invalid_prefix"),
        ({"prefixes": "+44a"}, "invalid_prefix"),
        ({"prefixes": "+1234567890123456"}, "invalid_prefix"),
        ({"prefixes": "+٤٤"}, "invalid_prefix"),  # Arabic-Indic digits are digits to Python, not to E.164
    ],
)
def test_bad_filter_input_is_refused_naming_it(kwargs: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ChangeFilter.parse(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert next(iter(kwargs.values())) in str(caught.value)


def test_to_dict_shows_the_filter_as_written() -> None:
    where = ChangeFilter.parse(categories=["vishing"], countries="fr", prefixes=["33", "+4477"])
    assert where.to_dict() == {"categories": ["vishing"], "countries": ["FR"], "prefixes": ["+33", "+4477"]}
    assert np.array_equal(
        where.mask(_batch([33142685300, 447700900123], [2, 2])), np.array([True, False])
    )  # FR and +33; the UK number fails the country
