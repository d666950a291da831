"""How a change looks to members (paged feed, SSE, WebSocket, webhooks, delta files): counts only, never who."""

from __future__ import annotations

from typing import Any

from ringfence.feed.models import Change
from ringfence.numbers import format_e164, info
from ringfence.registry.models import categories_from_mask
from ringfence.registry.views import iso, listing_view

__all__ = ["change_view"]


def change_view(change: Change) -> dict[str, Any]:
    return {
        "seq": change.seq,
        "at": iso(change.at_ms),
        "kind": change.kind.value,
        "number": format_e164(change.number),
        "info": info(change.number).to_dict(),
        "listed": change.listing is not None,
        "categories": categories_from_mask(change.categories),
        "listing": None if change.listing is None else listing_view(change.listing),
    }
