"""A block of complete lines, indexed and checked with numpy, and its CSV fields read by polars.

Reading a CDR file row by row in Python costs more than everything else the reader does; so a block of lines is
indexed once (line starts and ends from the positions of ``\\n``), every line is checked in bulk (blank, too long,
not UTF-8, an unterminated quote, its field count), and only the lines that pass go to polars' CSV reader, as one
buffer, with every column read as text. A record is one line: a quoted field may hold the delimiter and doubled
quotes, never a line end (a line with an odd number of quotes is refused as ``bad_csv``). That is what switches
and billing systems write, and it is what keeps line numbers exact.

Should polars read the buffer differently from the line checks (a quote inside an unquoted field), that group of
lines is read again with Python's csv module, line by line: slower, never wrong.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = ["BAD_ENCODING", "BAD_QUOTE", "BLANK", "OK", "TOO_LONG", "Lines", "read_fields", "split"]

I64 = npt.NDArray[np.int64]
OK: Final = 0
BLANK: Final = 1
TOO_LONG: Final = 2
BAD_ENCODING: Final = 3
BAD_QUOTE: Final = 4
_NL: Final = 10
_CR: Final = 13
_QUOTE: Final = 34
#: Longest shown ``raw`` (characters), as :class:`~ringfence.cdrs.models.Quarantined` promises.
RAW_CHARS: Final = 500


@dataclass
class Lines:
    """Lines ``first``, ``first + 1``, … of ``data``: byte spans without the line end, and a status each."""

    data: bytes
    buf: npt.NDArray[np.uint8]
    starts: I64
    ends: I64  # exclusive, line end (``\\n``, ``\\r\\n``) not included
    nexts: I64  # where the next line starts (the span with its line end)
    first: int
    status: npt.NDArray[np.int8]
    long_heads: Mapping[int, bytes]

    def __len__(self) -> int:
        return int(self.starts.size)

    def number(self, i: int) -> int:
        return self.first + i

    def text(self, i: int, limit: int | None = None) -> str:
        """Line ``i`` as text (bytes that are not UTF-8 replaced), at most ``limit`` bytes of it."""
        head = self.long_heads.get(self.first + i)
        if head is not None:
            return head.decode("utf-8", "replace")
        start, end = int(self.starts[i]), int(self.ends[i])
        if limit is not None:
            end = min(end, start + limit)
        return self.data[start:end].decode("utf-8", "replace")

    def raw(self, i: int) -> str:
        return self.text(i, 4 * RAW_CHARS)[:RAW_CHARS]

    def bytes_of(self, i: int) -> bytes:
        return self.data[int(self.starts[i]) : int(self.ends[i])]


def split(data: bytes, first: int, max_line_bytes: int, long_heads: Mapping[int, bytes] | None = None) -> Lines:
    """Index the lines of ``data`` (complete lines; the last may lack its line end) and check each one."""
    buf = np.frombuffer(data, np.uint8)
    newlines = np.flatnonzero(buf == _NL)
    ends = newlines.astype(np.int64)
    nexts = ends + 1
    if buf.size and buf[-1] != _NL:
        ends = np.append(ends, buf.size)
        nexts = np.append(nexts, buf.size)
    starts = np.empty_like(ends)
    if starts.size:
        starts[0] = 0
        starts[1:] = nexts[:-1]
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == _CR) if ends.size else np.zeros(0, np.bool_)
    ends = ends - has_cr
    lengths = ends - starts
    status = np.zeros(ends.size, np.int8)
    status[lengths == 0] = BLANK
    short = np.flatnonzero((lengths > 0) & (lengths < 16))
    for i in short.tolist():  # a line of spaces is blank too
        if not data[starts[i] : ends[i]].strip():
            status[i] = BLANK
    status[lengths > max_line_bytes] = TOO_LONG
    heads = dict(long_heads or {})
    for number in heads:
        if first <= number < first + ends.size:
            status[number - first] = TOO_LONG
    lines = Lines(data, buf, starts, ends, nexts, first, status, heads)
    _check_encoding(lines)
    return lines


def _check_encoding(lines: Lines) -> None:
    """Mark the lines that are not UTF-8 (checked one by one only when the whole block is not)."""
    high = np.flatnonzero(lines.buf >= 0x80)
    if not high.size:
        return
    try:
        lines.data.decode("utf-8")
        return
    except UnicodeDecodeError:
        pass
    suspects = np.unique(np.searchsorted(lines.nexts, high, side="right"))
    for i in suspects.tolist():
        if i >= len(lines) or lines.status[i] != OK:
            continue
        try:
            lines.bytes_of(i).decode("utf-8")
        except UnicodeDecodeError:
            lines.status[i] = BAD_ENCODING


def field_counts(lines: Lines, delimiter: str) -> tuple[I64, bool]:
    """Fields per line (delimiters outside quotes, plus one) and whether any line holds a quote; lines with an odd
    number of quotes are marked ``BAD_QUOTE``."""
    buf = lines.buf
    seps = np.flatnonzero(buf == ord(delimiter))
    quotes = np.flatnonzero(buf == _QUOTE)
    if not quotes.size:
        return np.searchsorted(seps, lines.ends) - np.searchsorted(seps, lines.starts) + 1, False
    q_before_start = np.searchsorted(quotes, lines.starts)
    q_in_line = np.searchsorted(quotes, lines.ends) - q_before_start
    odd = (q_in_line % 2 == 1) & (lines.status == OK)
    lines.status[odd] = BAD_QUOTE
    line_of_sep = np.searchsorted(lines.nexts, seps, side="right")
    inside = line_of_sep < len(lines)
    seps, line_of_sep = seps[inside], line_of_sep[inside]
    q_before_sep = np.searchsorted(quotes, seps) - q_before_start[line_of_sep]
    outside = q_before_sep % 2 == 0
    counts = np.bincount(line_of_sep[outside], minlength=len(lines)).astype(np.int64) + 1
    return counts, True


def read_fields(
    lines: Lines, rows: I64, nfields: int, delimiter: str, quoted: bool, usecols: Sequence[int]
) -> pl.DataFrame:
    """Columns ``c<position>`` (text) of ``usecols`` for ``rows``, lines that all have ``nfields`` fields."""
    names = [f"c{i}" for i in range(nfields)]
    if rows.size == len(lines):
        chunk = lines.data
    else:
        # runs of consecutive lines are copied as one slice (lines are left out rarely: few runs)
        breaks = np.flatnonzero(np.diff(rows) != 1)
        firsts = np.concatenate(([rows[0]], rows[breaks + 1]))
        lasts = np.concatenate((rows[breaks], [rows[-1]]))
        data = lines.data
        chunk = b"".join(
            data[s:e] for s, e in zip(lines.starts[firsts].tolist(), lines.nexts[lasts].tolist(), strict=True)
        )
    if chunk and not chunk.endswith(b"\n"):
        chunk += b"\n"
    try:
        frame = pl.read_csv(
            chunk,
            has_header=False,
            separator=delimiter,
            quote_char='"' if quoted else None,
            schema=dict.fromkeys(names, pl.String),
            columns=list(usecols),
            raise_if_empty=False,
            comment_prefix=None,
        )
        if frame.height == rows.size:
            return frame
    except pl.exceptions.PolarsError:
        pass
    return _read_fields_slowly(lines, rows, delimiter, usecols)


def _read_fields_slowly(lines: Lines, rows: I64, delimiter: str, usecols: Sequence[int]) -> pl.DataFrame:
    columns: list[list[str | None]] = [[] for _ in usecols]
    for i in rows.tolist():
        fields = next(csv.reader([lines.bytes_of(i).decode("utf-8")], delimiter=delimiter), [])
        for column, pos in zip(columns, usecols, strict=True):
            column.append(fields[pos] if pos < len(fields) else None)
    return pl.DataFrame(
        {f"c{pos}": col for pos, col in zip(usecols, columns, strict=True)},
        schema_overrides={f"c{pos}": pl.String for pos in usecols},
    )
