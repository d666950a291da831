"""Prometheus metrics of one app: requests by route and status, latency, numbers looked up, listings held."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringfence.runtime import Runtime

__all__ = ["Metrics", "MetricsMiddleware"]


_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)


class _Latency:
    """A histogram's state as plain numbers: a count per bucket (the last is +Inf) and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(_BUCKETS) + 1)
        self.total = 0.0


class Metrics:
    """Counters kept as plain ints and floats, turned into Prometheus metrics only when scraped.

    Every request updates them (the single lookup is answered in about 20 us), and prometheus_client's own counters
    and histograms cost several microseconds per update (a lock and a value object each): measured, a sixth of the
    lookup's time. Updates come from the event loop thread (the middleware and the fast paths run there).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry()
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, _Latency] = {}
        self.lookups = {"listed": 0, "unlisted": 0}
        self._runtime = runtime
        self.registry.register(_Collector(self))

    def looked_up(self, listed: bool) -> None:
        self.lookups["listed" if listed else "unlisted"] += 1

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        latency = self.latency.get(route)
        if latency is None:
            latency = self.latency[route] = _Latency()
        latency.counts[bisect_left(_BUCKETS, seconds)] += 1
        latency.total += seconds


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        requests = CounterMetricFamily(
            "ringfence_http_requests", "HTTP requests answered", labels=["route", "method", "status"]
        )
        for (route, method, status), count in sorted(m.requests.items()):
            requests.add_metric([route, method, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "ringfence_http_request_seconds", "Time to answer an HTTP request", labels=["route"]
        )
        for route, state in sorted(m.latency.items()):
            cumulative = list(accumulate(state.counts))
            bounds = [*(str(float(b)) for b in _BUCKETS), "+Inf"]
            latency.add_metric([route], list(zip(bounds, cumulative, strict=True)), state.total)
        yield latency
        lookups = CounterMetricFamily("ringfence_lookups", "Numbers looked up, by outcome", labels=["outcome"])
        for outcome, count in m.lookups.items():
            lookups.add_metric([outcome], count)
        yield lookups
        yield GaugeMetricFamily("ringfence_listings", "Numbers listed in the registry", len(m._runtime.registry.index))


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
