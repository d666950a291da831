"""Reading call records: every preset's realistic files, JSONL and JSON batches, gzip, streams in chunks, and bad
input quarantined with its line and reason while the rest is kept."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.cdrs.mapping import load_mapping, preset
from ringfence.cdrs.models import CDR_SCHEMA, Cdr, Direction
from ringfence.cdrs.reader import CdrRead, CdrReader
from ringfence.errors import InvalidInput
from tests.cdrs.samples import ASTERISK, RINGFENCE, RINGFENCE_JSONL, WHOLESALE

HEADER = b"start,caller,called,duration_s,answered,direction,subscriber,route,cost\n"
GOOD = b"2026-09-21T14:13:20.000Z,+447700900123,+882160012345,12,true,outgoing,234150000000001,T1,0.10\n"


def reasons(read: CdrRead) -> list[tuple[int, str]]:
    return [(q.line, q.reason) for q in read.quarantined]


def records(read: CdrRead) -> list[Cdr]:
    return [Cdr.from_row(row) for row in read.frame.iter_rows(named=True)]


def row(start: str = "2026-09-21T14:13:20Z", caller: str = "+447700900123", called: str = "+882160012345",
        duration: str = "12", answered: str = "true", direction: str = "outgoing", subscriber: str = "",
        route: str = "T1", cost: str = "") -> bytes:  # fmt: skip
    return ",".join([start, caller, called, duration, answered, direction, subscriber, route, cost]).encode() + b"\n"


# --- presets ------------------------------------------------------------------------------------------------------
def test_the_canonical_layout_is_read_whole() -> None:
    got = CdrReader().read_bytes(RINGFENCE)
    assert got.frame.schema == pl.Schema(CDR_SCHEMA)
    assert got.quarantined == [] and got.rows == 6
    first, _, incoming, withheld, premium, visitor = records(got)
    assert first == Cdr(0, 2, 447700900123, 882160012345, True, 1_790_000_000_250, 12_500, True,
                        Direction.OUTGOING, "234150000000001", "T1", 0.10)  # fmt: skip
    assert incoming.direction is Direction.INCOMING and not incoming.answered and incoming.duration_ms == 0
    assert incoming.subscriber == "+447700900125"  # no subscriber: the local party (B of an incoming call)
    assert withheld.caller is None and withheld.subscriber == "234150000000003"
    assert premium.direction is Direction.ROAMING_OUT and premium.called == 2327712345 and not premium.called_plan
    assert visitor.direction is Direction.ROAMING_IN and visitor.caller == 33612345678
    assert [r.seq for r in records(got)] == list(range(6))


def test_jsonl_with_the_same_keys_gives_the_same_records() -> None:
    got = CdrReader().read_bytes(RINGFENCE_JSONL)
    csv_rows = {r.start_ms: r for r in records(CdrReader().read_bytes(RINGFENCE))}
    assert got.quarantined == []
    for rec in records(got):
        same = csv_rows[rec.start_ms]
        assert (rec.caller, rec.called, rec.duration_ms, rec.answered, rec.direction, rec.subscriber, rec.route) == (
            same.caller, same.called, same.duration_ms, same.answered, same.direction, same.subscriber, same.route
        )  # fmt: skip
    assert [r.line for r in records(got)] == [1, 2, 3]


def test_the_wholesale_layout_is_detected_and_read() -> None:
    got = CdrReader().read_bytes(WHOLESALE)
    premium, failed, anonymous = records(got)
    assert (premium.called, premium.caller, premium.subscriber, premium.route) == (
        882160012345, 447700900123, "ACME Telecom", "PREMIUM-1"
    )  # fmt: skip
    assert premium.answered and premium.duration_ms == 35_000 and premium.cost == pytest.approx(0.51)
    assert premium.start_ms == 1_790_000_000_000  # Setup Time, UTC
    assert failed.called == 3725521234 and not failed.answered  # "+" written: still international
    assert anonymous.caller is None and anonymous.answered
    assert all(r.direction is Direction.OUTGOING for r in records(got))
    assert any("Seller" in note and "Disconnect Reason" in note for note in got.notes)  # extra columns: one note


def test_wholesale_tolerates_the_columns_the_issue_elides() -> None:
    data = (
        b"Buyer,Seller,Route,CLD,CLI,Country,Description,Duration,Billed Duration,Setup Time,Disconnect Time\n"
        b"acme,x,R1,882160012345,447700900123,XX,d,7,7,2026-09-21 14:13:20,2026-09-21 14:13:27\n"
        b"acme,x,R1,882160012346,447700900123,XX,d,0,0,2026-09-21 14:13:30,2026-09-21 14:13:31\n"
    )
    first, second = records(CdrReader(preset("wholesale")).read_bytes(data))
    assert first.answered and not second.answered  # no Connect Time column: Duration > 0 decides
    assert first.cost is None


def test_asterisk_master_csv_is_detected_without_a_header() -> None:
    got = CdrReader(region="GB").read_bytes(ASTERISK)
    answered, no_answer, busy = records(got)
    assert answered.line == 1 and answered.called == 442079460018 and answered.answered
    assert answered.duration_ms == 60_000  # billsec, not duration (which includes ringing)
    assert answered.caller is None  # extension 1001 is no number: withheld, with a note
    assert answered.route == "trunk"  # the channel's peer, without its unique suffix
    assert any("1001" in note for note in got.notes)
    assert no_answer.called == 882160012345 and not no_answer.answered and no_answer.subscriber == "acct7"
    assert not busy.answered and busy.duration_ms == 0


def test_asterisk_needs_a_region() -> None:
    with pytest.raises(InvalidInput) as err:
        CdrReader(preset("asterisk"))
    assert err.value.code == "region_required"
    with pytest.raises(InvalidInput):
        CdrReader().read_bytes(ASTERISK)  # detected, and refused the same way


def test_a_header_that_fits_no_preset_is_refused_listing_what_was_expected() -> None:
    with pytest.raises(InvalidInput) as err:
        CdrReader().read_bytes(b"when,from,to\n2026-09-21T14:13:20Z,+447700900123,+882160012345\n")
    assert err.value.code == "unknown_layout"
    assert (
        "ringfence: caller, called, start, duration_s, answered, direction" in err.value.message
        and "wholesale: CLI, CLD" in err.value.message
    )


def test_a_header_lacking_a_required_column_is_refused_whole() -> None:
    with pytest.raises(InvalidInput) as err:
        CdrReader(preset("ringfence")).read_bytes(b"start,caller,called,answered,direction\n" + GOOD)
    assert err.value.code == "missing_columns"
    assert err.value.details["missing"] == ["duration_s"]


def test_optional_columns_may_be_missing() -> None:
    data = b"start,caller,called,duration_s,answered,direction\n"
    data += b"2026-09-21T14:13:20Z,+447700900123,+44207946001,3,yes,out\n"
    (rec,) = records(CdrReader().read_bytes(data))
    assert rec.subscriber == "+447700900123" and rec.route is None and rec.cost is None


def test_header_names_compare_without_case_spaces_or_underscores() -> None:
    data = WHOLESALE.replace(b"Setup Time", b"SETUP_TIME").replace(b"Connect Time", b"connect-time")
    assert CdrReader().read_bytes(data).frame.height == 3


def test_semicolon_files_and_a_repeated_header_are_read() -> None:
    text = (HEADER + GOOD).replace(b",", b";")
    data = text + text  # two files concatenated: the header again in the middle
    got = CdrReader().read_bytes(data)
    assert got.frame.height == 2 and got.quarantined == [] and got.frame["line"].to_list() == [2, 4]


# --- bad input ----------------------------------------------------------------------------------------------------
def test_bad_rows_are_quarantined_with_line_reason_and_value_and_the_rest_kept() -> None:
    data = b"".join([
        HEADER,
        row(),                                   # 2 good
        row(start="yesterday"),                  # 3
        row(duration="-4"),                      # 4
        row(duration="ten"),                     # 5
        row(called="+44 ABC"),                   # 6
        row(called=""),                          # 7
        row(caller="+44garbage"),                # 8
        row(answered="perhaps"),                 # 9
        row(direction="sideways"),               # 10
        b"2026-09-21T14:13:20Z,+447700900123\n", # 11
        b"\n",                                   # 12 blank: no row
        row(start=""),                           # 13
        row(),                                   # 14 good
    ])  # fmt: skip
    got = CdrReader().read_bytes(data)
    assert [r.line for r in records(got)] == [2, 14]
    assert [r.seq for r in records(got)] == [0, 1]
    assert reasons(got) == [
        (3, "bad_time"), (4, "negative_duration"), (5, "bad_duration"), (6, "invalid_number"),
        (7, "missing_field"), (8, "invalid_number"), (9, "bad_answered"), (10, "bad_direction"),
        (11, "bad_field_count"), (13, "missing_field"),
    ]  # fmt: skip
    messages = {q.line: q.message for q in got.quarantined}
    assert "'yesterday'" in messages[3] and "'-4'" in messages[4] and "'+44 ABC'" in messages[6]
    assert "caller '+44garbage'" in messages[8] and "'sideways'" in messages[10]
    assert got.quarantined[0].raw == row(start="yesterday").decode().strip()
    assert got.rows == 12


def test_withheld_callers_are_null_not_errors() -> None:
    data = HEADER + b"".join(row(caller=c) for c in ["", "anonymous", "Withheld", "PRIVATE", "unknown"])
    got = CdrReader().read_bytes(data)
    assert got.quarantined == [] and got.frame["caller"].null_count() == 5


def test_digits_no_plan_allows_are_kept_as_called_with_the_plan_flag_off() -> None:
    got = CdrReader().read_bytes(HEADER + row(called="+999123456") + row(called="+2327712345"))
    assert got.frame["called"].to_list() == [999123456, 2327712345]
    assert got.frame["called_plan"].to_list() == [False, False]


def test_an_unanswered_call_has_no_duration() -> None:
    (rec,) = records(CdrReader().read_bytes(HEADER + row(duration="25", answered="false")))
    assert rec.duration_ms == 0 and not rec.answered


def test_invalid_utf8_is_quarantined_per_line() -> None:
    data = HEADER + row(route="Tel").replace(b"Tel", b"T\xe9l") + row()  # Latin-1, not UTF-8
    got = CdrReader().read_bytes(data)
    assert reasons(got) == [(2, "bad_encoding")] and got.frame["line"].to_list() == [3]


def test_utf16_files_are_decoded() -> None:
    text = (HEADER + GOOD + GOOD).decode()
    for data in (text.encode("utf-16"), text.encode("utf-16-le"), b"\xef\xbb\xbf" + text.encode()):
        got = CdrReader().read_bytes(data)
        assert got.frame.height == 2 and got.quarantined == [], data[:4]


def test_utf32_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput) as err:
        CdrReader().read_bytes((HEADER + GOOD).decode().encode("utf-32"))
    assert err.value.code == "unsupported_encoding"


def test_over_long_lines_are_quarantined_and_the_next_line_kept() -> None:
    long = row(route="R" * 5000)
    for data in (HEADER + long + GOOD, gzip.compress(HEADER + long + GOOD)):
        got = CdrReader(max_line_bytes=1000).read_bytes(data)
        assert reasons(got) == [(2, "line_too_long")] and got.frame["line"].to_list() == [3]
        assert len(got.quarantined[0].raw) == 500


def test_an_over_long_line_in_a_stream_is_never_held_whole() -> None:
    stream = io.BytesIO(HEADER + b"x" * 5_000_000 + b"\n" + GOOD)
    reader = CdrReader(max_line_bytes=1000)
    reads = list(reader.iter_stream(stream, chunk_rows=10))
    got = [q for r in reads for q in r.quarantined]
    assert [(q.line, q.reason) for q in got] == [(2, "line_too_long")]
    assert sum(r.frame.height for r in reads) == 1


def test_unterminated_quotes_and_quoted_delimiters() -> None:
    data = HEADER + row(route='"T,1"') + row(route='"T1') + row(route='"say ""hi"""')
    got = CdrReader().read_bytes(data)
    assert got.frame["route"].to_list() == ["T,1", 'say "hi"']
    assert reasons(got) == [(3, "bad_csv")]


def test_bad_json_lines_and_items_that_are_not_objects() -> None:
    data = RINGFENCE_JSONL.splitlines()
    lines = [data[0], b"{not json", b"[1, 2]", b'"text"', data[1]]
    got = CdrReader().read_bytes(b"\n".join(lines) + b"\n", name="cdrs.jsonl")
    assert reasons(got) == [(2, "bad_json"), (3, "not_an_object"), (4, "not_an_object")]
    assert got.frame["line"].to_list() == [1, 5]


def test_damaged_gzip_keeps_what_came_before() -> None:
    packed = gzip.compress(HEADER + GOOD * 1000)
    got = CdrReader().read_bytes(packed[: len(packed) // 2])
    assert 0 < got.frame.height < 1000
    assert got.quarantined[-1].reason == "bad_gzip"
    assert got.quarantined[-1].line == got.frame["line"].max() + 1  # type: ignore[operator]


# --- JSON batches -------------------------------------------------------------------------------------------------
def test_records_batches_use_item_indexes_as_lines() -> None:
    items: list[object] = [
        {"start": "2026-09-21T14:13:20Z", "caller": "+447700900123", "called": "+882160012345", "duration_s": 3,
         "answered": True, "direction": "outgoing"},
        "not a record",
        {"start": "2026-09-21T14:13:20Z", "caller": 447700900123, "called": 882160012346, "duration_s": 3.5,
         "answered": True, "direction": "outgoing"},
        {"start": "2026-09-21T14:13:20Z", "called": "+882160012345", "duration_s": -1, "answered": True,
         "direction": "outgoing"},
    ]  # fmt: skip
    got = CdrReader(start_seq=100).read_records(items)
    assert got.frame["line"].to_list() == [0, 2] and got.frame["seq"].to_list() == [100, 101]
    assert got.frame["caller"].to_list() == [447700900123, 447700900123]  # an integer is international digits
    assert reasons(got) == [(1, "not_an_object"), (3, "negative_duration")]


def test_records_in_the_wholesale_layout_by_column_names() -> None:
    item = {"CLD": "882160012345", "CLI": "447700900123", "Setup Time": "2026-09-21 14:13:20", "Duration": "9",
            "Connect Time": "2026-09-21 14:13:21", "Buyer": "acme"}  # fmt: skip
    (rec,) = records(CdrReader().read_records([item]))
    assert rec.called == 882160012345 and rec.subscriber == "acme" and rec.answered


# --- streams ------------------------------------------------------------------------------------------------------
def _messy_file() -> bytes:
    lines = [row(called=f"+44207946{i:04d}", duration=str(i % 50)) for i in range(300)]
    lines[17] = row(start="bad")
    lines[40] = b"\xff\xfe broken\n"
    lines[41] = b"\n"
    lines[99] = row(route="Z" * 3000)
    lines[150] = row(caller="letters")
    return HEADER + b"".join(lines)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunk_rows=st.integers(1, 120), gz=st.booleans())
def test_a_stream_in_chunks_equals_the_whole_file(chunk_rows: int, gz: bool) -> None:
    data = _messy_file()
    data = gzip.compress(data) if gz else data
    whole = CdrReader(start_seq=5, max_line_bytes=2000).read_bytes(data)
    reader = CdrReader(start_seq=5, max_line_bytes=2000)
    reads = list(reader.iter_stream(io.BytesIO(data), chunk_rows=chunk_rows))
    assert pl.concat([r.frame for r in reads]).equals(whole.frame)
    assert [q for r in reads for q in r.quarantined] == whole.quarantined
    assert sum(r.rows for r in reads) == whole.rows
    assert reader.next_seq == 5 + whole.frame.height


class _Trickle(io.RawIOBase):
    """A stream that hands out a few bytes per read, as a pipe does."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.pos, self.step = data, 0, step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        out = self.data[self.pos : self.pos + self.step]
        self.pos += len(out)
        return out


@pytest.mark.parametrize("step", [1, 7, 64])
def test_a_stream_that_trickles_in_gives_the_same_rows(step: int) -> None:
    data = gzip.compress(_messy_file())
    whole = CdrReader(max_line_bytes=2000).read_bytes(data)
    reads = list(CdrReader(max_line_bytes=2000).iter_stream(_Trickle(data, step), chunk_rows=50))  # type: ignore[arg-type]
    assert pl.concat([r.frame for r in reads]).equals(whole.frame)
    assert [q for r in reads for q in r.quarantined] == whole.quarantined


def test_seqs_continue_across_inputs_of_one_reader(tmp_path: Path) -> None:
    path = tmp_path / "cdrs.csv.gz"
    path.write_bytes(gzip.compress(RINGFENCE))
    reader = CdrReader(start_seq=10)
    first = reader.read_path(path)
    second = reader.read_bytes(RINGFENCE)
    assert first.frame["seq"].to_list() == list(range(10, 16))
    assert second.frame["seq"].to_list() == list(range(16, 22))
    assert second.frame["line"].to_list() == first.frame["line"].to_list()  # lines are per file


def test_an_empty_input_reads_nothing() -> None:
    for data in (b"", HEADER, b"\n\n"):
        got = CdrReader().read_bytes(data)
        assert got.rows == 0 and got.frame.height == 0 and got.frame.schema == pl.Schema(CDR_SCHEMA)


def test_a_user_mapping_with_local_time_and_ms_durations() -> None:
    mapping = load_mapping(
        """
        caller: A
        called: B
        start: {column: When}
        start: When
        time_format: d/M/yyyy HH:mm:ss
        timezone: Europe/Berlin
        duration: Dur
        duration_unit: ms
        answered: {by: disposition, column: Status, values: [OK]}
        direction: {column: Dir, values: {MO: outgoing, MT: incoming}, default: outgoing}
        numbers: national
        region: DE
        """.replace("        start: {column: When}\n", "")
    )
    data = b"When;A;B;Dur;Status;Dir\n1/9/2026 12:00:00;030 1234567;0151 23456789;1500;OK;MT\n"
    (rec,) = records(CdrReader(mapping).read_bytes(data))
    assert rec.start_ms == 1_788_256_800_000  # 10:00 UTC (CEST is UTC+2)
    assert rec.caller == 49301234567 and rec.called == 4915123456789
    assert rec.duration_ms == 1500 and rec.answered and rec.direction is Direction.INCOMING


# --- whole rows, any input ----------------------------------------------------------------------------------------
_cells = st.text(alphabet=st.sampled_from(list('0123456789+-:.TZ ,"abcé\t;')), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_cells, min_size=0, max_size=11), max_size=12), st.lists(st.booleans(), max_size=12))
def test_any_rows_read_without_error_good_rows_kept(fields: list[list[str]], good: list[bool]) -> None:
    lines = [",".join(cells).encode() + b"\n" for cells in fields]
    for i, keep in enumerate(good):
        if keep:
            lines.insert(min(i, len(lines)), GOOD)
    data = HEADER + b"".join(lines)
    got = CdrReader().read_bytes(data)
    good_lines = [i + 2 for i, line in enumerate(lines) if line == GOOD]
    assert set(good_lines) <= set(got.frame["line"].to_list())
    assert got.frame.height + len(got.quarantined) == got.rows
    assert set(got.frame["line"].to_list()).isdisjoint(q.line for q in got.quarantined)
    assert got.frame["line"].is_sorted() and (got.frame["duration_ms"] >= 0).all()
