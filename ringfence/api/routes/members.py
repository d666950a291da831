"""/v1/members and /v1/keys: organisations, their roles and API keys (admins), and /v1/me."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ringfence.api.auth import require
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer, KeyAnswer, MemberAnswer, NewMember
from ringfence.errors import Forbidden
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.registry.views import key_view, member_view
from ringfence.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["members"])
_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorAnswer} for code in (401, 403, 404, 409, 422)}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/me", responses=_ERRORS, summary="Who this key belongs to")
def me(request: Request, who: Principal = require(Role.READER)) -> Response:
    return json_response({"member": member_view(who.member), "key_id": who.key_id})


@router.get("/members", responses=_ERRORS, summary="All members (admin)")
def list_members(request: Request, _who: Principal = require(Role.ADMIN)) -> Response:
    return json_response({"members": [member_view(m) for m in _runtime(request).members.all()]})


@router.post(
    "/members", status_code=201, response_model=MemberAnswer, responses=_ERRORS, summary="Add a member (admin)"
)
def add_member(body: NewMember, request: Request, _who: Principal = require(Role.ADMIN)) -> Response:
    member, key = _runtime(request).members.add(body.name, body.role)
    return json_response({"member": member_view(member), "key": key}, 201)


@router.post(
    "/members/{name}/keys", status_code=201, response_model=KeyAnswer, responses=_ERRORS, summary="New key (admin)"
)
def create_key(name: str, request: Request, _who: Principal = require(Role.ADMIN)) -> Response:
    members = _runtime(request).members
    member = members.get(name)
    secret = members.create_key(member)
    key = next(k for k in members.keys(member) if secret.split("_")[1] == k.id)
    return json_response({"key": key_view(key), "secret": secret}, 201)


@router.get("/keys", responses=_ERRORS, summary="API keys: an admin sees all, a member its own")
def list_keys(request: Request, who: Principal = require(Role.READER)) -> Response:
    members = _runtime(request).members
    keys = members.keys(None if who.member.role is Role.ADMIN else who.member)
    return json_response({"keys": [key_view(k) for k in keys]})


@router.delete("/keys/{key_id}", response_model=KeyAnswer, responses=_ERRORS, summary="Revoke a key")
def revoke_key(key_id: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    members = _runtime(request).members
    if who.member.role is not Role.ADMIN and key_id not in {k.id for k in members.keys(who.member)}:
        raise Forbidden("a member can revoke only its own keys", code="forbidden_key")
    return json_response({"key": key_view(members.revoke(key_id))})
