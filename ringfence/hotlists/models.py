"""What the hotlists are made of: lists, versions, entries, matches, and the checks on what callers name them.

A hotlist is a named list of IRSF test numbers and ranges published by a source (a vendor's file, a URL, a folder a
feed drops files into). Every import of a list is a :class:`HotlistVersion`; the entries in force after it are those
it published, plus, for a list that retains, those an earlier version published and this one no longer does (test
numbers come and go and often come back, and a number that was a test number yesterday is worth blocking today).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from ringfence.errors import InvalidInput
from ringfence.registry.service import RowError

__all__ = [
    "DEFAULT_SYNC_EVERY_S",
    "MAX_WILDCARD_LAST",
    "MIN_SYNC_EVERY_S",
    "RESERVED_NAMES",
    "ChangeKind",
    "Diff",
    "Entry",
    "Hotlist",
    "HotlistVersion",
    "ImportOutcome",
    "Match",
    "check_folder",
    "check_name",
    "check_sync_every",
    "check_url",
    "check_wildcard_last",
]

#: How often a list with a URL is polled unless told otherwise, in seconds.
DEFAULT_SYNC_EVERY_S: Final = 3600
#: The shortest polling interval a list may ask for: a vendor's server is not ours to hammer.
MIN_SYNC_EVERY_S: Final = 1
#: The most trailing digits a derived range may leave open: more would cover whole number blocks, not a test range.
MAX_WILDCARD_LAST: Final = 6
_NAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
#: Names the HTTP API uses for paths beside the lists' own (``/v1/hotlists/check``, ``/v1/hotlists/events``).
RESERVED_NAMES: Final = frozenset({"check", "events"})


class ChangeKind(IntEnum):
    """What a version did to one entry (the ``hotlist_changes`` log, from which diffs are computed)."""

    ADDED = 1  # into force: published, and not in force before
    REMOVED = 2  # out of force: no longer published, and the list does not retain
    RETAINED = 3  # no longer published, kept in force because the list retains
    REPUBLISHED = 4  # published again while it was retained


@dataclass(frozen=True, slots=True)
class Hotlist:
    id: int
    name: str
    description: str | None
    retain_missing: bool
    wildcard_last: int
    region: str | None
    sync_url: str | None
    sync_folder: str | None
    sync_every_s: int
    created_ms: int
    updated_ms: int


@dataclass(frozen=True, slots=True)
class HotlistVersion:
    """One import of a list and its counts: entries ``added`` into force, ``unchanged`` (in force and published
    again), ``removed`` from force, ``retained`` (no longer published, kept because the list retains); rows
    ``invalid`` and ``duplicates`` (merged into an entry another row of the file gave); ``derived`` ranges and all
    ``entries`` in force after it."""

    id: int
    hotlist_id: int
    hotlist: str
    number: int
    imported_ms: int
    imported_by: int | None
    source: str
    sha256: str
    added: int
    unchanged: int
    removed: int
    retained: int
    invalid: int
    duplicates: int
    derived: int
    entries: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A number (``length == prefix_len``), a fixed-length range (``+3725521??``: ``length`` > ``prefix_len``) or
    a prefix of any length (``length`` None) of one list. ``derived``: only there as the last-digits range of a test
    number (the list's ``wildcard_last``), never published as such."""

    id: int
    hotlist_id: int
    pattern: str
    prefix: int
    prefix_len: int
    length: int | None
    source: str | None
    first_seen_ms: int
    last_seen_ms: int
    first_version: int
    last_version: int
    present: bool
    derived: bool

    @property
    def kind(self) -> str:
        """``number``, ``range`` (fixed length) or ``prefix`` (any length)."""
        if self.length is None:
            return "prefix"
        return "number" if self.length == self.prefix_len else "range"


@dataclass(frozen=True, slots=True)
class Match:
    """An entry that covers a checked number, with the name of its list."""

    hotlist: str
    entry: Entry


@dataclass(slots=True)
class ImportOutcome:
    """What an import did: the version it made, the rows refused (with their lines), and the columns of the file
    that were not read (a vendor's extra columns, such as a destination name)."""

    version: HotlistVersion
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Diff:
    """Version ``version`` of a list against version ``against`` (0: the empty list before the first version):
    entries in force in ``version`` and not in ``against`` (``added``), the other way round (``removed``), and the
    entries in force in ``version`` only because the list retains them (``retained``)."""

    hotlist: str
    version: int
    against: int
    added: list[Entry]
    removed: list[Entry]
    retained: list[Entry]


def check_name(raw: str) -> str:
    """A list name: lower-case letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit; it appears
    in URLs and on command lines."""
    name = raw.strip().lower() if isinstance(raw, str) else ""
    if not _NAME.fullmatch(name) or name in RESERVED_NAMES:
        raise InvalidInput(
            f"{raw!r} is not a hotlist name: use 1 to 100 lower-case letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit (and not {' or '.join(sorted(RESERVED_NAMES))})",
            code="invalid_hotlist_name",
            details={"input": str(raw)},
        )
    return name


def check_wildcard_last(value: int) -> int:
    if not 0 <= value <= MAX_WILDCARD_LAST:
        raise InvalidInput(
            f"wildcard_last must be from 0 (none) to {MAX_WILDCARD_LAST}, got {value}",
            code="invalid_wildcard_last",
            details={"input": value, "max": MAX_WILDCARD_LAST},
        )
    return value


def check_sync_every(value: int) -> int:
    if value < MIN_SYNC_EVERY_S:
        raise InvalidInput(
            f"the sync interval must be at least {MIN_SYNC_EVERY_S} s, got {value}",
            code="invalid_sync_interval",
            details={"input": value, "min": MIN_SYNC_EVERY_S},
        )
    return value


def check_url(raw: str | None) -> str | None:
    """An http(s) URL to poll, or None (an empty text is None: a list stops polling)."""
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"{raw!r} is not an http:// or https:// URL", code="invalid_sync_url", details={"input": raw}
        )
    return url


def check_folder(raw: str | None) -> str | None:
    """An existing folder to watch, as an absolute path, or None (an empty text is None: a list stops watching)."""
    if raw is None or not raw.strip():
        return None
    folder = Path(raw.strip()).expanduser().resolve()
    if not folder.is_dir():
        raise InvalidInput(
            f"{raw!r} is not a folder this server can read", code="invalid_sync_folder", details={"input": raw}
        )
    return str(folder)
