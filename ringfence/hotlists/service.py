"""The hotlist service: lists and their versions in the store, and a matcher over every entry in force, in memory.

What the API (``routes/hotlists``), the CLI (``ringfence hotlists``) and the auto-sync daemon call; it knows nothing
of HTTP. An import reads and cleanses the whole file first (:mod:`ringfence.hotlists.published`), so a file that
publishes nothing is refused before the store is touched and the list keeps its current version; then it merges the
file as the list's next version in one transaction (:mod:`ringfence.hotlists.merge`).

Checks never touch SQL: the entries in force of all lists are loaded on first use into a
:class:`~ringfence.hotlists.matcher.RangeMatcher`, which is immutable; after every new version (made here, or seen
by :meth:`refresh` to have been made by another process) a new one is built aside and swapped in, so readers need no
lock. Every new version is also handed to the listeners (:meth:`subscribe`): the in-process notification behind
``GET /v1/hotlists/events``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ringfence.clock import Clock
from ringfence.config import Settings
from ringfence.errors import Conflict, InvalidInput, NotFound
from ringfence.hotlists import store
from ringfence.hotlists.diff import states_at
from ringfence.hotlists.inforce import InForce
from ringfence.hotlists.matcher import RangeMatcher
from ringfence.hotlists.merge import merge
from ringfence.hotlists.models import (
    DEFAULT_SYNC_EVERY_S,
    Diff,
    Entry,
    Hotlist,
    HotlistVersion,
    ImportOutcome,
    Match,
    check_folder,
    check_name,
    check_sync_every,
    check_url,
    check_wildcard_last,
)
from ringfence.hotlists.published import Published, collect
from ringfence.hotlists.reader import HotlistFormat
from ringfence.hotlists.snapshot import HotlistSnapshot
from ringfence.numbers.regions import check_region
from ringfence.registry.models import Member

__all__ = ["MAX_EVENTS", "HotlistOptions", "HotlistService", "Listener"]

log = logging.getLogger("ringfence.hotlists")

#: Called with every new version of any list, once, in version-id order (from whichever thread noticed it).
Listener = Callable[[HotlistVersion], None]
#: The most versions one events page holds.
MAX_EVENTS: Final = 1000


@dataclass(frozen=True, slots=True)
class HotlistOptions:
    """How a list is kept. None leaves an option as it is (on creation: its default); an empty ``url``,
    ``folder``, ``region`` or ``description`` clears it."""

    description: str | None = None
    retain_missing: bool | None = None
    wildcard_last: int | None = None
    region: str | None = None
    url: str | None = None
    folder: str | None = None
    every_s: int | None = None

    def values(self) -> dict[str, Any]:
        """The columns these options set, checked."""
        out: dict[str, Any] = {}
        if self.description is not None:
            out["description"] = self.description.strip() or None
        if self.retain_missing is not None:
            out["retain_missing"] = bool(self.retain_missing)
        if self.wildcard_last is not None:
            out["wildcard_last"] = check_wildcard_last(self.wildcard_last)
        if self.region is not None:
            out["region"] = check_region(self.region)
        if self.url is not None:
            out["sync_url"] = check_url(self.url)
        if self.folder is not None:
            out["sync_folder"] = check_folder(self.folder)
        if self.every_s is not None:
            out["sync_every_s"] = check_sync_every(self.every_s)
        return out


@dataclass(frozen=True, slots=True)
class _State:
    """What this process holds, as of ``counter`` of the store's hotlists counter."""

    counter: int
    lists: dict[int, Hotlist]
    latest: dict[int, int]  # list id -> its newest version number
    entries: InForce
    matcher: RangeMatcher


def _not_found(name: str) -> NotFound:
    return NotFound(f"no hotlist named {name!r}", code="hotlist_not_found", details={"name": name})


def _version_not_found(name: str, number: int) -> NotFound:
    return NotFound(
        f"hotlist {name!r} has no version {number}",
        code="version_not_found",
        details={"name": name, "version": number},
    )


class HotlistService:
    def __init__(self, engine: Engine, clock: Clock, settings: Settings) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self._state: _State | None = None
        self._lock = threading.RLock()  # loading and swapping the state
        self._write_lock = threading.Lock()  # this process's writes, one at a time
        self._listeners: list[Listener] = []
        self._notified: int | None = None  # the newest version id handed to the listeners

    # --- lists ----------------------------------------------------------------------------------------------
    def lists(self) -> list[Hotlist]:
        """Every list, by name (read from the store: options change without a new version)."""
        with self.engine.connect() as conn:
            return store.load_hotlists(conn)

    def overview(self, name: str | None = None) -> list[tuple[Hotlist, HotlistVersion | None]]:
        """Every list (or the one named) with its newest version."""
        with self.engine.connect() as conn:
            chosen = store.load_hotlists(conn) if name is None else [self._get(conn, name)]
            return [(h, store.latest_version(conn, h.id)) for h in chosen]

    def get(self, name: str) -> Hotlist:
        with self.engine.connect() as conn:
            return self._get(conn, name)

    @staticmethod
    def _get(conn: Connection, name: str) -> Hotlist:
        key = name.strip().lower() if isinstance(name, str) else ""
        found = store.get_hotlist(conn, key)
        if found is None:
            raise _not_found(name)
        return found

    def create(self, actor: Member | None, name: str, options: HotlistOptions | None = None) -> Hotlist:
        """A new, empty list (no version yet). ``actor`` is who asks (None: the operator)."""
        key = check_name(name)
        values = (options or HotlistOptions()).values()
        now = self.clock.now_ms()
        row = {
            "name": key,
            "description": None,
            "retain_missing": False,
            "wildcard_last": 0,
            "region": None,
            "sync_url": None,
            "sync_folder": None,
            "sync_every_s": DEFAULT_SYNC_EVERY_S,
            **values,
            "created_ms": now,
            "updated_ms": now,
        }
        with self._write_lock:
            try:
                with self.engine.begin() as conn:
                    store.bump_version(conn)
                    if store.get_hotlist(conn, key) is not None:
                        raise self._exists(key)
                    store.insert_hotlist(conn, row)
                    created = self._get(conn, key)
            except IntegrityError:  # created by another node meanwhile
                raise self._exists(key) from None
        log.info("hotlist %s created by %s", key, actor.name if actor else "the operator")
        self._reload_if_loaded()
        return created

    @staticmethod
    def _exists(name: str) -> Conflict:
        return Conflict(f"a hotlist named {name!r} exists already", code="hotlist_exists", details={"name": name})

    def update(self, actor: Member | None, name: str, options: HotlistOptions) -> Hotlist:
        """Change how a list is kept; ``retain_missing`` and ``wildcard_last`` apply from its next version."""
        values = options.values()
        with self._write_lock, self.engine.begin() as conn:
            store.bump_version(conn)
            hotlist = self._get(conn, name)
            if values:
                store.update_hotlist(conn, hotlist.id, {**values, "updated_ms": self.clock.now_ms()})
            updated = self._get(conn, name)
        self._reload_if_loaded()
        return updated

    # --- versions ---------------------------------------------------------------------------------------------
    def import_file(
        self,
        actor: Member | None,
        name: str,
        data: bytes,
        *,
        source: str = "upload",
        fmt: HotlistFormat | None = None,
        region: str | None = None,
    ) -> ImportOutcome:
        """Import ``data`` (TXT, CSV or JSONL; gzip or not) as the next version of list ``name``.

        ``region`` is the file's country hint (else the list's); ``source`` says where the file came from. Raises
        :class:`InvalidInput` ``no_valid_numbers`` when the file publishes nothing (the list keeps its version).
        """
        outcome = self._import(actor, name, data, source=source, fmt=fmt, region=region, skip=None)
        assert outcome is not None
        return outcome

    def sync_file(self, name: str, data: bytes, *, source: str, once_per_source: bool) -> ImportOutcome | None:
        """Import for the auto-sync: None when nothing is new. ``once_per_source``: a file of a watched folder is
        imported once for its name and content; otherwise (a polled URL) content equal to the newest version's is
        not imported again. Both are checked under the write lock, so several nodes never import the same twice."""
        digest = hashlib.sha256(data).hexdigest()

        def skip(conn: Connection, hotlist: Hotlist) -> bool:
            if once_per_source:
                return store.version_exists(conn, hotlist.id, source, digest)
            latest = store.latest_version(conn, hotlist.id)
            return latest is not None and latest.sha256 == digest

        with self.engine.connect() as conn:
            if skip(conn, self._get(conn, name)):  # the common case, without parsing or locking
                return None
        return self._import(None, name, data, source=source, fmt=None, region=None, skip=skip)

    def _import(
        self,
        actor: Member | None,
        name: str,
        data: bytes,
        *,
        source: str,
        fmt: HotlistFormat | None,
        region: str | None,
        skip: Callable[[Connection, Hotlist], bool] | None,
    ) -> ImportOutcome | None:
        hotlist = self.get(name)
        hint = check_region(region) or hotlist.region
        published = collect(data, fmt=fmt, region=hint, wildcard_last=hotlist.wildcard_last)
        digest = hashlib.sha256(data).hexdigest()
        source = (source or "upload").strip()[:1000] or "upload"
        with self._write_lock, self.engine.begin() as conn:
            store.bump_version(conn)
            current = self._get(conn, name)
            if skip is not None and skip(conn, current):
                return None
            if current.wildcard_last != hotlist.wildcard_last:  # changed meanwhile: derive as it says now
                published = collect(data, fmt=fmt, region=hint, wildcard_last=current.wildcard_last)
            version_id = self._merge(conn, actor, current, published, source, digest)
            version = store.version_by_id(conn, version_id)
        log.info(
            "hotlist %s version %d from %s: %d added, %d unchanged, %d removed, %d retained, %d invalid",
            version.hotlist,
            version.number,
            source,
            version.added,
            version.unchanged,
            version.removed,
            version.retained,
            version.invalid,
        )
        self._applied()
        return ImportOutcome(version, published.errors, published.ignored_columns)

    def _merge(
        self, conn: Connection, actor: Member | None, hotlist: Hotlist, published: Published, source: str, sha: str
    ) -> int:
        latest = store.latest_version(conn, hotlist.id)
        number = 1 if latest is None else latest.number + 1
        now = self.clock.now_ms()
        merged = merge(conn, hotlist, published, version=number, now_ms=now, source=source)
        return store.insert_version(
            conn,
            {
                "hotlist_id": hotlist.id,
                "number": number,
                "imported_ms": now,
                "imported_by": actor.id if actor is not None else None,
                "source": source,
                "sha256": sha,
                "added": merged.added,
                "unchanged": merged.unchanged,
                "removed": merged.removed,
                "retained": merged.retained,
                "invalid": published.invalid,
                "duplicates": published.duplicates,
                "derived": merged.derived,
                "entries": merged.entries,
            },
        )

    def versions(self, name: str) -> list[HotlistVersion]:
        """The versions of a list, oldest first."""
        with self.engine.connect() as conn:
            return store.versions_of(conn, self._get(conn, name).id)

    def version(self, name: str, number: int) -> HotlistVersion:
        with self.engine.connect() as conn:
            found = store.get_version(conn, self._get(conn, name).id, number)
        if found is None:
            raise _version_not_found(name, number)
        return found

    def diff(self, name: str, number: int, against: int | None = None) -> Diff:
        """Version ``number`` against version ``against`` (default: the one before; 0: the empty list)."""
        other = number - 1 if against is None else against
        with self.engine.connect() as conn:
            hotlist = self._get(conn, name)
            for wanted in {number, other} - {0}:
                if wanted < 0 or store.get_version(conn, hotlist.id, wanted) is None:
                    raise _version_not_found(hotlist.name, wanted)
            if number == 0:
                raise _version_not_found(hotlist.name, 0)
            through = max(number, other)
            states = states_at(
                store.arrivals(conn, hotlist.id, through), store.change_log(conn, hotlist.id, through), (number, other)
            )
            now, then = states[number], states[other]
            added_ids = now.in_force - then.in_force
            removed_ids = then.in_force - now.in_force
            entries = {e.id: e for e in store.entries_by_id(conn, added_ids | removed_ids | now.retained)}

        def pick(ids: set[int]) -> list[Entry]:
            return sorted((entries[i] for i in ids if i in entries), key=lambda e: (e.pattern, e.id))

        return Diff(hotlist.name, number, other, pick(added_ids), pick(removed_ids), pick(now.retained))

    def events(self, since: int = 0, limit: int = MAX_EVENTS) -> list[HotlistVersion]:
        """The versions of every list applied after version id ``since``, oldest first (at most ``limit``)."""
        if limit < 1 or since < 0:
            raise InvalidInput("since must be 0 or more, and limit 1 or more", code="invalid_page")
        with self.engine.connect() as conn:
            return store.versions_after(conn, since, min(limit, MAX_EVENTS))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every new version from now on; returns the function that stops it."""
        with self._lock:
            if self._notified is None:
                self._notified = self._newest_version_id()
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # --- checks -------------------------------------------------------------------------------------------------
    def check(self, number: int) -> list[Match]:
        """Every entry in force covering ``number`` (E.164 digits), the most specific first; [] when none does."""
        state = self._current()
        return [self._match(state, i) for i in state.matcher.all(number)]

    def check_many(self, numbers: npt.ArrayLike) -> list[list[Match]]:
        """:meth:`check` of each number of a batch (int64 E.164 digits; 0 matches nothing)."""
        state = self._current()
        offsets, ids = state.matcher.all_many(np.asarray(numbers, np.int64))
        flat = [self._match(state, i) for i in ids.tolist()]
        bounds = offsets.tolist()
        return [flat[bounds[k] : bounds[k + 1]] for k in range(len(bounds) - 1)]

    def snapshot(self) -> HotlistSnapshot:
        """The entries in force now, as the rules engine matches call records against them."""
        state = self._current()
        return HotlistSnapshot(state.matcher, state.entries, state.lists)

    @staticmethod
    def _match(state: _State, entry_id: int) -> Match:
        entry = state.entries.entry(entry_id)
        return Match(state.lists[entry.hotlist_id].name, entry)

    def retained(self, entry: Entry) -> bool:
        """Whether an entry in force is there only because its list retains it (its newest version omitted it)."""
        return entry.last_version < self._current().latest.get(entry.hotlist_id, 0)

    # --- loading --------------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Read the entries in force now (they are otherwise read on first use): a server warms up with it."""
        self._load()

    def _current(self) -> _State:
        state = self._state
        if state is None:
            with self._lock:
                state = self._state
                if state is None:
                    state = self._load()
        return state

    def _load(self) -> _State:
        with self._lock, self.engine.connect() as conn:
            counter = store.read_version(conn)  # first: a write meanwhile only makes the next reload redundant
            lists = {h.id: h for h in store.load_hotlists(conn)}
            latest = {h: v.number for h in lists if (v := store.latest_version(conn, h)) is not None}
            entries = InForce.load(conn)
            newest = self._newest_version_id(conn)
            state = self._state = _State(counter, lists, latest, entries, entries.matcher())
            if self._notified is None:
                self._notified = newest
            return state

    def _newest_version_id(self, conn: Connection | None = None) -> int:
        if conn is None:
            with self.engine.connect() as own:
                return store.newest_version_id(own)
        return store.newest_version_id(conn)

    def _reload_if_loaded(self) -> None:
        if self._state is not None:
            self._load()

    def refresh(self) -> bool:
        """Reload when the store's hotlists counter moved since this process last read or wrote (another node or
        the CLI made a version, or changed a list), and tell the listeners of new versions; True if it did."""
        state = self._state
        with self.engine.connect() as conn:
            counter = store.read_version(conn)
        if state is not None and counter == state.counter:
            return False
        if state is not None:
            with self._lock:
                current = self._state
                if current is None or current.counter != counter:
                    self._load()
        self._notify()
        return state is not None

    def _applied(self) -> None:
        """After a version committed here: swap the matcher if one is loaded, and tell the listeners."""
        self._reload_if_loaded()
        self._notify()

    def _notify(self) -> None:
        with self._lock:
            if self._notified is None:  # nobody has listened yet
                return
            with self.engine.connect() as conn:
                fresh = store.versions_after(conn, self._notified, MAX_EVENTS)
            if not fresh:
                return
            self._notified = fresh[-1].id
            listeners = list(self._listeners)
        for version in fresh:
            for listener in listeners:
                try:
                    listener(version)
                except Exception:
                    log.exception("a hotlist listener failed on %s version %d", version.hotlist, version.number)

    @property
    def counter(self) -> int:
        """The store's hotlists counter this process holds."""
        return self._current().counter

    def entries_of(self, name: str) -> Sequence[Entry]:
        """Every entry a list ever had (in force or not), by id."""
        with self.engine.connect() as conn:
            return store.list_entries(conn, self._get(conn, name).id)
