"""One gzip output file of a set: compressed in a thread of its own, hashed as written, published by rename.

zlib, hashlib and file writes release the GIL, so while the caller renders the next chunk of rows the previous one
is compressed, hashed and written alongside (a full snapshot compresses two files at once: CSV and JSONL). The file
is written under a hidden temporary name and renamed to its real one only once it is complete and on disk, so a
downloader never sees half a file. The gzip header carries no name and no time: the same rows give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ringfence.files.drop import TEMP_PREFIX

__all__ = ["GzipOutput", "Written"]

_QUEUED: Final = 4  # chunks waiting for the compressor at most (bounds memory when the disk is slower)


@dataclass(frozen=True, slots=True)
class Written:
    name: str
    bytes: int
    sha256: str


class _Hashed:
    """The raw file under the gzip stream: counts and hashes what gzip writes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        self.sha.update(view)
        self.size += len(view)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        return len(data)

    def flush(self) -> None:
        pass


class GzipOutput:
    """Write bytes with :meth:`write`; :meth:`finish` publishes the file, :meth:`abort` drops it."""

    def __init__(self, directory: Path, name: str, *, level: int = 6) -> None:
        self.directory = directory
        self.name = name
        self.temp = directory / f"{TEMP_PREFIX}{name}.{os.getpid()}.{os.urandom(4).hex()}"
        self._fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self._raw = _Hashed(self._fd)
        self._gzip = gzip.GzipFile(filename="", mode="wb", compresslevel=level, fileobj=self._raw, mtime=0)
        self._queue: queue.Queue[bytes | None] = queue.Queue(_QUEUED)  # None: no more
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._compress, name=f"gzip {name}", daemon=True)
        self._thread.start()
        self._open = True

    def _compress(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._gzip.write(chunk)
                except BaseException as exc:  # keep draining, so the producer never blocks on a full queue
                    self._error = exc
        if self._error is None:
            try:
                self._gzip.close()
                os.fsync(self._fd)
            except BaseException as exc:
                self._error = exc

    def write(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        if data:
            self._queue.put(data)

    def _stop(self) -> None:
        if self._open:
            self._open = False
            self._queue.put(None)
            self._thread.join()
            os.close(self._fd)

    def finish(self) -> Written:
        """Wait for the compressor, then rename the complete file to its name."""
        self._stop()
        if self._error is not None:
            self.abort()
            raise self._error
        os.replace(self.temp, self.directory / self.name)
        return Written(self.name, self._raw.size, self._raw.sha.hexdigest())

    def abort(self) -> None:
        self._stop()
        self.temp.unlink(missing_ok=True)
