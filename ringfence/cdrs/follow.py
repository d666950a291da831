"""Following a growing CDR file (``tail -F``): the records of each line as it is completed, never one twice.

Switches and mediation systems append records to a file and rotate it now and then. :func:`follow` polls the path
every ``poll_s``: new bytes go to the file's :class:`~ringfence.cdrs.reader.CdrInput`, which hands back the rows
of the lines they complete (a partial last line waits for its line end; the header is read once, at the start of
each file). It survives what log rotation does:

- **rotation** (the path now names another file, ``mv cdrs.csv cdrs.csv.1`` and a new ``cdrs.csv``): the old file
  is read to its end, its last line even without a line end (nothing will complete it now), then the new file is
  read from its start, with its own header and line numbers;
- **truncation** (``copytruncate``, ``: > cdrs.csv``): the file is read again from its start as a new file. A file
  truncated and refilled past the old position between two polls is recognised by its first bytes changing;
- **the path missing** for a while (between a rename and the new file): the old file is kept and followed.

Reading and converting run in a worker thread, so the event loop stays free while a big append is read.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from ringfence.cdrs.reader import CdrInput, CdrRead, CdrReader, combine

__all__ = ["follow"]

#: Most bytes read per step (a big append is handed out in reads of about this size).
STEP_BYTES: Final = 8 << 20
#: How many first bytes of a file identify it (to notice a truncate-and-refill between polls).
FINGERPRINT_BYTES: Final = 256


@dataclass
class _Open:
    """The file being followed: its handle, identity, read position and input."""

    handle: BinaryIO
    identity: tuple[int, int]
    position: int
    source: CdrInput
    fingerprint: bytes = b""

    def close(self) -> None:
        self.handle.close()


def _open(path: Path, reader: CdrReader) -> _Open | None:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - kept open across polls, closed by _Open.close
    except FileNotFoundError:
        return None
    stat = os.fstat(handle.fileno())
    return _Open(handle, (stat.st_dev, stat.st_ino), 0, reader.open(path.name))


def _read(current: _Open, limit: int) -> bytes:
    current.handle.seek(current.position)
    data = current.handle.read(limit)
    if data and len(current.fingerprint) < FINGERPRINT_BYTES and current.position < FINGERPRINT_BYTES:
        current.fingerprint = (current.fingerprint + data)[:FINGERPRINT_BYTES]
    current.position += len(data)
    return data


def _step(current: _Open) -> CdrRead | None:
    """The rows of what was appended since the last step (None: nothing new)."""
    data = _read(current, STEP_BYTES)
    return current.source.push(data) if data else None


def _skip_existing(current: _Open) -> None:
    """Start at the end: the existing complete lines are read past (the header still read), not handed out."""
    while True:
        data = _read(current, STEP_BYTES)
        if not data:
            break
        current.source.skip(data)


def _drain(current: _Open) -> CdrRead:
    """Everything left in a file that will not grow any more, its unfinished last line included."""
    reads = []
    while (data := _read(current, STEP_BYTES)) != b"":
        reads.append(current.source.push(data))
    reads.append(current.source.finish())
    return combine(reads)


def _replaced(path: Path, current: _Open) -> str | None:
    """``rotated`` when the path names another file, ``truncated`` when the file was cut or refilled, else None."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None  # between a rename and the new file: keep following the old one
    if (stat.st_dev, stat.st_ino) != current.identity:
        return "rotated"
    size = os.fstat(current.handle.fileno()).st_size
    if size < current.position:
        return "truncated"
    if current.fingerprint:
        head = os.pread(current.handle.fileno(), len(current.fingerprint), 0)
        if head != current.fingerprint[: len(head)] or len(head) < len(current.fingerprint):
            return "truncated"
    return None


def _worth(read: CdrRead) -> bool:
    return bool(read.rows or read.quarantined or read.notes)


async def follow(
    path: Path, reader: CdrReader, *, poll_s: float = 0.5, from_start: bool = True
) -> AsyncIterator[CdrRead]:
    """Reads of the lines appended to ``path`` as they are completed, until the caller stops iterating.

    ``from_start=False`` starts at the current end of the file (its header is still read). A file that does not
    exist yet is waited for.
    """
    current: _Open | None = None
    first = True
    try:
        while True:
            if current is None:
                current = await asyncio.to_thread(_open, path, reader)
                if current is None:
                    await asyncio.sleep(poll_s)
                    continue
                if first and not from_start:
                    await asyncio.to_thread(_skip_existing, current)
                first = False
            change = await asyncio.to_thread(_replaced, path, current)
            if change == "rotated":
                read = await asyncio.to_thread(_drain, current)
                current.close()
                current = None
                if _worth(read):
                    yield read
                continue
            if change == "truncated":
                current.close()
                current = None
                continue
            got = await asyncio.to_thread(_step, current)
            if got is None:
                await asyncio.sleep(poll_s)
            elif _worth(got):
                yield got
    finally:
        if current is not None:
            current.close()
