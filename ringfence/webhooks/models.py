"""What a webhook is, what a delivery is, and what one attempt to send it came to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ringfence.feed.filters import ChangeFilter

__all__ = ["Attempt", "Delivery", "DeliveryKind", "DeliveryStatus", "Webhook"]


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first attempt, or for a retry
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # its webhook was disabled while it was the one being retried; re-enabling sends it again


class DeliveryKind(StrEnum):
    CHANGES = "changes"  # changes of the feed, in seq order
    PING = "ping"  # asked for with POST /v1/webhooks/{id}/test: no changes


@dataclass(frozen=True, slots=True)
class Webhook:
    """A member's endpoint and what it wants; ``cursor`` is the newest seq already turned into a delivery."""

    id: str
    member_id: int
    member_name: str
    url: str
    where: ChangeFilter
    description: str | None
    enabled: bool
    disabled_reason: str | None
    disabled_ms: int | None
    failures: int  # consecutive failed attempts (reset by a delivered one, or by enabling)
    cursor: int
    created_ms: int
    updated_ms: int
    secret: str = field(repr=False)
    previous_secret: str | None = field(default=None, repr=False)  # still signed with until previous_until_ms
    previous_until_ms: int | None = None

    def signing_secrets(self, now_ms: int) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one during its grace."""
        keys = [self.secret]
        if self.previous_secret and self.previous_until_ms is not None and now_ms < self.previous_until_ms:
            keys.append(self.previous_secret)
        return keys


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST to a webhook's endpoint, tried until it is answered 2xx; ``id`` is its de-duplication id."""

    row: int  # the queue's order (deliveries of one webhook go in this order)
    id: str
    webhook_id: str
    kind: DeliveryKind
    first_seq: int | None
    last_seq: int | None
    change_count: int
    status: DeliveryStatus
    attempts: int
    next_attempt_ms: int
    last_attempt_ms: int | None
    last_status: int | None
    last_error: str | None
    created_ms: int
    delivered_ms: int | None
    body: str | None = None  # the exact JSON sent, when it was asked for


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt came to: ``ok`` when the endpoint answered 2xx in time."""

    ok: bool
    status: int | None  # the HTTP status, None when there was no answer
    error: str | None  # why it failed, for the delivery log and the disabled reason
    retry_after_ms: int | None = None  # the endpoint's Retry-After (429, 503), if it sent one
    duration_ms: int = 0
