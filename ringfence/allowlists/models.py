"""The allowlists' domain objects: never-list entries, what protects a number, members' private list entries.

Also the parsing of their fields from outside input, so the API and the CLI refuse the same things with the same
codes: a pattern (a number in any format, or an international prefix such as ``+44800*``), an entry kind, a list
name and a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ringfence.errors import InvalidInput, InvalidNumber
from ringfence.numbers import format_e164, normalise
from ringfence.numbers.lookup import country_code_of

__all__ = [
    "LIST_CODES",
    "MAX_NOTE",
    "MAX_PREFIX_DIGITS",
    "EntryKind",
    "ListKind",
    "MemberEntry",
    "NeverEntry",
    "PatternType",
    "Protection",
    "Source",
    "parse_entry_kind",
    "parse_list",
    "parse_note",
    "parse_number",
    "parse_pattern",
    "pattern_text",
]

MAX_NOTE = 500
#: A prefix as long as a whole number is a number: at most this many digits (country code included).
MAX_PREFIX_DIGITS = 17
_INT64_MAX = 2**63 - 1  # numbers are held as int64
_SEPARATORS = str.maketrans("", "", " -.()\t")


class EntryKind(StrEnum):
    """Why a number is on the never-list."""

    EMERGENCY = "emergency"  # emergency services
    SHORT_CODE = "short_code"  # network short codes (voicemail, operator services, ...)
    SERVICE = "service"  # well-known service numbers (helplines, public services, ...)
    MEMBER_OWN = "member_own"  # a member's own number, published by that member


class PatternType(StrEnum):
    """What a never-list entry matches: one number, or every number starting with a prefix."""

    NUMBER = "number"
    PREFIX = "prefix"


class Source(StrEnum):
    """Who put a protection in place: the consortium (its admins, or the numbering plan) or a member for itself."""

    CONSORTIUM = "consortium"
    MEMBER_OWN = "member_own"


class ListKind(StrEnum):
    """A member's private list: numbers it trusts (``allow``) or distrusts (``deny``) whatever the registry says."""

    ALLOW = "allow"
    DENY = "deny"


#: The code of each list in :meth:`AllowlistService.member_list_many` answers (0: on neither).
LIST_CODES: dict[ListKind, int] = {ListKind.ALLOW: 1, ListKind.DENY: 2}


@dataclass(frozen=True, slots=True)
class Protection:
    """Why a number must not be listed: what a lookup shows and a refused report explains.

    ``pattern`` is the entry's text (``"+442079460000"`` or ``"+44800*"``); ``source`` never names the member that
    published its own number; ``entry_id`` is the never-list entry (None when the numbering plan itself protects the
    number: an emergency number or short code in phonenumbers' short-number metadata).
    """

    kind: EntryKind
    pattern: str
    source: Source
    note: str | None = None
    entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class NeverEntry:
    """One never-list entry as stored. ``prefix_len`` is the digit count of ``value`` (for a number too)."""

    id: int
    pattern: PatternType
    value: int
    prefix_len: int
    kind: EntryKind
    note: str | None
    member_id: int | None  # the member that published it as its own (member_own entries)
    created_ms: int
    created_by: int | None  # the member who added it; None: the operator, on the local database

    @property
    def text(self) -> str:
        return pattern_text(self.pattern, self.value)

    @property
    def source(self) -> Source:
        return Source.MEMBER_OWN if self.kind is EntryKind.MEMBER_OWN else Source.CONSORTIUM

    def protection(self) -> Protection:
        return Protection(self.kind, self.text, self.source, self.note, self.id)

    def covers(self, number: int) -> bool:
        if self.pattern is PatternType.NUMBER:
            return number == self.value
        digits = len(str(number))
        return digits >= self.prefix_len and number // 10 ** (digits - self.prefix_len) == self.value


@dataclass(frozen=True, slots=True)
class MemberEntry:
    """A number on one member's private list."""

    member_id: int
    number: int
    list: ListKind
    note: str | None
    created_ms: int  # when it was (last) set


def pattern_text(pattern: PatternType, value: int) -> str:
    """``+442079460000`` for a number, ``+44800*`` for a prefix."""
    text = format_e164(value)
    return f"{text}*" if pattern is PatternType.PREFIX else text


def _invalid_pattern(raw: object, why: str) -> InvalidInput:
    return InvalidInput(
        f"{raw!r} is not a never-list pattern: {why}",
        code="invalid_pattern",
        details={"input": raw if isinstance(raw, str) else repr(raw), "reason": why},
    )


def parse_pattern(raw: object, region: str | None = None) -> tuple[PatternType, int, int]:
    """``(pattern type, value, digit count)`` of a number in any format (read with ``region`` when national), or of a
    prefix written in international form with a trailing ``*`` (``+44 800*``). A prefix must start with a known
    country calling code and go beyond it: ``+44*`` would protect a whole country."""
    if not isinstance(raw, str):
        raise _invalid_pattern(raw, "expected text, a number or a prefix such as +44800*")
    text = raw.strip()
    if not text.endswith("*"):
        number = normalise(text, region)
        return PatternType.NUMBER, number, len(str(number))
    body = text[:-1].translate(_SEPARATORS)
    if not body.startswith("+"):
        raise _invalid_pattern(raw, "a prefix is written in international form with a trailing *, e.g. +44800*")
    digits = body[1:]
    if not digits.isascii() or not digits.isdigit():
        raise _invalid_pattern(raw, "a prefix is '+' and digits, then '*', e.g. +44800*")
    if digits.startswith("0"):
        raise _invalid_pattern(raw, "a country calling code never starts with 0")
    cc = country_code_of(digits)
    if cc == 0:
        raise _invalid_pattern(raw, "it does not start with a known country calling code")
    if len(digits) <= len(str(cc)):
        raise _invalid_pattern(raw, f"it would cover all of country code +{cc}; give at least one more digit")
    if len(digits) > MAX_PREFIX_DIGITS:
        raise _invalid_pattern(raw, f"a prefix has at most {MAX_PREFIX_DIGITS} digits; add a whole number instead")
    return PatternType.PREFIX, int(digits), len(digits)


def parse_number(raw: object, region: str | None = None) -> int:
    """A number given as text (any format, national ones read with ``region``) or already as E.164 digits (int)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if not 0 < raw <= _INT64_MAX:
            raise InvalidNumber(raw, "not_a_number", "expected a positive integer of E.164 digits")
        return raw
    return normalise(raw, region)  # type: ignore[arg-type]  # normalise refuses what is not text itself


def parse_entry_kind(raw: object) -> EntryKind:
    try:
        return EntryKind(raw.strip().lower()) if isinstance(raw, str) else EntryKind(str(raw))
    except ValueError:
        allowed = [k.value for k in EntryKind]
        raise InvalidInput(
            f"unknown never-list kind {raw!r}; expected one of: {', '.join(allowed)}",
            code="unknown_kind",
            details={"input": raw if isinstance(raw, str) else repr(raw), "allowed": allowed},
        ) from None


def parse_list(raw: object) -> ListKind:
    try:
        return ListKind(raw.strip().lower()) if isinstance(raw, str) else ListKind(str(raw))
    except ValueError:
        allowed = [k.value for k in ListKind]
        raise InvalidInput(
            f"unknown list {raw!r}; expected one of: {', '.join(allowed)}",
            code="unknown_list",
            details={"input": raw if isinstance(raw, str) else repr(raw), "allowed": allowed},
        ) from None


def parse_note(raw: object) -> str | None:
    """A free-text note: trimmed, at most :data:`MAX_NOTE` characters; empty is none."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput("note must be text", code="invalid_field", details={"field": "note"})
    text = raw.strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput(
            f"note is longer than {MAX_NOTE} characters",
            code="field_too_long",
            details={"field": "note", "limit": MAX_NOTE},
        )
    return text or None
