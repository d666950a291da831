"""Call records published on NATS: evaluated by a node's consumer through the real JetStream server, kept while no
node consumes, and a message for an unknown member dropped without stopping the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import nats
import orjson
import pytest

from ringfence.alerts.models import IncidentFilter
from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.monitoring.nats import consume
from ringfence.registry.models import Role
from ringfence.runtime import Runtime
from tests.monitoring.cdrfiles import csv_of, row
from tests.nats_support import delete_stream, names, require_nats

HOTLISTED = "+88216000001"


@pytest.fixture
def nats_runtime(tmp_path: object, clock: FixedClock) -> Iterator[tuple[Runtime, str]]:
    url = require_nats()
    stream, subject = names()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/ringfence.db",
        default_region="GB",
        nats_url=url,
        cdr_subject=subject,
        cdr_stream=stream,
    )
    runtime = Runtime.open(settings, clock=clock)
    runtime.hotlists.create(None, "irsf")
    runtime.hotlists.import_file(None, "irsf", HOTLISTED.encode() + b"\n", source="test")
    try:
        yield runtime, url
    finally:
        runtime.close()
        delete_stream(url, stream)


async def _publish(url: str, subject: str, payloads: list[bytes]) -> None:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        for payload in payloads:
            await js.publish(subject, payload)
    finally:
        await client.close()


async def _incidents(runtime: Runtime, want: int, timeout: float = 10.0) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await asyncio.to_thread(runtime.alerts.list, IncidentFilter(rule="hotlist_hit"))
        if len(found) >= want or asyncio.get_running_loop().time() > deadline:
            return sorted(i.subject for i in found)
        await asyncio.sleep(0.05)


async def test_published_records_raise_incidents_even_when_published_before_a_node_consumes(
    nats_runtime: tuple[Runtime, str],
) -> None:
    runtime, url = nats_runtime
    member = runtime.members.add("carrier-a", Role.REPORTER)[0]
    subject = runtime.settings.cdr_subject
    stop = asyncio.Event()
    consumer = asyncio.create_task(consume(runtime, stop=stop))
    await asyncio.sleep(0.5)  # the stream exists once the consumer has started
    json_batch = orjson.dumps(
        [
            {
                "start": "2026-09-21T14:13:20Z",
                "caller": "+447700900001",
                "called": HOTLISTED,
                "duration_s": 20,
                "answered": True,
                "direction": "outgoing",
            }
        ]
    )
    await _publish(url, f"{subject}.{member.name}", [json_batch])
    assert await _incidents(runtime, 1) == [f"number:{HOTLISTED}"]
    stop.set()
    await asyncio.wait_for(consumer, 10)

    # no node consumes now: the stream keeps what is published, and the next consumer evaluates it
    runtime.hotlists.import_file(None, "irsf", b"+88216000001\n+88216000002\n", source="test")
    bad = b"\xff\xfe not records"
    unknown = csv_of([row(0, "+447700900009", "+88216000002")])
    later = csv_of([row(30, "+447700900002", "+88216000002")])
    await _publish(url, f"{subject}.{member.id}", [bad])
    await _publish(url, f"{subject}.nobody", [unknown])
    await _publish(url, f"{subject}.{member.id}", [later])
    stop = asyncio.Event()
    consumer = asyncio.create_task(consume(runtime, stop=stop))
    try:
        assert await _incidents(runtime, 2) == [f"number:{HOTLISTED}", "number:+88216000002"]
    finally:
        stop.set()
        await asyncio.wait_for(consumer, 10)
    # the unreadable payload is in the member's quarantine, the unknown member's records nowhere
    sources = {r.source for r in runtime.monitor.quarantine.rows(member.id)}
    assert sources == {f"nats:{subject}.{member.id}"}
