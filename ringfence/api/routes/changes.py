"""/v1/changes: the change feed, paged, as Server-Sent Events and over a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from starlette.responses import Response, StreamingResponse

from ringfence.api.auth import principal_for, require
from ringfence.api.render import json_response
from ringfence.api.schemas import ChangesPage, ErrorAnswer, FeedHead
from ringfence.errors import InvalidInput, RingfenceError
from ringfence.feed.filters import ChangeFilter
from ringfence.feed.hub import SlowSubscriber
from ringfence.feed.models import Change
from ringfence.feed.stream import check_since, follow
from ringfence.feed.views import change_view
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1/changes", tags=["changes"])

_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorAnswer} for code in (401, 403, 410, 422)}
_MAX_PAGE = 10_000

Categories = Annotated[
    list[str] | None, Query(alias="category", description="Only these categories (repeat or comma-separate)")
]
Countries = Annotated[
    list[str] | None, Query(alias="country", description="Only numbers of these regions (ISO 3166, e.g. GB)")
]
Prefixes = Annotated[list[str] | None, Query(alias="prefix", description="Only numbers starting so, e.g. +4477")]


def _runtime(request: Request | WebSocket) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("", response_model=ChangesPage, responses=_ERRORS, summary="Changes after a seq, oldest first")
async def changes_page(
    request: Request,
    since: Annotated[int, Query(ge=0, description="The last seq already seen (0: from the start)")] = 0,
    limit: Annotated[int, Query(ge=1, le=_MAX_PAGE)] = 1000,
    category: Categories = None,
    country: Countries = None,
    prefix: Prefixes = None,
    _who: Principal = require(Role.READER),
) -> Response:
    """A page of the feed. ``next`` is where the next page starts (pass it as ``since``): with a filter it may lie
    beyond the last change shown, since the scan skips what the filter leaves out. ``410 since_expired`` says that
    ``since`` is older than retention."""
    feed = _runtime(request).feed
    where = ChangeFilter.parse(category, country, prefix)

    def read() -> dict[str, Any]:
        check_since(feed, since)
        found, reached = feed.log.read_page(since, limit, where)
        return {
            "changes": [change_view(c) for c in found],
            "next": reached,
            "head": feed.log.head(),
        }

    return json_response(await asyncio.to_thread(read))


@router.get("/head", response_model=FeedHead, responses=_ERRORS, summary="Where the feed stands")
async def feed_head(request: Request, _who: Principal = require(Role.READER)) -> Response:
    """``head``: the newest seq; ``floor``: the newest seq retention deleted (start after it, or later);
    ``applied``: the newest seq this node's index reflects."""
    feed = _runtime(request).feed
    head, floor = await asyncio.gather(asyncio.to_thread(feed.log.head), asyncio.to_thread(feed.log.floor))
    return json_response({"head": head, "floor": floor, "applied": feed.applied})


def _sse(changes: list[Change]) -> bytes:
    return b"".join(b"id: %d\nevent: change\ndata: %s\n\n" % (c.seq, orjson.dumps(change_view(c))) for c in changes)


@router.get(
    "/stream",
    responses={**_ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "The change stream"}},
    summary="The change stream (Server-Sent Events)",
)
async def changes_stream(
    request: Request,
    since: Annotated[int | None, Query(ge=0, description="Start after this seq (default: now)")] = None,
    last_event_id: Annotated[str | None, Header(description="Set by SSE clients when they reconnect")] = None,
    category: Categories = None,
    country: Countries = None,
    prefix: Prefixes = None,
    _who: Principal = require(Role.READER),
) -> StreamingResponse:
    """Each change is an event ``change`` whose ``id`` is its seq; a client that reconnects with ``Last-Event-ID``
    gets every change after it, none twice. A start older than retention is refused (``410 since_expired``) before
    the stream opens. A client that reads too slowly gets an ``error`` event (``slow_consumer``, with the seq to
    resume after) and the stream ends."""
    runtime = _runtime(request)
    feed = runtime.feed
    where = ChangeFilter.parse(category, country, prefix)
    start = _start(last_event_id, since, feed.applied)
    await asyncio.to_thread(check_since, feed, start)

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n: ringfence change stream after seq %d\n\n" % start
        try:
            async for changes in follow(feed, start, where, runtime.settings.stream_keepalive_s):
                yield _sse(changes) if changes else b": keepalive\n\n"
        except SlowSubscriber as exc:
            body = {"code": "slow_consumer", "message": str(exc), "resume_after": exc.last_seq}
            yield b"event: error\ndata: %s\n\n" % orjson.dumps(body)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _start(last_event_id: str | None, since: int | None, now: int) -> int:
    if last_event_id is not None and last_event_id.strip():
        raw = last_event_id.strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise InvalidInput(
                f"Last-Event-ID {raw!r} is not a change seq", code="invalid_event_id", details={"input": raw}
            )
        return int(raw)
    return now if since is None else since


# --- WebSocket ---------------------------------------------------------------------------------------------------
#: Close codes: 4401 no or bad key, 4403 role, 4410 since_expired, 4422 bad subscribe message, 4408 slow consumer.
_CLOSE = {401: 4401, 403: 4403, 410: 4410, 422: 4422}
_SUBSCRIBE_TIMEOUT_S = 10


@router.websocket("/ws")
async def changes_ws(ws: WebSocket) -> None:
    """Send ``{"type": "subscribe", "since"?, "categories"?, "countries"?, "prefixes"?, "key"?}`` first (the key
    may come in the Authorization header instead); then ``change`` messages follow. See docs/changes.md."""
    runtime = _runtime(ws)
    feed = runtime.feed
    await ws.accept()
    try:
        try:
            raw = await asyncio.wait_for(ws.receive_text(), _SUBSCRIBE_TIMEOUT_S)
        except TimeoutError:
            raise InvalidInput(
                f"no subscribe message within {_SUBSCRIBE_TIMEOUT_S} s", code="subscribe_timeout"
            ) from None
        message = _subscribe_message(raw)
        header = ws.headers.get("authorization")
        key = message.get("key")
        principal = await principal_for(runtime.members, f"Bearer {key}" if isinstance(key, str) and key else header)
        principal.require(Role.READER)
        where = ChangeFilter.parse(message.get("categories"), message.get("countries"), message.get("prefixes"))
        since = message.get("since")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
            raise InvalidInput(f"since {since!r} is not a change seq", code="invalid_since", details={"input": since})
        start = feed.applied if since is None else since
        await asyncio.to_thread(check_since, feed, start)
    except RingfenceError as err:
        await _refuse(ws, err)
        return
    except WebSocketDisconnect:
        return
    await ws.send_bytes(
        orjson.dumps({"type": "subscribed", "since": start, "head": feed.applied, "filter": where.to_dict()})
    )
    reader = asyncio.create_task(_read_until_closed(ws))
    try:
        async for changes in follow(feed, start, where, runtime.settings.stream_keepalive_s):
            if reader.done():
                return
            if not changes:
                await ws.send_bytes(orjson.dumps({"type": "heartbeat", "head": feed.applied}))
                continue
            for change in changes:
                await ws.send_bytes(orjson.dumps({"type": "change", **change_view(change)}))
    except SlowSubscriber as exc:
        body = {"type": "error", "code": "slow_consumer", "message": str(exc), "resume_after": exc.last_seq}
        with contextlib.suppress(Exception):
            await ws.send_bytes(orjson.dumps(body))
            await ws.close(4408, "slow consumer")
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        reader.cancel()


def _subscribe_message(raw: str) -> dict[str, Any]:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the subscribe message is not JSON: {exc}", code="invalid_json") from None
    if not isinstance(message, dict) or message.get("type") != "subscribe":
        raise InvalidInput('the first message must be {"type": "subscribe", ...}', code="invalid_subscribe", details={})
    unknown = sorted(set(message) - {"type", "since", "categories", "countries", "prefixes", "key"})
    if unknown:
        raise InvalidInput(
            f"unknown field(s) in the subscribe message: {', '.join(unknown)}",
            code="invalid_subscribe",
            details={"fields": unknown},
        )
    for name in ("categories", "countries", "prefixes"):
        value = message.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise InvalidInput(f"{name} must be a list of strings", code="invalid_subscribe", details={"field": name})
    return message


async def _refuse(ws: WebSocket, err: RingfenceError) -> None:
    with contextlib.suppress(Exception):
        await ws.send_bytes(orjson.dumps({"type": "error", **err.to_dict()}))
        await ws.close(_CLOSE.get(err.http_status, 4400), err.code[:120])


async def _read_until_closed(ws: WebSocket) -> None:
    """Answer pings; return when the client goes (the sender then stops)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            text = await ws.receive_text()
            if text.strip() in ('{"type":"ping"}', '{"type": "ping"}', "ping"):
                await ws.send_bytes(orjson.dumps({"type": "pong"}))
