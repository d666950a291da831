"""Report files in, listings out: CSV and JSONL (gzip or not) read row by row, listings written as CSV or JSONL.

Reading is streaming and bounded in memory: the file is read line by line (lines are capped at 1 MiB), so a file of
millions of rows costs the same memory as a file of ten. Every row comes out with its physical line number (the
header is line 1), either as its fields or as the :class:`InvalidInput` that explains why it is unusable; a bad row
never costs a good one. Only a few problems concern the whole file and are raised: an unusable CSV header
(``unknown_column``, ``duplicate_column``, ``missing_column``, ``invalid_header``) and an unknown format name.

A quoted CSV field may span lines, but at most :data:`MAX_RECORD_LINES`; a stray quote that would swallow the rest of
the file is reported on its own line and reading resumes on the next one.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Final, Literal, TextIO

import orjson

from ringfence.errors import InvalidInput
from ringfence.numbers import format_e164, info
from ringfence.registry.index import Listing
from ringfence.registry.intake import REPORT_FIELDS, parse_report
from ringfence.registry.models import Member, NewReport, categories_from_mask
from ringfence.registry.service import BulkOutcome, RegistryService, RowError
from ringfence.registry.views import iso

__all__ = [
    "EXPORT_COLUMNS",
    "MAX_LINE_BYTES",
    "MAX_RECORD_LINES",
    "FileFormat",
    "import_reports",
    "open_upload",
    "parse_reports",
    "read_report_rows",
    "sniff_format",
    "store_rows",
    "write_listings",
]

FileFormat = Literal["csv", "jsonl"]
Row = tuple[int, dict[str, object] | InvalidInput]

MAX_LINE_BYTES: Final = 1 << 20
MAX_RECORD_LINES: Final = 64
EXPORT_COLUMNS: Final = (
    "number",
    "country",
    "type",
    "valid",
    "first_reported_at",
    "last_reported_at",
    "report_count",
    "reporter_count",
    "categories",
)
_GZIP_MAGIC: Final = b"\x1f\x8b"
_BOM: Final = b"\xef\xbb\xbf"
_CHUNK: Final = 1 << 16
_REQUIRED: Final = ("number", "category")
_WRITE_CHUNK: Final = 20_000  # rows per transaction: big enough to amortise index page writes, small in memory


class _Source(io.RawIOBase):
    """A binary stream with some already-read bytes put back in front, counting what it hands out."""

    def __init__(self, head: bytes, inner: BinaryIO, on_bytes: Callable[[int], None] | None) -> None:
        super().__init__()
        self._head = head
        self._inner = inner
        self._on_bytes = on_bytes
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._inner.read(len(buffer))
            n = len(data)
            buffer[:n] = data
            self.consumed += n
            if self._on_bytes is not None and n:
                self._on_bytes(self.consumed)
        return n


def open_upload(stream: BinaryIO, on_bytes: Callable[[int], None] | None) -> io.BufferedIOBase:
    """The stream decompressed when it starts with the gzip magic bytes, buffered for line reading."""
    head = b""
    while len(head) < 2:
        more = stream.read(2 - len(head))
        if not more:
            break
        head += more
    if on_bytes is not None and head:
        on_bytes(len(head))
    source = _Source(head, stream, on_bytes)
    source.consumed = len(head)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=io.BufferedReader(source, _CHUNK), mode="rb")
    return io.BufferedReader(source, _CHUNK)


_Line = tuple[int, bytes | InvalidInput]


def _physical_lines(binary: io.BufferedIOBase) -> Iterator[_Line]:
    """Numbered lines; an over-long line or a broken gzip stream comes as an error in its place."""
    readline = binary.readline
    lineno = 0
    while True:
        try:
            line = readline(MAX_LINE_BYTES)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            yield (
                lineno + 1,
                InvalidInput(f"the compressed data is damaged, reading stopped here: {exc}", code="invalid_gzip"),
            )
            return
        if not line:
            return
        lineno += 1
        if lineno == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip the rest of the line
                try:
                    rest = readline(MAX_LINE_BYTES)
                except (OSError, EOFError, zlib.error):
                    rest = b""
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, InvalidInput(f"the line is longer than {MAX_LINE_BYTES} bytes", code="line_too_long")
            continue
        yield lineno, line


def sniff_format(first_line: bytes) -> FileFormat:
    """JSONL when the first non-blank character is ``{``, else CSV."""
    return "jsonl" if first_line.lstrip().startswith(b"{") else "csv"


def read_report_rows(stream: BinaryIO, fmt: FileFormat | None = None) -> Iterator[Row]:
    """The rows of a report file as ``(line, fields)`` or ``(line, InvalidInput)``; see the module docstring."""
    return _read_rows(stream, fmt, None)


def _read_rows(stream: BinaryIO, fmt: FileFormat | None, on_bytes: Callable[[int], None] | None) -> Iterator[Row]:
    if fmt not in (None, "csv", "jsonl"):
        raise InvalidInput(
            f"unknown file format {fmt!r}; expected csv or jsonl", code="unknown_format", details={"input": str(fmt)}
        )
    binary = open_upload(stream, on_bytes)
    lines = _physical_lines(binary)
    first: _Line | None = None
    for item in lines:
        if isinstance(item[1], InvalidInput) or item[1].strip():
            first = item
            break
    if first is None:
        return iter(())
    if fmt is None:
        fmt = sniff_format(first[1]) if isinstance(first[1], bytes) else "csv"
    feed = _chain(first, lines)
    return _jsonl_rows(feed) if fmt == "jsonl" else _csv_rows(feed)


def _chain(first: _Line, rest: Iterator[_Line]) -> Iterator[_Line]:
    yield first
    yield from rest


def _jsonl_rows(lines: Iterator[_Line]) -> Iterator[Row]:
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for lineno, line in lines:
        if isinstance(line, InvalidInput):
            yield lineno, line
            continue
        try:
            value = loads(line)
        except decode_error as exc:
            if not line.strip():
                continue
            yield lineno, InvalidInput(f"not valid JSON: {exc}", code="invalid_json")
            continue
        if isinstance(value, dict):
            yield lineno, value
        else:
            yield lineno, InvalidInput(f"expected a JSON object, got {type(value).__name__}", code="invalid_json")


class _Unterminated(Exception):
    """A quoted field ran past the end of the file or past MAX_RECORD_LINES."""


class _CsvFeed:
    """Feeds decoded lines to :func:`csv.reader`, remembering which lines the current record took.

    On a broken record the lines after its first are put back, so they are read again as records of their own.
    """

    def __init__(self, lines: Iterator[_Line]) -> None:
        self._lines = lines
        self.pending: deque[tuple[int, str, InvalidInput | None]] = deque()
        self.record: list[tuple[int, str, InvalidInput | None]] = []
        self.problem: InvalidInput | None = None  # the first problem of a line of the current record

    def __iter__(self) -> _CsvFeed:
        return self

    def __next__(self) -> str:
        if len(self.record) >= MAX_RECORD_LINES:
            raise _Unterminated
        if self.pending:
            entry = self.pending.popleft()
        else:
            try:
                lineno, raw = next(self._lines)
            except StopIteration:
                if self.record:
                    raise _Unterminated from None
                raise
            if isinstance(raw, InvalidInput):
                entry = (lineno, "\n", raw)
            else:
                try:
                    entry = (lineno, raw.decode("utf-8"), None)
                except UnicodeDecodeError as exc:
                    problem = InvalidInput(
                        f"the line is not valid UTF-8: {exc.reason} at byte {exc.start}", code="invalid_encoding"
                    )
                    entry = (lineno, raw.decode("utf-8", "replace"), problem)
        if entry[2] is not None and self.problem is None:
            self.problem = entry[2]
        self.record.append(entry)
        return entry[1]

    def take(self) -> tuple[int, InvalidInput | None]:
        """The first line of the record just read and its first problem; starts the next record."""
        record, self.record, problem, self.problem = self.record, [], self.problem, None
        return (record[0][0] if record else 0), problem

    def abandon(self) -> int:
        """Give up the current record: its first line number; the lines after it will be read again."""
        record, self.record, self.problem = self.record, [], None
        self.pending.extendleft(reversed(record[1:]))
        return record[0][0] if record else 0


def _column(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _header(row: list[str], problem: InvalidInput | None) -> tuple[str, ...]:
    if problem is not None:
        raise InvalidInput(f"the header line is unusable: {problem.message}", code="invalid_header")
    columns = tuple(_column(cell) for cell in row)
    unknown = [raw for raw, col in zip(row, columns, strict=True) if col not in REPORT_FIELDS]
    if unknown:
        raise InvalidInput(
            f"unknown column(s) in the header: {', '.join(repr(u) for u in unknown)}; "
            f"known columns: {', '.join(REPORT_FIELDS)}",
            code="unknown_column",
            details={"columns": unknown, "allowed": list(REPORT_FIELDS)},
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InvalidInput(
            f"column(s) named more than once: {', '.join(repeated)}",
            code="duplicate_column",
            details={"columns": repeated},
        )
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise InvalidInput(
            f"the header lacks the column(s) {', '.join(missing)} (is the header line missing?)",
            code="missing_column",
            details={"columns": missing},
        )
    return columns


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _csv_rows(lines: Iterator[_Line]) -> Iterator[Row]:
    feed = _CsvFeed(lines)
    reader = csv.reader(feed, strict=False)
    columns: tuple[str, ...] | None = None
    width = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (_Unterminated, csv.Error) as exc:
            lineno = feed.abandon()
            reason = "a quoted field is not closed" if isinstance(exc, _Unterminated) else str(exc)
            if columns is None:
                raise InvalidInput(f"the header line is unusable: {reason}", code="invalid_header") from None
            yield lineno, InvalidInput(f"unreadable CSV row: {reason}", code="invalid_csv")
            continue
        lineno, problem = feed.take()
        if problem is None and _is_blank(row):
            continue
        if columns is None:
            columns = _header(row, problem)
            width = len(columns)
        elif problem is not None:
            yield lineno, problem
        elif len(row) != width:
            yield (
                lineno,
                InvalidInput(
                    f"expected {width} fields ({', '.join(columns)}), got {len(row)}",
                    code="wrong_field_count",
                    details={"expected": width, "got": len(row)},
                ),
            )
        else:
            yield lineno, {col: value.strip() for col, value in zip(columns, row, strict=True)}


def parse_reports(
    rows: Iterable[Row], *, now_ms: int, region: str | None, future_skew_ms: int
) -> Iterator[tuple[int, NewReport] | RowError]:
    """Validate each row into a :class:`NewReport` (with its line), or a :class:`RowError` saying why not."""
    for line, fields in rows:
        if isinstance(fields, InvalidInput):
            yield RowError(line, fields)
            continue
        try:
            yield line, parse_report(fields, now_ms=now_ms, region=region, future_skew_ms=future_skew_ms)
        except InvalidInput as exc:
            yield RowError(line, exc.with_traceback(None))  # kept errors must not keep their frames alive


def import_reports(
    registry: RegistryService,
    member: Member,
    stream: BinaryIO,
    *,
    fmt: FileFormat | None = None,
    region: str | None = None,
    future_skew_ms: int = 300_000,
    on_progress: Callable[[int], None] | None = None,
) -> BulkOutcome:
    """Store every good row of a report file for ``member``; bad rows come back as errors, sorted by line.

    ``on_progress`` is called with the bytes read from ``stream`` so far (compressed bytes for gzip files).
    """
    rows = _read_rows(stream, fmt, on_progress)
    return store_rows(registry, member, rows, region=region, future_skew_ms=future_skew_ms)


def store_rows(
    registry: RegistryService, member: Member, rows: Iterable[Row], *, region: str | None, future_skew_ms: int
) -> BulkOutcome:
    """Validate rows (from a file, or a JSON body) and store the good ones; bad rows come back sorted by line."""
    rejected: list[RowError] = []
    parsed = parse_reports(rows, now_ms=registry.clock.now_ms(), region=region, future_skew_ms=future_skew_ms)

    def good() -> Iterator[tuple[int, NewReport]]:
        for item in parsed:
            if isinstance(item, RowError):
                rejected.append(item)
            else:
                yield item

    outcome = registry.report_many(member, good(), chunk=_WRITE_CHUNK)
    outcome.errors.extend(rejected)
    outcome.errors.sort(key=lambda e: e.line)
    return outcome


def _export_record(listing: Listing) -> dict[str, object]:
    about = info(listing.number).to_dict()
    return {
        "number": format_e164(listing.number),
        "country": about.get("country"),
        "type": about.get("type"),
        "valid": about.get("valid"),
        "first_reported_at": iso(listing.first_ms),
        "last_reported_at": iso(listing.last_ms),
        "report_count": listing.report_count,
        "reporter_count": listing.reporter_count,
        "categories": categories_from_mask(listing.categories),
    }


def write_listings(listings: Iterable[Listing], out: TextIO, fmt: FileFormat) -> int:
    """Write listings (counts and categories, never who reported) as CSV or JSONL; returns the rows written."""
    written = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for listing in listings:
            record = _export_record(listing)
            record["categories"] = "|".join(record["categories"])  # type: ignore[arg-type]
            record["valid"] = "true" if record["valid"] else "false"
            writer.writerow(["" if v is None else v for v in record.values()])
            written += 1
    elif fmt == "jsonl":
        dumps = orjson.dumps
        for listing in listings:
            out.write(dumps(_export_record(listing)).decode())
            out.write("\n")
            written += 1
    else:
        raise InvalidInput(
            f"unknown export format {fmt!r}; expected csv or jsonl", code="unknown_format", details={"input": str(fmt)}
        )
    return written
