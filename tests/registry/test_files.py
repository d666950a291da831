"""Report files in (CSV, JSONL, gzip) and listings out."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.errors import InvalidInput
from ringfence.registry.files import (
    EXPORT_COLUMNS,
    MAX_RECORD_LINES,
    import_reports,
    parse_reports,
    read_report_rows,
    write_listings,
)
from ringfence.registry.models import Member, Role
from ringfence.registry.service import RowError
from ringfence.runtime import Runtime

NOW = 1_790_000_000_000  # 2026-09-21


def rows(data: bytes, fmt: str | None = None) -> list[tuple[int, object]]:
    return list(read_report_rows(io.BytesIO(data), fmt))  # type: ignore[arg-type]


def good(result: list[tuple[int, object]]) -> dict[int, object]:
    return {line: value for line, value in result if not isinstance(value, InvalidInput)}


def bad(result: list[tuple[int, object]]) -> dict[int, str]:
    return {line: value.code for line, value in result if isinstance(value, InvalidInput)}


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(Settings(database_url=f"sqlite:///{tmp_path / 'files.db'}"), clock=FixedClock(NOW))
    yield rt
    rt.close()


@pytest.fixture
def member(runtime: Runtime) -> Member:
    return runtime.members.add("carrier", Role.REPORTER)[0]


# --- reading -------------------------------------------------------------------------------------------------


def test_csv_rows_carry_physical_line_numbers() -> None:
    data = b"number,category\n+442079460018,vishing\n\n+442079460019,irsf\n"
    assert rows(data) == [
        (2, {"number": "+442079460018", "category": "vishing"}),
        (4, {"number": "+442079460019", "category": "irsf"}),
    ]


@pytest.mark.parametrize("header", [b"Number,CATEGORY", b" number , category ", b"number,Category\r"])
def test_header_is_case_and_space_insensitive(header: bytes) -> None:
    assert good(rows(header + b"\n+442079460018,vishing\n")) == {2: {"number": "+442079460018", "category": "vishing"}}


def test_header_with_spaces_in_names() -> None:
    data = b"number,category,Occurred At,report-id\n+442079460018,vishing,2026-01-01T00:00:00Z,r1\n"
    assert good(rows(data))[2] == {
        "number": "+442079460018",
        "category": "vishing",
        "occurred_at": "2026-01-01T00:00:00Z",
        "report_id": "r1",
    }


def test_bom_and_crlf() -> None:
    data = b"\xef\xbb\xbfnumber,category\r\n+442079460018,vishing\r\n"
    assert good(rows(data)) == {2: {"number": "+442079460018", "category": "vishing"}}


def test_unknown_column_is_one_error_for_the_file() -> None:
    with pytest.raises(InvalidInput) as caught:
        rows(b"number,category,reporter\n+442079460018,vishing,x\n")
    assert caught.value.code == "unknown_column"
    assert "reporter" in caught.value.message


def test_missing_header_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        rows(b"+442079460018,vishing\n")
    assert caught.value.code in {"unknown_column", "missing_column"}


def test_bad_csv_rows_are_kept_apart() -> None:
    data = (
        b"number,category,note\n"
        b"+442079460018,vishing,ok\n"
        b"+442079460019,irsf\n"  # too few fields
        b"+442079460020,irsf,a,b\n"  # too many
        b"+442079460021,\xff\xfe,bad utf-8\n"
        b'+442079460022,wangiri,"two\nlines"\n'
        b"+442079460023,robocall,\n"
    )
    result = rows(data)
    assert bad(result) == {3: "wrong_field_count", 4: "wrong_field_count", 5: "invalid_encoding"}
    assert sorted(good(result)) == [2, 6, 8]
    assert good(result)[6] == {"number": "+442079460022", "category": "wangiri", "note": "two\nlines"}


def test_unclosed_quote_costs_only_its_line() -> None:
    lines = [b"number,category,note", b'+442079460018,vishing,"oops']
    lines += [b"+4420794600%02d,irsf,fine" % i for i in range(MAX_RECORD_LINES + 5)]
    result = rows(b"\n".join(lines) + b"\n")
    assert bad(result) == {2: "invalid_csv"}
    assert len(good(result)) == MAX_RECORD_LINES + 5


def test_unclosed_quote_at_end_of_file() -> None:
    result = rows(b'number,category,note\n+442079460018,vishing,"oops\n+442079460019,irsf,x\n')
    assert bad(result) == {2: "invalid_csv"}
    assert list(good(result)) == [3]


def test_nul_byte_costs_only_its_row() -> None:
    result = rows(b"number,category\n+4420794\x0060018,vishing\n+442079460019,irsf\n")
    parsed = list(parse_reports(result, now_ms=NOW, region=None, future_skew_ms=0))  # type: ignore[arg-type]
    assert [(p.line, p.error.code) for p in parsed if isinstance(p, RowError)] == [(2, "invalid_number")]
    assert [p[0] for p in parsed if not isinstance(p, RowError)] == [3]


def test_jsonl_rows() -> None:
    data = (
        b'{"number": "+442079460018", "category": "vishing"}\n'
        b"\n"
        b"[1, 2]\n"
        b"{not json\n"
        b'  {"number": "+442079460019", "category": "irsf", "note": "x"}  \n'
    )
    result = rows(data)
    assert bad(result) == {3: "invalid_json", 4: "invalid_json"}
    assert good(result) == {
        1: {"number": "+442079460018", "category": "vishing"},
        5: {"number": "+442079460019", "category": "irsf", "note": "x"},
    }


def test_format_is_sniffed_after_blank_lines_and_bom() -> None:
    result = rows(b'\xef\xbb\xbf\n\n {"number": "+442079460018", "category": "vishing"}\n')
    assert good(result) == {3: {"number": "+442079460018", "category": "vishing"}}


def test_gzip_is_recognised_by_its_bytes() -> None:
    plain = b"number,category\n+442079460018,vishing\n"
    assert rows(gzip.compress(plain)) == rows(plain)
    jsonl = b'{"number": "+442079460018", "category": "vishing"}\n'
    assert rows(gzip.compress(jsonl)) == rows(jsonl)


def test_damaged_gzip_keeps_what_was_read() -> None:
    body = b"number,category\n" + b"".join(b"+4420794%05d,irsf\n" % i for i in range(5000))
    packed = gzip.compress(body)
    result = rows(packed[: len(packed) - 40])
    assert list(bad(result).values()) == ["invalid_gzip"]
    assert len(good(result)) > 1000


def test_explicit_format_wins() -> None:
    with pytest.raises(InvalidInput) as caught:  # '{"number": ...' is no CSV header
        rows(b'{"number": "+442079460018", "category": "vishing"}\n', "csv")
    assert caught.value.code == "unknown_column"
    assert rows(b"", "jsonl") == []


line_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(line_text.map(str.encode), st.binary(max_size=40)), max_size=20), st.booleans())
def test_arbitrary_lines_never_crash(lines: list[bytes], zipped: bool) -> None:
    """Each bad line is an error entry; the only exceptions are the documented whole-file header errors."""
    for header in (b"number,category,note", b""):
        plain = b"\n".join([header, *lines]) if header else b"\n".join(lines)
        data = gzip.compress(plain) if zipped else plain
        try:
            result = rows(data)
        except InvalidInput as exc:
            assert exc.code in {"unknown_column", "duplicate_column", "missing_column", "invalid_header"}
            continue
        physical = plain.count(b"\n") + 1
        for line, value in result:
            assert 1 <= line <= physical + 1
            assert isinstance(value, (dict, InvalidInput))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    try:
        result = rows(data)
    except InvalidInput as exc:
        assert exc.code in {"unknown_column", "duplicate_column", "missing_column", "invalid_header"}
        return
    assert all(isinstance(value, (dict, InvalidInput)) for _, value in result)


# --- parsing and importing ----------------------------------------------------------------------------------


def test_parse_reports_turns_bad_fields_into_row_errors() -> None:
    data = b"number,category\n+442079460018,vishing\nnope,irsf\n+442079460019,bogus\n"
    parsed = list(parse_reports(rows(data), now_ms=NOW, region=None, future_skew_ms=0))  # type: ignore[arg-type]
    assert [p.line if isinstance(p, RowError) else p[0] for p in parsed] == [2, 3, 4]
    assert [p.error.code for p in parsed if isinstance(p, RowError)] == ["invalid_number", "unknown_category"]


def test_import_stores_good_rows_and_reports_bad_ones(runtime: Runtime, member: Member) -> None:
    data = (
        b"number,category,report_id\n"
        b"+442079460018,vishing,a\n"
        b"+44 20 7946 0019,irsf,b\n"
        b"garbage,irsf,c\n"
        b"+442079460018,vishing,a\n"  # a retry of line 2
        b"+442079460020,irsf\n"
    )
    seen: list[int] = []
    outcome = import_reports(runtime.registry, member, io.BytesIO(data), on_progress=seen.append)
    assert (outcome.accepted, outcome.duplicates) == (2, 1)
    assert [(e.line, e.error.code) for e in outcome.errors] == [(4, "invalid_number"), (6, "wrong_field_count")]
    assert seen and seen[-1] == len(data)
    listing = runtime.registry.lookup(442079460018)
    assert listing is not None and listing.report_count == 1
    assert runtime.registry.lookup(442079460019) is not None


def test_import_national_numbers_with_region(runtime: Runtime, member: Member) -> None:
    data = b'{"number": "020 7946 0018", "category": "vishing"}\n'
    outcome = import_reports(runtime.registry, member, io.BytesIO(gzip.compress(data)), region="GB")
    assert outcome.accepted == 1 and not outcome.errors
    assert runtime.registry.lookup(442079460018) is not None


# --- exporting ----------------------------------------------------------------------------------------------


def _fill(runtime: Runtime, member: Member) -> None:
    body = b"number,category\n" + b"".join(
        b"+4420794600%02d,%s\n" % (i, b"irsf" if i % 2 else b"vishing") for i in range(30)
    )
    body += b"+442079460001,wangiri\n"
    outcome = import_reports(runtime.registry, member, io.BytesIO(body))
    assert outcome.accepted == 31


def test_export_csv_round_trip(runtime: Runtime, member: Member) -> None:
    _fill(runtime, member)
    out = io.StringIO()
    assert write_listings(runtime.registry.iter_listings(), out, "csv") == 30
    records = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(records[0]) == EXPORT_COLUMNS
    by_number = {r["number"]: r for r in records}
    assert by_number["+442079460001"]["report_count"] == "2"
    assert by_number["+442079460001"]["categories"] == "irsf|wangiri"
    assert by_number["+442079460002"]["country"] == "GB"
    assert "carrier" not in out.getvalue()


def test_export_jsonl_round_trip(runtime: Runtime, member: Member) -> None:
    _fill(runtime, member)
    out = io.StringIO()
    assert write_listings(runtime.registry.iter_listings(), out, "jsonl") == 30
    records = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert {r["number"] for r in records} == {f"+4420794600{i:02d}" for i in range(30)}
    assert next(r for r in records if r["number"] == "+442079460001")["categories"] == ["irsf", "wangiri"]
    assert all(r["reporter_count"] == 1 for r in records)


def test_export_numbers_read_back_as_reports(runtime: Runtime, member: Member) -> None:
    _fill(runtime, member)
    out = io.StringIO()
    write_listings(runtime.registry.iter_listings(), out, "jsonl")
    again = "".join(
        orjson.dumps({"number": r["number"], "category": r["categories"][0]}).decode() + "\n"
        for r in map(orjson.loads, out.getvalue().splitlines())
    )
    other = runtime.members.add("bank", Role.REPORTER)[0]
    outcome = import_reports(runtime.registry, other, io.BytesIO(again.encode()))
    assert outcome.accepted == 30 and not outcome.errors
    assert all(listing.reporter_count == 2 for listing in runtime.registry.iter_listings())


def test_unknown_export_format() -> None:
    with pytest.raises(InvalidInput):
        write_listings([], io.StringIO(), "xml")  # type: ignore[arg-type]
