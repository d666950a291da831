"""How disputes look to the outside (HTTP answers, CLI --json).

Who disputes is shown to admins only (and a member only ever sees its own disputes, so it knows who it is); who
resolved a dispute is shown to admins only too.
"""

from __future__ import annotations

from typing import Any

from ringfence.disputes.models import Dispute
from ringfence.numbers import format_e164
from ringfence.registry.views import iso

__all__ = ["dispute_view", "disputes_page"]


def dispute_view(dispute: Dispute, *, include_member: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(dispute.id),
        "number": format_e164(dispute.number),
        "reason": dispute.reason.value,
        "note": dispute.note,
        "status": dispute.status.value,
        "opened_at": iso(dispute.opened_ms),
        "resolved_at": iso(dispute.resolved_ms),
        "resolution_note": dispute.resolution_note,
    }
    if include_member:
        view["member_id"] = dispute.member_id
        view["member"] = dispute.member_name
        view["resolved_by"] = dispute.resolved_by
    return view


def disputes_page(found: list[Dispute], limit: int, *, include_member: bool) -> dict[str, Any]:
    """A page of disputes, newest first; ``next`` (the ``before`` of the following page) when the page is full."""
    return {
        "disputes": [dispute_view(d, include_member=include_member) for d in found],
        "next": str(found[-1].id) if found and len(found) == limit else None,
    }
