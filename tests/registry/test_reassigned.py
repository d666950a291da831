"""Reading reassigned/disconnected numbers feeds (the FCC Reassigned Numbers Database's shape): headers, numbers,
dates, types, junk rows with their line numbers, CSV / JSONL / gzip, and chunking."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, date, datetime, timedelta, timezone
from unittest import mock

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.errors import InvalidInput, InvalidNumber
from ringfence.numbers import normalise, normalise_many
from ringfence.reassigned import KINDS, RowParser, parse_disconnect_date, read_chunks, read_objects, reader
from ringfence.reassigned.reader import MAX_LINE_BYTES
from ringfence.reassigned.rows import canonical_text
from ringfence.registry.disconnects import Disconnect

NOW = 1_790_000_000_000  # 2026-09-21T14:13:20Z
DAY = 86_400_000
SKEW = 300_000
JAN_15 = 1_705_276_800_000  # 2024-01-15T00:00:00Z
NANP = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.country_code_for_region(r) == 1)

Parsed = tuple[list[Disconnect], dict[int, str]]


def parse(data: bytes | str, region: str | None = "US", chunk: int = 100_000, fmt: str | None = None) -> Parsed:
    """The good rows and ``{line: error code}`` of a feed, as the importer sees them."""
    raw = data.encode() if isinstance(data, str) else data
    parser = RowParser(region=region, now_ms=NOW, future_skew_ms=SKEW)
    rows: list[Disconnect] = []
    errors: dict[int, str] = {}
    for part in read_chunks(io.BytesIO(raw), fmt=fmt, chunk=chunk):  # type: ignore[arg-type]
        good, bad = parser.parse(part)
        rows.extend(good)
        for error in bad:
            assert error.line not in errors, f"line {error.line} rejected twice"
            errors[error.line] = error.error.code
    return rows, errors


def header_error(data: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(data)
    return caught.value


# --- headers ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "number,disconnect_date",
        "Phone_Number,Permanent_Disconnect_Date",
        "TN,DATE",
        "telephone number,Disconnected-On",
        " tn , date ",
    ],
)
def test_every_header_spelling_of_the_fcc_shape_is_read(header: str) -> None:
    rows, errors = parse(f"{header}\n2015550123,2024-01-15\n")
    assert rows == [Disconnect(12015550123, JAN_15, "disconnect")] and not errors


def test_columns_may_come_in_any_order_with_a_type_column() -> None:
    rows, errors = parse("Kind,Date,TN\nport,01/15/2024,2015550123\nreassigned,20240115,+1 201 555 0124\n")
    assert rows == [Disconnect(12015550123, JAN_15, "port"), Disconnect(12015550124, JAN_15, "disconnect")]
    assert not errors


def test_an_unknown_column_refuses_the_file() -> None:
    error = header_error("number,disconnect_date,tpye\n2015550123,2024-01-15,port\n")
    assert error.code == "unknown_column" and error.details["columns"] == ["tpye"]


def test_a_missing_header_is_named() -> None:
    error = header_error("2015550123,2024-01-15\n")
    assert error.code == "unknown_column" and "is the header line missing" in error.message


def test_two_columns_for_one_field_refuse_the_file() -> None:
    assert header_error("tn,number,date\n1,2,3\n").code == "duplicate_column"


def test_a_header_without_a_date_refuses_the_file() -> None:
    error = header_error("number,type\n2015550123,port\n")
    assert error.code == "missing_column" and error.details["columns"] == ["disconnect_date"]


def test_an_empty_or_blank_feed_has_no_rows() -> None:
    assert parse("") == ([], {})
    assert parse("\n \n\n") == ([], {})
    assert parse("number,date\n") == ([], {})


# --- rows, junk and line numbers -----------------------------------------------------------------------------------


def test_bad_rows_are_reported_by_line_and_good_rows_kept() -> None:
    feed = (
        "\ufeffnumber,disconnect_date,type\r\n"  # 1: BOM and CRLF
        "2015550123,2024-01-15,\r\n"  # 2
        "\r\n"  # 3: blank
        "12345,2024-01-15,disconnect\r\n"  # 4: too short
        "2015550125,2024-02-30,disconnect\r\n"  # 5: no such day
        "2015550126,2024-01-15,moved\r\n"  # 6: unknown type
        "2015550127,2024-01-15\r\n"  # 7: a field short
        ",2024-01-15,port\r\n"  # 8: no number
        "2015550129,,port\r\n"  # 9: no date
        '"2015550130","01/15/2024","Ported"\r\n'  # 10: quoted
        '2015550131,"2024-01-15,port\r\n'  # 11: unterminated quote
        "2015550132,2099-01-01,disconnect\r\n"  # 12: in the future
        "2015550133,1969-12-31,disconnect\r\n"  # 13: before 1970
        "not a number,2024-01-15,port\r\n"  # 14
        "2015550135,2024-01-15,disconnect"  # 15: no final newline
    )
    rows, errors = parse(feed)
    assert rows == [
        Disconnect(12015550123, JAN_15, "disconnect"),
        Disconnect(12015550130, JAN_15, "port"),
        Disconnect(12015550135, JAN_15, "disconnect"),
    ]
    assert errors == {
        4: "invalid_number",
        5: "invalid_date",
        6: "unknown_type",
        7: "wrong_field_count",
        8: "missing_field",
        9: "missing_field",
        11: "invalid_csv",
        12: "date_in_future",
        13: "invalid_date",
        14: "invalid_number",
    }


def test_errors_say_why_with_the_input() -> None:
    parser = RowParser(region="US", now_ms=NOW)
    feed = b"tn,date,type\n12345,2024-01-15,\n2015550123,15.01.2024,\n2015550123,2024-01-15,x\n"
    (chunk,) = read_chunks(io.BytesIO(feed))
    rows, errors = parser.parse(chunk)
    assert not rows
    number, when, kind = (e.error for e in errors)
    assert isinstance(number, InvalidNumber) and number.details == {"input": "12345", "reason": "too_short"}
    assert when.code == "invalid_date" and when.details == {"field": "disconnect_date", "input": "15.01.2024"}
    assert kind.code == "unknown_type" and kind.details["input"] == "x" and "port" in kind.details["allowed"]


def test_a_line_that_is_not_utf8_costs_only_itself() -> None:
    rows, errors = parse(b"tn,date\n2015550123,2024-01-15\n20155\xff50124,2024-01-15\n2015550125,2024-01-15\n")
    assert [r.number for r in rows] == [12015550123, 12015550125]
    assert errors == {3: "invalid_encoding"}


def test_an_over_long_line_is_skipped_and_reading_goes_on() -> None:
    feed = b"tn,date\n" + b"9" * (MAX_LINE_BYTES + 10) + b"\n2015550123,2024-01-15\n"
    rows, errors = parse(feed)
    assert rows == [Disconnect(12015550123, JAN_15, "disconnect")] and errors == {2: "line_too_long"}


def test_lines_across_small_reads_keep_their_numbers_and_over_long_ones_are_refused() -> None:
    feed = "\ufefftn,date\n" + "".join(
        f"{2015550100 + i},2024-01-15\n" if i != 5 else "9" * 100 + ",2024-01-15\n" for i in range(20)
    )
    with mock.patch.object(reader, "_BLOCK", 8), mock.patch.object(reader, "MAX_LINE_BYTES", 40):
        rows, errors = parse(feed.encode())
        assert parse(feed.replace("\n", "\r\n").encode()) == (rows, errors)
    assert errors == {7: "line_too_long"}
    assert [r.number for r in rows] == [12015550100 + i for i in range(20) if i != 5]


def test_gzip_is_recognised_by_its_magic_bytes_and_damage_is_reported() -> None:
    feed = "tn,date\n" + "".join(f"20155{i:05d},2024-01-15\n" for i in range(1000))
    packed = gzip.compress(feed.encode())
    rows, errors = parse(packed)
    assert len(rows) == 1000 and not errors
    rows, errors = parse(packed[: len(packed) // 2])
    assert list(errors.values()) == ["invalid_gzip"] and len(rows) < 1000


def test_jsonl_is_sniffed_and_read_with_the_same_names() -> None:
    feed = (
        '{"phone_number": "2015550123", "permanent_disconnect_date": "01/15/2024"}\n'
        "\n"
        '{"TN": 2015550124, "Date": 20240115, "kind": "port"}\n'
        '{"tn": "2015550125", "date": "2024-01-15", "color": "blue"}\n'
        "[1, 2]\n"
        "{not json\n"
        '{"tn": true, "date": "2024-01-15"}\n'
    )
    rows, errors = parse(feed)
    assert rows == [Disconnect(12015550123, JAN_15, "disconnect"), Disconnect(12015550124, JAN_15, "port")]
    assert errors == {4: "unknown_field", 5: "invalid_row", 6: "invalid_json", 7: "invalid_field"}


def test_json_objects_are_numbered_from_one() -> None:
    parser = RowParser(region="US", now_ms=NOW)
    items = [{"number": "2015550123", "disconnect_date": "2024-01-15", "type": "ported"}, "junk", {"number": "1"}]
    rows: list[Disconnect] = []
    errors = {}
    for chunk in read_objects(items, chunk=2):
        good, bad = parser.parse(chunk)
        rows += good
        errors.update({e.line: e.error.code for e in bad})
    assert rows == [Disconnect(12015550123, JAN_15, "port")]
    assert errors == {2: "invalid_row", 3: "invalid_number"}


def test_the_format_may_be_named() -> None:
    assert parse('{"tn": "2015550123", "date": "2024-01-15"}\n', fmt="jsonl")[0]
    with pytest.raises(InvalidInput) as caught:
        parse("tn,date\n", fmt="xml")
    assert caught.value.code == "unknown_format"


def test_numbers_in_national_format_follow_the_region() -> None:
    feed = "number,date\n020 7946 0018,2024-01-15\n+12015550123,2024-01-15\n2015550124,2024-01-15\n"
    rows, errors = parse(feed, region="GB")
    assert [r.number for r in rows] == [442079460018, 12015550123, 442015550124] and not errors
    rows, errors = parse(feed, region="US")
    assert [r.number for r in rows] == [12015550123, 12015550124] and errors == {2: "invalid_number"}
    rows, errors = parse(feed, region=None)
    assert [r.number for r in rows] == [12015550123] and errors == {2: "invalid_number", 4: "invalid_number"}


# --- dates ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-15", JAN_15),
        ("20240115", JAN_15),
        ("01/15/2024", JAN_15),
        ("1/5/2024", JAN_15 - 10 * DAY),
        (" 2024-01-15 ", JAN_15),
        ("2024-01-15T10:30:00Z", JAN_15 + 37_800_000),
        ("2024-01-15T10:30:00.123", JAN_15 + 37_800_123),
        ("2024-01-15 10:30:00-05:00", JAN_15 + 37_800_000 + 5 * 3_600_000),
    ],
)
def test_dates_in_every_accepted_form(text: str, expected: int) -> None:
    assert parse_disconnect_date(text, now_ms=NOW, future_skew_ms=SKEW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-13-01",
        "15/01/2024",
        "2024/01/15",
        "15.01.2024",
        "2024-W03-1",
        "\uff12\uff10\uff12\uff14-01-15",
        "yesterday",
    ],
)
def test_what_is_not_a_date(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_disconnect_date(text, now_ms=NOW, future_skew_ms=SKEW)
    assert caught.value.code == "invalid_date"


def test_a_date_in_the_future_is_refused_beyond_the_skew() -> None:
    assert parse_disconnect_date("2026-09-21T14:18:20Z", now_ms=NOW, future_skew_ms=SKEW) == NOW + SKEW
    with pytest.raises(InvalidInput) as caught:
        parse_disconnect_date("2026-09-21T14:18:20.001Z", now_ms=NOW, future_skew_ms=SKEW)
    assert caught.value.code == "date_in_future"


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1970, 1, 1), max_value=date(2026, 9, 21)))
def test_every_date_form_means_midnight_utc_of_that_day(day: date) -> None:
    expected = (day - date(1970, 1, 1)).days * DAY
    forms = (day.isoformat(), day.strftime("%Y%m%d"), day.strftime("%m/%d/%Y"), f"{day.month}/{day.day}/{day.year}")
    for text in forms:
        assert parse_disconnect_date(text, now_ms=NOW, future_skew_ms=0) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2026, 9, 20)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_times_with_an_offset_are_exact_to_the_millisecond(moment: datetime, offset_minutes: int) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    expected = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    if expected < 0:
        return
    assert parse_disconnect_date(aware.isoformat(), now_ms=NOW, future_skew_ms=0) == expected


# --- numbers -------------------------------------------------------------------------------------------------------

ten_digits = st.from_regex(r"[0-9]{10}", fullmatch=True)
number_text = st.one_of(
    ten_digits,
    ten_digits.map(lambda s: "+1" + s),
    ten_digits.map(lambda s: "1" + s),
    ten_digits.map(lambda s: f"({s[:3]}) {s[3:6]}-{s[6:]}"),
    st.from_regex(r"[0-9]{7,12}", fullmatch=True),
    st.text(alphabet="0123456789+-() .\x00\u0663\uff12", max_size=14),
)


def normalised(raw: str, region: str | None) -> int | str:
    try:
        return normalise(raw, region)
    except InvalidNumber as exc:
        return exc.reason


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(number_text, min_size=1, max_size=30), st.sampled_from([*NANP, "GB", "DE", None]))
def test_the_nanp_shortcut_changes_no_answer_of_the_normalisation_path(raws: list[str], region: str | None) -> None:
    values, problems = normalise_many(canonical_text(raws, region), region)
    for i, raw in enumerate(raws):
        expected = normalised(raw, region)
        if isinstance(expected, int):
            assert values[i] == expected, raw
        else:
            assert i in problems, raw


@pytest.mark.parametrize("region", NANP)
def test_ten_national_digits_are_plus_one_in_every_nanp_region(region: str) -> None:
    raws = [f"{a}{n:09d}" for a in range(2, 10) for n in (0, 5_550_123, 999_999_999, 123_456_789)]
    assert [normalise(raw, region) for raw in raws] == [int("1" + raw) for raw in raws]


# --- the whole parser against a row-by-row reference ---------------------------------------------------------------

date_text = st.one_of(
    st.dates(min_value=date(1969, 12, 30), max_value=date(2027, 1, 1)).flatmap(
        lambda d: st.sampled_from([d.isoformat(), d.strftime("%Y%m%d"), d.strftime("%m/%d/%Y")])
    ),
    st.text(alphabet="0123456789-/T:Z ", max_size=12),
)
kind_text = st.sampled_from(["", "disconnect", "Reassigned", "PORT", "ported", "moved", " port "])


def reference(number: str, when: str, kind: str, region: str | None) -> Disconnect | str:
    """One row the slow way: the scalar normalisation, the date parser and the kinds table, first problem wins."""
    if not number.strip():
        return "missing_field"
    value = normalised(number.strip(), region)
    if not isinstance(value, int):
        return "invalid_number"
    try:
        at_ms = parse_disconnect_date(when, now_ms=NOW, future_skew_ms=SKEW)
    except InvalidInput as exc:
        return "missing_field" if not when.strip() else exc.code
    meaning = KINDS.get(kind.strip().lower())
    return Disconnect(value, at_ms, meaning) if meaning else "unknown_type"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(number_text, date_text, kind_text), max_size=40),
    st.sampled_from(["US", "CA", "GB", None]),
    st.integers(min_value=1, max_value=7),
    st.booleans(),
    st.sampled_from([7, 64, reader._BLOCK]),
)
def test_the_parser_agrees_with_a_row_by_row_reference(
    rows: list[tuple[str, str, str]], region: str | None, chunk: int, gzipped: bool, block: int
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["TN", "Disconnect Date", "Type"])
    writer.writerows(rows)
    data = out.getvalue().encode()
    with mock.patch.object(reader, "_BLOCK", block):  # small blocks: lines split across reads everywhere
        good, errors = parse(gzip.compress(data) if gzipped else data, region=region, chunk=chunk)
    expected_rows: list[Disconnect] = []
    expected_errors: dict[int, str] = {}
    for line, (number, when, kind) in enumerate(rows, start=2):
        if "\n" in number + when + kind or "\r" in number + when + kind:
            return  # csv.writer quoted a line break: one record per line does not hold for this example
        expected = reference(number, when, kind, region)
        if isinstance(expected, Disconnect):
            expected_rows.append(expected)
        else:
            expected_errors[line] = expected
    assert good == expected_rows
    assert errors == expected_errors


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, "csv", "jsonl"]))
def test_junk_after_a_good_header_is_rejected_row_by_row(junk: bytes, fmt: str | None) -> None:
    rows, errors = parse(b"tn,date,type\n" + junk, fmt=fmt)
    assert len(rows) + len(errors) <= junk.count(b"\n") + 2


def test_big_chunks_and_small_chunks_agree() -> None:
    feed = "tn,date\n" + "".join(
        f"{2015550000 + i},2024-01-{1 + i % 28:02d}\n" if i % 97 else f"junk{i},2024-01-01\n" for i in range(5000)
    )
    whole = parse(feed)
    assert parse(feed, chunk=333) == whole
    assert len(whole[0]) + len(whole[1]) == 5000
