"""How allowlist entries look to the outside (HTTP bodies, CLI --json): one rendering for every front door.

A member's own never-list entry names its member to admins alone; everyone else sees that it is a member's own
number, not whose.
"""

from __future__ import annotations

from typing import Any

from ringfence.allowlists.models import MemberEntry, NeverEntry, Protection
from ringfence.allowlists.service import Placement
from ringfence.numbers import format_e164
from ringfence.registry.views import iso

__all__ = ["member_entry_view", "never_entry_view", "placement_view", "protection_view"]


def never_entry_view(entry: NeverEntry, *, include_member: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": entry.id,
        "pattern": entry.text,
        "match": entry.pattern.value,
        "kind": entry.kind.value,
        "source": entry.source.value,
        "note": entry.note,
        "created_at": iso(entry.created_ms),
    }
    if include_member:
        view["member_id"] = entry.member_id
        view["created_by"] = entry.created_by
    return view


def placement_view(placement: Placement, *, include_member: bool = False) -> dict[str, Any]:
    """A never-list entry just placed, whether it is new, and the listings it took off the registry."""
    return {
        "entry": never_entry_view(placement.entry, include_member=include_member),
        "created": placement.created,
        "retired": [format_e164(n) for n in placement.retired],
    }


def protection_view(protection: Protection) -> dict[str, Any]:
    """What a lookup or a refused report says of a protected number (never which member published it)."""
    return {
        "kind": protection.kind.value,
        "pattern": protection.pattern,
        "source": protection.source.value,
        "note": protection.note,
    }


def member_entry_view(entry: MemberEntry) -> dict[str, Any]:
    return {
        "number": format_e164(entry.number),
        "list": entry.list.value,
        "note": entry.note,
        "set_at": iso(entry.created_ms),
    }
