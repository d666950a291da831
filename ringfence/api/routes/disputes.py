"""/v1/disputes: any member disputes a listing, sees its own disputes and withdraws them; admins see all and decide.

A dispute of another member is answered as "not found", not "forbidden", so its existence tells nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.api.auth import require
from ringfence.api.body import json_body, openapi_body
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer
from ringfence.api.schemas_disputes import DisputeAnswer, DisputeBody, DisputesAnswer, ResolveBody
from ringfence.disputes.models import Dispute, parse_status
from ringfence.disputes.views import dispute_view, disputes_page
from ringfence.numbers import normalise
from ringfence.numbers.regions import check_region
from ringfence.registry.assess import LookupOptions
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.registry.views import lookup_answer
from ringfence.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1/disputes", tags=["disputes"])
_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 409, 422)}
#: A disputed listing weighs less and may have decayed below its threshold: the answer still shows it.
_SHOWN = LookupOptions(include_decayed=True)
Region = Annotated[str | None, Query(description="Region for a national-format number, e.g. GB")]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _is_admin(who: Principal) -> bool:
    return who.member.role is Role.ADMIN


def _answer(runtime: Runtime, dispute: Dispute, who: Principal, status: int = 200) -> Response:
    body: dict[str, Any] = {
        "dispute": dispute_view(dispute, include_member=_is_admin(who)),
        "listing": lookup_answer(dispute.number, runtime.registry.assess(dispute.number, _SHOWN), _SHOWN),
    }
    return json_response(body, status)


@router.post(
    "",
    status_code=201,
    response_model=DisputeAnswer,
    responses=_ERRORS,
    summary="Dispute a listing",
    description=(
        "Any member may dispute a listed number: `legitimate_customer`, `own_number` or `reassigned`. The listing is "
        "flagged disputed (it weighs less) until an admin decides. One open dispute per member and number."
    ),
    openapi_extra=openapi_body(DisputeBody),
)
async def open_dispute(request: Request, who: Principal = require(Role.READER)) -> Response:
    runtime = _runtime(request)
    body = await json_body(request, DisputeBody)
    return await run_in_threadpool(_open, runtime, who, body)


def _open(runtime: Runtime, who: Principal, body: DisputeBody) -> Response:
    number = normalise(body.number, check_region(body.region) or runtime.settings.default_region)
    dispute = runtime.disputes.open(who.member, number, body.reason, body.note)
    return _answer(runtime, dispute, who, 201)


@router.get("", response_model=DisputesAnswer, responses=_ERRORS, summary="Your disputes (admins: everyone's)")
def list_disputes(
    request: Request,
    status: Annotated[str | None, Query(description="open, upheld, rejected or withdrawn")] = None,
    number: Annotated[str | None, Query(description="Only disputes of this number")] = None,
    region: Region = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(description="The `next` of the previous page")] = None,
    who: Principal = require(Role.READER),
) -> Response:
    runtime = _runtime(request)
    wanted = parse_status(status) if status else None
    value = normalise(number, check_region(region) or runtime.settings.default_region) if number else None
    admin = _is_admin(who)
    found = runtime.disputes.list(
        member=None if admin else who.member, status=wanted, number=value, limit=limit, before=before
    )
    return json_response(disputes_page(found, limit, include_member=admin))


@router.get("/{dispute_id}", response_model=DisputeAnswer, responses=_ERRORS, summary="One dispute")
def get_dispute(dispute_id: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    runtime = _runtime(request)
    dispute = runtime.disputes.get(dispute_id, member=None if _is_admin(who) else who.member)
    return _answer(runtime, dispute, who)


@router.post("/{dispute_id}/withdraw", response_model=DisputeAnswer, responses=_ERRORS, summary="Withdraw your dispute")
def withdraw_dispute(dispute_id: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    runtime = _runtime(request)
    return _answer(runtime, runtime.disputes.withdraw(who.member, dispute_id), who)


@router.post(
    "/{dispute_id}/resolve",
    response_model=DisputeAnswer,
    responses=_ERRORS,
    summary="Uphold or reject a dispute (admin)",
    description=(
        "`upheld`: the number's standing reports are retired (kept as history), the listing goes, its reporters' "
        "reputation drops, and every open dispute of the number is upheld with it. `rejected`: the listing stays."
    ),
    openapi_extra=openapi_body(ResolveBody),
)
async def resolve_dispute(dispute_id: str, request: Request, who: Principal = require(Role.ADMIN)) -> Response:
    runtime = _runtime(request)
    body = await json_body(request, ResolveBody)
    dispute = await run_in_threadpool(runtime.disputes.resolve, who.member, dispute_id, body.outcome, body.note)
    return _answer(runtime, dispute, who)
