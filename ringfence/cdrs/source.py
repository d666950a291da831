"""Bytes of one input in, complete lines of UTF-8 out: gzip, text encodings and over-long lines, in any chunking.

A CDR input arrives whole (an upload), in chunks (stdin, a big file) or a little at a time (a followed file). The
:class:`LineFeed` takes bytes as they come and hands back only complete lines, so a reader never sees half a
record and the same input gives the same lines however it was cut:

- **gzip** is recognised by its magic bytes at the start and inflated as it comes (several members too, as
  ``cat a.gz b.gz`` makes); damaged compressed data stops the input with a ``bad_gzip`` row at the line reached.
- **Encodings**: a UTF-8 byte order mark is dropped; UTF-16 (a byte order mark, or the NULs of ASCII text written
  in UTF-16 without one) is decoded and re-encoded as UTF-8; UTF-32 is refused as a whole. Bytes that are not
  UTF-8 are left as they are: the reader quarantines the lines that hold them, one by one.
- **Over-long lines** are never held whole: once the unfinished line passes ``max_line_bytes`` its head is kept
  for the report, the rest is dropped up to the next line end, and an empty placeholder line takes its place so
  the line numbers after it stay right; :attr:`LineFeed.long_lines` says which lines they were.
"""

from __future__ import annotations

import codecs
import zlib
from dataclasses import dataclass, field
from typing import Final

from ringfence.errors import InvalidInput

__all__ = ["HEAD_BYTES", "LineFeed", "SourceProblem"]

_GZIP: Final = b"\x1f\x8b"
#: How much of a refused line is kept to show (its ``raw`` is cut to 500 characters after decoding).
HEAD_BYTES: Final = 2000


@dataclass(frozen=True)
class SourceProblem:
    """Something that stopped the input (damaged gzip): reported as a quarantined row at ``line``."""

    line: int
    reason: str
    message: str


@dataclass
class LineFeed:
    max_line_bytes: int
    #: Lines replaced by an empty placeholder because they were too long: line number -> their first bytes.
    long_lines: dict[int, bytes] = field(default_factory=dict)
    problems: list[SourceProblem] = field(default_factory=list)
    lines_out: int = 0  # complete lines handed out so far
    _head: bytes = b""  # the input's first bytes until its compression and encoding are known
    _started: bool = False
    _inflate: zlib._Decompress | None = None
    _gzip: bool = False
    _in_member: bool = False  # gzip: inside a member (its end not reached yet)
    _encoding_known: bool = False
    _decoder: codecs.IncrementalDecoder | None = None
    _pending: bytes = b""  # the unfinished last line
    _skipping: bool = False  # inside an over-long line, dropping bytes up to its end
    _stopped: bool = False

    def push(self, data: bytes) -> bytes:
        """Complete lines (each ending in ``\\n``) that ``data`` finished, possibly empty."""
        if self._stopped or not data:
            return b""
        if not self._started:
            self._head += data
            if len(self._head) < 4:
                return b""
            data, self._head = self._head, b""
            self._start(data[:2] == _GZIP)
        return self._lines(self._text(self._inflated(data), final=False))

    def finish(self) -> bytes:
        """Everything left, the last line without a line end included (the input has ended)."""
        out = b""
        if not self._started and self._head and not self._stopped:
            data, self._head = self._head, b""
            self._start(data[:2] == _GZIP)
            out += self._lines(self._text(self._inflated(data), final=False))
        if self._started and not self._stopped:
            if self._gzip and self._in_member:
                self._stop("the compressed data ends early (truncated gzip)")
            out += self._lines(self._text(b"", final=True))
        if self._stopped:
            self._pending = b""
            self._skipping = False
        elif self._skipping:
            self._end_long_line()
            out += b"\n"
        elif self._pending:
            out += self._pending
            self.lines_out += 1
            self._pending = b""
        return out

    # --- stages -------------------------------------------------------------------------------------------------
    def _start(self, gzip: bool) -> None:
        self._started = True
        self._gzip = gzip
        if gzip:
            self._inflate = zlib.decompressobj(wbits=31)

    def _inflated(self, data: bytes) -> bytes:
        if not self._gzip:
            return data
        out: list[bytes] = []
        while data and not self._stopped:
            assert self._inflate is not None
            self._in_member = True
            try:
                out.append(self._inflate.decompress(data))
            except zlib.error as exc:
                self._stop(f"the compressed data is damaged, reading stopped here: {exc}")
                break
            if not self._inflate.eof:
                break
            data = self._inflate.unused_data  # a next gzip member (cat a.gz b.gz)
            self._inflate = zlib.decompressobj(wbits=31)
            self._in_member = False
        return b"".join(out)

    def _text(self, data: bytes, *, final: bool) -> bytes:
        """UTF-8 bytes of the text (UTF-16 re-encoded; a UTF-8 byte order mark dropped)."""
        if not self._encoding_known:
            if not data and not final:
                return b""
            self._encoding_known = True
            data = self._sniff_encoding(data)
        if self._decoder is not None:
            return self._decoder.decode(data, final).encode("utf-8", "surrogatepass")
        return data

    def _sniff_encoding(self, data: bytes) -> bytes:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:]
        if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
            raise InvalidInput(
                "the file is UTF-32 text; send it as UTF-8 (or UTF-16)",
                code="unsupported_encoding",
                details={"encoding": "utf-32"},
            )
        encoding = None
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"  # the decoder reads and drops the byte order mark
        else:
            sample = data[:64]
            even, odd = sample[0::2], sample[1::2]
            if len(sample) >= 4 and odd.count(0) >= len(odd) * 3 // 4 and even.count(0) == 0:
                encoding = "utf-16-le"
            elif len(sample) >= 4 and even.count(0) >= len(even) * 3 // 4 and odd.count(0) == 0:
                encoding = "utf-16-be"
        if encoding is None:
            return data
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        return data

    def _lines(self, data: bytes) -> bytes:
        """Complete lines of ``data`` after what was pending; over-long lines become placeholders."""
        out: list[bytes] = []
        while data:
            if self._skipping:
                end = data.find(b"\n")
                if end < 0:
                    return b"".join(out)
                data = data[end + 1 :]
                self._end_long_line()
                out.append(b"\n")
                continue
            end = data.rfind(b"\n")
            if end < 0:
                self._pending += data
                data = b""
            else:
                block = self._pending + data[: end + 1]
                self._pending = b""
                data = data[end + 1 :]
                self.lines_out += block.count(b"\n")
                out.append(block)
            if len(self._pending) > self.max_line_bytes:
                self.long_lines[self.lines_out + 1] = self._pending[:HEAD_BYTES]
                self._pending = b""
                self._skipping = True
        return b"".join(out)

    def _end_long_line(self) -> None:
        self._skipping = False
        self.lines_out += 1

    def _stop(self, message: str) -> None:
        """Reading ends here; the unfinished line is dropped (it was cut by the damage)."""
        self._stopped = True
        self.problems.append(SourceProblem(self.lines_out + 1, "bad_gzip", message))
