"""/v1/webhooks: a member's endpoints that every change is POSTed to, signed, and their delivery log.

A member sees and manages only its own webhooks (another member's answers 404, as if it did not exist); an admin
sees every webhook and may change, disable or remove any, but rotates only its own secrets. See docs/webhooks.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.api.auth import require
from ringfence.api.body import json_body, openapi_body
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer
from ringfence.registry.members import Principal
from ringfence.registry.models import Member, Role
from ringfence.runtime import Runtime
from ringfence.webhooks.service import MAX_LOG_PAGE, WebhookService
from ringfence.webhooks.views import delivery_view, webhook_view

__all__ = ["NewWebhook", "WebhookPatch", "router"]

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 409, 410, 422)
}
_STRICT = ConfigDict(extra="forbid")


class NewWebhook(BaseModel):
    model_config = _STRICT
    url: str = Field(description="HTTPS endpoint the deliveries are POSTed to", max_length=2000)
    categories: list[str] | None = Field(None, description="Only changes of listings with these categories")
    countries: list[str] | None = Field(None, description="Only numbers of these regions (ISO 3166, e.g. GB)")
    prefixes: list[str] | None = Field(None, description="Only numbers starting so, e.g. +4477")
    from_seq: StrictInt | None = Field(None, ge=0, description="Deliver the changes after this seq (default: now)")
    description: str | None = Field(None, max_length=200, description="Your note, e.g. which system receives it")


class WebhookPatch(BaseModel):
    model_config = _STRICT
    url: str | None = Field(None, max_length=2000)
    categories: list[str] | None = None
    countries: list[str] | None = None
    prefixes: list[str] | None = None
    description: str | None = Field(None, max_length=200)
    enabled: StrictBool | None = Field(None, description="Enabling resets the failure run, resumes from the cursor")
    from_seq: StrictInt | None = Field(None, ge=0, description="Move the cursor: deliver the changes after this seq")


class FilterOut(BaseModel):
    categories: list[str]
    countries: list[str]
    prefixes: list[str]


class WebhookOut(BaseModel):
    id: str
    member: str
    url: str
    description: str | None
    filter: FilterOut
    enabled: bool
    disabled_reason: str | None = Field(description="Why the webhook is disabled, e.g. after a run of failures")
    disabled_at: str | None
    consecutive_failures: int
    cursor: int = Field(description="The newest seq already queued for delivery (or passed over by the filter)")
    previous_secret_valid_until: str | None = Field(description="After a rotation: the old secret also signs until")
    created_at: str
    updated_at: str


class WebhookAnswer(BaseModel):
    webhook: WebhookOut
    secret: str | None = Field(None, description="The signing secret: shown on creation and rotation only")


class WebhooksAnswer(BaseModel):
    webhooks: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: str = Field(description="The Ringfence-Delivery header: the same on every attempt; de-duplicate on it")
    webhook_id: str
    kind: str = Field(description="changes or ping")
    status: str = Field(description="pending, delivered or failed (given up when the webhook was disabled)")
    first_seq: int | None
    last_seq: int | None
    change_count: int
    attempts: int
    next_attempt_at: str | None
    last_attempt_at: str | None
    last_status: int | None = Field(description="HTTP status of the last attempt; null when there was no answer")
    last_error: str | None
    created_at: str
    delivered_at: str | None
    body: dict[str, Any] | None = Field(None, description="The body as sent (single delivery only)")


class DeliveryAnswer(BaseModel):
    delivery: DeliveryOut


class DeliveriesAnswer(BaseModel):
    deliveries: list[DeliveryOut]
    next: str | None = Field(description="Pass as before= for the next (older) page; null: no more")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _service(request: Request) -> WebhookService:
    return WebhookService.of(_runtime(request))


def _scope(who: Principal) -> Member | None:
    """Whose webhooks ``who`` reaches: its own, or every member's for an admin."""
    return None if who.member.role is Role.ADMIN else who.member


def _now(request: Request) -> int:
    return _runtime(request).clock.now_ms()


@router.post(
    "",
    status_code=201,
    response_model=WebhookAnswer,
    responses=_ERRORS,
    summary="Create a webhook (its secret is shown once)",
    openapi_extra=openapi_body(NewWebhook),
)
async def create_webhook(request: Request, who: Principal = require(Role.READER)) -> Response:
    """Every change after ``from_seq`` (default: now) that passes the filter is POSTed to ``url``, signed with the
    secret in this answer; keep it, it is not shown again (rotate it if it is lost)."""
    body = await json_body(request, NewWebhook)
    service = _service(request)
    hook, secret = await run_in_threadpool(
        lambda: service.create(
            who.member,
            body.url,
            categories=body.categories,
            countries=body.countries,
            prefixes=body.prefixes,
            from_seq=body.from_seq,
            description=body.description,
        )
    )
    return json_response({"webhook": webhook_view(hook, _now(request)), "secret": secret}, 201)


@router.get("", response_model=WebhooksAnswer, responses=_ERRORS, summary="Your webhooks (an admin: everyone's)")
def list_webhooks(request: Request, who: Principal = require(Role.READER)) -> Response:
    now = _now(request)
    return json_response({"webhooks": [webhook_view(h, now) for h in _service(request).all(_scope(who))]})


@router.get("/{webhook_id}", response_model=WebhookAnswer, responses=_ERRORS, summary="One webhook")
def get_webhook(webhook_id: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    hook = _service(request).get(webhook_id, _scope(who))
    return json_response({"webhook": webhook_view(hook, _now(request))})


@router.patch(
    "/{webhook_id}",
    response_model=WebhookAnswer,
    responses=_ERRORS,
    summary="Change a webhook: url, filter, description, enabled, from_seq",
    openapi_extra=openapi_body(WebhookPatch),
)
async def patch_webhook(webhook_id: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    """Only the fields sent change. A new filter applies to changes not yet queued; ``from_seq`` moves the cursor
    (to replay changes, or skip ahead); ``"enabled": true`` resets the failure run and resumes from the cursor."""
    body = await json_body(request, WebhookPatch)
    given = {name: getattr(body, name) for name in body.model_fields_set}
    service = _service(request)
    hook = await run_in_threadpool(
        lambda: service.update(webhook_id, _scope(who), by=who.member.name, **given),
    )
    return json_response({"webhook": webhook_view(hook, _now(request))})


@router.delete("/{webhook_id}", response_model=WebhookAnswer, responses=_ERRORS, summary="Remove a webhook")
def delete_webhook(webhook_id: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    """The webhook and its queued deliveries and log go at once."""
    hook = _service(request).delete(webhook_id, _scope(who))
    return json_response({"webhook": webhook_view(hook, _now(request))})


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookAnswer,
    responses=_ERRORS,
    summary="A new signing secret (shown once); the old one also signs for grace_s",
)
def rotate_secret(
    webhook_id: str,
    request: Request,
    grace_s: Annotated[
        int | None,
        Query(ge=0, le=30 * 86_400, description="Seconds the old secret also signs (default: the server's; 0: none)"),
    ] = None,
    who: Principal = require(Role.READER),
) -> Response:
    hook, secret = _service(request).rotate_secret(webhook_id, who.member, grace_s)
    return json_response({"webhook": webhook_view(hook, _now(request)), "secret": secret})


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveriesAnswer,
    responses=_ERRORS,
    summary="The delivery log, newest first",
)
def list_deliveries(
    webhook_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG_PAGE)] = 100,
    before: Annotated[str | None, Query(description="The next of the previous page")] = None,
    status: Annotated[str | None, Query(description="Only pending, delivered or failed deliveries")] = None,
    who: Principal = require(Role.READER),
) -> Response:
    page = _service(request).deliveries(webhook_id, _scope(who), limit=limit, before=before, status=status)
    return json_response({"deliveries": [delivery_view(d) for d in page.deliveries], "next": page.next})


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryAnswer,
    responses=_ERRORS,
    summary="One delivery, with the body as sent",
)
def get_delivery(
    webhook_id: str, delivery_id: str, request: Request, who: Principal = require(Role.READER)
) -> Response:
    return json_response({"delivery": delivery_view(_service(request).delivery(webhook_id, _scope(who), delivery_id))})


@router.post(
    "/{webhook_id}/test",
    status_code=202,
    response_model=DeliveryAnswer,
    responses=_ERRORS,
    summary="Queue a ping delivery (no changes) to try the endpoint",
)
def test_webhook(webhook_id: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    """The ping goes after the deliveries already queued, signed like every delivery; follow it in the log."""
    delivery = _service(request).ping(webhook_id, _scope(who))
    return json_response({"delivery": delivery_view(delivery)}, 202)
