"""How audit entries look to admins (HTTP answers, ``ringfence audit``): one rendering for every front door.

The log stores each listing state as the raw :class:`Listing` (epoch ms, a category bit set, a weight in
thousandths, flag bits). Admins see it the way lookups show a listing (ISO times, category names, via
``listing_view``), plus what a lookup leaves out and an audit needs: the reporters' weight and every flag, since a
pin or a dispute changes nothing else. The state is the one stored at the time: no score is computed for it, since
a score belongs to "now", not to the moment of the change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ringfence.numbers import format_e164
from ringfence.registry.audit import AuditEntry
from ringfence.registry.index import Listing
from ringfence.registry.members import MemberService
from ringfence.registry.models import FLAG_NAMES
from ringfence.registry.views import iso, listing_view

__all__ = ["actor_names", "audit_page", "audit_view", "state_view"]


def _int(state: Mapping[str, Any], name: str) -> int:
    value = state.get(name)
    return int(value) if isinstance(value, int | float) else 0


def state_view(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored listing state as admins see it; None stays None (the number was not listed)."""
    if state is None:
        return None
    listing = Listing(
        _int(state, "number"),
        _int(state, "first_ms"),
        _int(state, "last_ms"),
        _int(state, "report_count"),
        _int(state, "reporter_count"),
        _int(state, "categories"),
        _int(state, "weight"),
        _int(state, "flags"),
    )
    view = listing_view(listing)
    view["reporters_weight"] = listing.weight / 1000
    for bit, name in FLAG_NAMES.items():
        view[name] = bool(listing.flags & bit)
    return view


def audit_view(entry: AuditEntry, actors: Mapping[int, str]) -> dict[str, Any]:
    """One entry; ``actor`` is the acting member's name, or None when ringfence itself acted (the expiry sweep)."""
    return {
        "id": str(entry.id),
        "at": iso(entry.at_ms),
        "actor": None if entry.actor_id is None else actors.get(entry.actor_id),
        "actor_id": entry.actor_id,
        "action": entry.action,
        "number": None if entry.number is None else format_e164(entry.number),
        "reason": entry.reason,
        "note": entry.note,
        "before": state_view(entry.before),
        "after": state_view(entry.after),
    }


def audit_page(entries: Sequence[AuditEntry], limit: int, actors: Mapping[int, str]) -> dict[str, Any]:
    """A page of entries, newest first; ``next`` (the ``before`` of the following page) when the page is full."""
    return {
        "entries": [audit_view(e, actors) for e in entries],
        "next": str(entries[-1].id) if entries and len(entries) == limit else None,
    }


def actor_names(members: MemberService) -> dict[int, str]:
    """Member id -> name, for rendering a page (a consortium has tens or hundreds of members: one query)."""
    return {member.id: member.name for member in members.all()}
