"""How webhooks and their deliveries look to members (HTTP answers, CLI --json). A secret is never shown here."""

from __future__ import annotations

from typing import Any

import orjson

from ringfence.registry.views import iso
from ringfence.webhooks.models import Delivery, DeliveryStatus, Webhook

__all__ = ["delivery_view", "webhook_view"]


def webhook_view(webhook: Webhook, now_ms: int) -> dict[str, Any]:
    until = webhook.previous_until_ms
    previous_valid = webhook.previous_secret is not None and until is not None and now_ms < until
    return {
        "id": webhook.id,
        "member": webhook.member_name,
        "url": webhook.url,
        "description": webhook.description,
        "filter": webhook.where.to_dict(),
        "enabled": webhook.enabled,
        "disabled_reason": webhook.disabled_reason,
        "disabled_at": iso(webhook.disabled_ms),
        "consecutive_failures": webhook.failures,
        "cursor": webhook.cursor,
        "previous_secret_valid_until": iso(until) if previous_valid else None,
        "created_at": iso(webhook.created_ms),
        "updated_at": iso(webhook.updated_ms),
    }


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "kind": delivery.kind.value,
        "status": delivery.status.value,
        "first_seq": delivery.first_seq,
        "last_seq": delivery.last_seq,
        "change_count": delivery.change_count,
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_ms) if delivery.status is DeliveryStatus.PENDING else None,
        "last_attempt_at": iso(delivery.last_attempt_ms),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_ms),
        "delivered_at": iso(delivery.delivered_ms),
    }
    if delivery.body is not None:
        view["body"] = orjson.loads(delivery.body)
    return view
