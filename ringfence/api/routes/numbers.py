"""/v1/numbers: is a number listed? (single and batch), and an admin's removal of a listing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ringfence.answers import answer_one
from ringfence.api.auth import require
from ringfence.api.batch import answer_lookup, parse_lookup
from ringfence.api.body import json_body, openapi_body
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer, LookupAnswer, LookupManyAnswer, LookupRequest, ReportsAnswer
from ringfence.numbers import normalise
from ringfence.numbers.regions import check_region
from ringfence.registry.assess import LookupOptions
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.registry.views import reports_page
from ringfence.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1/numbers", tags=["numbers"])
_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 413, 422)}
Region = Annotated[str | None, Query(description="Region for national-format numbers, e.g. GB")]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/{number}", response_model=LookupAnswer, responses=_ERRORS, summary="Look up one number")
async def get_number(
    number: str,
    request: Request,
    region: Region = None,
    min_score: Annotated[float | None, Query(ge=0, le=100, description="Listed only at or above this score")] = None,
    include_decayed: Annotated[bool, Query(description="Show a decayed listing too")] = False,
    lifetime_days: Annotated[float | None, Query(gt=0, le=36500, description="Decay model override")] = None,
    speed: Annotated[float | None, Query(gt=0, description="Decay model override (with lifetime_days)")] = None,
    threshold: Annotated[float | None, Query(ge=0, le=100, description="Decay model override")] = None,
    explain: Annotated[bool, Query(description="Explain the score")] = False,
    who: Principal = require(Role.READER),
) -> Response:
    runtime = _runtime(request)
    value = normalise(number, check_region(region) or runtime.settings.default_region)
    options = LookupOptions.parse(
        min_score=min_score,
        include_decayed=include_decayed,
        lifetime_days=lifetime_days,
        speed=speed,
        threshold=threshold,
        explain=explain,
    )
    return json_response(answer_one(runtime, value, who.member.id, options))


@router.post(
    "/lookup",
    response_model=LookupManyAnswer,
    responses=_ERRORS,
    summary="Look up many numbers",
    openapi_extra=openapi_body(LookupRequest),
)
async def lookup_many(request: Request, who: Principal = require(Role.READER)) -> Response:
    body = parse_lookup(await request.body()) or await json_body(request, LookupRequest)
    return Response(answer_lookup(_runtime(request), body, who.member.id), media_type="application/json")


@router.delete("/{number}", responses=_ERRORS, summary="Remove a listing (admin)")
def remove_listing(
    number: str, request: Request, region: Region = None, who: Principal = require(Role.ADMIN)
) -> Response:
    runtime = _runtime(request)
    value = normalise(number, check_region(region) or runtime.settings.default_region)
    removed = runtime.registry.remove_listing(who.member, value)
    return json_response({"number": f"+{value}", "removed_reports": removed})


@router.get("/{number}/reports", response_model=ReportsAnswer, responses=_ERRORS, summary="Reports on a number (admin)")
def number_reports(
    number: str,
    request: Request,
    region: Region = None,
    include_withdrawn: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(description="The `next` of the previous page")] = None,
    _who: Principal = require(Role.ADMIN),
) -> Response:
    runtime = _runtime(request)
    value = normalise(number, check_region(region) or runtime.settings.default_region)
    found = runtime.registry.reports(number=value, include_withdrawn=include_withdrawn, limit=limit, before=before)
    return json_response(reports_page(found, limit, include_member=True))
