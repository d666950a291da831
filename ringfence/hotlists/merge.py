"""A new version of a list, merged into its entries: what comes into force, stays, goes, or is retained.

Entries are identified by their canonical pattern text, so a list's history is one row per pattern however many
versions publish it. For each entry a version publishes: new or out of force, it is ``added`` (into force; an entry
that comes back keeps its first-seen time); in force, it is ``unchanged`` (its last-seen time moves on; if it was
only retained, the log notes it ``republished``). Each entry in force that the version does not publish is
``retained`` when the list retains (it stays in force, its last-seen time stays where it was) and ``removed``
otherwise. Every transition is logged in ``hotlist_changes``, which is what diffs between any two versions are
computed from (:mod:`ringfence.hotlists.diff`); an entry published again unchanged needs no log row, and neither
does a new entry (its ``first_version`` says when it arrived).

Lists run to millions of entries, so the rows go to the driver as plain tuples in set-based statements
(:mod:`ringfence.hotlists.store`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ringfence.hotlists import store
from ringfence.hotlists.models import ChangeKind, Hotlist
from ringfence.hotlists.published import Published

__all__ = ["Merged", "merge"]


@dataclass(frozen=True, slots=True)
class Merged:
    """The counts of a merged version (see :class:`ringfence.hotlists.models.HotlistVersion`)."""

    added: int
    unchanged: int
    removed: int
    retained: int
    derived: int
    entries: int


def merge(
    conn: Connection, hotlist: Hotlist, published: Published, *, version: int, now_ms: int, source: str
) -> Merged:
    """Apply ``published`` as version ``version`` of ``hotlist`` (inside the caller's write transaction)."""
    existing = store.entry_states(conn, hotlist.id)
    previous = version - 1
    inserts: list[tuple[Any, ...]] = []
    republished: list[tuple[Any, ...]] = []
    touched: list[int] = []
    gone: list[int] = []
    changes: list[tuple[int, int]] = []
    added = unchanged = removed = retained = derived = 0
    hotlist_id = hotlist.id
    for text, item in published.entries.items():
        entry_source = item.source or source
        derived += item.derived
        entry = existing.get(text)
        if entry is None:
            added += 1
            inserts.append(
                (
                    hotlist_id,
                    text,
                    item.prefix,
                    item.prefix_len,
                    item.length,
                    entry_source,
                    now_ms,
                    now_ms,
                    version,
                    version,
                    True,
                    item.derived,
                )
            )
            continue
        if entry.present:
            unchanged += 1
            if entry.last_version != previous:  # it was only retained: published again
                changes.append((entry.id, ChangeKind.REPUBLISHED))
            if entry.source == entry_source and entry.derived == item.derived:
                touched.append(entry.id)
                continue
        else:
            added += 1
            changes.append((entry.id, ChangeKind.ADDED))
        republished.append((now_ms, version, item.derived, entry_source, entry.id))
    for text, entry in existing.items():
        if not entry.present or text in published.entries:
            continue
        if hotlist.retain_missing:
            retained += 1
            derived += entry.derived
            if entry.last_version == previous:
                changes.append((entry.id, ChangeKind.RETAINED))
        else:
            removed += 1
            changes.append((entry.id, ChangeKind.REMOVED))
            gone.append(entry.id)
    store.insert_entries(conn, inserts)
    store.republish_entries(conn, republished)
    store.touch_entries(conn, touched, now_ms, version)
    store.remove_entries(conn, gone)
    store.insert_changes(conn, hotlist_id, version, [(e, int(k)) for e, k in changes])
    return Merged(added, unchanged, removed, retained, derived, len(published.entries) + retained)
