"""The hot routes, answered below the framework.

``GET /v1/numbers/{number}`` is what members call per incoming call, tens of thousands of times a second, and
``POST /v1/numbers/lookup`` what they call to check up to 10,000 numbers at once. Here they are answered straight
from the ASGI scope: the same key check, the same normalisation, the same answer and the same error bodies as the
FastAPI routes (which document them and serve them when the fast path is off), without routing, dependency
injection and response-model machinery. A batch body that is not the plain well-formed case (bad JSON, wrong types,
over the body limit) is handed to the framework with its bytes replayed, so its error is the framework's own.
tests/api run every lookup test both ways.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringfence.answers import answer_one
from ringfence.api.auth import principal_for
from ringfence.api.batch import answer_lookup, parse_lookup
from ringfence.api.errors import error_body
from ringfence.api.metrics import Metrics
from ringfence.errors import RingfenceError
from ringfence.numbers import normalise
from ringfence.numbers.regions import check_region
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

__all__ = ["FastLookups"]

_PREFIX = "/v1/numbers/"
_ROUTE = "/v1/numbers/{number}"
_BATCH = "/v1/numbers/lookup"
_JSON = [(b"content-type", b"application/json")]
_CHALLENGE = [*_JSON, (b"www-authenticate", b"Bearer")]


class FastLookups:
    def __init__(self, app: ASGIApp, runtime: Runtime, metrics: Metrics) -> None:
        self.app = app
        self.runtime = runtime
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if scope["method"] == "GET":
                if path.startswith(_PREFIX) and "/" not in path[len(_PREFIX) :] and len(path) > len(_PREFIX):
                    await self._lookup(scope, path[len(_PREFIX) :], send)
                    return
            elif scope["method"] == "POST" and path == _BATCH:
                await self._batch(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _batch(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            principal = await principal_for(self.runtime.members, _authorization(scope))
            principal.require(Role.READER)
        except RingfenceError as exc:
            await self._respond(send, *_error(exc))
            self.metrics.observe(_BATCH, "POST", exc.http_status, time.perf_counter() - started)
            return
        limit = self.runtime.settings.max_body_bytes
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size <= limit:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        body = None if more else parse_lookup(raw)
        if body is None:  # not the plain case: the framework answers, from the same bytes
            await self.app(scope, _replay(raw, more, receive), send)
            return
        try:
            status, answer, headers = 200, answer_lookup(self.runtime, body, principal.member.id), _JSON
        except RingfenceError as exc:
            status, answer, headers = _error(exc)
        await self._respond(send, status, answer, headers)
        self.metrics.observe(_BATCH, "POST", status, time.perf_counter() - started)

    @staticmethod
    async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _lookup(self, scope: Scope, raw: str, send: Send) -> None:
        started = time.perf_counter()
        try:
            principal = await principal_for(self.runtime.members, _authorization(scope))
            principal.require(Role.READER)
            region = self.runtime.settings.default_region
            if scope["query_string"]:
                query = parse_qs(scope["query_string"].decode("latin-1"))
                if query.keys() - {"region"}:  # scoring options: the framework validates them
                    await self.app(scope, _no_body, send)
                    return
                region = check_region(query.get("region", [None])[-1]) or region
            number = normalise(raw, region)
            answer = answer_one(self.runtime, number, principal.member.id)
            self.metrics.looked_up(answer["listed"])
            status, body, headers = 200, orjson.dumps(answer), _JSON
        except RingfenceError as exc:
            status, body, headers = _error(exc)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.metrics.observe(_ROUTE, "GET", status, time.perf_counter() - started)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


def _error(exc: RingfenceError) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    status = exc.http_status
    return status, error_body(exc.code, exc.message, exc.details), _CHALLENGE if status == 401 else _JSON


def _replay(raw: bytes, more: bool, receive: Receive) -> Receive:
    """A receive that gives ``raw`` first (with ``more`` saying whether the rest is still to come) and then
    passes through."""
    pending = [{"type": "http.request", "body": raw, "more_body": more}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
