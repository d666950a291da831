"""Rows of snapshot and delta files: exactly the export's listing records and the change feed's change views."""

from __future__ import annotations

import csv
import io

import numpy as np
import orjson
import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.feed.models import KIND_CODES, KINDS, ChangeBatch
from ringfence.feed.views import change_view
from ringfence.files.render import (
    CHANGE_COLUMNS,
    LISTING_COLUMNS,
    csv_header,
    iso_many,
    render_changes,
    render_listings,
)
from ringfence.numbers import info
from ringfence.registry.files import write_listings
from ringfence.registry.index import Listing
from ringfence.registry.views import iso

# Every region's example numbers of every type: all countries, every type, and numbers no region claims.
EXAMPLES = sorted(
    {
        int(f"{n.country_code}{n.national_number}")
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in range(11)
        if (n := phonenumbers.example_number_for_type(region, kind)) is not None
    }
    | {882345678901, 80012345678, 447700900123}
)
MS = st.integers(0, 4_102_444_800_000)  # 1970 .. 2100


def test_the_examples_cover_many_countries() -> None:
    assert len(EXAMPLES) > 900
    assert len({info(n).country for n in EXAMPLES}) > 200


@given(st.lists(MS, min_size=1, max_size=50))
def test_iso_many_writes_what_iso_writes(values: list[int]) -> None:
    assert iso_many(np.array(values, dtype=np.int64)) == [iso(v) for v in values]


listings_strategy = st.lists(
    st.builds(
        lambda number, first, span, count, reporters, cats: Listing(
            number, first, first + span, count, reporters, cats, reporters * 1000, 0
        ),
        st.sampled_from(EXAMPLES),
        MS,
        st.integers(0, 10**10),
        st.integers(1, 2**31 - 1),
        st.integers(1, 10_000),
        st.integers(0, 511),
    ),
    min_size=1,
    max_size=40,
    unique_by=lambda listing: listing.number,
)


def _array(listings: list[Listing]) -> np.ndarray:
    return np.array([tuple(x)[:6] for x in listings], dtype=np.int64).reshape(-1, 6)


@settings(max_examples=200)
@given(listings_strategy)
def test_listing_rows_are_the_exports_rows_byte_for_byte(listings: list[Listing]) -> None:
    csv_lines, jsonl_lines = render_listings(_array(listings))
    expected_csv, expected_jsonl = io.StringIO(newline=""), io.StringIO(newline="")
    write_listings(listings, expected_csv, "csv")
    write_listings(listings, expected_jsonl, "jsonl")
    assert csv_header(LISTING_COLUMNS) + csv_lines == expected_csv.getvalue().encode()
    assert jsonl_lines == expected_jsonl.getvalue().encode()


def test_every_example_number_renders_as_the_export_does() -> None:
    listings = [Listing(n, 1_700_000_000_000, 1_790_000_000_123, 3, 2, 0b101, 2000, 0) for n in EXAMPLES]
    csv_lines, jsonl_lines = render_listings(_array(listings))
    expected = io.StringIO(newline="")
    write_listings(listings, expected, "jsonl")
    assert jsonl_lines == expected.getvalue().encode()
    assert len(csv_lines.splitlines()) == len(EXAMPLES)


def test_no_listings_render_as_nothing() -> None:
    assert render_listings(np.zeros((0, 6), dtype=np.int64)) == (b"", b"")
    assert render_changes(ChangeBatch.from_rows([])) == (b"", b"")


changes_strategy = st.lists(
    st.tuples(
        MS,
        st.sampled_from(KINDS),
        st.sampled_from(EXAMPLES),
        st.booleans(),
        MS,
        st.integers(0, 10**10),
        st.integers(1, 2**31 - 1),
        st.integers(1, 10_000),
        st.integers(0, 511),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200)
@given(changes_strategy, st.integers(1, 10**12))
def test_change_rows_are_the_feeds_change_views(rows: list[tuple[object, ...]], first_seq: int) -> None:
    batch = ChangeBatch.from_rows(
        [
            (
                first_seq + i,
                at,
                KIND_CODES[kind],
                number,
                int(listed),
                *((f, f + span, n, r) if listed else (0,) * 4),
                c,
                *((r * 1000, 0) if listed else (0, 0)),
            )
            for i, (at, kind, number, listed, f, span, n, r, c) in enumerate(rows)
        ]
    )
    csv_lines, jsonl_lines = render_changes(batch)
    changes = batch.changes()
    assert jsonl_lines == b"".join(orjson.dumps(change_view(c)) + b"\n" for c in changes)

    parsed = list(csv.DictReader(io.StringIO((csv_header(CHANGE_COLUMNS) + csv_lines).decode())))
    assert len(parsed) == len(changes)
    for row, change in zip(parsed, changes, strict=True):
        view = change_view(change)
        flat = {
            "seq": str(view["seq"]),
            "at": view["at"],
            "kind": view["kind"],
            "number": view["number"],
            "country": view["info"]["country"] or "",
            "country_code": str(view["info"]["country_code"]),
            "type": view["info"]["type"],
            "valid": "true" if view["info"]["valid"] else "false",
            "listed": "true" if view["listed"] else "false",
            "categories": "|".join(view["categories"]),
        }
        listing = view["listing"]
        for column in ("first_reported_at", "last_reported_at", "report_count", "reporter_count"):
            flat[column] = "" if listing is None else str(listing[column])
        assert row == flat
