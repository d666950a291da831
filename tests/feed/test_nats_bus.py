"""The NATS change bus in process: the wire format, its settings, and two runtimes on one PostgreSQL exchanging
changes through a real NATS JetStream (the shared server, or one of the test's own that it starts late).

The feed-follow poll is not running here (only the bus daemon is started), so whatever reaches the other runtime
came through the bus, or through the store when the bus told it to read there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ringfence.cli import main
from ringfence.config import Settings
from ringfence.daemons import start_daemons
from ringfence.errors import InvalidInput
from ringfence.feed import wire
from ringfence.feed.bus import BUS, NatsBus, node_status
from ringfence.feed.models import ChangeBatch
from ringfence.registry.models import Category, Member, NewReport, Role
from ringfence.runtime import Runtime
from tests.nats_support import PrivateNats, delete_stream, free_port, names, require_nats, require_nats_server

FIRST = 447_400_100_000


def _batch(after: int, size: int) -> ChangeBatch:
    rows = [
        (after + 1 + i, 1_790_000_000_000 + i, i % 8, FIRST + i, i % 3 != 0, 5 + i, 6 + i, 1 + i % 4, 1, 1 << (i % 9))
        + ((1000, i % 8) if i % 3 != 0 else (0, 0))
        for i in range(size)
    ]
    return ChangeBatch.from_rows([tuple(int(v) for v in row) for row in rows])


# --- the wire format (no NATS needed) ---------------------------------------------------------------------------
def test_a_batch_travels_as_columns_and_comes_back_equal() -> None:
    batch = _batch(41, 5)
    [message] = wire.encode(batch, node="n1", store="s1", max_payload=1 << 20, max_messages=4)
    assert len(message.payload) == 5 * wire.ROW_BYTES
    assert message.headers["Nats-Msg-Id"] == "s1:41-46"
    assert message.headers[wire.HEADER_NODE] == "n1" and message.headers[wire.HEADER_STORE] == "s1"
    back = wire.decode(message.headers, message.payload)
    assert isinstance(back, ChangeBatch)
    assert back.rows() == batch.rows() and back.after == 41 and back.last == 46


def test_a_batch_too_big_for_one_message_is_split_into_consecutive_batches() -> None:
    batch = _batch(1000, 1000)
    max_payload = wire.HEADROOM_BYTES + 300 * wire.ROW_BYTES  # 300 rows per message
    messages = wire.encode(batch, node="n", store="s", max_payload=max_payload, max_messages=4)
    assert [len(m.payload) // wire.ROW_BYTES for m in messages] == [300, 300, 300, 100]
    pieces = [wire.decode(m.headers, m.payload) for m in messages]
    assert all(isinstance(p, ChangeBatch) for p in pieces)
    assert [(p.after, p.last) for p in pieces] == [(1000, 1300), (1300, 1600), (1600, 1900), (1900, 2000)]
    assert [row for p in pieces if isinstance(p, ChangeBatch) for row in p.rows()] == batch.rows()
    assert len({m.headers["Nats-Msg-Id"] for m in messages}) == 4


def test_a_batch_needing_too_many_messages_becomes_a_doorbell() -> None:
    batch = _batch(1000, 1000)
    max_payload = wire.HEADROOM_BYTES + 300 * wire.ROW_BYTES
    [bell] = wire.encode(batch, node="n", store="s", max_payload=max_payload, max_messages=3)
    assert bell.payload == b""
    assert wire.decode(bell.headers, bell.payload) == wire.Doorbell(1000, 2000)
    assert bell.headers["Nats-Msg-Id"] == "s:1000-2000:doorbell"  # never taken for the batch's own id


def test_messages_that_are_not_ours_are_refused_with_the_reason() -> None:
    [good] = wire.encode(_batch(0, 3), node="n", store="s", max_payload=1 << 20, max_messages=1)
    with pytest.raises(wire.WireError, match="Format"):
        wire.decode({**good.headers, "Ringfence-Format": "99"}, good.payload)
    with pytest.raises(wire.WireError, match="whole number"):
        wire.decode(good.headers, good.payload[:-3])
    with pytest.raises(wire.WireError, match="consecutive"):
        wire.decode({**good.headers, "Ringfence-Seq": "5-8"}, good.payload)
    with pytest.raises(wire.WireError, match="Seq"):
        wire.decode({**good.headers, "Ringfence-Seq": "x"}, good.payload)
    bad = np.frombuffer(good.payload, dtype="<i8").copy()
    bad[1] = 7  # seqs 1, 7, 3
    with pytest.raises(wire.WireError, match="consecutive"):
        wire.decode(good.headers, bad.tobytes())


# --- settings -----------------------------------------------------------------------------------------------------
def test_nats_settings_default_to_off_and_bad_values_are_clear_errors() -> None:
    settings = Settings.from_env({})
    assert (settings.nats_url, settings.nats_stream, settings.nats_subject) == (
        None,
        "RINGFENCE_CHANGES",
        "ringfence.changes",
    )
    assert Settings.from_env({"RINGFENCE_NATS_URL": " nats://a:4222, tls://b "}).nats_url == "nats://a:4222,tls://b"
    assert Settings.from_env({"RINGFENCE_NATS_URL": " "}).nats_url is None
    for name, value in (
        ("RINGFENCE_NATS_URL", "http://127.0.0.1:4222"),
        ("RINGFENCE_NATS_URL", "nats://127.0.0.1:99999"),
        ("RINGFENCE_NATS_STREAM", "has.dots"),
        ("RINGFENCE_NATS_SUBJECT", "ringfence.*"),
    ):
        with pytest.raises(InvalidInput, match=name):
            Settings.from_env({name: value})


def test_serve_with_a_bad_nats_url_stops_at_once_without_a_traceback(tmp_path: Path) -> None:
    env = {"RINGFENCE_DATABASE_URL": f"sqlite:///{tmp_path}/rf.db", "RINGFENCE_NATS_URL": "localhost:4222"}
    result = CliRunner().invoke(main, ["serve", "--port", str(free_port())], env=env)
    assert result.exit_code != 0
    assert "RINGFENCE_NATS_URL" in result.output and "nats://host:4222" in result.output
    assert "Traceback" not in result.output


# --- two runtimes through a real NATS ---------------------------------------------------------------------------
@pytest.fixture
def bus_settings(pg_url: str) -> Iterator[Settings]:
    url = require_nats()
    stream, subject = names()
    try:
        yield Settings(database_url=pg_url, nats_url=url, nats_stream=stream, nats_subject=subject, feed_poll_ms=0)
    finally:
        delete_stream(url, stream)


async def _until(check: Callable[[], object], timeout: float = 5.0, what: str = "") -> float:
    """Wait for ``check()`` to be true; returns how long it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.005)
    return time.monotonic() - started


def _bus(runtime: Runtime) -> dict[str, object]:
    bus = node_status(runtime.feed)["bus"]
    assert isinstance(bus, dict)
    return bus


@asynccontextmanager
async def _node(settings: Settings, max_messages: int | None = None) -> AsyncIterator[Runtime]:
    """A runtime with its bus daemon running (and no poll), like one serving node."""
    runtime = await asyncio.to_thread(Runtime.open, settings)
    if max_messages is not None:
        NatsBus(runtime.feed, settings, max_messages=max_messages)  # the daemon takes the feed's bus
    running = start_daemons(runtime, [BUS])
    try:
        yield runtime
    finally:
        await running.stop()
        runtime.close()


def _report(runtime: Runtime, member: Member, number: int, report_id: str | None = None) -> None:
    runtime.registry.report(member, NewReport(number, Category.WANGIRI, runtime.clock.now_ms(), report_id=report_id))


def _bulk(runtime: Runtime, member: Member, numbers: list[int]) -> None:
    """One transaction, one batch of changes."""
    items = [(i, NewReport(n, Category.IRSF, runtime.clock.now_ms())) for i, n in enumerate(numbers, start=1)]
    runtime.registry.report_many(member, items, len(items))


async def _connected(*runtimes: Runtime) -> None:
    await _until(lambda: all(_bus(r).get("consuming") for r in runtimes), what="the nodes reading from NATS")


@pytest.mark.postgres
async def test_changes_cross_between_nodes_one_by_one_and_in_bulk(bus_settings: Settings) -> None:
    async with _node(bus_settings) as a, _node(bus_settings) as b:
        await _connected(a, b)
        member = a.members.add("carrier-a", Role.REPORTER)[0]
        assert node_status(a.feed)["node"] != node_status(b.feed)["node"]

        await asyncio.to_thread(_report, a, member, FIRST, "r-1")
        took = await _until(lambda: b.registry.lookup(FIRST) is not None, what="a report on A listed on B")
        assert took < 1.0
        await asyncio.to_thread(a.registry.withdraw, member, "r-1")
        await _until(lambda: b.registry.lookup(FIRST) is None, 1.0, "a withdrawal on A unlisted on B")

        # one transaction of 30,000 changes: 2.4 MB of columns, three messages under NATS's 1 MB payload limit
        numbers = [FIRST + 1_000 + i for i in range(30_000)]
        published = _bus(a)["published"]
        await asyncio.to_thread(_bulk, a, member, numbers)
        await _until(lambda: b.feed.applied == a.feed.applied, 5.0, "the bulk import on B")
        assert _bus(a)["published"] == published + 3  # type: ignore[operator]
        assert b.registry.lookup_many(np.array(numbers, dtype=np.int64)).found.all()
        assert len(b.registry.index) == len(a.registry.index) == 30_000
        await _until(lambda: _bus(b)["received"] == _bus(a)["published"], 1.0, "every message received")
        assert _bus(a)["dropped"] == _bus(b)["dropped"] == 0


@pytest.mark.postgres
async def test_a_batch_too_big_for_the_bus_rings_the_doorbell_and_the_store_brings_it(bus_settings: Settings) -> None:
    async with _node(bus_settings, max_messages=1) as a, _node(bus_settings) as b:
        await _connected(a, b)
        member = a.members.add("carrier-a", Role.REPORTER)[0]
        numbers = [FIRST + i for i in range(20_000)]  # 1.6 MB: more than the one message allowed
        await asyncio.to_thread(_bulk, a, member, numbers)
        took = await _until(lambda: b.feed.applied == a.feed.applied, 5.0, "the doorbell answered from the store")
        assert took < 1.0
        assert _bus(a)["published"] == 1  # the doorbell
        assert b.registry.lookup_many(np.array(numbers, dtype=np.int64)).found.all()


@pytest.mark.postgres
async def test_writes_on_both_nodes_interleave_and_both_end_equal(bus_settings: Settings) -> None:
    async with _node(bus_settings) as a, _node(bus_settings) as b:
        await _connected(a, b)
        on_a = a.members.add("carrier-a", Role.REPORTER)[0]
        on_b = b.members.get("carrier-a")

        def write(runtime: Runtime, member: Member, base: int) -> None:
            for i in range(100):
                _report(runtime, member, base + i)

        await asyncio.gather(asyncio.to_thread(write, a, on_a, FIRST), asyncio.to_thread(write, b, on_b, FIRST + 500))
        head = a.feed.log.head()
        assert head == 200
        await _until(lambda: a.feed.applied == b.feed.applied == head, 2.0, "both nodes applied everything")
        assert a.registry.index.snapshot()["number"].tolist() == b.registry.index.snapshot()["number"].tolist()
        assert len(a.registry.index) == 200


@pytest.mark.postgres
async def test_a_node_skips_changes_of_another_store_on_the_same_stream(bus_settings: Settings, tmp_path: Path) -> None:
    elsewhere = Settings(
        database_url=f"sqlite:///{tmp_path}/other.db",
        nats_url=bus_settings.nats_url,
        nats_stream=bus_settings.nats_stream,
        nats_subject=bus_settings.nats_subject,
        feed_poll_ms=0,
    )
    async with _node(bus_settings) as a, _node(elsewhere) as other:
        await _connected(a, other)
        member = a.members.add("carrier-a", Role.REPORTER)[0]
        await asyncio.to_thread(_report, a, member, FIRST)
        await _until(lambda: _bus(other)["skipped_other_store"] == 1, 2.0, "the foreign change skipped")
        assert other.registry.lookup(FIRST) is None and other.feed.applied == 0


@pytest.mark.postgres
async def test_a_node_starting_before_nats_serves_and_joins_when_nats_comes(pg_url: str, tmp_path: Path) -> None:
    server = PrivateNats(require_nats_server(), tmp_path / "nats")
    settings = Settings(database_url=pg_url, nats_url=server.url, feed_poll_ms=0)
    async with _node(settings) as a, _node(settings) as b:
        await asyncio.sleep(0.3)
        assert not _bus(a)["connected"] and _bus(a)["last_error"]
        member = a.members.add("carrier-a", Role.REPORTER)[0]
        await asyncio.to_thread(_report, a, member, FIRST)  # the write does not wait for NATS
        assert a.registry.lookup(FIRST) is not None and b.registry.lookup(FIRST) is None
        assert _bus(a)["dropped"] == 1
        server.start()
        try:
            await _connected(a, b)
            # on connecting each node reads the store: B has the change made while NATS was away
            await _until(lambda: b.registry.lookup(FIRST) is not None, 2.0, "the change made before NATS on B")
            await asyncio.to_thread(_report, a, member, FIRST + 1)
            await _until(lambda: b.registry.lookup(FIRST + 1) is not None, 1.0, "a change through NATS on B")
        finally:
            server.kill()


@pytest.mark.postgres
async def test_nats_coming_back_without_its_storage_gets_the_stream_again(pg_url: str, tmp_path: Path) -> None:
    server = PrivateNats(require_nats_server(), tmp_path / "nats-1")
    server.start()
    settings = Settings(database_url=pg_url, nats_url=server.url, feed_poll_ms=0)
    try:
        async with _node(settings) as a, _node(settings) as b:
            await _connected(a, b)
            member = a.members.add("carrier-a", Role.REPORTER)[0]
            for i in range(3):
                await asyncio.to_thread(_report, a, member, FIRST + i)
            await _until(lambda: b.feed.applied == 3, 1.0, "three changes through NATS")
            server.kill()
            await _until(lambda: not (_bus(a)["consuming"] or _bus(b)["consuming"]), what="both noticed")
            server.store_dir = tmp_path / "nats-2"  # a new, empty JetStream: no stream, sequences from 1 again
            server.start()
            await _connected(a, b)
            await asyncio.to_thread(_report, a, member, FIRST + 10)
            await _until(lambda: b.registry.lookup(FIRST + 10) is not None, 1.0, "a change after NATS came back")
            assert b.feed.applied == a.feed.applied == 4
            assert _bus(b)["received"] == 4  # through the new stream
    finally:
        server.kill()
