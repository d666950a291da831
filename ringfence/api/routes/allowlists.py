"""/v1/never-list and /v1/lists: numbers that must never be listed, and members' private allow and deny lists.

Every member may read the never-list; a member's own numbers on it name the member to admins alone. Admins add and
remove entries; reporters publish (and take back) their own numbers. A member's private lists are its own: nobody
else sees or changes them, admins included. See docs/architecture.md (ringfence.allowlists).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.allowlists import AllowlistService
from ringfence.allowlists.views import member_entry_view, never_entry_view, placement_view
from ringfence.api.auth import require
from ringfence.api.body import json_body, openapi_body
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer
from ringfence.api.schemas_allowlists import (
    MemberEntryAnswer,
    MemberEntryBody,
    MemberListsAnswer,
    NeverEntryAnswer,
    NeverEntryBody,
    NeverListAnswer,
    OwnNumberBody,
    PlacementAnswer,
)
from ringfence.numbers.regions import check_region
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["allowlists"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 409, 422)}
Region = Annotated[str | None, Query(description="Region for a national-format number, e.g. GB")]
ListName = Annotated[str | None, Query(alias="list", description="Only the allow or only the deny list")]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _service(request: Request) -> AllowlistService:
    return _runtime(request).allowlists


def _region(request: Request, given: str | None) -> str | None:
    return check_region(given) or _runtime(request).settings.default_region


# --- the never-list ------------------------------------------------------------------------------------------
@router.get("/never-list", response_model=NeverListAnswer, responses=_ERRORS, summary="Numbers that are never listed")
def list_never(request: Request, who: Principal = require(Role.READER)) -> Response:
    admin = who.member.role is Role.ADMIN
    entries = [never_entry_view(e, include_member=admin) for e in _service(request).entries()]
    return json_response({"entries": entries})


@router.post(
    "/never-list",
    status_code=201,
    response_model=PlacementAnswer,
    responses=_ERRORS,
    summary="Put a number or prefix on the never-list (admin)",
    openapi_extra=openapi_body(NeverEntryBody),
)
async def add_never(request: Request, who: Principal = require(Role.ADMIN)) -> Response:
    """Listings the entry covers are taken off the registry (``retired``); reports against it are refused."""
    body = await json_body(request, NeverEntryBody)
    region = _region(request, body.region)
    service = _service(request)
    placed = await run_in_threadpool(lambda: service.add(who.member, body.pattern, body.kind, body.note, region=region))
    return json_response(placement_view(placed, include_member=True), 201)


@router.get(
    "/never-list/own",
    response_model=NeverListAnswer,
    responses=_ERRORS,
    summary="The numbers you published as your own",
)
def list_own(request: Request, who: Principal = require(Role.REPORTER)) -> Response:
    entries = [never_entry_view(e) for e in _service(request).own_entries(who.member)]
    return json_response({"entries": entries})


@router.post(
    "/never-list/own",
    status_code=201,
    response_model=PlacementAnswer,
    responses=_ERRORS,
    summary="Publish one of your own numbers: it is never listed",
    openapi_extra=openapi_body(OwnNumberBody),
)
async def publish_own(request: Request, who: Principal = require(Role.REPORTER)) -> Response:
    """Publishing a number again answers 200 with ``created`` false. Admins see which member published it; other
    members see only that it is a member's own number."""
    body = await json_body(request, OwnNumberBody)
    region = _region(request, body.region)
    service = _service(request)
    placed = await run_in_threadpool(lambda: service.publish_own(who.member, body.number, body.note, region=region))
    return json_response(placement_view(placed), 201 if placed.created else 200)


@router.delete(
    "/never-list/own/{number}",
    response_model=NeverEntryAnswer,
    responses=_ERRORS,
    summary="Take one of your own numbers off the never-list",
)
def unpublish_own(
    number: str, request: Request, region: Region = None, who: Principal = require(Role.REPORTER)
) -> Response:
    entry = _service(request).unpublish_own(who.member, number, region=_region(request, region))
    return json_response({"entry": never_entry_view(entry)})


@router.delete(
    "/never-list/{entry_id}",
    response_model=NeverEntryAnswer,
    responses=_ERRORS,
    summary="Take an entry off the never-list (admin)",
)
def remove_never(entry_id: int, request: Request, who: Principal = require(Role.ADMIN)) -> Response:
    entry = _service(request).remove(who.member, entry_id)
    return json_response({"entry": never_entry_view(entry, include_member=True)})


# --- a member's private lists --------------------------------------------------------------------------------
@router.get("/lists", response_model=MemberListsAnswer, responses=_ERRORS, summary="Your allow and deny lists")
def list_entries(request: Request, kind: ListName = None, who: Principal = require(Role.READER)) -> Response:
    entries = _service(request).member_entries(who.member, kind)
    return json_response({"entries": [member_entry_view(e) for e in entries]})


@router.get("/lists/{number}", response_model=MemberEntryAnswer, responses=_ERRORS, summary="One number of your lists")
def get_entry(number: str, request: Request, region: Region = None, who: Principal = require(Role.READER)) -> Response:
    entry = _service(request).member_entry(who.member, number, region=_region(request, region))
    return json_response({"entry": member_entry_view(entry)})


@router.put(
    "/lists/{number}",
    response_model=MemberEntryAnswer,
    responses=_ERRORS,
    summary="Put a number on your allow or deny list",
    openapi_extra=openapi_body(MemberEntryBody),
)
async def put_entry(
    number: str, request: Request, region: Region = None, who: Principal = require(Role.READER)
) -> Response:
    """Your lists shape your own answers only: nobody else sees them. Putting a number on one list takes it off the
    other; its note is replaced."""
    body = await json_body(request, MemberEntryBody)
    where = _region(request, region)
    service = _service(request)
    entry = await run_in_threadpool(
        lambda: service.set_member_entry(who.member, number, body.list, body.note, region=where)
    )
    return json_response({"entry": member_entry_view(entry)})


@router.delete(
    "/lists/{number}", response_model=MemberEntryAnswer, responses=_ERRORS, summary="Take a number off your lists"
)
def delete_entry(
    number: str, request: Request, region: Region = None, who: Principal = require(Role.READER)
) -> Response:
    entry = _service(request).remove_member_entry(who.member, number, region=_region(request, region))
    return json_response({"entry": member_entry_view(entry)})
