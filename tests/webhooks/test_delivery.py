"""Delivery against a real HTTP receiver: signed bodies, filters, batches and order, retries, disabling, durability.

The dispatcher's steps are driven directly, with the runtime's fixed clock moved by hand, so retries fall due
exactly when a test says; the backoff takes the top of each window (no jitter) to make delays exact.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
import pytest

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.daemons import start_daemons
from ringfence.runtime import Runtime
from ringfence.webhooks.daemon import DAEMON
from ringfence.webhooks.models import DeliveryKind, DeliveryStatus
from ringfence.webhooks.service import WebhookService
from ringfence.webhooks.store import NewDelivery, WebhookStore
from tests.support import Keys, bearer
from tests.webhooks.conftest import Verify
from tests.webhooks.helpers import advance, deliveries, dispatcher, member, report
from tests.webhooks.receiver import Received, Receiver

GB = [442079460000 + i for i in range(1, 40)]  # +44 20 7946 0xxx: fixed line, kept for drama
GB_MOBILE = 447700900123
US = 12015550123


def _hook(runtime: Runtime, url: str, owner: str = "contact-centre-c", **filters: list[str]) -> str:
    hook, _secret = WebhookService.of(runtime).create(member(runtime, owner), url, **filters)  # type: ignore[arg-type]
    return hook.id


async def test_a_report_reaches_the_receiver_signed(
    runtime: Runtime, keys: Keys, receiver: Receiver, documented_verify: Verify
) -> None:
    service = WebhookService.of(runtime)
    hook, secret = service.create(member(runtime, "contact-centre-c"), receiver.url)
    report(runtime, GB[0], "irsf")
    d = dispatcher(runtime)
    async with d.client() as client:
        attempts = await d.run_once(client)
    assert [a.ok for a in attempts] == [True]
    [got] = receiver.wait_for(1)
    assert got.path == "/hook"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Ringfence-Webhook"] == hook.id
    assert got.headers["Ringfence-Attempt"] == "1"
    assert got.headers["Ringfence-Timestamp"] == str(runtime.clock.now_ms() // 1000)
    now = runtime.clock.now_ms() / 1000
    assert documented_verify(
        secret, got.body, got.headers["Ringfence-Timestamp"], got.headers["Ringfence-Signature"], now=now
    )
    assert not documented_verify(
        secret, got.body + b" ", got.headers["Ringfence-Timestamp"], got.headers["Ringfence-Signature"], now=now
    )
    body = got.json
    assert body["delivery_id"] == got.headers["Ringfence-Delivery"] and body["webhook_id"] == hook.id
    assert body["type"] == "changes"
    [change] = body["changes"]
    assert change["number"] == f"+{GB[0]}" and change["kind"] == "listed" and change["categories"] == ["irsf"]
    assert change["seq"] == runtime.feed.log.head()
    assert b"carrier-a" not in got.body  # never who reported
    [logged] = deliveries(runtime, hook.id)
    assert logged.id == body["delivery_id"] and logged.status is DeliveryStatus.DELIVERED
    assert (logged.attempts, logged.last_status) == (1, 204)
    assert logged.first_seq == logged.last_seq == change["seq"]
    assert service.get(hook.id).cursor == change["seq"]
    # a ping, after a rotation: signed with the new secret and, during the grace period, the old one
    _rotated, new_secret = service.rotate_secret(hook.id, None)
    ping = service.ping(hook.id, None)
    async with d.client() as client:
        assert [a.ok for a in await d.run_once(client)] == [True]
    got = receiver.wait_for(2)[1]
    assert got.json == {"delivery_id": ping.id, "webhook_id": hook.id, "type": "ping", "changes": []}
    assert got.headers["Ringfence-Signature"].count("v1=") == 2
    stamp, signature = got.headers["Ringfence-Timestamp"], got.headers["Ringfence-Signature"]
    for key in (new_secret, secret):
        assert documented_verify(key, got.body, stamp, signature, now=now)


async def test_filters_choose_the_changes_each_webhook_gets(runtime: Runtime, keys: Keys, receiver: Receiver) -> None:
    base = receiver.url
    _hook(runtime, f"{base}?all")
    _hook(runtime, f"{base}?irsf", categories=["irsf"])
    _hook(runtime, f"{base}?us", countries=["US"])
    _hook(runtime, f"{base}?mobile", prefixes=["+447700"])
    _hook(runtime, f"{base}?none", categories=["wangiri"])
    report(runtime, GB[0], "irsf")
    report(runtime, US, "vishing")
    report(runtime, GB_MOBILE, "smishing")
    d = dispatcher(runtime)
    async with d.client() as client:
        await d.run_once(client)
    got = {r.path.partition("?")[2]: [c["number"] for c in r.json["changes"]] for r in receiver.wait_for(4)}
    assert got == {
        "all": [f"+{GB[0]}", f"+{US}", f"+{GB_MOBILE}"],
        "irsf": [f"+{GB[0]}"],
        "us": [f"+{US}"],
        "mobile": [f"+{GB_MOBILE}"],
    }
    assert len(receiver.requests) == 4  # the wangiri webhook got nothing


async def test_changes_go_in_batches_in_seq_order_and_one_delivery_at_a_time(
    runtime: Runtime, keys: Keys, receiver: Receiver
) -> None:
    hook = _hook(runtime, receiver.url)
    for number in GB[:7]:
        report(runtime, number)
    d = dispatcher(runtime)
    assert d.enqueue() == 3  # webhook_batch = 3
    assert d.enqueue() == 0  # nothing twice
    queued = deliveries(runtime, hook)
    assert [q.change_count for q in queued] == [3, 3, 1]
    assert [(q.first_seq, q.last_seq) for q in queued] == [(1, 3), (4, 6), (7, 7)]
    async with d.client() as client:
        for expected in (1, 2, 3):
            attempts = await d.run_once(client)
            assert len(attempts) == 1  # the next one of a webhook goes only once the one before is delivered
            assert len(receiver.wait_for(expected)) == expected
        assert await d.run_once(client) == []
    seqs = [c["seq"] for r in receiver.requests for c in r.json["changes"]]
    assert seqs == list(range(1, 8))
    # the log keeps delivered deliveries for webhook_log_retention, then lets them go
    advance(runtime, runtime.settings.webhook_log_retention * 1000 - 1)
    assert d.prune() == 0
    advance(runtime, 2)
    assert d.prune() == 3 and deliveries(runtime, hook) == []


async def test_failures_are_retried_with_growing_delays_and_the_same_delivery_id(
    runtime: Runtime, keys: Keys, receiver: Receiver, documented_verify: Verify
) -> None:
    service = WebhookService.of(runtime)
    hook, secret = service.create(member(runtime, "contact-centre-c"), receiver.url)
    report(runtime, GB[0])
    receiver.script = [500, "close", "sleep"]  # then "ok"
    receiver.sleep_s = 2.0  # past the 1 s timeout
    d = dispatcher(runtime)
    errors, delays = [], []
    async with d.client() as client:
        for round_ in range(4):
            attempts = await d.run_once(client)
            assert len(attempts) == 1, round_
            [row] = deliveries(runtime, hook.id)
            if round_ < 3:
                errors.append(row.last_error)
                delays.append(row.next_attempt_ms - runtime.clock.now_ms())
                assert service.get(hook.id).failures == round_ + 1
                assert await d.run_once(client) == []  # not due yet
                advance(runtime, delays[-1] - 1)
                assert await d.run_once(client) == []
                advance(runtime, 1)
    assert delays == [1_000, 2_000, 4_000]  # base 1 s, doubling (jitter at the top of the window here)
    assert errors[0] == "HTTP 500: receiver says no"
    assert errors[1] is not None and errors[1].startswith("connection closed")
    assert errors[2] == "timed out after 1 s"
    got = receiver.wait_for(4)
    assert len({r.headers["Ringfence-Delivery"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    assert [r.headers["Ringfence-Attempt"] for r in got] == ["1", "2", "3", "4"]
    last = got[-1]
    assert documented_verify(
        secret,
        last.body,
        last.headers["Ringfence-Timestamp"],
        last.headers["Ringfence-Signature"],
        now=runtime.clock.now_ms() / 1000,
    )
    [row] = deliveries(runtime, hook.id)
    assert (row.status, row.attempts, row.last_status, row.last_error) == (DeliveryStatus.DELIVERED, 4, 204, None)
    assert service.get(hook.id).failures == 0  # a delivery ends the run


async def test_client_errors_count_and_retry_after_is_honoured(
    runtime: Runtime, keys: Keys, receiver: Receiver
) -> None:
    hook = _hook(runtime, receiver.url)
    report(runtime, GB[0])
    receiver.script = [429, 410]
    receiver.retry_after = "30"
    d = dispatcher(runtime, jitter=0.0)  # backoff alone would retry at once
    async with d.client() as client:
        await d.run_once(client)
        [row] = deliveries(runtime, hook)
        assert row.last_status == 429 and row.next_attempt_ms - runtime.clock.now_ms() == 30_000
        advance(runtime, 30_000)
        await d.run_once(client)
        [row] = deliveries(runtime, hook)
        assert row.last_status == 410 and row.status is DeliveryStatus.PENDING
        assert WebhookService.of(runtime).get(hook).failures == 2
        await d.run_once(client)
    [row] = deliveries(runtime, hook)
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 3


async def test_a_later_delivery_waits_while_an_earlier_one_is_retried(
    runtime: Runtime, keys: Keys, receiver: Receiver
) -> None:
    hook = _hook(runtime, receiver.url)
    for number in GB[:4]:
        report(runtime, number)
    receiver.script = [500]
    d = dispatcher(runtime)
    async with d.client() as client:
        assert [a.status for a in await d.run_once(client)] == [500]
        assert await d.run_once(client) == []  # the second delivery does not overtake the first
        advance(runtime, 1_000)
        assert [a.status for a in await d.run_once(client)] == [204]
        assert [a.status for a in await d.run_once(client)] == [204]
    firsts = [r.json["changes"][0]["seq"] for r in receiver.wait_for(3)]
    assert firsts == [1, 1, 4]
    assert [q.status for q in deliveries(runtime, hook)] == [DeliveryStatus.DELIVERED] * 2


async def test_a_run_of_failures_disables_the_webhook_and_says_why(
    runtime: Runtime, keys: Keys, receiver: Receiver, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    hook = _hook(runtime, receiver.url)
    report(runtime, GB[0])
    receiver.default = 500
    d = dispatcher(runtime)
    async with d.client() as http:
        with caplog.at_level(logging.WARNING, logger="ringfence.webhooks"):
            for _ in range(4):  # webhook_max_failures = 4
                assert len(await d.run_once(http)) == 1
                advance(runtime, 60_000)
        assert await d.run_once(http) == []  # disabled: nothing more is sent
    answer = await client.get(f"/v1/webhooks/{hook}", headers=bearer(keys.reader))
    view = answer.json()["webhook"]
    assert view["enabled"] is False and view["consecutive_failures"] == 4
    assert view["disabled_reason"].startswith("4 consecutive failed deliveries; last: HTTP 500: receiver says no at ")
    assert view["disabled_at"] is not None
    assert any(hook in r.getMessage() and "disabled" in r.getMessage() for r in caplog.records)
    log = (await client.get(f"/v1/webhooks/{hook}/deliveries", headers=bearer(keys.reader))).json()["deliveries"]
    assert [(e["status"], e["attempts"], e["last_status"]) for e in log] == [("failed", 4, 500)]
    # while disabled, new changes are not queued; enabling sends the failed delivery first, then the rest
    report(runtime, GB[1])
    assert d.enqueue() == 0
    receiver.default = "ok"
    enabled = await client.patch(f"/v1/webhooks/{hook}", json={"enabled": True}, headers=bearer(keys.reader))
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["webhook"]["disabled_reason"] is None
    assert enabled.json()["webhook"]["consecutive_failures"] == 0
    async with d.client() as http:
        await d.run_once(http)
        await d.run_once(http)
    sent = [[c["number"] for c in r.json["changes"]] for r in receiver.delivered]
    assert sent == [[f"+{GB[0]}"], [f"+{GB[1]}"]]
    assert {q.status for q in deliveries(runtime, hook)} == {DeliveryStatus.DELIVERED}


async def test_deliveries_queued_before_a_restart_are_delivered_after_it(
    runtime: Runtime, settings: Settings, clock: FixedClock, keys: Keys, receiver: Receiver
) -> None:
    first = _hook(runtime, f"{receiver.url}?first")
    second = _hook(runtime, f"{receiver.url}?second")
    report(runtime, GB[0])
    d = dispatcher(runtime)
    assert d.enqueue() == 2
    store = WebhookStore(runtime.engine)
    [row] = [q.row for q in deliveries(runtime, second)]
    assert store.claim(row, "crashed-node", clock.now_ms(), d.lease_ms) is not None  # sending when the node died
    runtime.close()
    assert receiver.requests == []

    again = Runtime.open(settings, clock=clock)
    try:
        running = start_daemons(again, [DAEMON])
        try:
            [got] = await _wait(receiver, 1)
            assert got.path.endswith("?first")  # the other is leased by the dead node until its lease ends
            clock.advance(d.lease_ms + 1)
            got = (await _wait(receiver, 2))[1]
            assert got.path.endswith("?second")

            def recorded() -> bool:
                return all(q.status is DeliveryStatus.DELIVERED for h in (first, second) for q in deliveries(again, h))

            await _until(recorded)
        finally:
            await running.stop()
        for hook in (first, second):
            [q] = deliveries(again, hook)
            assert q.status is DeliveryStatus.DELIVERED and q.attempts == 1
    finally:
        again.close()


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def _wait(receiver: Receiver, count: int, timeout: float = 5.0) -> list[Received]:
    return await asyncio.to_thread(receiver.wait_for, count, timeout)


async def test_two_dispatchers_never_send_one_delivery_twice(runtime: Runtime, keys: Keys, receiver: Receiver) -> None:
    hooks = [_hook(runtime, f"{receiver.url}?{i}") for i in range(8)]
    report(runtime, GB[0])
    a, b = dispatcher(runtime, "node-a"), dispatcher(runtime, "node-b")
    # both queue at the same time: each change is queued once per webhook
    counts = await asyncio.gather(asyncio.to_thread(a.enqueue), asyncio.to_thread(b.enqueue))
    assert sum(counts) == 8
    async with a.client() as ca, b.client() as cb:
        sent = await asyncio.gather(a.run_once(ca), b.run_once(cb), a.run_once(ca), b.run_once(cb))
    attempts = [a for s in sent for a in s]
    assert len(attempts) == 8 and all(a.ok for a in attempts), attempts
    got = receiver.wait_for(8)
    assert len(got) == 8 and len({r.headers["Ringfence-Delivery"] for r in got}) == 8
    assert sorted(r.path for r in got) == sorted(f"/hook?{i}" for i in range(8))
    for hook in hooks:
        assert [q.status for q in deliveries(runtime, hook)] == [DeliveryStatus.DELIVERED]


async def test_a_lease_keeps_others_off_until_it_expires(runtime: Runtime, keys: Keys, receiver: Receiver) -> None:
    hook = _hook(runtime, receiver.url)
    report(runtime, GB[0])
    a, b = dispatcher(runtime, "node-a"), dispatcher(runtime, "node-b")
    a.enqueue()
    [claim] = a.claim(10)
    assert b.claim(10) == []  # a holds it
    advance(runtime, a.lease_ms + 1)  # a hangs past its lease: b may take it over
    [taken] = b.claim(10)
    assert taken.delivery_id == claim.delivery_id and taken.attempt == 1
    async with b.client() as client:
        assert (await b.deliver(taken, client)).ok
    late = await a.send(claim, httpx.AsyncClient())  # a wakes up and sends too (at least once) ...
    a.record(claim, late)  # ... but cannot record over b's result
    [row] = deliveries(runtime, hook)
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 1
    got = receiver.wait_for(2)
    assert got[0].headers["Ringfence-Delivery"] == got[1].headers["Ringfence-Delivery"]  # the receiver can de-dup


def test_the_cursor_moves_only_from_where_it_was_read(runtime: Runtime, keys: Keys) -> None:
    hook = _hook(runtime, "https://hooks.example.net/x")
    report(runtime, GB[0])
    store = WebhookStore(runtime.engine)
    [(hook_id, cursor, _where, _pending)] = store.active()
    assert hook_id == hook
    dispatcher(runtime, "node-b").enqueue()  # another node got there first
    late = NewDelivery("dl_late", DeliveryKind.CHANGES, 1, 1, 1, "{}")
    assert store.advance(hook, cursor, 1, late, runtime.clock.now_ms()) is False
    assert [q.id for q in deliveries(runtime, hook)] != ["dl_late"] and len(deliveries(runtime, hook)) == 1


async def test_a_webhook_behind_retention_is_disabled_and_must_restart_from_a_snapshot(
    runtime: Runtime, keys: Keys, client: httpx.AsyncClient
) -> None:
    behind = _hook(runtime, "https://hooks.example.net/a")
    paused = _hook(runtime, "https://hooks.example.net/b")
    service = WebhookService.of(runtime)
    service.update(paused, None, enabled=False)
    for number in GB[:3]:
        report(runtime, number)
    advance(runtime, 1000)
    assert runtime.feed.log.prune(runtime.clock.now_ms()) == 2  # seqs 1 and 2 are gone; floor = 2
    d = dispatcher(runtime)
    assert d.enqueue() == 0
    stopped = service.get(behind)
    assert not stopped.enabled and stopped.disabled_reason is not None
    assert stopped.disabled_reason.startswith("changes after seq 0 were deleted by retention (up to seq 2)")
    path = f"/v1/webhooks/{paused}"
    refused = await client.patch(path, json={"enabled": True}, headers=bearer(keys.reader))
    assert refused.status_code == 410 and refused.json()["error"]["code"] == "cursor_expired"
    too_old = await client.patch(path, json={"enabled": True, "from_seq": 1}, headers=bearer(keys.reader))
    assert too_old.status_code == 410 and too_old.json()["error"]["code"] == "since_expired"
    resumed = await client.patch(path, json={"enabled": True, "from_seq": 2}, headers=bearer(keys.reader))
    assert resumed.status_code == 200 and resumed.json()["webhook"]["enabled"] is True
    assert d.enqueue() == 1
    assert [(q.first_seq, q.last_seq) for q in deliveries(runtime, paused)] == [(3, 3)]


async def test_the_queue_of_a_webhook_is_bounded_and_the_rest_waits_in_the_feed(
    runtime: Runtime, keys: Keys, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringfence.webhooks import dispatcher as module

    monkeypatch.setattr(module, "MAX_QUEUED", 2)
    hook = _hook(runtime, receiver.url)
    for number in GB[:9]:
        report(runtime, number)
    d = dispatcher(runtime)
    assert d.enqueue() == 2 and d.enqueue() == 0
    assert WebhookService.of(runtime).get(hook).cursor == 6  # seqs 7 to 9 stay in the change log
    async with d.client() as client:
        for _ in range(3):
            await d.run_once(client)
    assert [c["seq"] for r in receiver.wait_for(3) for c in r.json["changes"]] == list(range(1, 10))
