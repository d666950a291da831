"""Small helpers of the webhook tests: members, reports, a dispatcher with a predictable backoff."""

from __future__ import annotations

from ringfence.clock import FixedClock
from ringfence.registry.models import Category, Member, NewReport
from ringfence.runtime import Runtime
from ringfence.webhooks.dispatcher import Dispatcher
from ringfence.webhooks.models import Delivery
from ringfence.webhooks.store import WebhookStore

__all__ = ["deliveries", "dispatcher", "member", "report"]


def member(runtime: Runtime, name: str = "carrier-a") -> Member:
    return runtime.members.get(name)


def report(runtime: Runtime, number: int, category: str = "vishing", by: str = "carrier-a") -> None:
    runtime.registry.report(member(runtime, by), NewReport(number, Category(category), runtime.clock.now_ms()))


def dispatcher(runtime: Runtime, node: str = "node-a", jitter: float = 1.0) -> Dispatcher:
    """A dispatcher whose backoff is the top of each window (``jitter`` 1.0), so delays are exact."""
    return Dispatcher.of(runtime, node=node, rand=lambda: jitter)


def deliveries(runtime: Runtime, webhook_id: str) -> list[Delivery]:
    """A webhook's deliveries, oldest first."""
    return list(reversed(WebhookStore(runtime.engine).deliveries(webhook_id, 1000)))


def advance(runtime: Runtime, ms: int) -> None:
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    clock.advance(ms)
