"""Reading and cleansing hotlist files: TXT, CSV and JSONL (gzip too), junk stripped, country hints per row and per
file, duplicates merged, wildcards and prefixes, bad rows reported with their lines and the good ones kept."""

from __future__ import annotations

import csv
import gzip
import io

import orjson
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.errors import InvalidInput
from ringfence.hotlists.cleanse import Cleanser, region_hint, strip_junk
from ringfence.hotlists.patterns import parse_pattern
from ringfence.hotlists.published import Published, collect
from ringfence.hotlists.reader import RawRow, read_rows
from ringfence.numbers import normalise
from ringfence.registry.service import RowError


def entries(published: Published) -> list[str]:
    return list(published.entries)


def lines(published: Published) -> list[tuple[int, str]]:
    return [(e.line, e.error.code) for e in published.errors]


def read(text: str | bytes, **options: object) -> Published:
    data = text.encode() if isinstance(text, str) else text
    kwargs: dict[str, object] = {"fmt": None, "region": None, "wildcard_last": 0, **options}
    return collect(data, **kwargs)  # type: ignore[arg-type]


# --- formats ------------------------------------------------------------------------------------------------
def test_txt_is_one_entry_per_line_with_comments_and_blank_lines() -> None:
    text = (
        "# IRS test numbers, week 38\n"
        "\n"
        "+372 5521 234\n"
        "+3725521299   # seen on 2026-09-20\n"
        "+88216*\n"
        "   \n"
        "+44 20 7946 0018\tLondon test line\n"
        "+44 20 7946 0019; second field\n"
        "junk\n"
    )
    published = read(text)
    assert published.format == "txt"
    assert entries(published) == ["+3725521234", "+3725521299", "+88216*", "+442079460018", "+442079460019"]
    assert lines(published) == [(9, "invalid_number")]
    assert published.invalid == 1


def test_a_hash_after_the_digits_is_a_wildcard_not_a_comment() -> None:
    published = read("+372 5521 ##\n+3725522#\n")
    assert entries(published) == ["+3725521??", "+3725522?"]


def test_csv_with_aliases_a_sniffed_delimiter_and_ignored_columns() -> None:
    text = "Test Number;Country;Destination;Provider\n020 7946 0018;GB;London;vendor-a\n2015550123;1;USA;\n"
    published = read(text)
    assert published.format == "csv"
    assert published.ignored_columns == ["Destination"]
    assert published.entries["+442079460018"].source == "vendor-a"
    assert published.entries["+12015550123"].source is None
    assert published.invalid == 0


def test_csv_rows_that_cannot_be_read_are_reported_with_their_lines() -> None:
    text = (
        "number,country\n"  # line 1
        "+3725521234,\n"  # 2: good
        ",GB\n"  # 3: no number
        "+3725521235,EE,extra\n"  # 4: one field too many
        "+3725521236,EE,\n"  # 5: a trailing empty field is fine
        '"+3725521237\n'  # 6: an unclosed quote
        "07700 900123,XX\n"  # 7: unknown country hint
        "# a comment row\n"
        ",\n"  # blank
        "+3725521238\n"  # 10: fewer fields are padded
    )
    published = read(text)
    assert entries(published) == ["+3725521234", "+3725521236", "+3725521238"]
    assert lines(published) == [
        (3, "missing_field"),
        (4, "wrong_field_count"),
        (6, "invalid_csv"),
        (7, "unknown_region"),
    ]


def test_a_csv_without_a_number_column_is_refused_as_a_whole() -> None:
    with pytest.raises(InvalidInput) as refused:
        read("msisdn_x,country\n+3725521234,EE\n", fmt="csv")
    assert refused.value.code == "missing_header"
    with pytest.raises(InvalidInput) as repeated:
        read("number,tn\n+3725521234,+3725521235\n")
    assert repeated.value.code == "duplicate_column"


def test_jsonl_objects_strings_and_integers() -> None:
    text = "\n".join(
        [
            orjson.dumps({"number": "+3725521234", "source": "vendor-a", "note": "ignored"}).decode(),
            orjson.dumps("+88216*").decode(),
            orjson.dumps({"msisdn": 447700900123}).decode(),
            orjson.dumps({"number": "07700 900124", "country": "GB"}).decode(),
            "{not json",
            orjson.dumps([1, 2]).decode(),
            orjson.dumps({"number": 1.5}).decode(),
            orjson.dumps({"country": "GB"}).decode(),
        ]
    )
    published = read(text)
    assert published.format == "jsonl"
    assert entries(published) == ["+3725521234", "+88216*", "+447700900123", "+447700900124"]
    assert published.entries["+3725521234"].source == "vendor-a"
    assert published.ignored_columns == ["note"]
    assert lines(published) == [(5, "invalid_json"), (6, "invalid_row"), (7, "invalid_field"), (8, "missing_field")]


def test_gzip_is_recognised_by_its_magic_bytes_and_damage_is_reported() -> None:
    text = "+3725521234\n+3725521235\n" * 3
    assert entries(read(gzip.compress(text.encode()))) == ["+3725521234", "+3725521235"]
    whole = gzip.compress("".join(f"+37255{i:05d}\n" for i in range(20_000)).encode())
    published = read(whole[: len(whole) // 2])  # cut off half way
    assert "+3725500000" in published.entries and len(published.entries) < 20_000
    assert published.errors[-1].error.code == "invalid_gzip"
    assert published.errors[-1].line == len(published.entries) + 1


def test_a_format_can_be_named() -> None:
    assert read("number\n+3725521234\n", fmt="txt").errors[0].line == 1  # "number" is not a number in a TXT file
    assert entries(read('"+3725521234"\n', fmt="jsonl")) == ["+3725521234"]


# --- cleansing ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ('  "+44 20 7946 0018"  ', "+44 20 7946 0018"),
        ('="+447700900123"', "+447700900123"),
        ("'447700900123", "447700900123"),
        ("447700900123.0", "447700900123"),
        ("tel:+1-201-555-0123", "+1-201-555-0123"),
        ("\u00a0+44\u200b 20 7946 0018,", "+44 20 7946 0018"),
        ("+44 (0)20 7946 0018", "+44 20 7946 0018"),
        ("\u201c+3725521234\u201d;", "+3725521234"),
    ],
)
def test_junk_is_stripped(raw: str, cleaned: str) -> None:
    assert strip_junk(raw) == cleaned


def test_country_hints_per_row_win_over_the_file_and_calling_codes_count() -> None:
    rows = [
        RawRow(1, "07700 900123", "GB"),
        RawRow(2, "07700 900123", "+44"),
        RawRow(3, "2015550123", "us"),
        RawRow(4, "030 123456"),  # the file's hint: DE
        RawRow(5, "+442079460018", "DE"),  # international: the hint does not matter
        RawRow(6, "3725521234", "882"),  # a non-geographic code: international
        RawRow(7, "030 123456", "999"),
    ]
    out = Cleanser("DE").cleanse(rows)
    texts = [o.pattern.text if not isinstance(o, RowError) else o.error.code for o in out]
    assert texts == [
        "+447700900123",
        "+447700900123",
        "+12015550123",
        "+4930123456",
        "+442079460018",
        "+3725521234",
        "unknown_region",
    ]
    assert region_hint(None) is None and region_hint(" ") is None


def test_without_any_hint_bare_digits_are_international_and_a_trunk_zero_is_refused() -> None:
    published = read("3725521234\n37255212??\n07700 900123\n0207946??\n")
    assert entries(published) == ["+3725521234", "+37255212??"]
    assert [(e.line, e.error.details.get("reason")) for e in published.errors] == [(3, "no_region"), (4, "no_region")]


def test_the_file_hint_reads_national_numbers_ranges_and_prefixes() -> None:
    published = read("07700 900123\n020 7946 00??\n020 7946*\n+3725521234\n", region="GB")
    assert entries(published) == ["+447700900123", "+4420794600??", "+44207946*", "+3725521234"]


def test_wildcards_ranges_and_prefixes() -> None:
    published = read("+3725521??\n+88213xxxxxx\n+88216\n0088217*\n+442079\n+44 20 7946 0XX\n+372?5521\n+88216??*\n")
    assert entries(published) == ["+3725521??", "+88213??????", "+88216*", "+88217*", "+442079*", "+442079460??"]
    reasons = [(e.line, e.error.details.get("reason")) for e in published.errors]
    assert reasons == [(7, "wildcard_not_trailing"), (8, "star_after_wildcard")]


def test_duplicates_are_merged_keeping_the_first_rows_source() -> None:
    text = (
        "number,source\n+44 20 7946 0018,first\n02079460018,second\n+442079460018,third\n+3725521??,x\n+3725521 ??,y\n"
    )
    published = read(text, region="GB")
    assert published.entries["+442079460018"].source == "first"
    assert published.duplicates == 3
    assert entries(published) == ["+442079460018", "+3725521??"]


def test_wildcard_last_derives_the_range_of_every_test_number() -> None:
    published = read("+3725521234\n+3725521299\n+4420794600??\n+442079460018\n+88216*\n", wildcard_last=2)
    derived = {text for text, item in published.entries.items() if item.derived}
    assert derived == {"+37255212??"}  # +4420794600?? is published as such: not derived
    assert published.derived == 1
    assert not published.entries["+4420794600??"].derived


def test_a_file_with_no_valid_numbers_is_refused_with_its_bad_rows() -> None:
    with pytest.raises(InvalidInput) as refused:
        read("junk\n+999 123\n")
    assert refused.value.code == "no_valid_numbers"
    assert refused.value.details["invalid"] == 2
    assert [e["line"] for e in refused.value.details["errors"]] == [1, 2]
    with pytest.raises(InvalidInput) as empty:
        read("# nothing but a comment\n\n")
    assert empty.value.code == "no_valid_numbers" and "no rows" in empty.value.message


# --- properties ---------------------------------------------------------------------------------------------
def _examples() -> list[tuple[str, int]]:
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if example is not None:
            found.append((region, int(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:])))
    return found


EXAMPLES = _examples()
FORMATS = (
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
)
JUNK = st.sampled_from(['"{}"', "  {}  ", "'{}", '="{}"', "{},", "tel:{}", "\u00a0{}\u200b", "{};"])


@st.composite
def written(draw: st.DrawFn) -> tuple[str, str | None, int]:
    """An example number as a list might write it: a format, junk around it, and the hint it then needs."""
    region, number = draw(st.sampled_from(EXAMPLES))
    fmt = draw(st.sampled_from(FORMATS))
    parsed = phonenumbers.parse(f"+{number}")
    text = phonenumbers.format_number(parsed, fmt)
    hint = region if fmt == phonenumbers.PhoneNumberFormat.NATIONAL else draw(st.sampled_from([None, region]))
    try:
        expected = normalise(text, hint)
    except InvalidInput:
        expected = 0
    return draw(JUNK).format(text), hint, expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(written(), min_size=1, max_size=20), st.lists(st.sampled_from(["junk", "+", "x?", "+999 1"])))
def test_cleansing_standardises_every_number_and_reports_junk_rows(
    rows: list[tuple[str, str | None, int]], junk: list[str]
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "country"])
    writer.writerows([(text, hint or "") for text, hint, _ in rows] + [(j, "") for j in junk])
    body = out.getvalue()
    if all(expected == 0 for *_, expected in rows):
        with pytest.raises(InvalidInput):
            read(body)
        return
    published = read(body)
    good = [f"+{expected}" for *_, expected in rows if expected]
    assert entries(published) == list(dict.fromkeys(good))
    assert published.duplicates == len(good) - len(set(good))
    bad_lines = [i + 2 for i, (*_, expected) in enumerate(rows) if not expected]
    bad_lines += [len(rows) + 2 + i for i in range(len(junk))]
    assert [e.line for e in published.errors] == bad_lines
    assert published.invalid == len(bad_lines)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(EXAMPLES), st.integers(1, 4), st.sampled_from(["?", "x", "X", "#"]), st.booleans())
def test_a_wildcarded_number_covers_the_number(
    example: tuple[str, int], wildcards: int, mark: str, national: bool
) -> None:
    region, number = example
    digits = str(number)
    if national:  # as the country writes it, its last digits wildcarded
        written = phonenumbers.format_number(phonenumbers.parse(f"+{number}"), phonenumbers.PhoneNumberFormat.NATIONAL)
        nsn = "".join(c for c in written if c.isdigit())
        if len(nsn) <= wildcards:
            return
        text, hint = nsn[:-wildcards] + mark * wildcards, region
    else:
        text, hint = "+" + digits[:-wildcards] + mark * wildcards, None
    try:
        published = read(text + "\n", region=hint)
    except InvalidInput:  # only when the range's first number is no possible number of the country
        assert national
        return
    [pattern] = [item.pattern for item in published.entries.values()]
    assert pattern.covers(number)
    assert pattern.text == "+" + digits[:-wildcards] + "?" * wildcards
    assert parse_pattern(pattern.text) == pattern


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([None, "txt", "csv", "jsonl"]))
def test_any_bytes_are_read_or_refused_cleanly(data: bytes, fmt: str | None) -> None:
    try:
        rows = list(read_rows(data, fmt))  # type: ignore[arg-type]
    except InvalidInput:
        return
    assert all(isinstance(r, RawRow | RowError) for r in rows)
    assert [r.line for r in rows] == sorted(r.line for r in rows)
