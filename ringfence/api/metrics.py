"""Prometheus metrics of one app: requests by route and status, latency, numbers looked up, listings held."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringfence.runtime import Runtime

__all__ = ["Metrics", "MetricsMiddleware"]


class Metrics:
    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ringfence_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "ringfence_http_request_seconds",
            "Time to answer an HTTP request",
            ["route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.lookups = Counter(
            "ringfence_lookups", "Numbers looked up, by outcome", ["outcome"], registry=self.registry
        )
        listings = Gauge("ringfence_listings", "Numbers listed in the registry", registry=self.registry)
        listings.set_function(lambda: len(runtime.registry.index))
        self._listed = self.lookups.labels("listed")
        self._unlisted = self.lookups.labels("unlisted")
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def looked_up(self, listed: bool) -> None:
        (self._listed if listed else self._unlisted).inc()

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        children = self._children.get((route, method, status))
        if children is None:  # resolve the labelled children once per route, method and status
            children = (self.requests.labels(route, method, str(status)), self.latency.labels(route))
            self._children[(route, method, status)] = children
        children[0].inc()
        children[1].observe(seconds)


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not its path: numbers are not labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.metrics.observe(template, scope["method"], status, time.perf_counter() - started)
