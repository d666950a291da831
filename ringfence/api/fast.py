"""The hot route, answered below the framework.

``GET /v1/numbers/{number}`` is what members call per incoming call, tens of thousands of times a second. Here it is
answered straight from the ASGI scope: the same key check, the same normalisation, the same answer and the same error
bodies as the FastAPI route (which documents it and serves it when the fast path is off), without routing,
dependency injection and response-model machinery. tests/api run every lookup test both ways.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from ringfence.api.auth import principal_for
from ringfence.api.errors import error_body
from ringfence.api.metrics import Metrics
from ringfence.errors import RingfenceError
from ringfence.numbers import normalise
from ringfence.numbers.regions import check_region
from ringfence.registry.models import Role
from ringfence.registry.views import lookup_answer
from ringfence.runtime import Runtime

__all__ = ["FastLookups"]

_PREFIX = "/v1/numbers/"
_ROUTE = "/v1/numbers/{number}"
_JSON = [(b"content-type", b"application/json")]
_CHALLENGE = [*_JSON, (b"www-authenticate", b"Bearer")]


class FastLookups:
    def __init__(self, app: ASGIApp, runtime: Runtime, metrics: Metrics) -> None:
        self.app = app
        self.runtime = runtime
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(_PREFIX) and "/" not in path[len(_PREFIX) :] and len(path) > len(_PREFIX):
                await self._lookup(scope, path[len(_PREFIX) :], send)
                return
        await self.app(scope, receive, send)

    async def _lookup(self, scope: Scope, raw: str, send: Send) -> None:
        started = time.perf_counter()
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            principal = await principal_for(self.runtime.members, authorization)
            principal.require(Role.READER)
            region = self.runtime.settings.default_region
            if scope["query_string"]:
                asked = parse_qs(scope["query_string"].decode("latin-1")).get("region", [None])[-1]
                region = check_region(asked) or region
            registry = self.runtime.registry
            number = normalise(raw, region)
            listing = registry.lookup(number)
            self.metrics.looked_up(listing is not None)
            status, body, headers = 200, orjson.dumps(lookup_answer(number, listing)), _JSON
        except RingfenceError as exc:
            status = exc.http_status
            body = error_body(exc.code, exc.message, exc.details)
            headers = _CHALLENGE if status == 401 else _JSON
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.metrics.observe(_ROUTE, "GET", status, time.perf_counter() - started)
