"""Who is asking: ``Authorization: Bearer <key>`` resolved to a member, for routes and the fast paths alike."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ringfence.errors import Unauthorized
from ringfence.registry.members import MemberService, Principal
from ringfence.registry.models import Role

__all__ = ["bearer_key", "principal_for", "require"]


def bearer_key(header: str | None) -> str:
    """The key of an Authorization header, or Unauthorized saying what is wrong with it."""
    if not header:
        raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'", code="missing_key")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("the Authorization header must read 'Bearer <key>'", code="invalid_authorization")
    return key.strip()


async def principal_for(members: MemberService, header: str | None) -> Principal:
    """Resolve a header; a key seen before answers from memory, a new one is verified off the event loop."""
    key = bearer_key(header)
    principal = members.cached(key)
    if principal is None:
        principal = await run_in_threadpool(members.authenticate, key)
    return principal


def require(role: Role) -> Any:
    """A FastAPI dependency: the caller's principal, refused unless its role allows ``role``."""

    async def dependency(request: Request) -> Principal:
        principal = await principal_for(request.app.state.runtime.members, request.headers.get("authorization"))
        principal.require(role)
        return principal

    return Depends(dependency)
