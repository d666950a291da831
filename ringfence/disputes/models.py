"""What a dispute is: why a member disputes a listing, where the dispute stands, and the parsing of outside input.

Stored values (reasons, statuses) are the enums' values: rename nothing, only add.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ringfence.choices import parse_choice
from ringfence.errors import InvalidInput, NotFound

__all__ = [
    "MAX_NOTE",
    "Dispute",
    "DisputeReason",
    "DisputeStatus",
    "Outcome",
    "parse_dispute_id",
    "parse_note",
    "parse_outcome",
    "parse_reason",
    "parse_status",
]

#: The longest note a member or an admin may attach (as for reports).
MAX_NOTE = 2000


class DisputeReason(StrEnum):
    """Why a member says a listing is wrong."""

    LEGITIMATE_CUSTOMER = "legitimate_customer"  # the number belongs to a genuine customer of the member
    OWN_NUMBER = "own_number"  # the number is the member's own (a spoofed caller id, most often)
    REASSIGNED = "reassigned"  # the number has a new holder since it was reported


class DisputeStatus(StrEnum):
    OPEN = "open"  # the listing is flagged disputed and weighs less until an admin decides
    UPHELD = "upheld"  # an admin agreed: the listing was removed
    REJECTED = "rejected"  # an admin disagreed: the listing stays
    WITHDRAWN = "withdrawn"  # the disputing member took it back


class Outcome(StrEnum):
    """What an admin may decide about an open dispute."""

    UPHELD = "upheld"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Dispute:
    """A stored dispute. ``member_id`` and ``member_name`` are who disputes: shown to admins and that member only."""

    id: int
    number: int
    member_id: int
    member_name: str
    reason: DisputeReason
    note: str | None
    opened_ms: int
    status: DisputeStatus
    resolved_ms: int | None = None
    resolved_by: int | None = None
    resolution_note: str | None = None


def parse_reason(raw: object) -> DisputeReason:
    return parse_choice(DisputeReason, raw, "dispute reason", "unknown_reason")


def parse_status(raw: object) -> DisputeStatus:
    return parse_choice(DisputeStatus, raw, "dispute status", "unknown_status")


def parse_outcome(raw: object) -> Outcome:
    return parse_choice(Outcome, raw, "outcome", "unknown_outcome")


def parse_note(raw: object, field: str = "note") -> str | None:
    """Free text, trimmed; empty is no note. Members are asked to keep personal data out of it."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput(f"{field} must be text", code="invalid_field", details={"field": field})
    text = raw.strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput(
            f"{field} is longer than {MAX_NOTE} characters",
            code="field_too_long",
            details={"field": field, "limit": MAX_NOTE},
        )
    return text or None


def parse_dispute_id(raw: object) -> int:
    """A dispute id from a path or an argument; anything that cannot be one is a dispute that does not exist."""
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 18:
        raise NotFound(f"no dispute {text!r}", code="dispute_not_found", details={"id": text})
    return int(text)
