"""A serving node with its daemons: a report reaches a webhook within well under a second (the hub's doorbell,
not the poll), and an endpoint that hangs or fails never slows reports down."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.runtime import Runtime
from tests.live import live_server
from tests.support import Keys, bearer
from tests.webhooks.receiver import Receiver


def test_a_report_is_pushed_at_once(
    runtime: Runtime, settings: Settings, clock: FixedClock, keys: Keys, receiver: Receiver
) -> None:
    slow_poll = dataclasses.replace(settings, webhook_poll_ms=60_000, feed_poll_ms=60_000)
    node = Runtime.open(slow_poll, clock=clock)
    try:
        with live_server(node) as base, httpx.Client(base_url=base, timeout=5) as http:
            created = http.post("/v1/webhooks", json={"url": receiver.url}, headers=bearer(keys.reader))
            assert created.status_code == 201, created.text
            assert http.get("/v1/me", headers=bearer(keys.reporter)).status_code == 200  # the key is verified once
            time.sleep(0.2)  # let the daemon settle into its (long) wait
            answer = http.post(
                "/v1/reports", json={"number": "+442079460018", "category": "irsf"}, headers=bearer(keys.reporter)
            )
            reported = time.monotonic()
            assert answer.status_code == 201, answer.text
            [got] = receiver.wait_for(1, timeout=3)
            assert got.at - reported < 0.5, "delivered when the doorbell rang, not at the next (60 s) poll"
            assert got.json["changes"][0]["number"] == "+442079460018"
    finally:
        node.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_hanging_endpoint_never_slows_reports(
    runtime: Runtime, settings: Settings, clock: FixedClock, keys: Keys, receiver: Receiver
) -> None:
    receiver.default = "sleep"
    receiver.sleep_s = 3.0
    node = Runtime.open(settings, clock=clock)
    try:
        with live_server(node) as base, httpx.Client(base_url=base, timeout=5) as http:
            for _ in range(3):
                created = http.post("/v1/webhooks", json={"url": receiver.url}, headers=bearer(keys.reader))
                assert created.status_code == 201
            http.post(
                "/v1/reports", json={"number": "+442079460001", "category": "irsf"}, headers=bearer(keys.reporter)
            )
            receiver.wait_for(3, timeout=3)  # all three deliveries are now hanging in the endpoint
            started = time.monotonic()
            for i in range(2, 7):
                answer = http.post(
                    "/v1/reports",
                    json={"number": f"+4420794600{i:02d}", "category": "vishing"},
                    headers=bearer(keys.reporter),
                )
                assert answer.status_code == 201
            assert time.monotonic() - started < 1.0
            hooks = http.get("/v1/webhooks", headers=bearer(keys.reader)).json()["webhooks"]
            assert len(hooks) == 3
    finally:
        node.close()
