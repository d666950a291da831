"""File sets and their manifests: what a snapshot or delta consists of, and how its files are named.

A *file set* is one full snapshot or one delta: a CSV.gz and a JSONL.gz holding the same rows, and a manifest (JSON)
that says what they cover (``kind``, ``seq_from``..``seq_to``), when it was made, and each file's name, size and
SHA-256. Names sort by sequence number within their kind::

    full-000000001234.csv.gz    full-000000001234.jsonl.gz    full-000000001234.manifest.json
    delta-000000001235-000000001300.csv.gz   (.jsonl.gz, .manifest.json alike)

The manifest is written last, so a set whose manifest exists is complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from ringfence.clock import to_ms
from ringfence.errors import InvalidInput
from ringfence.registry.views import iso

__all__ = [
    "FORMAT_VERSION",
    "FileEntry",
    "FileSet",
    "Kind",
    "manifest_name",
    "parse_name",
    "set_stem",
]

Kind = Literal["full", "delta"]

#: Bumped when a file's columns or the manifest change incompatibly.
FORMAT_VERSION: Final = 1
SEQ_DIGITS: Final = 12
_NAME: Final = re.compile(
    r"(?P<stem>full-(?P<full>[0-9]{12,19})|delta-(?P<first>[0-9]{12,19})-(?P<last>[0-9]{12,19}))"
    r"\.(?P<ext>csv\.gz|jsonl\.gz|manifest\.json)"
)
MANIFEST_SUFFIX: Final = ".manifest.json"
DATA_SUFFIXES: Final[dict[str, str]] = {"csv": ".csv.gz", "jsonl": ".jsonl.gz"}


def set_stem(kind: Kind, seq_from: int, seq_to: int) -> str:
    """The common start of a set's file names: ``full-<seq_to>`` or ``delta-<seq_from>-<seq_to>``."""
    if kind == "full":
        return f"full-{seq_to:0{SEQ_DIGITS}d}"
    return f"delta-{seq_from:0{SEQ_DIGITS}d}-{seq_to:0{SEQ_DIGITS}d}"


def manifest_name(stem: str) -> str:
    return stem + MANIFEST_SUFFIX


def parse_name(name: str) -> str | None:
    """The set stem of a drop file name, or None when ``name`` is not a name ringfence gives its files."""
    found = _NAME.fullmatch(name)
    return None if found is None else found["stem"]


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One data file of a set."""

    name: str
    format: Literal["csv", "jsonl"]
    bytes: int
    sha256: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format,
            "compression": "gzip",
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class FileSet:
    """A full snapshot or a delta, as its manifest describes it."""

    kind: Kind
    seq_from: int
    seq_to: int
    created_ms: int
    rows: int
    columns: tuple[str, ...]
    files: tuple[FileEntry, ...]

    @property
    def stem(self) -> str:
        return set_stem(self.kind, self.seq_from, self.seq_to)

    @property
    def manifest(self) -> str:
        """The manifest's file name."""
        return manifest_name(self.stem)

    def names(self) -> tuple[str, ...]:
        """Every file of the set, the manifest last."""
        return (*(f.name for f in self.files), self.manifest)

    def file(self, name: str) -> FileEntry | None:
        return next((f for f in self.files if f.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The manifest, as written to ``<stem>.manifest.json`` and listed by ``GET /v1/files``."""
        return {
            "format_version": FORMAT_VERSION,
            "name": self.stem,
            "manifest": self.manifest,
            "kind": self.kind,
            "seq_from": self.seq_from,
            "seq_to": self.seq_to,
            "created_at": iso(self.created_ms),
            "rows": self.rows,
            "columns": list(self.columns),
            "files": [f.to_dict() for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: object) -> FileSet:
        """A manifest read back; InvalidInput when it is not one this version of ringfence understands."""
        try:
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            version = data["format_version"]
            if version != FORMAT_VERSION:
                raise ValueError(f"format_version {version!r}, expected {FORMAT_VERSION}")
            kind = data["kind"]
            if kind not in ("full", "delta"):
                raise ValueError(f"kind {kind!r}")
            created = data["created_at"]
            files = tuple(
                FileEntry(
                    name=str(f["name"]),
                    format=_format(f["format"]),
                    bytes=int(f["bytes"]),
                    sha256=str(f["sha256"]),
                    rows=int(f["rows"]),
                )
                for f in data["files"]
            )
            made = cls(
                kind=kind,
                seq_from=int(data["seq_from"]),
                seq_to=int(data["seq_to"]),
                created_ms=to_ms(datetime.fromisoformat(str(created).replace("Z", "+00:00"))),
                rows=int(data["rows"]),
                columns=tuple(str(c) for c in data["columns"]),
                files=files,
            )
            for entry in files:
                if parse_name(entry.name) != made.stem:
                    raise ValueError(f"file {entry.name!r} does not belong to set {made.stem!r}")
            return made
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not a ringfence manifest: {exc}", code="invalid_manifest") from None


def _format(raw: object) -> Literal["csv", "jsonl"]:
    if raw == "csv":
        return "csv"
    if raw == "jsonl":
        return "jsonl"
    raise ValueError(f"file format {raw!r}")
