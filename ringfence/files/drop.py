"""The drop folder: the file sets in it, safe access to their files by name, its writer lock and retention.

Every front door (HTTP, SFTP, CLI) reaches a file through :meth:`DropFolder.resolve`, which accepts only a plain name
of a file of a complete set (one whose manifest lists it, or that manifest): never a path, never a hidden or
temporary file, never a symbolic link, never anything that is not a regular file directly inside the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from ringfence.errors import InvalidInput, NotFound
from ringfence.files.manifest import MANIFEST_SUFFIX, FileEntry, FileSet, parse_name

__all__ = ["DropFile", "DropFolder", "write_atomically"]

log = logging.getLogger("ringfence.files")

_LOCK = ".lock"
TEMP_PREFIX = ".tmp-"


@dataclass(frozen=True, slots=True)
class DropFile:
    """A file of the drop folder that may be handed out: where it is, its stat, its set and (data files) its entry."""

    name: str
    path: Path
    stat: os.stat_result
    file_set: FileSet
    entry: FileEntry | None  # None: the manifest itself

    @property
    def media_type(self) -> str:
        return "application/json" if self.entry is None else "application/gzip"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(directory: Path, name: str, data: bytes) -> None:
    """Write ``data`` to ``directory/name`` so a reader sees either no file or all of it (temp file, fsync, rename)."""
    temp = directory / f"{TEMP_PREFIX}{name}.{os.getpid()}.{os.urandom(4).hex()}"
    try:
        with open(temp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, directory / name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)


class DropFolder:
    """The folder snapshots and deltas are written to and served from."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()

    def ensure(self) -> Path:
        """Create the folder when missing; InvalidInput when the path is taken by something else."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise InvalidInput(
                f"the drop folder {self.root} exists and is not a directory", code="invalid_drop_dir"
            ) from None
        except OSError as exc:
            raise InvalidInput(
                f"cannot create the drop folder {self.root}: {exc.strerror}", code="invalid_drop_dir"
            ) from None
        return self.root

    # --- what is there ---------------------------------------------------------------------------------------
    def sets(self) -> list[FileSet]:
        """Every complete file set, oldest first (by seq_to; at the same seq_to a delta before a full snapshot)."""
        found: list[FileSet] = []
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        for entry in entries:
            name = entry.name
            if not name.endswith(MANIFEST_SUFFIX) or parse_name(name) is None:
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                with open(entry.path, "rb") as f:
                    file_set = FileSet.from_dict(orjson.loads(f.read(1 << 20)))
            except FileNotFoundError:  # removed by retention meanwhile
                continue
            except (OSError, orjson.JSONDecodeError, InvalidInput) as exc:
                log.warning("drop folder: skipping manifest %s: %s", name, exc)
                continue
            if file_set.manifest != name:
                log.warning("drop folder: skipping manifest %s: it describes set %s", name, file_set.stem)
                continue
            found.append(file_set)
        found.sort(key=lambda s: (s.seq_to, s.kind == "full", s.seq_from, s.created_ms))
        return found

    def latest(self) -> FileSet | None:
        """The set reaching furthest in the feed (a delta is based on it)."""
        sets = self.sets()
        return sets[-1] if sets else None

    def latest_full(self) -> FileSet | None:
        fulls = [s for s in self.sets() if s.kind == "full"]
        return fulls[-1] if fulls else None

    def catalogue(self) -> dict[str, tuple[FileSet, FileEntry | None]]:
        """Every file that may be handed out, by name: the data files of complete sets and their manifests."""
        names: dict[str, tuple[FileSet, FileEntry | None]] = {}
        for file_set in self.sets():
            for entry in file_set.files:
                names[entry.name] = (file_set, entry)
            names[file_set.manifest] = (file_set, None)
        return names

    def files(self) -> list[DropFile]:
        """The files that may be handed out and exist, by name."""
        catalogue = self.catalogue()
        out = []
        for name in sorted(catalogue):
            with contextlib.suppress(NotFound):
                out.append(self._resolve(name, catalogue))
        return out

    def resolve(self, name: str) -> DropFile:
        """The file called ``name`` if it may be handed out; NotFound (``file_not_found``) for anything else."""
        return self._resolve(name, None)

    def _resolve(self, name: str, catalogue: dict[str, tuple[FileSet, FileEntry | None]] | None) -> DropFile:
        missing = NotFound(
            f"there is no file {name!r} in the drop folder", code="file_not_found", details={"name": name}
        )
        if not isinstance(name, str) or parse_name(name) is None:  # a plain name: no '/', no '..', no dot file
            raise missing
        known = (self.catalogue() if catalogue is None else catalogue).get(name)
        if known is None:
            raise missing
        path = self.root / name
        try:
            info = os.lstat(path)
        except OSError:
            raise missing from None
        if not stat.S_ISREG(info.st_mode):  # symbolic links, directories, devices: never followed or served
            raise missing
        if os.path.realpath(path) != os.path.join(os.path.realpath(self.root), name):
            raise missing
        file_set, entry = known
        return DropFile(name, path, info, file_set, entry)

    # --- writing ---------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Held while a set is written or old ones removed: one writer at a time, across processes."""
        self.ensure()
        fd = os.open(self.root / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def write_manifest(self, file_set: FileSet) -> None:
        """Publish a set: its data files are in place, now its manifest (atomically) makes it visible."""
        data = orjson.dumps(file_set.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"
        write_atomically(self.root, file_set.manifest, data)

    def remove(self, file_set: FileSet) -> None:
        """Withdraw a set: its manifest first (the set stops being listed), then its data files."""
        for name in (file_set.manifest, *(f.name for f in file_set.files)):
            (self.root / name).unlink(missing_ok=True)

    def prune(self, keep: int) -> list[FileSet]:
        """Keep the newest ``keep`` full snapshots and the deltas after the oldest of them; remove the rest and any
        temporary file a failed writer left behind. ``keep`` 0 keeps everything. Call it holding :meth:`lock`."""
        for entry in os.scandir(self.root):
            if entry.name.startswith(TEMP_PREFIX):  # under the lock no writer is busy: these are leftovers
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        if keep <= 0:
            return []
        sets = self.sets()
        fulls = [s for s in sets if s.kind == "full"]
        if len(fulls) <= keep:
            return []
        oldest_kept = fulls[-keep]
        gone = [
            s
            for s in sets
            if (s.kind == "full" and s.seq_to < oldest_kept.seq_to)
            or (s.kind == "delta" and s.seq_to <= oldest_kept.seq_to)
        ]
        for file_set in gone:
            self.remove(file_set)
            log.info("drop folder: removed %s (retention keeps %d full snapshots)", file_set.stem, keep)
        return gone
