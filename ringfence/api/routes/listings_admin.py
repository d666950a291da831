"""Admins over listings: pin one (decay cannot undo it), unpin it, expire it outright, run the expiry sweep now, and
read the audit log of every such change.

``GET /v1/numbers/{number}`` is answered below the framework (``api.fast``), but only for GET on the bare number:
these are POST and DELETE on sub-paths, and ``/v1/audit`` and ``/v1/sweep`` lie outside ``/v1/numbers``, so they
all go through FastAPI with its key check and error mapping.

A note (why, for the audit log) travels as an optional JSON body ``{"note": "..."}`` on the two POSTs; unpinning
takes none. Pin and unpin answer the listing as a lookup shows it, decayed or not (an unpinned listing may well be
decayed), so the admin sees what members now see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.api.auth import require
from ringfence.api.body import json_body
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer, LookupAnswer
from ringfence.api.schemas_admin import AuditPage, ExpireAnswer, NoteBody, SweepAnswer
from ringfence.clock import to_ms
from ringfence.numbers import format_e164, normalise
from ringfence.numbers.regions import check_region
from ringfence.registry.assess import LookupOptions
from ringfence.registry.audit import AuditLog
from ringfence.registry.audit_views import actor_names, audit_page
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.registry.sweep import sweep_once
from ringfence.registry.views import lookup_answer
from ringfence.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["admin"])
_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 413, 422)}
#: Pinning may revive a decayed listing and unpinning may leave one decayed: the answer shows it either way.
_SHOWN = LookupOptions(include_decayed=True)
_NOTE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": NoteBody.model_json_schema()}},
    }
}
Region = Annotated[str | None, Query(description="Region for a national-format number, e.g. GB")]
_MAX_ID = 2**63 - 1  # ids are BIGINTs: a larger `before` is a bad parameter, not a database error


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _number(runtime: Runtime, raw: str, region: str | None) -> int:
    return normalise(raw, check_region(region) or runtime.settings.default_region)


async def _note(request: Request) -> str | None:
    """The note of an optional ``{"note": ...}`` body; no body at all is no note."""
    if not (await request.body()).strip():
        return None
    return (await json_body(request, NoteBody)).note or None


def _listing(runtime: Runtime, number: int) -> Response:
    return json_response(lookup_answer(number, runtime.registry.assess(number, _SHOWN), _SHOWN))


@router.post(
    "/numbers/{number}/pin",
    response_model=LookupAnswer,
    responses=_ERRORS,
    summary="Pin a listing (admin)",
    description=(
        "Decay cannot undo a pinned listing: it keeps its full score and the expiry sweep leaves it. Optional body "
        '`{"note": "..."}`, kept in the audit log. 404 `not_listed` when the number is not in the registry.'
    ),
    openapi_extra=_NOTE_BODY,
)
async def pin(number: str, request: Request, region: Region = None, who: Principal = require(Role.ADMIN)) -> Response:
    runtime = _runtime(request)
    value = _number(runtime, number, region)
    note = await _note(request)
    await run_in_threadpool(runtime.registry.pin, who.member, value, True, note)
    return _listing(runtime, value)


@router.delete(
    "/numbers/{number}/pin",
    response_model=LookupAnswer,
    responses=_ERRORS,
    summary="Unpin a listing (admin)",
    description="The listing decays again from its last report; it may be decayed at once (`listed: false`).",
)
def unpin(number: str, request: Request, region: Region = None, who: Principal = require(Role.ADMIN)) -> Response:
    runtime = _runtime(request)
    value = _number(runtime, number, region)
    runtime.registry.pin(who.member, value, False)
    return _listing(runtime, value)


@router.post(
    "/numbers/{number}/expire",
    response_model=ExpireAnswer,
    responses=_ERRORS,
    summary="Expire a listing now (admin)",
    description=(
        "As decay would: its standing reports stop standing (reason `expired`, kept as history) and the listing "
        'leaves the registry, pinned or not. Optional body `{"note": "..."}`, kept in the audit log.'
    ),
    openapi_extra=_NOTE_BODY,
)
async def expire(
    number: str, request: Request, region: Region = None, who: Principal = require(Role.ADMIN)
) -> Response:
    runtime = _runtime(request)
    value = _number(runtime, number, region)
    note = await _note(request)
    retired = await run_in_threadpool(runtime.registry.expire, who.member, value, note)
    return json_response({"number": format_e164(value), "expired_reports": retired.reports, "listing": None})


@router.post(
    "/sweep",
    response_model=SweepAnswer,
    responses=_ERRORS,
    summary="Run the expiry sweep now (admin)",
    description="Retires every listing decayed below its threshold (pinned ones excepted), as the scheduled sweep.",
)
async def sweep(request: Request, _who: Principal = require(Role.ADMIN)) -> Response:
    expired = await run_in_threadpool(sweep_once, _runtime(request))
    return json_response({"expired": expired})


@router.get(
    "/audit",
    response_model=AuditPage,
    responses=_ERRORS,
    summary="The audit log (admin)",
    description=(
        "Every removal, expiry, pin, unpin and flag change: who (`actor`: a member's name, null for ringfence itself), "
        "when, why, and the listing before and after as stored then. Newest first; page on with `before=next`."
    ),
)
def audit(
    request: Request,
    number: Annotated[str | None, Query(description="Only entries of this number, any common format")] = None,
    region: Region = None,
    action: Annotated[str | None, Query(min_length=1, max_length=64, description="e.g. pinned, expired")] = None,
    since: Annotated[datetime | None, Query(description="Only entries at or after this time (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=_MAX_ID, description="The `next` of the previous page")] = None,
    _who: Principal = require(Role.ADMIN),
) -> Response:
    runtime = _runtime(request)
    value = None if number is None else _number(runtime, number, region)
    entries = AuditLog(runtime.engine).query(
        number=value,
        action=action,
        since_ms=None if since is None else to_ms(since),
        limit=limit,
        before=before,
    )
    return json_response(audit_page(entries, limit, actor_names(runtime.members)))
