"""Reading a reassigned-numbers feed (CSV or JSONL, gzip or not) into chunks of raw columns, with line numbers.

The feed is the shape of the FCC Reassigned Numbers Database: one row per number, with the date it was permanently
disconnected, and optionally what happened (``disconnect``, ``reassigned``, ``port``). A feed is large (the FCC's
holds millions of numbers) and flat, so it is read a block of bytes at a time, split into lines in one C pass per
block, and handed on as columns (numbers, dates, kinds) of up to ``chunk`` rows; validation is then done over whole
columns (:mod:`ringfence.reassigned.rows`). Only what makes a row unreadable is decided here: a CSV row that does not
parse or has the wrong number of fields, a JSONL line that is not an object, an unknown or mistyped field. Each
comes back as a :class:`RowError` with its physical line number (the header is line 1) and the good rows are kept.

Header columns are matched case-insensitively, with the names feeds use for the same thing (:data:`COLUMN_NAMES`);
an unknown column is refused for the whole file rather than ignored, since a misspelt ``type`` column would turn
every port into a disconnection, and a disconnection removes listings.

A CSV record is one line: the FCC's files never quote a line break, and keeping records to lines keeps every line
number exact and a stray quote from swallowing the rest of the file.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Final, NamedTuple

import numpy as np
import orjson

from ringfence.errors import InvalidInput
from ringfence.registry.files import MAX_LINE_BYTES, FileFormat, open_upload, sniff_format
from ringfence.registry.service import RowError

__all__ = ["COLUMN_NAMES", "FIELDS", "RawChunk", "read_chunks", "read_objects"]

#: The fields of a row: the number, its disconnect date, and what happened to it (optional, default disconnect).
FIELDS: Final = ("number", "disconnect_date", "type")
#: Names accepted for each field, in a header or as JSON keys (compared lower-case, spaces and dashes as ``_``).
COLUMN_NAMES: Final[dict[str, str]] = {
    "number": "number",
    "phone_number": "number",
    "tn": "number",
    "telephone_number": "number",
    "disconnect_date": "disconnect_date",
    "date": "disconnect_date",
    "permanent_disconnect_date": "disconnect_date",
    "disconnected_on": "disconnect_date",
    "type": "type",
    "kind": "type",
}
_REQUIRED: Final = ("number", "disconnect_date")
_BLOCK: Final = 1 << 22  # bytes read at a time: about 150,000 FCC rows
_BOM: Final = b"\xef\xbb\xbf"
_COMMA: Final = ord(",")
_NEWLINE: Final = ord("\n")


@dataclass(slots=True)
class RawChunk:
    """Rows as columns of text, in file order: ``lines[i]`` is the line of ``numbers[i]``, ``dates[i]`` and (when
    the feed has a type column) ``kinds[i]``; ``errors`` are the rows of the same stretch that could not be read."""

    lines: list[int] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    kinds: list[str] | None = None
    errors: list[RowError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


def _column(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _field_names() -> str:
    return ", ".join(COLUMN_NAMES)


# --- bytes to lines ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Block:
    """Consecutive lines of the file, the first being line ``start``: their bytes joined by newlines, and their
    text when every line is UTF-8 (``bad`` then empty; else it maps the index of each line that is not to why)."""

    start: int
    data: bytes
    text: str | None
    bad: dict[int, InvalidInput]
    _lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            assert self.text is not None
            self._lines = self.text.split("\n")
        return self._lines

    def after(self, count: int) -> _Block:
        """The block without its first ``count`` lines."""
        rest = _Block(self.start + count, self.data.split(b"\n", count)[-1], None, {})
        if self.text is not None:
            rest.text = self.text.split("\n", count)[-1]
        else:
            rest._lines = self.lines[count:]
            rest.bad = {i - count: why for i, why in self.bad.items() if i >= count}
        return rest


def _longest_line(data: bytes) -> int:
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == _NEWLINE)
    return int(np.diff(ends, prepend=-1, append=len(data)).max()) - 1


def _decode(start: int, data: bytes) -> _Block:
    """Whole lines as text: decoded at once, or line by line to find the lines that are not UTF-8 or too long."""
    too_long = len(data) > MAX_LINE_BYTES and _longest_line(data) > MAX_LINE_BYTES
    if not too_long:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            return _Block(start, data, text, {})
    lines: list[str] = []
    bad: dict[int, InvalidInput] = {}
    for i, raw in enumerate(data.split(b"\n")):
        if len(raw) > MAX_LINE_BYTES:
            lines.append("")
            bad[i] = InvalidInput(f"the line is longer than {MAX_LINE_BYTES} bytes", code="line_too_long")
            continue
        try:
            lines.append(raw.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError as exc:
            lines.append("")
            bad[i] = InvalidInput(
                f"the line is not valid UTF-8: {exc.reason} at byte {exc.start}", code="invalid_encoding"
            )
    return _Block(start, data, None, bad, lines)


def _pieces(binary: io.BufferedIOBase) -> Iterator[bytes | InvalidInput]:
    """The bytes of a stream in pieces of about _BLOCK bytes; damaged compressed data ends it with an error, after
    the bytes that came before the damage (``read1`` hands those out before it fails)."""
    parts: list[bytes] = []
    size = 0
    while True:
        try:
            data = binary.read1(_BLOCK)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            if parts:
                yield b"".join(parts)
            yield InvalidInput(f"the compressed data is damaged, reading stopped here: {exc}", code="invalid_gzip")
            return
        if data:
            parts.append(data)
            size += len(data)
        if parts and (size >= _BLOCK or not data):
            yield b"".join(parts)
            parts, size = [], 0
        if not data:
            return


def _blocks(stream: BinaryIO, on_bytes: Callable[[int], None] | None) -> Iterator[_Block | RowError]:
    """The lines of a (possibly gzip) stream in blocks; a line longer than MAX_LINE_BYTES and damaged compressed
    data come as errors in their place (reading stops at damaged data)."""
    lineno = 1  # the number of the next line
    carry = b""
    skipping = False  # inside an over-long line: drop bytes up to its end
    first = True
    for data in _pieces(open_upload(stream, on_bytes)):
        if isinstance(data, InvalidInput):
            yield RowError(lineno, data)
            return
        if skipping:
            end = data.find(b"\n")
            if end < 0:
                continue
            data, skipping, lineno = data[end + 1 :], False, lineno + 1
        data = carry + data if carry else data
        if first and data:
            data = data.removeprefix(_BOM)
            first = False
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            if len(carry) > MAX_LINE_BYTES:
                message = f"the line is longer than {MAX_LINE_BYTES} bytes"
                yield RowError(lineno, InvalidInput(message, code="line_too_long"))
                carry, skipping = b"", True
            continue
        carry = data[cut + 1 :]
        yield _decode(lineno, data[:cut])
        lineno += data.count(b"\n", 0, cut) + 1
    if carry and not skipping:
        yield _decode(lineno, carry)


# --- lines to columns -------------------------------------------------------------------------------------------


class _Chunks:
    """Collects rows into :class:`RawChunk`\\ s of about ``size`` rows."""

    def __init__(self, size: int, with_kinds: bool) -> None:
        self.size = size
        self.with_kinds = with_kinds
        self.current = self._new()

    def _new(self) -> RawChunk:
        return RawChunk(kinds=[] if self.with_kinds else None)

    def full(self) -> bool:
        return len(self.current) >= self.size

    def take(self) -> RawChunk:
        chunk, self.current = self.current, self._new()
        return chunk


class _Columns(NamedTuple):
    """Where a CSV header puts each field: the number of columns and the positions of the fields."""

    width: int
    number: int
    date: int
    kind: int | None


def _header(row: list[str]) -> _Columns:
    """The columns a header names; an unusable header is refused for the whole file."""
    names = [_column(cell) for cell in row]
    unknown = [raw for raw, name in zip(row, names, strict=True) if name not in COLUMN_NAMES]
    if unknown:
        raise InvalidInput(
            f"unknown column(s) in the header: {', '.join(repr(u) for u in unknown)}; known columns: "
            f"{_field_names()} (is the header line missing?)",
            code="unknown_column",
            details={"columns": unknown, "allowed": list(COLUMN_NAMES)},
        )
    fields = [COLUMN_NAMES[name] for name in names]
    repeated = sorted({f for f in fields if fields.count(f) > 1})
    if repeated:
        raise InvalidInput(
            f"more than one column names the field(s) {', '.join(repeated)}",
            code="duplicate_column",
            details={"columns": repeated},
        )
    missing = [f for f in _REQUIRED if f not in fields]
    if missing:
        raise InvalidInput(
            f"the header lacks a column for {', '.join(missing)} (e.g. number, disconnect_date)",
            code="missing_column",
            details={"columns": missing},
        )
    kind = fields.index("type") if "type" in fields else None
    return _Columns(len(fields), fields.index("number"), fields.index("disconnect_date"), kind)


def _csv_line(line: str) -> list[str] | InvalidInput:
    try:
        return next(csv.reader((line,), strict=True))
    except csv.Error as exc:
        return InvalidInput(f"unreadable CSV row: {exc}", code="invalid_csv")


def _split(block: _Block) -> list[list[str] | InvalidInput]:
    """Each line as its CSV fields; only lines with a quote take the csv module's way."""
    lines = block.lines
    rows: list[list[str] | InvalidInput]
    if any('"' in line for line in lines):
        rows = [_csv_line(line) if '"' in line else line.split(",") for line in lines]
    else:
        rows = [line.split(",") for line in lines]
    for i, problem in block.bad.items():
        rows[i] = problem
    return rows


def _is_blank(row: list[str]) -> bool:
    return len(row) == 1 and not row[0].strip()


def _flat_fields(block: _Block, width: int) -> list[str] | None:
    """Every field of the block in one list, ``width`` per line, when each line has exactly ``width`` unquoted
    fields (what a well-formed feed is made of); None when some line needs a closer look.

    Splitting the whole text once beats splitting each line threefold; whether every line holds exactly
    ``width - 1`` commas is checked over the block's bytes with numpy (a comma or newline byte is never part of a
    multi-byte UTF-8 character, so the bytes have the text's separators in the text's order)."""
    text = block.text
    if text is None or not text or '"' in text:
        return None
    raw = np.frombuffer(block.data, np.uint8)
    separators = raw[(raw == _COMMA) | (raw == _NEWLINE)]
    lines = (len(separators) + 1) // width
    if len(separators) != lines * width - 1:
        return None
    shape = np.append(separators, np.uint8(_NEWLINE)).reshape(lines, width)
    if not ((shape[:, -1] == _NEWLINE).all() and (shape[:, :-1] == _COMMA).all()):
        return None
    return text.replace("\n", ",").split(",")


def _csv_chunks(items: Iterator[_Block | RowError], size: int) -> Iterator[RawChunk]:
    columns: _Columns | None = None
    chunks: _Chunks | None = None
    for item in items:
        if isinstance(item, RowError):
            if chunks is None:
                raise InvalidInput(f"the header line is unusable: {item.error.message}", code="invalid_header")
            chunks.current.errors.append(item)
            continue
        block = item
        if columns is None:
            for first, line in enumerate(block.lines):
                if first in block.bad:
                    message = block.bad[first].message
                    raise InvalidInput(f"the header line is unusable: {message}", code="invalid_header")
                if line.strip():
                    break
            else:
                continue  # a block of blank lines
            row = _csv_line(line) if '"' in line else line.split(",")
            if isinstance(row, InvalidInput):
                raise InvalidInput(f"the header line is unusable: {row.message}", code="invalid_header")
            columns = _header(row)
            chunks = _Chunks(size, columns.kind is not None)
            if first + 1 == len(block.lines):
                continue
            block = block.after(first + 1)
        assert chunks is not None
        _add_csv_rows(chunks.current, block, columns)
        if chunks.full():
            yield chunks.take()
    if chunks is not None and (len(chunks.current) or chunks.current.errors):
        yield chunks.take()


def _add_csv_rows(chunk: RawChunk, block: _Block, columns: _Columns) -> None:
    """Add the rows of a block of lines to ``chunk``."""
    width, number_at, date_at, kind_at = columns
    kinds = chunk.kinds
    flat = _flat_fields(block, width)
    if flat is not None:  # the common case: every line a good row
        strip = str.strip
        chunk.lines.extend(range(block.start, block.start + len(flat) // width))
        chunk.numbers.extend(map(strip, flat[number_at::width]))
        chunk.dates.extend(map(strip, flat[date_at::width]))
        if kind_at is not None and kinds is not None:
            kinds.extend(map(strip, flat[kind_at::width]))
        return
    for line, row in enumerate(_split(block), start=block.start):
        if isinstance(row, InvalidInput):
            chunk.errors.append(RowError(line, row))
        elif len(row) == width:
            chunk.lines.append(line)
            chunk.numbers.append(row[number_at].strip())
            chunk.dates.append(row[date_at].strip())
            if kind_at is not None and kinds is not None:
                kinds.append(row[kind_at].strip())
        elif not _is_blank(row):
            problem = InvalidInput(
                f"expected {width} fields, got {len(row)}",
                code="wrong_field_count",
                details={"expected": width, "got": len(row)},
            )
            chunk.errors.append(RowError(line, problem))


def _text(fields: dict[str, object], name: str) -> str:
    """A field of a JSON object as text. The number and the date may be JSON integers (``2015550123``,
    ``20240115``), as feeds converted from spreadsheets write them; the type must be a string."""
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if name != "type" and type(value) is int:
        return str(value)
    raise InvalidInput(
        f"{name} must be text, got {value!r}", code="invalid_field", details={"field": name, "input": repr(value)}
    )


def _object_row(chunk: RawChunk, line: int, value: object) -> None:
    """Add one JSON object (a JSONL line, an item of a JSON body) to ``chunk``, or its error."""
    if not isinstance(value, dict):
        problem = InvalidInput(f"expected a JSON object, got {type(value).__name__}", code="invalid_row")
        chunk.errors.append(RowError(line, problem))
        return
    fields: dict[str, object] = {}
    for key, item in value.items():
        name = COLUMN_NAMES.get(_column(key)) if isinstance(key, str) else None
        if name is None or name in fields:
            why = "unknown" if name is None else "repeated"
            problem = InvalidInput(
                f"{why} field {key!r}; expected {_field_names()}",
                code="unknown_field" if name is None else "duplicate_field",
                details={"field": key, "allowed": list(COLUMN_NAMES)},
            )
            chunk.errors.append(RowError(line, problem))
            return
        fields[name] = item
    try:
        number, date, kind = (_text(fields, name) for name in FIELDS)
    except InvalidInput as exc:
        chunk.errors.append(RowError(line, exc.with_traceback(None)))
        return
    chunk.lines.append(line)
    chunk.numbers.append(number)
    chunk.dates.append(date)
    assert chunk.kinds is not None
    chunk.kinds.append(kind)


def _jsonl_chunks(items: Iterator[_Block | RowError], size: int) -> Iterator[RawChunk]:
    chunks = _Chunks(size, with_kinds=True)
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for item in items:
        if isinstance(item, RowError):
            chunks.current.errors.append(item)
            continue
        chunk = chunks.current
        for line, text in enumerate(item.lines, start=item.start):
            problem = item.bad.get(line - item.start)
            if problem is not None:
                chunk.errors.append(RowError(line, problem))
                continue
            if not text or text.isspace():
                continue
            try:
                value = loads(text)
            except decode_error as exc:
                chunk.errors.append(RowError(line, InvalidInput(f"not valid JSON: {exc}", code="invalid_json")))
                continue
            _object_row(chunk, line, value)
        if chunks.full():
            yield chunks.take()
    if len(chunks.current) or chunks.current.errors:
        yield chunks.take()


def _first_text(items: Iterator[_Block | RowError]) -> tuple[list[_Block | RowError], str | None]:
    """The items up to the first non-blank line (to be read again), and that line."""
    seen: list[_Block | RowError] = []
    for item in items:
        seen.append(item)
        if isinstance(item, RowError):
            return seen, None
        for i, line in enumerate(item.lines):
            if i in item.bad:
                return seen, None
            if line.strip():
                return seen, line
    return seen, None


def read_chunks(
    stream: BinaryIO,
    *,
    fmt: FileFormat | None = None,
    chunk: int = 100_000,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[RawChunk]:
    """The rows of a feed (CSV with a header, or JSONL; gzip recognised by its magic bytes) in chunks of about
    ``chunk`` rows. ``fmt`` None: sniffed (JSONL when the first non-blank character is ``{``). ``on_bytes`` is
    called with the bytes read from ``stream`` so far. An unusable header is raised as :class:`InvalidInput`."""
    if fmt not in (None, "csv", "jsonl"):
        raise InvalidInput(
            f"unknown file format {fmt!r}; expected csv or jsonl", code="unknown_format", details={"input": str(fmt)}
        )
    items = _blocks(stream, on_bytes)
    seen, first = _first_text(items)
    if fmt is None:
        fmt = sniff_format(first.encode()) if first is not None else "csv"
    replay = _chain(seen, items)
    return _jsonl_chunks(replay, chunk) if fmt == "jsonl" else _csv_chunks(replay, chunk)


def _chain(seen: list[_Block | RowError], rest: Iterator[_Block | RowError]) -> Iterator[_Block | RowError]:
    yield from seen
    yield from rest


def read_objects(items: Iterable[object], *, chunk: int = 100_000) -> Iterator[RawChunk]:
    """JSON objects (the rows of a JSON request body) as chunks; an item's position (from 1) is its line."""
    chunks = _Chunks(chunk, with_kinds=True)
    for line, value in enumerate(items, start=1):
        _object_row(chunks.current, line, value)
        if chunks.full():
            yield chunks.take()
    if len(chunks.current) or chunks.current.errors:
        yield chunks.take()
