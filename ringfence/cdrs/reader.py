"""Call records in: CSV or JSONL (gzip too), from bytes, a file, a stream in chunks or a list of JSON objects.

:class:`CdrReader` reads with a :class:`~ringfence.cdrs.mapping.CdrMapping` (or detects the preset from the
header, or from the keys of the first JSON record) and answers :class:`CdrRead`: a frame of
:data:`~ringfence.cdrs.models.CDR_SCHEMA` with the good rows in input order, and every row it could not use as a
:class:`~ringfence.cdrs.models.Quarantined` with its line number, a stable reason code and a message naming the
value. Only a file that cannot be read at all is refused (:class:`~ringfence.errors.InvalidInput`): a header
lacking a required column, a layout that fits no preset, UTF-32 text.

One input is a :class:`CdrInput`: bytes are pushed in as they come (:mod:`ringfence.cdrs.source` makes complete
lines of them), each block of complete lines is checked in bulk (:mod:`ringfence.cdrs.lines`), read as text
columns and converted column-wise (:mod:`ringfence.cdrs.convert`). Nothing depends on how the input was cut, so a
stream read in chunks gives the same frame, the same seqs and the same quarantine as the whole file at once.
``seq`` numbers the good rows on from ``start_seq`` across everything the reader reads (``next_seq``); ``line``
is the line in its file (1-based, header included) or, for :meth:`CdrReader.read_records`, the item's index.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final, Literal

import numpy as np
import orjson
import polars as pl

from ringfence.cdrs.convert import convert
from ringfence.cdrs.lines import (
    BAD_ENCODING,
    BAD_QUOTE,
    BLANK,
    OK,
    RAW_CHARS,
    TOO_LONG,
    Lines,
    field_counts,
    read_fields,
    split,
)
from ringfence.cdrs.mapping import (
    PRESETS,
    CdrMapping,
    NumberStyle,
    column_key,
    detect,
    detect_error,
)
from ringfence.cdrs.models import CDR_COLUMNS, CDR_SCHEMA, Quarantined
from ringfence.cdrs.source import LineFeed
from ringfence.errors import InvalidInput
from ringfence.numbers.regions import check_region

__all__ = ["CdrInput", "CdrRead", "CdrReader", "Format"]

Format = Literal["csv", "jsonl"]
_READ_BYTES: Final = 1 << 20
_DELIMITERS: Final = (",", ";", "\t", "|")
_NUMBER_ROLES: Final = frozenset({"caller", "called"})
#: Rows per block when a whole file is read (a block's text columns are in memory at once).
_FILE_BLOCK_ROWS: Final = 1 << 20


@dataclass(frozen=True)
class CdrRead:
    """What one read gave: the good rows, the quarantined ones (in line order), and how many rows there were
    (good and bad; blank lines and the header are not rows). ``notes`` are things worth telling the sender that
    cost no row (columns ignored, callers read as withheld, unreadable costs)."""

    frame: pl.DataFrame
    quarantined: list[Quarantined]
    rows: int
    notes: list[str] = field(default_factory=list)


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=CDR_SCHEMA)


@dataclass(frozen=True)
class _Layout:
    """A CSV layout resolved against its header (or the mapping's positions): where each role's column is."""

    mapping: CdrMapping
    delimiter: str
    positions: Mapping[str, int]  # role -> 0-based field position
    nfields: int | None  # a header file: every line has exactly this many fields
    min_fields: int  # a headerless file: at least this many
    header: tuple[str, ...] = ()


def _sniff_delimiter(line: str) -> str:
    counts = [(line.count(d), -i, d) for i, d in enumerate(_DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","


def _parse_line(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _headerless_layout(mapping: CdrMapping) -> _Layout:
    names = [column_key(c) for c in mapping.columns]
    positions: dict[str, int] = {}
    for role, col in mapping.referenced().items():
        positions[role] = col - 1 if isinstance(col, int) else names.index(column_key(col))
    return _Layout(mapping, mapping.delimiter or ",", positions, None, max(positions.values()) + 1)


def _header_layout(mapping: CdrMapping, header_line: str) -> tuple[_Layout, list[str]]:
    """The layout of a header line, and the header's columns the mapping does not read; :class:`InvalidInput`
    naming every required column the header lacks."""
    delimiter = mapping.delimiter or _sniff_delimiter(header_line)
    fields = [f.strip().lstrip("\ufeff").strip() for f in _parse_line(header_line, delimiter)]
    keys = [column_key(f) for f in fields]
    optional = {column_key(c) for c in mapping.optional}
    positions: dict[str, int] = {}
    missing: list[str] = []
    for role, col in mapping.referenced().items():
        if isinstance(col, int):
            if col <= len(fields):
                positions[role] = col - 1
            else:
                missing.append(f"column {col}")
        elif column_key(col) in keys:
            positions[role] = keys.index(column_key(col))
        elif column_key(col) not in optional and col not in missing:
            missing.append(col)
    if missing:
        raise InvalidInput(
            f"the CDR header lacks required column(s) {', '.join(missing)} "
            f"(layout {mapping.name or 'from the mapping'}; header: {', '.join(fields[:30])})",
            code="missing_columns",
            details={"missing": missing, "header": fields[:100], "layout": mapping.name},
        )
    used = set(positions.values())
    unused = [f for i, f in enumerate(fields) if i not in used and f]
    layout = _Layout(mapping, delimiter, positions, len(fields), 0, tuple(fields))
    return layout, unused


def _looks_like_asterisk(line: str) -> bool:
    """A headerless Asterisk Master.csv line: 15 or more fields, the tenth a time."""
    fields = _parse_line(line, ",")
    if len(fields) < 15:
        return False
    start = fields[9].strip()
    return len(start) == 19 and start[4] == "-" and start[10] == " " and start[:4].isdigit()


def _format_from_name(name: str | None) -> Format | None:
    if not name:
        return None
    lower = name.lower().removesuffix(".gz").removesuffix(".gzip")
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith((".csv", ".txt", ".tsv", ".cdr")):
        return "csv"
    return None


def _cell(value: object, number: bool, style: NumberStyle) -> str | None:
    """A JSON value as the text a CSV cell would hold. An integer phone number is international digits (an
    integer cannot hold the ``+`` or a leading 0) unless the layout writes national numbers."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"+{value}" if number and value > 0 and style is not NumberStyle.NATIONAL else str(value)
    if isinstance(value, float):
        return repr(value)
    return orjson.dumps(value, default=str).decode()


def _key_map(mapping: CdrMapping, keys: Iterable[str]) -> dict[str, str]:
    """role -> the JSON key holding it (exact name first, else one that compares equal as a column name)."""
    by_key: dict[str, str] = {}
    for key in keys:
        by_key.setdefault(column_key(key), key)
    out: dict[str, str] = {}
    for role, col in mapping.referenced().items():
        if isinstance(col, int):
            if not mapping.columns or col > len(mapping.columns):
                raise InvalidInput(
                    f"the CDR mapping names {role} by position ({col}); JSON records need column names",
                    code="invalid_mapping",
                    details={"key": role, "reason": "JSON records need column names"},
                )
            col = mapping.columns[col - 1]
        found = by_key.get(column_key(col))
        if found is not None:
            out[role] = found
    return out


class CdrInput:
    """One input being read (a file, a stream, a followed file): bytes in with :meth:`push`, the reads of the
    lines they complete out; :meth:`finish` at the end. The header is read once, at the start of the input."""

    def __init__(self, reader: CdrReader, name: str | None) -> None:
        self.reader = reader
        self.name = name
        self.feed = LineFeed(reader.max_line_bytes)
        self.format: Format | None = _format_from_name(name)
        self.mapping: CdrMapping | None = reader.mapping
        self.layout: _Layout | None = None
        self.keys: dict[str, str] | None = None  # JSONL: role -> key, once known
        self.next_line = 1  # the number of the next line to be read
        self.notes_given: set[str] = set()
        if self.mapping is not None and not self.mapping.header and self.format != "jsonl":
            self.layout = _headerless_layout(self.mapping)

    # --- bytes in -----------------------------------------------------------------------------------------------
    def push(self, data: bytes) -> CdrRead:
        """The rows of the lines ``data`` completes (a partial last line waits for its line end)."""
        return self.read_lines(self.feed.push(data))

    def finish(self) -> CdrRead:
        """The rest: the last line even without its line end, and any problem that ended the input."""
        return self.read_lines(self.feed.finish())

    def skip(self, data: bytes) -> None:
        """Read past the complete lines of ``data`` without producing rows (the header is still read)."""
        block = self.feed.push(data)
        if not block:
            return
        lines = split(block, self.next_line, self.reader.max_line_bytes, self._long_heads(block))
        if self.format is None:
            self.format = self._sniff_format(lines)
        if self.format == "csv" and self.layout is None:
            self._read_header(lines, [])
        self.next_line += len(lines)

    # --- lines ----------------------------------------------------------------------------------------------------
    def read_lines(self, block: bytes) -> CdrRead:
        """The rows of ``block``, complete lines starting at line :attr:`next_line`."""
        lines = split(block, self.next_line, self.reader.max_line_bytes, self._long_heads(block))
        self.next_line += len(lines)
        reached = [p for p in self.feed.problems if p.line <= self.next_line]
        quarantined = [Quarantined(p.line, p.reason, p.message, "") for p in reached]
        self.feed.problems = [p for p in self.feed.problems if p.line > self.next_line]
        if not block:
            return self._result(empty_frame(), quarantined, [])
        if self.format is None:
            self.format = self._sniff_format(lines)
        notes: list[str] = []
        for i in np.flatnonzero(lines.status >= TOO_LONG).tolist():
            quarantined.append(self._line_problem(lines, i))
        read = self._csv if self.format == "csv" else self._jsonl
        frame = read(lines, quarantined, notes)
        return self._result(frame, quarantined, notes)

    def _long_heads(self, block: bytes) -> dict[int, bytes]:
        """The over-long lines the feed dropped within the block's lines (forgotten once taken)."""
        last = self.next_line + block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        heads = {n: h for n, h in self.feed.long_lines.items() if n < last}
        for n in heads:
            del self.feed.long_lines[n]
        return heads

    def _sniff_format(self, lines: Lines) -> Format:
        for i in np.flatnonzero(lines.status == OK).tolist():
            return "jsonl" if lines.text(i, 16).lstrip().startswith(("{", "[")) else "csv"
        return "csv"

    def _line_problem(self, lines: Lines, i: int) -> Quarantined:
        status = int(lines.status[i])
        if status == TOO_LONG:
            reason, message = "line_too_long", f"the line is longer than {self.reader.max_line_bytes} bytes"
        elif status == BAD_ENCODING:
            try:
                lines.bytes_of(i).decode("utf-8")
                detail = ""
            except UnicodeDecodeError as exc:
                detail = f" (byte 0x{exc.object[exc.start]:02x} at position {exc.start + 1})"
            reason, message = "bad_encoding", f"the line is not UTF-8 text{detail}"
        else:
            reason, message = "bad_csv", "a quoted field is not closed on its line"
        return Quarantined(lines.number(i), reason, message, lines.raw(i))

    def _note(self, notes: list[str], text: str) -> None:
        if text not in self.notes_given:
            self.notes_given.add(text)
            notes.append(text)

    # --- CSV ------------------------------------------------------------------------------------------------------
    def _read_header(self, lines: Lines, notes: list[str]) -> int | None:
        """Find the header (or decide the file is headerless Asterisk); the header's index in ``lines``."""
        for i in np.flatnonzero(lines.status != BLANK).tolist():  # the first line that is not blank
            text = lines.text(i).lstrip("\ufeff")
            mapping = self.mapping
            if mapping is None:
                delimiter = _sniff_delimiter(text)
                found = detect([f.strip() for f in _parse_line(text, delimiter)])
                if found is None:
                    if _looks_like_asterisk(text):
                        self.mapping = self.reader.checked(PRESETS["asterisk"])
                        self.layout = _headerless_layout(self.mapping)
                        return None
                    raise detect_error([f.strip() for f in _parse_line(text, delimiter)])
                self.mapping = mapping = found
            layout, unused = _header_layout(mapping, text)
            self.layout = layout
            if unused:
                shown = ", ".join(unused[:20]) + (f" and {len(unused) - 20} more" if len(unused) > 20 else "")
                self._note(notes, f"column(s) not used by the {mapping.name or 'given'} layout, ignored: {shown}")
            return i
        return None

    def _csv(self, lines: Lines, quarantined: list[Quarantined], notes: list[str]) -> pl.DataFrame:
        if self.layout is None:
            header = self._read_header(lines, notes)
            if header is not None:
                lines.status[header] = BLANK  # the header is no row
        layout = self.layout
        if layout is None:  # nothing but blank lines so far
            return empty_frame()
        counts, quoted = field_counts(lines, layout.delimiter)
        for i in np.flatnonzero(lines.status == BAD_QUOTE).tolist():
            quarantined.append(self._line_problem(lines, i))
        ok = lines.status == OK
        wrong = ok & ((counts != layout.nfields) if layout.nfields is not None else (counts < layout.min_fields))
        for i in np.flatnonzero(wrong).tolist():
            expected = str(layout.nfields) if layout.nfields is not None else f"at least {layout.min_fields}"
            quarantined.append(
                Quarantined(
                    lines.number(i),
                    "bad_field_count",
                    f"the line has {int(counts[i])} field(s); the layout has {expected}",
                    lines.raw(i),
                )
            )
        rows = np.flatnonzero(ok & ~wrong)
        if not rows.size:
            return empty_frame()
        usecols = sorted(set(layout.positions.values()))
        parts = []
        for count in np.unique(counts[rows]).tolist():
            group = rows[counts[rows] == count]
            fields = read_fields(lines, group, int(count), layout.delimiter, quoted, usecols)
            part = fields.select(
                [pl.col(f"c{pos}").alias(role) for role, pos in layout.positions.items()]
                + [
                    pl.Series("line", group + lines.first, pl.Int64),
                    pl.Series("ref", group, pl.Int64),
                ]
            )
            parts.append(part)
        raw = parts[0] if len(parts) == 1 else pl.concat(parts).sort("ref")
        if layout.header:
            raw = self._drop_repeated_header(raw, layout)
        return self._convert(raw, lines, quarantined, notes)

    def _drop_repeated_header(self, raw: pl.DataFrame, layout: _Layout) -> pl.DataFrame:
        """Files concatenated with ``cat`` repeat the header: such a line is no row."""
        same = [
            pl.col(role).fill_null("").str.strip_chars() == layout.header[pos]
            for role, pos in layout.positions.items()
            if role in ("called", "start")
        ]
        return raw.filter(~pl.all_horizontal(same)) if same else raw

    def _convert(
        self,
        raw: pl.DataFrame,
        lines: Lines | None,
        quarantined: list[Quarantined],
        notes: list[str],
        raws: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        assert self.mapping is not None
        converted = convert(raw, self.mapping, self.reader.region)
        for ref, line, reason, message in converted.failed:
            text = lines.raw(ref) if lines is not None else (raws[ref] if raws is not None else "")
            quarantined.append(Quarantined(line, reason, message, text))
        for note in converted.notes:
            notes.append(note)
        return converted.frame

    # --- JSONL ----------------------------------------------------------------------------------------------------
    def _jsonl(self, lines: Lines, quarantined: list[Quarantined], notes: list[str]) -> pl.DataFrame:
        items: list[dict[str, object]] = []
        refs: list[int] = []
        for i in np.flatnonzero(lines.status == OK).tolist():
            try:
                item = orjson.loads(lines.bytes_of(i))
            except orjson.JSONDecodeError as exc:
                quarantined.append(Quarantined(lines.number(i), "bad_json", f"not JSON: {exc}", lines.raw(i)))
                continue
            if not isinstance(item, dict):
                quarantined.append(_not_an_object(lines.number(i), item, lines.raw(i)))
                continue
            items.append(item)
            refs.append(i)
        if not items:
            return empty_frame()
        raw = self._records_frame(items, np.asarray(refs, np.int64) + lines.first, refs, notes)
        return self._convert(raw, lines, quarantined, notes)

    def _records_frame(
        self,
        items: Sequence[dict[str, object]],
        line_numbers: Sequence[int] | np.ndarray,
        refs: Sequence[int],
        notes: list[str],
    ) -> pl.DataFrame:
        keys_seen: set[str] = set()
        for item in items:
            keys_seen.update(item)
        if self.mapping is None:
            found = detect(sorted(keys_seen))
            if found is None:
                raise detect_error(sorted(keys_seen))
            self.mapping = self.reader.checked(found)
        mapping = self.mapping
        key_map = _key_map(mapping, keys_seen)
        unused = sorted(keys_seen - set(key_map.values()))
        if unused:
            shown = ", ".join(unused[:20])
            self._note(notes, f"key(s) not used by the {mapping.name or 'given'} layout, ignored: {shown}")
        columns: dict[str, list[str | None]] = {}
        for role, key in key_map.items():
            number = role in _NUMBER_ROLES
            columns[role] = [_cell(item.get(key), number, mapping.numbers) for item in items]
        frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
        return frame.with_columns(
            pl.Series("line", np.asarray(line_numbers, np.int64), pl.Int64),
            pl.Series("ref", np.asarray(refs, np.int64), pl.Int64),
        )

    # --- out --------------------------------------------------------------------------------------------------------
    def _result(self, frame: pl.DataFrame, quarantined: list[Quarantined], notes: list[str]) -> CdrRead:
        reader = self.reader
        height = frame.height
        if height:
            frame = frame.with_columns(pl.int_range(height, dtype=pl.Int64).add(reader.next_seq).alias("seq"))
            frame = frame.select([pl.col(c).cast(CDR_SCHEMA[c]) for c in CDR_COLUMNS])
            reader.next_seq += height
        else:
            frame = empty_frame()
        quarantined.sort(key=lambda q: q.line)
        return CdrRead(frame, quarantined, height + len(quarantined), notes)


def _not_an_object(line: int, item: object, raw: str) -> Quarantined:
    kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(item), "null")
    return Quarantined(line, "not_an_object", f"a JSON {kind} is not a record (expected an object)", raw)


def combine(reads: Iterable[CdrRead]) -> CdrRead:
    """One read of several (the chunks of one input)."""
    frames: list[pl.DataFrame] = []
    quarantined: list[Quarantined] = []
    notes: list[str] = []
    rows = 0
    for read in reads:
        if read.frame.height:
            frames.append(read.frame)
        quarantined.extend(read.quarantined)
        notes.extend(n for n in read.notes if n not in notes)
        rows += read.rows
    frame = pl.concat(frames) if len(frames) > 1 else frames[0] if frames else empty_frame()
    return CdrRead(frame, quarantined, rows, notes)


class CdrReader:
    """Reads call records with one mapping (None: the preset detected from each input's header or keys)."""

    def __init__(
        self,
        mapping: CdrMapping | None = None,
        *,
        region: str | None = None,
        start_seq: int = 0,
        max_line_bytes: int = 65536,
    ) -> None:
        if max_line_bytes < 64:
            raise InvalidInput("max_line_bytes must be at least 64", code="invalid_input")
        self.region = check_region(region)
        self.next_seq = start_seq
        self.max_line_bytes = max_line_bytes
        self.mapping = None if mapping is None else self.checked(mapping)

    def checked(self, mapping: CdrMapping) -> CdrMapping:
        """``mapping`` if this reader can read it: national numbers need a region (the mapping's or the reader's)."""
        if mapping.numbers is NumberStyle.NATIONAL and not (mapping.region or self.region):
            raise InvalidInput(
                f"the {mapping.name or 'given'} layout writes national numbers: give a region (e.g. GB)",
                code="region_required",
                details={"layout": mapping.name},
            )
        return mapping

    def open(self, name: str | None = None) -> CdrInput:
        """A new input (its own header and line numbers; seqs continue)."""
        return CdrInput(self, name)

    def read_bytes(self, data: bytes, *, name: str | None = None) -> CdrRead:
        """A whole file held in memory; the format from ``name`` (``.csv``, ``.jsonl``, ``.gz`` …) or the content."""
        source = self.open(name)
        return combine([source.push(data), source.finish()])

    def read_path(self, path: Path) -> CdrRead:
        with open(path, "rb") as stream:
            return combine(self.iter_stream(stream, chunk_rows=_FILE_BLOCK_ROWS, name=path.name))

    def iter_stream(self, stream: BinaryIO, *, chunk_rows: int = 65536, name: str | None = None) -> Iterator[CdrRead]:
        """Reads of ``chunk_rows`` lines each as the stream delivers them (stdin, files of any size); the last
        may be shorter. Yields at least once."""
        if chunk_rows < 1:
            raise InvalidInput("chunk_rows must be at least 1", code="invalid_input")
        source = self.open(name if name is not None else _stream_name(stream))
        read = getattr(stream, "read1", None) or stream.read
        pending: list[bytes] = []
        count = 0
        yielded = False
        while True:
            data = read(_READ_BYTES)
            block = source.feed.push(data) if data else source.feed.finish()
            if block:
                pending.append(block)
                count += block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            while count >= chunk_rows:
                joined = b"".join(pending)
                cut = _after_line(joined, chunk_rows)
                yield source.read_lines(joined[:cut])
                yielded = True
                pending = [joined[cut:]]
                count -= chunk_rows
            if not data:
                break
        rest = b"".join(pending)
        if rest or not yielded or source.feed.problems:
            yield source.read_lines(rest)

    def read_records(self, items: Sequence[object]) -> CdrRead:
        """JSON objects (an HTTP batch, NATS messages) with the layout's column names (canonical keys by default);
        ``line`` is the item's index (from 0). Items that are not objects are quarantined."""
        source = self.open(None)
        source.format = "jsonl"
        quarantined: list[Quarantined] = []
        notes: list[str] = []
        objects: list[dict[str, object]] = []
        refs: list[int] = []
        raws: list[str] = []
        for i, item in enumerate(items):
            raw = _json_raw(item)
            raws.append(raw)
            if isinstance(item, dict):
                objects.append(item)
                refs.append(i)
            else:
                quarantined.append(_not_an_object(i, item, raw))
        frame = empty_frame()
        if objects:
            raw_frame = source._records_frame(objects, refs, refs, notes)
            frame = source._convert(raw_frame, None, quarantined, notes, raws)
        return source._result(frame, quarantined, notes)


def _json_raw(item: object) -> str:
    try:
        text = orjson.dumps(item, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = repr(item)
    return text[:RAW_CHARS]


def _after_line(data: bytes, n: int) -> int:
    """Where line ``n`` of ``data`` ends (after its line end; the end of the data for a last line without one)."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    return int(ends[n - 1]) + 1 if ends.size >= n else len(data)


def _stream_name(stream: BinaryIO) -> str | None:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else None
