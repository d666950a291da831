"""Render many JSON objects of the same shape at once, with numpy instead of a Python loop per object.

Batch answers (thousands of lookups per request) are mostly the same text with a few fields changed. A
:class:`JsonRows` lays the answers out side by side in a byte matrix, one row per answer, built block by block from
left to right: constant text, a choice among a few texts per row, decimal integers, ISO 8601 times. Each block is as
wide as its widest value and the shorter values are padded with NUL bytes; :meth:`JsonRows.join` drops every NUL
and joins the rows with commas. NUL never occurs in JSON text (a string holds it only escaped, as ``\\u0000``), so
dropping it cannot touch the content.

A block may apply to some rows only (``rows=``): the other rows hold padding there, which is how one matrix holds
answers of different shapes (a listed number has a listing object, an unlisted one ``null``). Rows that fit no
template at all are given their whole text with :meth:`JsonRows.replace`.

Cost: a few numpy passes over the matrix (about 0.2 ms per megabyte each) instead of a formatted string per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["JsonRows", "text_table"]

_U8 = npt.NDArray[np.uint8]
_PAIRS16 = np.frombuffer("".join(f"{k:02d}" for k in range(100)).encode(), np.uint16)  # "00".."99"
_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)
_MS_PER_DAY = 86_400_000


def text_table(texts: Sequence[bytes]) -> _U8:
    """``texts`` as the rows of a NUL-padded matrix: build once what :meth:`JsonRows.pick` takes often."""
    return _table(texts)


def _table(texts: Sequence[bytes]) -> _U8:
    """``texts`` as rows of a NUL-padded matrix."""
    width = max((len(t) for t in texts), default=0)
    out = np.zeros((len(texts), width), np.uint8)
    for i, text in enumerate(texts):
        out[i, : len(text)] = np.frombuffer(text, np.uint8)
    return out


def _pairs(values: npt.NDArray[np.int64]) -> npt.NDArray[np.uint16]:
    """Each value in 0..99 as its two ASCII digits, read as one uint16 (one gather instead of two)."""
    return _PAIRS16[values]


def _decimal(values: npt.NDArray[Any]) -> _U8:
    """Non-negative integers as right-aligned ASCII digits, NUL in place of leading zeros."""
    v = values.astype(np.int64)
    width = len(str(int(v.max()))) if v.size else 1
    even = width + width % 2
    out = np.empty((len(v), even // 2), np.uint16)
    for col in range(even // 2 - 1, -1, -1):  # two digits per step, from the right
        v, pair = np.divmod(v, 100)
        out[:, col] = _pairs(pair)
    digits = out.view(np.uint8)[:, width % 2 :]
    # Leading zeros become padding (the last digit always stays).
    count = np.searchsorted(_POW10, values.astype(np.int64), side="right")
    digits[np.arange(width) < (width - np.maximum(count, 1))[:, None]] = 0
    return digits


def _civil(ms: npt.NDArray[np.int64]) -> _U8:
    """Epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (years 0..9999), 24 bytes per row.

    Days to civil date by H. Hinnant's ``civil_from_days`` in integer arithmetic.
    """
    days, rest = np.divmod(ms.astype(np.int64), _MS_PER_DAY)
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    seconds, millis = np.divmod(rest, 1000)
    # As uint16 columns: YY YY -M M- DD TH H: MM :S S. m mm Z? -> lay out the 24 bytes pairwise.
    out = np.empty((len(ms), 24), np.uint8)
    wide = out.view(np.uint16)  # 12 columns of two bytes
    wide[:, 0] = _pairs(year // 100)
    wide[:, 1] = _pairs(year % 100)
    out[:, 5:7] = _pairs(month)[:, None].view(np.uint8)
    wide[:, 4] = _pairs(day)
    out[:, 11:13] = _pairs(seconds // 3600)[:, None].view(np.uint8)
    wide[:, 7] = _pairs(seconds // 60 % 60)
    out[:, 17:19] = _pairs(seconds % 60)[:, None].view(np.uint8)
    out[:, 20] = millis // 100 + 48
    out[:, 21:23] = _pairs(millis % 100)[:, None].view(np.uint8)
    out[:, [4, 7, 10, 13, 16, 19, 23]] = np.frombuffer(b"--T::.Z", np.uint8)
    return out


class JsonRows:
    """``count`` JSON texts built column block by column block; see the module docstring."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._blocks: list[tuple[npt.NDArray[np.intp] | None, _U8]] = []
        self._replaced: dict[int, bytes] = {}

    def _add(self, rows: npt.NDArray[np.intp] | None, block: _U8) -> None:
        self._blocks.append((rows, block))

    def text(self, text: bytes, rows: npt.NDArray[np.intp] | None = None) -> None:
        """The same text in every row (or in ``rows``)."""
        self._add(rows, _table([text]))

    def pick(self, texts: Sequence[bytes] | _U8, keys: npt.ArrayLike, rows: npt.NDArray[np.intp] | None = None) -> None:
        """Per row, ``texts[key]``: ``keys`` has one index into ``texts`` per row (per entry of ``rows``).
        ``texts`` may be a :func:`text_table` made beforehand."""
        table = texts if isinstance(texts, np.ndarray) else _table(texts)
        self._add(rows, table[np.asarray(keys, dtype=np.intp)])

    def integers(self, values: npt.ArrayLike, rows: npt.NDArray[np.intp] | None = None) -> None:
        """Non-negative integers in decimal."""
        self._add(rows, _decimal(np.asarray(values)))

    def times(self, epoch_ms: npt.ArrayLike, rows: npt.NDArray[np.intp] | None = None) -> None:
        """Epoch milliseconds as ISO 8601 UTC with milliseconds and a Z (as :func:`ringfence.registry.views.iso`)."""
        self._add(rows, _civil(np.asarray(epoch_ms, dtype=np.int64)))

    def replace(self, row: int, text: bytes) -> None:
        """Row ``row`` is ``text`` whatever the blocks hold."""
        self._replaced[row] = text

    def _runs(self) -> list[tuple[npt.NDArray[np.intp] | None, list[_U8]]]:
        """Consecutive blocks that apply to the same rows, grouped."""
        runs: list[tuple[npt.NDArray[np.intp] | None, list[_U8]]] = []
        for rows, block in self._blocks:
            if runs and runs[-1][0] is rows:
                runs[-1][1].append(block)
            else:
                runs.append((rows, [block]))
        return runs

    def join(self) -> bytes:
        """The rows as the items of a JSON array, comma-separated, without the brackets."""
        width = sum(block.shape[1] for _, block in self._blocks) + 1
        mat = np.zeros((self.count, width), np.uint8)
        col = 0
        for rows, blocks in self._runs():
            stop = col + sum(block.shape[1] for block in blocks)
            # a run for some rows only is filled contiguously, then scattered to them in one assignment
            target = mat[:, col:stop] if rows is None else np.zeros((len(rows), stop - col), np.uint8)
            at = 0
            for block in blocks:
                target[:, at : at + block.shape[1]] = block
                at += block.shape[1]
            if rows is not None:
                mat[rows, col:stop] = target
            col = stop
        mat[:, -1] = ord(",")
        if not self._replaced:
            return mat.tobytes().translate(None, b"\0")[:-1]
        mat[list(self._replaced), :] = 0
        # Splice the replaced rows in at their places with one bytes join; every row ends with its comma.
        row_ends = np.cumsum(np.count_nonzero(mat, axis=1)).tolist()
        kept = mat.tobytes().translate(None, b"\0")
        out: list[bytes] = []
        start = 0
        for row in sorted(self._replaced):
            end = row_ends[row - 1] if row else 0
            out += (kept[start:end], self._replaced[row], b",")
            start = end
        out.append(kept[start:])
        return b"".join(out)[:-1]
