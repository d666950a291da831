"""Reading a hotlist file (TXT, CSV or JSONL; gzip or not) into raw rows with their line numbers.

Test-number lists come from vendors and colleagues in whatever shape their tools write, so reading is lenient
about the shape and strict about line numbers:

- **TXT**: one entry per line. ``#`` starts a comment (a whole line, or after a space: ``+3725521234  # note``;
  right after digits it is a wildcard, ``+3725521##``); blank lines are skipped; when a line
  holds more than one field (a tab, ``;``, ``,`` or ``|``), the first is the entry and the rest (a destination name,
  an operator) is ignored.
- **CSV**: a header naming a number column (``number``, ``test_number``, ``msisdn``, ``range``, ``pattern``, …,
  see :data:`COLUMN_NAMES`), optionally a country hint (``country``, ``region``, ``country_code``) and a ``source``
  (``provider``); other columns are ignored and named in the import summary. The delimiter is the one of ``,``,
  ``;``, tab and ``|`` the header uses most. A record is one line; lines starting with ``#`` are comments.
- **JSONL**: one JSON object per line with the same keys (unknown keys ignored), or a JSON string (the entry).

Without a format named, a file whose first meaningful line starts with ``{`` is JSONL, one whose first line names a
number column is CSV, anything else TXT. Gzip is recognised by its magic bytes. A line that cannot be read (bad
JSON, a CSV row with more fields than the header, over-long, damaged compressed data) comes back as a
:class:`RowError` with its physical line number (the first line is 1), and the other rows are kept; only a file that
says it is CSV and has no usable header is refused as a whole.
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple

import orjson

from ringfence.errors import InvalidInput
from ringfence.registry.files import MAX_LINE_BYTES, open_upload
from ringfence.registry.service import RowError

__all__ = ["COLUMN_NAMES", "FORMATS", "HotlistFormat", "RawRow", "Rows", "check_format", "read_rows"]

HotlistFormat = Literal["txt", "csv", "jsonl"]
FORMATS: Final[tuple[HotlistFormat, ...]] = ("txt", "csv", "jsonl")

#: Names accepted for each field in a CSV header or as JSONL keys (compared lower-case, spaces and dashes as ``_``).
COLUMN_NAMES: Final[dict[str, str]] = {
    "number": "number",
    "numbers": "number",
    "phone": "number",
    "phone_number": "number",
    "telephone_number": "number",
    "test_number": "number",
    "msisdn": "number",
    "e164": "number",
    "tn": "number",
    "b_number": "number",
    "range": "number",
    "number_range": "number",
    "pattern": "number",
    "prefix": "number",
    "region": "region",
    "country": "region",
    "country_iso": "region",
    "iso": "region",
    "country_code": "region",
    "cc": "region",
    "source": "source",
    "provider": "source",
    "origin": "source",
}
_DELIMITERS: Final = (",", ";", "\t", "|")
_FIELD_END: Final = re.compile(r"[\t,;|]")
#: Where a TXT comment starts: a ``#`` opening the line, or one after a space and before a space or a word. A ``#``
#: right after digits, or before another ``#``, is a wildcard (``+3725521##``).
_COMMENT: Final = re.compile(r"^\s*#|\s#(?=\s|[^\s0-9#?xX*])")
_BOM: Final = "\ufeff"


class RawRow(NamedTuple):
    """A row as written: the entry's text, and the row's own country hint and source (None: none given)."""

    line: int
    text: str
    region: str | None = None
    source: str | None = None


def check_format(raw: str | None) -> HotlistFormat | None:
    """A format name (txt, csv, jsonl; ``ndjson`` too), or None to sniff."""
    if raw is None or not raw.strip():
        return None
    name = raw.strip().lower()
    name = "jsonl" if name == "ndjson" else name
    for known in FORMATS:
        if name == known:
            return known
    raise InvalidInput(
        f"unknown hotlist format {raw!r}; expected txt, csv or jsonl",
        code="unknown_format",
        details={"input": raw, "allowed": list(FORMATS)},
    )


def _column(name: str) -> str:
    return name.strip().strip('"').strip().lower().replace(" ", "_").replace("-", "_")


def _lines(data: bytes) -> Iterator[tuple[int, str | InvalidInput]]:
    """Numbered lines of text (gzip inflated), without their line ends. Bytes that are not UTF-8 are replaced:
    a number never needs them, and the entry they spoil is refused on its own."""
    binary = open_upload(io.BytesIO(data), None)
    lineno = 0
    while True:
        try:
            raw = binary.readline(MAX_LINE_BYTES)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            problem = InvalidInput(f"the compressed data is damaged, reading stopped here: {exc}", code="invalid_gzip")
            yield lineno + 1, problem
            return
        if not raw:
            return
        lineno += 1
        if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while True:  # skip the rest of the line
                try:
                    rest = binary.readline(MAX_LINE_BYTES)
                except (OSError, EOFError, zlib.error):
                    rest = b""
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, InvalidInput(f"the line is longer than {MAX_LINE_BYTES} bytes", code="line_too_long")
            continue
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if lineno == 1:
            text = text.removeprefix(_BOM)
        yield lineno, text


def _meaningful(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("#")


def _delimiter(header: str) -> str:
    counts = [(header.count(d), -i, d) for i, d in enumerate(_DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","


def _cells(line: str, delimiter: str) -> list[str] | InvalidInput:
    try:
        return next(csv.reader((line,), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return InvalidInput(f"unreadable CSV row: {exc}", code="invalid_csv")


@dataclass(slots=True)
class _Header:
    """Where a CSV header puts each field, and the columns it has that are not read."""

    width: int
    number: int
    region: int | None
    source: int | None
    ignored: list[str]


def _header(cells: list[str]) -> _Header | None:
    """The fields a header names; None when it names no number column (so it is not a header)."""
    fields = [COLUMN_NAMES.get(_column(c)) for c in cells]
    if "number" not in fields:
        return None
    repeated = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if repeated:
        raise InvalidInput(
            f"more than one column names the field(s) {', '.join(repeated)}",
            code="duplicate_column",
            details={"columns": repeated},
        )
    ignored = [c.strip() for c, f in zip(cells, fields, strict=True) if f is None]

    def at(name: str) -> int | None:
        return fields.index(name) if name in fields else None

    number = at("number")
    assert number is not None
    return _Header(len(cells), number, at("region"), at("source"), ignored)


def _text(value: object) -> str | None:
    """A JSON value as text: strings, and integers (numbers converted from spreadsheets); None for null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if type(value) is int:
        return str(value)
    raise TypeError(value)


@dataclass
class Rows:
    """The rows of one file, read lazily: iterate for :class:`RawRow` or :class:`RowError`, in line order.

    ``format`` and ``ignored_columns`` are known as soon as the header (or first line) has been read."""

    format: HotlistFormat
    ignored_columns: list[str] = field(default_factory=list)
    _items: Iterator[RawRow | RowError] = field(default_factory=lambda: iter(()))

    def __iter__(self) -> Iterator[RawRow | RowError]:
        return self._items


def read_rows(data: bytes, fmt: HotlistFormat | None = None) -> Rows:
    """The rows of a hotlist file; see the module docstring. Raises :class:`InvalidInput` for a CSV file without a
    usable header, the only problem that concerns the whole file."""
    lines = _lines(data)
    seen: list[tuple[int, str | InvalidInput]] = []
    first: str | None = None
    for item in lines:
        seen.append(item)
        if isinstance(item[1], InvalidInput):
            break
        if _meaningful(item[1]):
            first = item[1]
            break
    replay = _chain(seen, lines)
    if fmt is None:
        if first is not None and first.lstrip().startswith("{"):
            fmt = "jsonl"
        elif first is not None and _header_of(first) is not None:
            fmt = "csv"
        else:
            fmt = "txt"
    if fmt == "jsonl":
        rows = Rows("jsonl")
        rows._items = _jsonl_rows(replay, rows.ignored_columns)
        return rows
    if fmt == "txt":
        return Rows("txt", [], _txt_rows(replay))
    if first is None:
        return Rows("csv")
    header = _header_of(first)
    if header is None:
        raise InvalidInput(
            f"the first line {first.strip()[:80]!r} names no number column; a CSV hotlist needs a header such as "
            "number,country,source (or send the file as txt: one entry per line)",
            code="missing_header",
            details={"allowed": list(COLUMN_NAMES)},
        )
    return Rows("csv", list(header[1].ignored), _csv_rows(replay, header[0], header[1]))


def _header_of(line: str) -> tuple[str, _Header] | None:
    delimiter = _delimiter(line)
    cells = _cells(line, delimiter)
    if isinstance(cells, InvalidInput):
        return None
    header = _header(cells)
    return None if header is None else (delimiter, header)


def _chain(
    seen: list[tuple[int, str | InvalidInput]], rest: Iterator[tuple[int, str | InvalidInput]]
) -> Iterator[tuple[int, str | InvalidInput]]:
    yield from seen
    yield from rest


def _txt_rows(lines: Iterator[tuple[int, str | InvalidInput]]) -> Iterator[RawRow | RowError]:
    for lineno, text in lines:
        if isinstance(text, InvalidInput):
            yield RowError(lineno, text)
            continue
        if "#" in text:
            comment = _COMMENT.search(text)
            if comment is not None:
                text = text[: comment.start()]
        field_end = _FIELD_END.search(text)
        entry = (text if field_end is None else text[: field_end.start()]).strip()
        if entry:
            yield RawRow(lineno, entry)


def _csv_rows(
    lines: Iterator[tuple[int, str | InvalidInput]], delimiter: str, header: _Header
) -> Iterator[RawRow | RowError]:
    in_header = True
    for lineno, text in lines:
        if isinstance(text, InvalidInput):
            yield RowError(lineno, text)
            continue
        if not _meaningful(text):
            continue
        if in_header:  # the header line itself (the first meaningful one)
            in_header = False
            continue
        cells = _cells(text, delimiter)
        if isinstance(cells, InvalidInput):
            yield RowError(lineno, cells)
            continue
        if len(cells) > header.width and any(c.strip() for c in cells[header.width :]):
            yield RowError(
                lineno,
                InvalidInput(
                    f"expected at most {header.width} fields, got {len(cells)}",
                    code="wrong_field_count",
                    details={"expected": header.width, "got": len(cells)},
                ),
            )
            continue
        cells += [""] * (header.width - len(cells))
        number = cells[header.number].strip()
        if not number:
            if any(c.strip() for c in cells):
                missing = InvalidInput("the number is missing", code="missing_field", details={"field": "number"})
                yield RowError(lineno, missing)
            continue
        region = cells[header.region].strip() or None if header.region is not None else None
        source = cells[header.source].strip() or None if header.source is not None else None
        yield RawRow(lineno, number, region, source)


def _jsonl_rows(lines: Iterator[tuple[int, str | InvalidInput]], ignored: list[str]) -> Iterator[RawRow | RowError]:
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for lineno, text in lines:
        if isinstance(text, InvalidInput):
            yield RowError(lineno, text)
            continue
        if not text.strip():
            continue
        try:
            value = loads(text)
        except decode_error as exc:
            yield RowError(lineno, InvalidInput(f"not valid JSON: {exc}", code="invalid_json"))
            continue
        if isinstance(value, str):
            if value.strip():
                yield RawRow(lineno, value)
            else:
                yield RowError(lineno, InvalidInput("the number is missing", code="missing_field"))
            continue
        if not isinstance(value, dict):
            problem = InvalidInput(f"expected a JSON object or string, got {type(value).__name__}", code="invalid_row")
            yield RowError(lineno, problem)
            continue
        yield _object_row(lineno, value, ignored)


def _object_row(lineno: int, value: dict[str, object], ignored: list[str]) -> RawRow | RowError:
    fields: dict[str, str | None] = {}
    for key, item in value.items():
        name = COLUMN_NAMES.get(_column(key))
        if name is None:
            if key not in ignored and len(ignored) < 100:
                ignored.append(key)
            continue
        if name in fields:
            problem = InvalidInput(
                f"more than one key names the field {name}", code="duplicate_field", details={"field": key}
            )
            return RowError(lineno, problem)
        try:
            fields[name] = _text(item)
        except TypeError:
            problem = InvalidInput(
                f"{key} must be text, got {item!r}", code="invalid_field", details={"field": key, "input": repr(item)}
            )
            return RowError(lineno, problem)
    number = (fields.get("number") or "").strip()
    if not number:
        return RowError(
            lineno, InvalidInput("the number is missing", code="missing_field", details={"field": "number"})
        )
    region = (fields.get("region") or "").strip() or None
    source = (fields.get("source") or "").strip() or None
    return RawRow(lineno, number, region, source)
