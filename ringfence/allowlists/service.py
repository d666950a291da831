"""The allowlist service: the never-list and members' private lists, kept in memory and answered without SQL.

The never-list holds numbers and prefixes that must never be listed: emergency numbers, short codes, well-known
service numbers (entered by admins) and numbers members publish as their own. The numbering plan adds the emergency
numbers and short codes phonenumbers knows (:mod:`ringfence.allowlists.shortcodes`). A report against a protected
number is refused and a lookup says it is protected (both wired by the registry from :meth:`protected` and
:meth:`protected_many`); adding an entry takes any listing it covers off the registry, through the
:attr:`on_protected` hook the runtime sets.

Each member also keeps private ``allow`` and ``deny`` lists that shape only its own answers
(:meth:`member_list`, :meth:`member_list_many`); a member sees and changes only its own.

Everything is loaded on first use and kept in memory. Writes go to the store first, in one transaction that bumps
the allowlists' version counter, then to memory; another process (a second node, the CLI on the same database)
notices the counter moved on :meth:`refresh` and reloads. This module knows nothing of HTTP: the API and the CLI
both call it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine

from ringfence.allowlists import store
from ringfence.allowlists.matcher import NeverIndex, covered
from ringfence.allowlists.memberlists import CODE_LISTS, MemberLists
from ringfence.allowlists.models import (
    EntryKind,
    ListKind,
    MemberEntry,
    NeverEntry,
    PatternType,
    Protection,
    parse_entry_kind,
    parse_list,
    parse_note,
    parse_number,
    parse_pattern,
    pattern_text,
)
from ringfence.allowlists.shortcodes import tables as short_code_tables
from ringfence.clock import Clock
from ringfence.errors import Conflict, Forbidden, InvalidInput, NotFound
from ringfence.numbers import format_e164
from ringfence.registry.models import Member, Role

__all__ = ["MAX_MEMBER_ENTRIES", "AllowlistService", "Placement"]

log = logging.getLogger("ringfence.allowlists")
T = TypeVar("T")

#: How many numbers one member's private lists may hold together (they live in every node's memory).
MAX_MEMBER_ENTRIES = 100_000

#: Called for each listed number a new never-list entry covers, to take its listing off the registry:
#: ``(actor, number, note)``; it raises NotFound when the number is not listed (then nothing was retired).
ProtectHook = Callable[[Member | None, int, str], bool | None]  # False: the listing stays
#: Every number the registry lists (the lookup index's numbers), to find those a new prefix entry covers.
ListedNumbers = Callable[[], npt.NDArray[np.int64]]


@dataclass(frozen=True, slots=True)
class Placement:
    """The outcome of putting a number or prefix on the never-list.

    ``created`` is False when a member published a number it had published before (the entry is unchanged);
    ``retired`` the listed numbers the entry took off the registry.
    """

    entry: NeverEntry
    created: bool = True
    retired: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _State:
    """What this process holds, as of ``version`` of the store's counter."""

    version: int
    never: NeverIndex
    lists: MemberLists


def _require(actor: Member | None, role: Role, doing: str) -> None:
    """``actor`` may do it with ``role``; None is the operator on the local database, who may do anything."""
    if actor is not None and not actor.role.allows(role):
        raise Forbidden(
            f"member {actor.name!r} has role {actor.role.value}; {doing} needs {role.value}",
            code="forbidden_role",
            details={"role": actor.role.value, "needed": role.value},
        )


def _entry_not_found(entry_id: object) -> NotFound:
    return NotFound(
        f"no never-list entry {entry_id!r}", code="never_list_entry_not_found", details={"id": str(entry_id)}
    )


class AllowlistService:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        #: Set by the runtime: takes a listing off the registry when a never-list entry comes to cover it.
        self.on_protected: ProtectHook | None = None
        #: Set by the runtime: the numbers listed now, so that a new prefix entry finds the listings it covers.
        self.listed_numbers: ListedNumbers | None = None
        self._state: _State | None = None
        self._lock = threading.RLock()

    # --- loading ------------------------------------------------------------------------------------------
    def _current(self) -> _State:
        state = self._state
        if state is None:
            with self._lock:  # the first callers wait for one load
                state = self._state
                if state is None:
                    state = self._load()
        return state

    def load(self) -> None:
        """Read everything from the store now (it is otherwise read on first use): a server warms up with it."""
        self._load()

    def _load(self) -> _State:
        """Read everything from the store (first use, or after another process wrote)."""
        with self._lock:
            short_code_tables()  # compiled once per process; done here so that no lookup waits for it
            with self.engine.connect() as conn:
                version = store.read_version(conn)  # first: rows written meanwhile only make the next reload redundant
                never = NeverIndex(store.load_never(conn))
                lists = MemberLists(store.load_member_entries(conn))
            state = self._state = _State(version, never, lists)
            return state

    def refresh(self) -> bool:
        """Reload when the store's version counter moved since this process last read or wrote; True if it did."""
        state = self._state
        if state is None:
            self._load()
            return True
        with self.engine.connect() as conn:
            version = store.read_version(conn)
        if version == state.version:
            return False
        with self._lock:
            current = self._state
            if current is None or current.version != version:
                self._load()
        return True

    @property
    def version(self) -> int:
        """The version of the store's allowlists this process holds."""
        return self._current().version

    # --- reads: the hot paths -------------------------------------------------------------------------------
    def protected(self, number: int) -> Protection | None:
        """What protects ``number`` (E.164 digits) from being listed, or None.

        The never-list entry covering it (an exact number entry first, then the longest prefix), else the numbering
        plan (an emergency number or short code, see :mod:`ringfence.allowlists.shortcodes`). About a microsecond.
        """
        return self._current().never.protected(number)

    def protected_many(self, numbers: npt.ArrayLike) -> tuple[npt.NDArray[np.int32], list[Protection]]:
        """:meth:`protected` of a batch (int64 E.164 digits): per number an index into the returned list (-1: not
        protected); the list holds each protection the batch needs once. Exactly :meth:`protected`, per number."""
        return self._current().never.protected_many(numbers)

    def member_list(self, member_id: int, number: int) -> ListKind | None:
        """Which of its private lists member ``member_id`` put ``number`` on (``allow`` or ``deny``), or None."""
        code = self._current().lists.code(member_id, number)
        return CODE_LISTS.get(code)

    def member_list_many(self, member_id: int, numbers: npt.ArrayLike) -> npt.NDArray[np.int8]:
        """:meth:`member_list` of a batch, as int8 codes: 0 on neither list, 1 allow, 2 deny."""
        return self._current().lists.codes(member_id, numbers)

    # --- the never-list -------------------------------------------------------------------------------------
    def entries(self) -> list[NeverEntry]:
        """Every never-list entry, oldest first (members' own entries name their member: show that to admins)."""
        return list(self._current().never.entries)

    def own_entries(self, member: Member) -> list[NeverEntry]:
        """The numbers ``member`` published as its own."""
        return [e for e in self._current().never.entries if e.kind is EntryKind.MEMBER_OWN and e.member_id == member.id]

    def entry(self, entry_id: int) -> NeverEntry:
        for e in self._current().never.entries:
            if e.id == entry_id:
                return e
        raise _entry_not_found(entry_id)

    def add(
        self,
        actor: Member | None,
        pattern: str,
        kind: str | EntryKind,
        note: str | None = None,
        *,
        region: str | None = None,
        owner: Member | None = None,
    ) -> Placement:
        """Put a number (any format; national ones read with ``region``) or a prefix (``+44800*``) on the never-list
        (admins; ``actor`` None is the operator on the local database). A ``member_own`` entry names its member:
        ``owner``, else the actor. Listings the entry covers are taken off the registry (:attr:`on_protected`)."""
        _require(actor, Role.ADMIN, "changing the never-list")
        parsed_kind = parse_entry_kind(kind)
        kind_of, value, length = parse_pattern(pattern, region)
        text = parse_note(note)
        if parsed_kind is EntryKind.MEMBER_OWN:
            owner = owner or actor
            if owner is None:
                raise InvalidInput(
                    "a member_own entry names the member whose number it is",
                    code="owner_required",
                    details={"kind": parsed_kind.value},
                )
            if kind_of is PatternType.PREFIX:
                raise InvalidInput(
                    f"{pattern!r}: a member's own entry is one number, not a prefix",
                    code="invalid_pattern",
                    details={"input": pattern, "reason": "member_own entries are numbers"},
                )
        elif owner is not None:
            raise InvalidInput(
                f"only member_own entries name a member, not {parsed_kind.value} entries",
                code="invalid_field",
                details={"field": "member"},
            )
        owner_id = owner.id if owner is not None else None
        created_by = actor.id if actor is not None else None

        def write(conn: Connection) -> NeverEntry:
            if store.find_never(conn, kind_of, value, length) is not None:
                shown = pattern_text(kind_of, value)
                raise Conflict(
                    f"{shown} is on the never-list already", code="never_list_exists", details={"pattern": shown}
                )
            return store.insert_never(
                conn,
                pattern=kind_of,
                value=value,
                length=length,
                kind=parsed_kind,
                note=text,
                member_id=owner_id,
                created_ms=self.clock.now_ms(),
                created_by=created_by,
            )

        entry = self._write_never(write)
        return Placement(entry, True, self._retire(actor, entry))

    def remove(self, actor: Member | None, entry_id: int) -> NeverEntry:
        """Take an entry off the never-list (admins); numbers it covered may be reported again."""
        _require(actor, Role.ADMIN, "changing the never-list")

        def write(conn: Connection) -> NeverEntry:
            found = store.get_never(conn, entry_id)
            if found is None:
                raise _entry_not_found(entry_id)
            store.delete_never(conn, entry_id)
            return found

        return self._write_never(write, removing=True)

    def publish_own(
        self, member: Member, number: str | int, note: str | None = None, *, region: str | None = None
    ) -> Placement:
        """A member (reporter or above) puts one of its own numbers on the never-list; publishing it again is a
        no-op (``created`` False). A number someone else has on the never-list is a conflict (without naming who)."""
        _require(member, Role.REPORTER, "publishing your own numbers")
        value = parse_number(number, region)
        text = parse_note(note)
        length = len(str(value))
        existing = self._current().never.entries
        for e in existing:
            if e.pattern is PatternType.NUMBER and e.value == value and e.member_id == member.id:
                return Placement(e, False)

        def write(conn: Connection) -> NeverEntry:
            found = store.find_never(conn, PatternType.NUMBER, value, length)
            if found is not None:
                raise Conflict(
                    f"{format_e164(value)} is on the never-list already",
                    code="never_list_exists",
                    details={"pattern": format_e164(value)},
                )
            return store.insert_never(
                conn,
                pattern=PatternType.NUMBER,
                value=value,
                length=length,
                kind=EntryKind.MEMBER_OWN,
                note=text,
                member_id=member.id,
                created_ms=self.clock.now_ms(),
                created_by=member.id,
            )

        entry = self._write_never(write)
        return Placement(entry, True, self._retire(member, entry))

    def unpublish_own(self, member: Member, number: str | int, *, region: str | None = None) -> NeverEntry:
        """A member takes one of its own numbers off the never-list."""
        _require(member, Role.REPORTER, "publishing your own numbers")
        value = parse_number(number, region)

        def write(conn: Connection) -> NeverEntry:
            found = store.find_never(conn, PatternType.NUMBER, value, len(str(value)))
            if found is None or found.kind is not EntryKind.MEMBER_OWN or found.member_id != member.id:
                raise NotFound(
                    f"you have not published {format_e164(value)} as your own",
                    code="never_list_entry_not_found",
                    details={"number": format_e164(value)},
                )
            store.delete_never(conn, found.id)
            return found

        return self._write_never(write, removing=True)

    def _write_never(self, write: Callable[[Connection], NeverEntry], *, removing: bool = False) -> NeverEntry:
        with self._lock:
            state = self._current()
            with self.engine.begin() as conn:
                version = store.bump_version(conn)
                entry = write(conn)
            if version != state.version + 1:  # someone else wrote since this process read: read it all
                self._load()
            else:
                kept = [e for e in state.never.entries if e.id != entry.id]
                self._state = _State(version, NeverIndex(kept if removing else [*kept, entry]), state.lists)
        return entry

    def _retire(self, actor: Member | None, entry: NeverEntry) -> tuple[int, ...]:
        """Take the listings ``entry`` covers off the registry (after its commit, outside the lock: the registry may
        ask :meth:`protected` meanwhile, and must see the entry)."""
        hook = self.on_protected
        if hook is None:
            return ()
        listed = self.listed_numbers
        if listed is not None:
            numbers = covered(entry.pattern, entry.value, entry.prefix_len, listed()).tolist()
        else:
            numbers = [entry.value] if entry.pattern is PatternType.NUMBER else []
        note = f"never-list: {entry.text} ({entry.kind.value})"
        retired: list[int] = []
        for number in numbers:
            try:
                if hook(actor, int(number), note) is False:
                    continue  # the registry keeps it (a member's own claim does not remove a listing)
            except NotFound:
                continue  # not listed (any more)
            except Exception:  # the entry stands; the listing is refused new reports and can be removed by hand
                log.exception("never-list entry %s: could not retire the listing of %s", entry.text, number)
                continue
            retired.append(int(number))
        return tuple(retired)

    # --- members' private lists -----------------------------------------------------------------------------
    def member_entries(self, member: Member, kind: str | ListKind | None = None) -> list[MemberEntry]:
        """A member's own list entries (only its own, ever), by number; ``kind`` keeps one list."""
        wanted = None if kind is None else parse_list(kind)
        found = self._current().lists.entries(member.id)
        return found if wanted is None else [e for e in found if e.list is wanted]

    def member_entry(self, member: Member, number: str | int, *, region: str | None = None) -> MemberEntry:
        value = parse_number(number, region)
        found = self._current().lists.entry(member.id, value)
        if found is None:
            raise _not_on_lists(value)
        return found

    def set_member_entry(
        self,
        member: Member,
        number: str | int,
        list: str | ListKind,
        note: str | None = None,
        *,
        region: str | None = None,
    ) -> MemberEntry:
        """Put ``number`` on the member's ``allow`` or ``deny`` list (moving it from the other; the note replaced)."""
        value = parse_number(number, region)
        kind = parse_list(list)
        text = parse_note(note)
        entry = MemberEntry(member.id, value, kind, text, self.clock.now_ms())
        state = self._current()
        if state.lists.entry(member.id, value) is None and state.lists.count(member.id) >= MAX_MEMBER_ENTRIES:
            raise Conflict(
                f"a member's lists hold at most {MAX_MEMBER_ENTRIES} numbers; remove some first",
                code="too_many_entries",
                details={"limit": MAX_MEMBER_ENTRIES},
            )

        def write(conn: Connection) -> MemberEntry:
            store.upsert_member_entry(conn, entry)
            return entry

        return self._write_member(write, lambda lists: lists.put(entry))

    def remove_member_entry(self, member: Member, number: str | int, *, region: str | None = None) -> MemberEntry:
        """Take ``number`` off the member's lists; returns the entry it had."""
        value = parse_number(number, region)

        def write(conn: Connection) -> MemberEntry:
            found = store.get_member_entry(conn, member.id, value)
            if found is None:
                raise _not_on_lists(value)
            store.delete_member_entry(conn, member.id, value)
            return found

        return self._write_member(write, lambda lists: lists.remove(member.id, value))

    def _write_member(self, write: Callable[[Connection], T], apply: Callable[[MemberLists], None]) -> T:
        with self._lock:
            state = self._current()
            with self.engine.begin() as conn:
                version = store.bump_version(conn)
                result = write(conn)
            if version != state.version + 1:  # someone else wrote since this process read: read it all
                self._load()
            else:
                apply(state.lists)
                self._state = _State(version, state.never, state.lists)
        return result


def _not_on_lists(value: int) -> NotFound:
    return NotFound(
        f"{format_e164(value)} is on neither of your lists",
        code="not_on_lists",
        details={"number": format_e164(value)},
    )
