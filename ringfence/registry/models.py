"""The registry's domain objects: categories, roles, reports and listings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from ringfence.errors import InvalidInput

__all__ = [
    "CATEGORY_BITS",
    "FLAG_DISPUTED",
    "FLAG_NAMES",
    "FLAG_PINNED",
    "FLAG_PORTED",
    "Category",
    "Member",
    "NewReport",
    "RemovalReason",
    "Report",
    "Role",
    "categories_from_mask",
    "category_mask",
    "parse_category",
]


class Category(StrEnum):
    """What a number was used for. The order is stored (as bit positions): append, never reorder."""

    ROBOCALL = "robocall"
    VISHING = "vishing"
    SMISHING = "smishing"
    PHISHING = "phishing"
    ACCOUNT_TAKEOVER = "account_takeover"
    IRSF = "irsf"
    WANGIRI = "wangiri"
    SPOOFING = "spoofing"
    OTHER = "other"


CATEGORY_BITS: dict[Category, int] = {category: 1 << i for i, category in enumerate(Category)}
_BY_VALUE: dict[str, Category] = {c.value: c for c in Category}


def parse_category(raw: object) -> Category:
    """A category from outside input; unknown ones are refused with the list of known ones."""
    category = _BY_VALUE.get(raw.strip().lower()) if isinstance(raw, str) else None
    if category is None:
        raise InvalidInput(
            f"unknown category {raw!r}; expected one of: {', '.join(_BY_VALUE)}",
            code="unknown_category",
            details={"input": raw if isinstance(raw, str) else repr(raw), "allowed": list(_BY_VALUE)},
        )
    return category


def category_mask(categories: list[Category] | tuple[Category, ...] | set[Category]) -> int:
    mask = 0
    for category in categories:
        mask |= CATEGORY_BITS[category]
    return mask


def categories_from_mask(mask: int) -> list[str]:
    return [category.value for category, bit in CATEGORY_BITS.items() if mask & bit]


#: Listing flags (bits of ``Listing.flags``). Pinned: an admin keeps it listed at full score, decay cannot undo it.
#: Disputed: a member's dispute is open; it weighs less until resolved. Ported: the number moved to another carrier
#: after its last report, a weaker signal than a disconnection: it weighs less, it is not removed.
FLAG_PINNED = 1
FLAG_DISPUTED = 2
FLAG_PORTED = 4
FLAG_NAMES: dict[int, str] = {FLAG_PINNED: "pinned", FLAG_DISPUTED: "disputed", FLAG_PORTED: "ported"}


class RemovalReason(StrEnum):
    """Why reports stopped standing (``reports.withdrawn_reason``) and why a listing left (the audit log's reason)."""

    WITHDRAWN = "withdrawn"  # by the member who made the report
    REMOVED = "removed"  # by an admin (or the never-list)
    EXPIRED = "expired"  # decay took the listing below its threshold, or an admin expired it
    OWNER_CHANGE = "owner_change"  # the number was disconnected or reassigned after the report
    DISPUTE = "dispute"  # a dispute about the listing was upheld


class Role(StrEnum):
    """What a member may do. Each role includes the ones before it."""

    READER = "reader"  # query
    REPORTER = "reporter"  # query + report
    ADMIN = "admin"  # everything, including managing members and removing listings

    def allows(self, needed: Role) -> bool:
        order = (Role.READER, Role.REPORTER, Role.ADMIN)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    role: Role
    created_ms: int


class NewReport(NamedTuple):
    """A report as a member submits it, already validated and normalised (a tuple: bulk imports make millions)."""

    number: int
    category: Category
    occurred_ms: int
    note: str | None = None
    report_id: str | None = None
    occurred_given: bool = True  # False: occurred_ms is the time of receipt, not the member's own


@dataclass(frozen=True, slots=True)
class Report:
    """A stored report. ``id`` is ringfence's (assigned by the store, in arrival order); ``report_id`` is the
    member's own (idempotency) reference."""

    id: int
    member_id: int
    number: int
    category: Category
    occurred_ms: int
    received_ms: int
    note: str | None
    report_id: str | None
    withdrawn_ms: int | None = None
    withdrawn_reason: str | None = None
