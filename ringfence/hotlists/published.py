"""What one file publishes: its rows read, cleansed and merged into one set of patterns, with the derived ranges.

This is everything an import decides before it touches the store, so a file that publishes nothing is refused
before the current version is disturbed. Rows are cleansed a chunk at a time (numbers normalised in bulk); rows that
standardise to the same pattern are one entry (the first row's source is kept); bad rows are counted, and the first
:data:`MAX_KEPT_ERRORS` of them kept with their lines. A list with ``wildcard_last`` N also publishes, for every
test number, the range of its last N digits wildcarded (``+37255212??`` for ``+3725521234`` with N = 2): the block a
published test number sits in, which Wangiri and IRSF traffic tends to use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, NamedTuple

from ringfence.errors import InvalidInput, RingfenceError
from ringfence.hotlists.cleanse import Cleansed, Cleanser
from ringfence.hotlists.patterns import Pattern, pattern_for_number
from ringfence.hotlists.reader import HotlistFormat, RawRow, read_rows
from ringfence.registry.service import RowError

__all__ = ["MAX_ENTRIES", "MAX_KEPT_ERRORS", "Item", "Published", "collect"]

#: The most entries one version may publish (derived ranges included): every node keeps them in memory.
MAX_ENTRIES: Final = 2_000_000
#: Bad rows reported line by line; beyond that they are only counted (a wrong file can have millions).
MAX_KEPT_ERRORS: Final = 10_000
_CHUNK: Final = 50_000


class Item(NamedTuple):
    """One entry a file publishes: its pattern's fields, the row's own source, and whether it is derived."""

    prefix: int
    prefix_len: int
    length: int | None
    source: str | None
    derived: bool

    @property
    def pattern(self) -> Pattern:
        return Pattern(self.prefix, self.prefix_len, self.length)


@dataclass(slots=True)
class Published:
    """The entries of one file by pattern text, in file order; the rows refused; what was merged or ignored."""

    format: HotlistFormat
    entries: dict[str, Item] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    invalid: int = 0
    duplicates: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def derived(self) -> int:
        return sum(1 for item in self.entries.values() if item.derived)


def collect(data: bytes, *, fmt: HotlistFormat | None, region: str | None, wildcard_last: int) -> Published:
    """Read ``data`` (see :mod:`ringfence.hotlists.reader`) into the entries it publishes.

    ``region``: the file's country hint (a row's own hint wins). Raises :class:`InvalidInput` when the file as a
    whole is unusable (a CSV without a header), has more than :data:`MAX_ENTRIES` entries, or has no valid entry at
    all (``no_valid_numbers``, with the first bad rows in its details).
    """
    rows = read_rows(data, fmt)
    published = Published(rows.format, ignored_columns=rows.ignored_columns)
    cleanser = Cleanser(region)
    chunk: list[RawRow] = []
    for item in rows:
        if isinstance(item, RowError):
            _reject(published, item)
            continue
        chunk.append(item)
        if len(chunk) >= _CHUNK:
            _add(published, cleanser.cleanse(chunk))
            chunk = []
    if chunk:
        _add(published, cleanser.cleanse(chunk))
    published.errors.sort(key=lambda e: e.line)
    if not published.entries:
        _refuse_empty(published)
    if wildcard_last:
        _derive(published, wildcard_last)
    return published


def _reject(published: Published, error: RowError) -> None:
    published.invalid += 1
    if len(published.errors) < MAX_KEPT_ERRORS:
        published.errors.append(error)


def _add(published: Published, cleansed: list[Cleansed | RowError]) -> None:
    entries = published.entries
    for item in cleansed:
        if isinstance(item, RowError):
            _reject(published, item)
            continue
        text = item.text
        if text in entries:
            published.duplicates += 1
            continue
        if len(entries) >= MAX_ENTRIES:
            raise _too_many()
        entries[text] = Item(item.prefix, item.prefix_len, item.length, item.source, False)


def _derive(published: Published, wildcard_last: int) -> None:
    """Add the last-digits range of every test number, unless the file publishes that range itself."""
    entries = published.entries
    for item in list(entries.values()):
        if item.length != item.prefix_len:  # not a number
            continue
        try:
            derived = pattern_for_number(item.prefix, wildcard_last)
        except RingfenceError:  # too few national digits to wildcard that many: the number stands alone
            continue
        if derived.text not in entries:
            if len(entries) >= MAX_ENTRIES:
                raise _too_many()
            entries[derived.text] = Item(derived.prefix, derived.prefix_len, derived.length, item.source, True)


def _too_many() -> InvalidInput:
    return InvalidInput(
        f"the file has more than {MAX_ENTRIES} entries (derived ranges included); split the list",
        code="too_many_entries",
        details={"limit": MAX_ENTRIES},
    )


def _refuse_empty(published: Published) -> None:
    shown = [{"line": e.line, **e.error.to_dict()} for e in published.errors[:20]]
    if published.invalid:
        first = published.errors[0]
        why = f"all {published.invalid} rows were refused (line {first.line}: {first.error.message})"
    else:
        why = "it has no rows"
    raise InvalidInput(
        f"the file has no valid numbers: {why}; the list keeps its current version",
        code="no_valid_numbers",
        details={"invalid": published.invalid, "errors": shown, "format": published.format},
    )
