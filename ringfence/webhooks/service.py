"""What members do with webhooks: create, list, change, enable and disable, rotate the secret, read the log, ping.

Every call names whose webhooks it may touch (``owner``): a member sees only its own, and another member's webhook
is "not found", exactly as if it did not exist; ``owner=None`` (admins, the local CLI) reaches every webhook.
This module knows nothing of HTTP: the API and the CLI both call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import Engine

from ringfence.clock import Clock
from ringfence.config import Settings
from ringfence.errors import Conflict, Gone, InvalidInput, NotFound
from ringfence.feed.filters import ChangeFilter
from ringfence.feed.log import ChangeLog
from ringfence.registry.models import Member
from ringfence.webhooks.models import Delivery, DeliveryKind, DeliveryStatus, Webhook
from ringfence.webhooks.signing import new_secret
from ringfence.webhooks.store import NewDelivery, WebhookStore, new_delivery_id
from ringfence.webhooks.urls import check_url

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["MAX_DESCRIPTION", "MAX_WEBHOOKS_PER_MEMBER", "DeliveryPage", "WebhookService", "parse_status"]

MAX_WEBHOOKS_PER_MEMBER = 25
MAX_DESCRIPTION = 200
MAX_LOG_PAGE = 1000
_UNSET = object()


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next: str | None  # pass as ``before`` for the next (older) page; None: no more


def parse_status(raw: str | None) -> DeliveryStatus | None:
    if raw is None or not raw.strip():
        return None
    try:
        return DeliveryStatus(raw.strip().lower())
    except ValueError:
        allowed = [s.value for s in DeliveryStatus]
        raise InvalidInput(
            f"unknown delivery status {raw!r}; expected one of: {', '.join(allowed)}",
            code="unknown_status",
            details={"input": raw, "allowed": allowed},
        ) from None


def _description(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"description is longer than {MAX_DESCRIPTION} characters",
            code="field_too_long",
            details={"field": "description", "limit": MAX_DESCRIPTION},
        )
    return text or None


def _values(name: str, old: list[str], new: object) -> list[str] | str | None:
    """A filter field of an update: the old values when not given, else the new ones (strings only)."""
    if new is _UNSET:
        return old
    if new is None or isinstance(new, str):
        return new
    if isinstance(new, list | tuple) and all(isinstance(v, str) for v in new):
        return list(new)
    raise InvalidInput(f"{name} must be a list of strings", code="invalid_field", details={"field": name})


class WebhookService:
    def __init__(self, engine: Engine, clock: Clock, settings: Settings, log: ChangeLog | None = None) -> None:
        self.store = WebhookStore(engine)
        self.clock = clock
        self.settings = settings
        self.log = log or ChangeLog(engine)

    @classmethod
    def of(cls, runtime: Runtime) -> WebhookService:
        return cls(runtime.engine, runtime.clock, runtime.settings, runtime.feed.log)

    # --- validation -----------------------------------------------------------------------------------------
    def check_url(self, raw: object) -> str:
        return check_url(raw, allow_http_localhost=self.settings.webhook_allow_http_localhost)

    def _start(self, from_seq: int | None) -> int:
        """Where a webhook's deliveries start: after ``from_seq``, or after the newest change (``None``)."""
        head = self.log.head()
        if from_seq is None:
            return head
        if isinstance(from_seq, bool) or not isinstance(from_seq, int) or from_seq < 0:
            raise InvalidInput(
                f"from_seq {from_seq!r} is not a change seq", code="invalid_seq", details={"from_seq": from_seq}
            )
        if from_seq > head:
            raise InvalidInput(
                f"from_seq {from_seq} is beyond the newest change (seq {head})",
                code="invalid_seq",
                details={"from_seq": from_seq, "head": head},
            )
        floor = self.log.floor()
        if from_seq < floor:
            raise Gone(
                f"changes after seq {from_seq} are no longer kept (retention has deleted up to seq {floor}); "
                "take a snapshot (GET /v1/export or a snapshot file) and start from its seq",
                code="since_expired",
                details={"from_seq": from_seq, "floor": floor, "head": head},
            )
        return from_seq

    # --- webhooks -----------------------------------------------------------------------------------------------
    def create(
        self,
        member: Member,
        url: str,
        *,
        categories: Iterable[str] | str | None = None,
        countries: Iterable[str] | str | None = None,
        prefixes: Iterable[str] | str | None = None,
        from_seq: int | None = None,
        description: str | None = None,
    ) -> tuple[Webhook, str]:
        """A new, enabled webhook of ``member`` and its secret (returned only here; keep it)."""
        checked = self.check_url(url)
        where = ChangeFilter.parse(categories, countries, prefixes)
        text = _description(description)
        cursor = self._start(from_seq)
        if self.store.count(member.id) >= MAX_WEBHOOKS_PER_MEMBER:
            raise Conflict(
                f"a member may have at most {MAX_WEBHOOKS_PER_MEMBER} webhooks; remove one first",
                code="too_many_webhooks",
                details={"limit": MAX_WEBHOOKS_PER_MEMBER},
            )
        secret = new_secret()
        webhook_id = self.store.insert(
            member_id=member.id,
            url=checked,
            where=where,
            description=text,
            secret=secret,
            cursor=cursor,
            now_ms=self.clock.now_ms(),
        )
        return self.get(webhook_id), secret

    def all(self, owner: Member | None) -> list[Webhook]:
        return self.store.all(None if owner is None else owner.id)

    def get(self, webhook_id: str, owner: Member | None = None) -> Webhook:
        found = self.store.get(webhook_id.strip())
        if found is None or (owner is not None and found.member_id != owner.id):
            raise NotFound(f"no webhook {webhook_id!r}", code="webhook_not_found", details={"webhook_id": webhook_id})
        return found

    def update(
        self,
        webhook_id: str,
        owner: Member | None,
        *,
        url: object = _UNSET,
        categories: object = _UNSET,
        countries: object = _UNSET,
        prefixes: object = _UNSET,
        description: object = _UNSET,
        enabled: bool | None = None,
        from_seq: int | None = None,
        by: str | None = None,
    ) -> Webhook:
        """Change what is given; leave the rest. Filters apply to changes not yet queued. ``from_seq`` moves the
        cursor (to replay, or to skip ahead). Enabling resets the failure run and resumes from the cursor."""
        hook = self.get(webhook_id, owner)
        values: dict[str, object] = {}
        if url is not _UNSET:
            values["url"] = self.check_url(url)
        if any(v is not _UNSET for v in (categories, countries, prefixes)):
            old = hook.where.to_dict()
            values["where"] = ChangeFilter.parse(
                _values("categories", old["categories"], categories),
                _values("countries", old["countries"], countries),
                _values("prefixes", old["prefixes"], prefixes),
            )
        if description is not _UNSET:
            if description is not None and not isinstance(description, str):
                raise InvalidInput("description must be text", code="invalid_field", details={"field": "description"})
            values["description"] = _description(description)
        cursor = None if from_seq is None else self._start(from_seq)
        now = self.clock.now_ms()
        if enabled is True and not hook.enabled and cursor is None:
            floor = self.log.floor()
            if hook.cursor < floor:
                raise Gone(
                    f"this webhook stopped at seq {hook.cursor} and changes up to seq {floor} are no longer kept; "
                    "take a snapshot (GET /v1/export) and enable it with from_seq set to the snapshot's seq",
                    code="cursor_expired",
                    details={"cursor": hook.cursor, "floor": floor},
                )
        if cursor is not None:
            values["cursor_seq"] = cursor
        if values:
            self.store.change(hook.id, now, **values)
        if enabled is True and not hook.enabled:
            self.store.enable(hook.id, now)
        elif enabled is False and hook.enabled:
            self.store.disable(hook.id, f"disabled by {by or 'its member'}", now)
        return self.get(hook.id)

    def delete(self, webhook_id: str, owner: Member | None) -> Webhook:
        hook = self.get(webhook_id, owner)
        self.store.delete(hook.id)
        return hook

    def rotate_secret(self, webhook_id: str, owner: Member | None, grace_s: int | None = None) -> tuple[Webhook, str]:
        """A new secret; deliveries are also signed with the old one for ``grace_s`` seconds (default: the setting)."""
        hook = self.get(webhook_id, owner)
        grace = self.settings.webhook_secret_grace_s if grace_s is None else grace_s
        if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= 30 * 86_400:
            raise InvalidInput(
                f"grace_s {grace_s!r} must be from 0 to {30 * 86_400} seconds",
                code="invalid_grace",
                details={"grace_s": grace_s},
            )
        now = self.clock.now_ms()
        secret = new_secret()
        self.store.change(
            hook.id,
            now,
            secret=secret,
            previous_secret=hook.secret if grace else None,
            previous_until_ms=now + grace * 1000 if grace else None,
        )
        return self.get(hook.id), secret

    # --- deliveries ----------------------------------------------------------------------------------------------
    def deliveries(
        self,
        webhook_id: str,
        owner: Member | None,
        *,
        limit: int = 100,
        before: str | None = None,
        status: str | None = None,
    ) -> DeliveryPage:
        """The delivery log of a webhook, newest first, a page at a time."""
        hook = self.get(webhook_id, owner)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LOG_PAGE:
            raise InvalidInput(f"limit must be from 1 to {MAX_LOG_PAGE}", code="invalid_limit", details={})
        row: int | None = None
        if before is not None and before.strip():
            raw = before.strip()
            if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
                raise InvalidInput(
                    f"before {raw!r} is not a page cursor (use the 'next' of the previous page)",
                    code="invalid_cursor",
                    details={"input": raw},
                )
            row = int(raw)
        found = self.store.deliveries(hook.id, limit + 1, row, parse_status(status))
        more = len(found) > limit
        page = found[:limit]
        return DeliveryPage(page, str(page[-1].row) if more and page else None)

    def delivery(self, webhook_id: str, owner: Member | None, delivery_id: str) -> Delivery:
        """One delivery with its body, as sent."""
        hook = self.get(webhook_id, owner)
        found = self.store.delivery(hook.id, delivery_id.strip())
        if found is None:
            raise NotFound(
                f"no delivery {delivery_id!r} of webhook {hook.id}",
                code="delivery_not_found",
                details={"webhook_id": hook.id, "delivery_id": delivery_id},
            )
        return found

    def ping(self, webhook_id: str, owner: Member | None) -> Delivery:
        """Queue a delivery without changes, to try the endpoint and the signature check (after those queued)."""
        hook = self.get(webhook_id, owner)
        if not hook.enabled:
            raise Conflict(
                f"webhook {hook.id} is disabled ({hook.disabled_reason}); enable it first",
                code="webhook_disabled",
                details={"webhook_id": hook.id},
            )
        delivery_id = new_delivery_id()
        body = {"delivery_id": delivery_id, "webhook_id": hook.id, "type": DeliveryKind.PING.value, "changes": []}
        new = NewDelivery(delivery_id, DeliveryKind.PING, None, None, 0, orjson.dumps(body).decode())
        if not self.store.queue(hook.id, new, self.clock.now_ms()):
            raise NotFound(f"no webhook {webhook_id!r}", code="webhook_not_found", details={"webhook_id": webhook_id})
        return self.delivery(hook.id, None, delivery_id)
