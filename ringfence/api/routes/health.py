"""Liveness and readiness (open), and Prometheus metrics (admin key)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import Response

from ringfence.api.auth import require
from ringfence.api.render import json_response
from ringfence.feed.bus import node_status
from ringfence.registry.members import Principal
from ringfence.registry.models import Role

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", summary="The process is up")
async def health() -> Response:
    return json_response({"status": "ok"})


@router.get("/ready", summary="The store answers and the index is loaded; the node and its change bus")
def ready(request: Request) -> Response:
    runtime = request.app.state.runtime
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the store being down is the answer here, not an error of ours
        return json_response({"status": "unavailable", "reason": f"store: {type(exc).__name__}"}, 503)
    # ready while NATS is down too: the index answers, and the store brings changes of other nodes
    return json_response({"status": "ready", "listings": len(runtime.registry.index), **node_status(runtime.feed)})


@router.get("/metrics", summary="Prometheus metrics (admin key: scrape with a bearer token)")
def metrics(request: Request, _who: Principal = require(Role.ADMIN)) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
