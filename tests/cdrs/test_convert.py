"""Numbers of call records: through the one normalisation path, withheld callers, digits no plan allows, junk."""

from __future__ import annotations

import phonenumbers
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.cdrs.convert import WITHHELD, convert
from ringfence.cdrs.mapping import preset
from ringfence.errors import InvalidNumber
from ringfence.numbers import normalise


def run(callers: list[str], called: list[str], layout: str = "ringfence", region: str | None = None) -> pl.DataFrame:
    n = len(called)
    raw = pl.DataFrame(
        {
            "caller": callers,
            "called": called,
            "start": ["2026-09-21T14:13:20Z"] * n,
            "duration": ["5"] * n,
            "answered": ["true"] * n,
            "direction": ["outgoing"] * n,
            "line": list(range(2, n + 2)),
            "ref": list(range(n)),
        }
    )
    if layout == "wholesale":
        raw = raw.drop("answered", "direction")
    got = convert(raw, preset(layout), region)
    failed = pl.DataFrame(
        {"ref": [f[0] for f in got.failed], "reason": [f[2] for f in got.failed]},
        schema={"ref": pl.Int64, "reason": pl.String},
    )
    return got.frame.join(failed, on="ref", how="full", coalesce=True).sort("ref")


def expected_called(text: str) -> tuple[int | None, bool | None]:
    """(called, plan) as documented, or (None, None) for a quarantined row."""
    try:
        return normalise(text), True
    except InvalidNumber:
        body = text.removeprefix("+")
        digits = "".join(c for c in body if c.isdigit())
        junk = not body[:1].isdigit() or any(c not in "0123456789 -.()/" for c in body)  # "+" only in front
        if junk or not digits.strip("0") or len(digits.lstrip("0")) > 18:
            return None, None
        return int(digits), False


numbers = st.one_of(
    st.from_regex(r"\+[1-9][0-9]{6,13}", fullmatch=True),
    st.sampled_from(["+447700900123", "+882160012345", "+999123", "+2327712345", "+44abc", "", "0", "12",
                     "+44 20 7946 0018", "tel:+442079460018", "1-800-FLOWERS", "+" + "9" * 25]),
    st.text(alphabet="+0123456789 -a", max_size=16),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=20))
def test_called_numbers_are_normalised_kept_as_digits_or_quarantined(texts: list[str]) -> None:
    got = run(["+447700900123"] * len(texts), texts)
    for text, row in zip(texts, got.iter_rows(named=True), strict=True):
        value, plan = expected_called(text.strip())
        if value is None:
            assert row["reason"] in ("invalid_number", "missing_field"), text
        else:
            assert (row["called"], row["called_plan"], row["reason"]) == (value, plan, None), text


@settings(max_examples=200, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=20))
def test_callers_are_numbers_withheld_or_quarantined(texts: list[str]) -> None:
    got = run(texts, ["+447700900123"] * len(texts))
    for text, row in zip(texts, got.iter_rows(named=True), strict=True):
        value, plan = expected_called(text.strip())
        if text.strip().lower() in WITHHELD or plan is False:
            assert row["caller"] is None and row["reason"] is None, text
        elif value is None:
            assert row["reason"] == "invalid_number", text
        else:
            assert row["caller"] == value and row["reason"] is None, text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True), min_size=1, max_size=10))
def test_international_digits_read_as_if_written_with_plus(digits: list[str]) -> None:
    plain = run(digits, digits, "wholesale")
    plus = run([f"+{d}" for d in digits], [f"00{d}" for d in digits], "wholesale")
    assert plain.drop("line").equals(plus.drop("line"))
    example = phonenumbers.parse("+447700900123")
    assert example.country_code == 44
