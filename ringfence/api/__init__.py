"""The HTTP front door: versioned under /v1, thin over the registry services.

``create_app(runtime)`` builds the ASGI app: FastAPI routers (OpenAPI at /openapi.json, docs at /docs), errors mapped
once (see :mod:`ringfence.api.errors`), Prometheus metrics, body-size limits, and the fast path of the hot lookup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from ringfence import __version__
from ringfence.api.errors import install_error_handlers
from ringfence.api.fast import FastLookups
from ringfence.api.limits import BodyLimit
from ringfence.api.metrics import Metrics, MetricsMiddleware
from ringfence.api.routes import (
    alerts,
    allowlists,
    cdrs,
    changes,
    disputes,
    export,
    files,
    health,
    hotlists,
    listings_admin,
    members,
    numbers,
    reassigned,
    reports,
    webhooks,
)
from ringfence.daemons import start_daemons
from ringfence.runtime import Runtime

__all__ = ["create_app"]

_DESCRIPTION = """The consortium fraud-number registry.

Every request but `/health`, `/ready` and these docs carries `Authorization: Bearer <key>`. Errors are always
`{"error": {"code", "message", "details"}}` with a 4xx status; `code` is stable.
"""


def create_app(runtime: Runtime, *, fast_paths: bool = True, daemons: bool = True) -> ASGIApp:
    """The ASGI app over ``runtime``; its lifespan starts the daemons the settings enable (``daemons=False``: none)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        running = start_daemons(runtime) if daemons else None
        try:
            yield
        finally:
            if running is not None:
                await running.stop()

    api = FastAPI(
        lifespan=lifespan,
        title="ringfence",
        version=__version__,
        description=_DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    metrics = Metrics(runtime)
    api.state.runtime = runtime
    api.state.metrics = metrics
    install_error_handlers(api)
    for module in (
        health,
        numbers,
        reports,
        members,
        export,
        changes,
        files,
        webhooks,
        disputes,
        reassigned,
        allowlists,
        listings_admin,
        hotlists,
        alerts,
        cdrs,
    ):
        api.include_router(module.router)
    app: ASGIApp = MetricsMiddleware(api, metrics)
    app = BodyLimit(
        app,
        runtime.settings.max_body_bytes,
        exempt=("/v1/reports/bulk", reassigned.PATH, hotlists.UPLOAD_PATH, cdrs.PATH),
    )
    if fast_paths:
        app = FastLookups(app, runtime, metrics)
    return app
