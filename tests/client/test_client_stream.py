"""The change stream against a real server: live changes, resuming through a restart and a slow-consumer cut-off with
no gap and no duplicate, FeedExpired, and stopping from another thread."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest

from ringfence.client import AuthError, Change, ChangeStream, FeedExpired, RingfenceClient
from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.registry.models import Category, Member, NewReport, Role
from ringfence.runtime import Runtime
from tests.conftest import START_MS
from tests.live import free_port, live_server
from tests.support import Keys

STREAM_QUEUE = 5  # a live subscriber more than this many changes behind is cut off (slow_consumer)
WAIT_S = 15.0


@pytest.fixture
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/ringfence.db"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, default_region="GB", stream_queue=STREAM_QUEUE, stream_keepalive_s=30)


@pytest.fixture
def writer(runtime: Runtime) -> Member:
    return runtime.members.add("direct-writer", Role.REPORTER)[0]


@pytest.fixture
def url(runtime: Runtime) -> Iterator[str]:
    with live_server(runtime, daemons=False) as base:
        yield base


class Collector:
    """Iterates a stream in a thread of its own, so a test can wait for changes with a timeout."""

    def __init__(self, stream: ChangeStream) -> None:
        self.stream = stream
        self._queue: queue.Queue[Change | BaseException] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for change in self.stream:
                self._queue.put(change)
        except BaseException as exc:
            self._queue.put(exc)

    def take(self, count: int, timeout: float = WAIT_S) -> list[Change]:
        out: list[Change] = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"only {len(out)} of {count} changes came within {timeout} s: {out}") from None
            if isinstance(item, BaseException):
                raise item
            out.append(item)
        return out

    def nothing_more(self, wait: float = 0.5) -> bool:
        time.sleep(wait)
        return self._queue.empty()

    def error(self, timeout: float = WAIT_S) -> BaseException:
        item = self._queue.get(timeout=timeout)
        assert isinstance(item, BaseException), f"expected an error, got {item}"
        return item


@contextmanager
def watchdog(client: RingfenceClient, timeout: float = WAIT_S) -> Iterator[None]:
    """Close ``client`` (ending its streams) if the block runs longer than ``timeout``: a stream that does not do
    what the test expects then fails the test instead of blocking it for ever."""
    timer = threading.Timer(timeout, client.close)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _report(runtime: Runtime, writer: Member, number: int, category: Category = Category.IRSF) -> None:
    runtime.registry.report(writer, NewReport(number, category, START_MS))


def test_the_stream_yields_a_change_made_after_it_started(
    url: str, keys: Keys, runtime: Runtime, writer: Member
) -> None:
    _report(runtime, writer, 442079460001)  # before: not part of the stream
    with RingfenceClient(url, keys.reader) as client, RingfenceClient(url, keys.reporter) as reporter:
        stream = client.changes()
        assert stream.last_seq == 1
        collector = Collector(stream)
        reporter.report("020 7946 0002", "wangiri")

        (change,) = collector.take(1)
        assert change.seq == 2 and change.kind == "listed" and change.number == "+442079460002"
        assert change.listed and change.categories == ("wangiri",)
        assert change.listing is not None and change.listing.report_count == 1
        assert isinstance(change.at, datetime) and change.info.country == "GB"
        assert stream.last_seq == 2
        assert collector.nothing_more()


def test_filters_pick_the_changes(url: str, keys: Keys, runtime: Runtime, writer: Member) -> None:
    with RingfenceClient(url, keys.reader) as client:
        collector = Collector(client.changes(categories=["wangiri"], countries="GB"))
        _report(runtime, writer, 442079460010, Category.IRSF)
        _report(runtime, writer, 12015550110, Category.WANGIRI)
        _report(runtime, writer, 442079460011, Category.WANGIRI)
        assert [c.number for c in collector.take(1)] == ["+442079460011"]
        assert collector.nothing_more()


def test_the_stream_resumes_after_a_restart_with_no_gap_and_no_duplicate(
    keys: Keys, runtime: Runtime, writer: Member
) -> None:
    port = free_port()
    with live_server(runtime, daemons=False, port=port, shutdown_timeout_s=0) as url:
        client = RingfenceClient(url, keys.reader)
        stream = client.changes(reconnect_delay=0.1, max_reconnect_delay=0.3)
        collector = Collector(stream)
        for i in range(3):
            _report(runtime, writer, 442079460100 + i)
        before = collector.take(3)
        assert stream.reconnects == 0
    # the server is gone and the stream's connection with it; changes go on being made meanwhile
    for i in range(3, 6):
        _report(runtime, writer, 442079460100 + i)
    time.sleep(0.5)  # the client retries against nothing
    with live_server(runtime, daemons=False, port=port, shutdown_timeout_s=0):
        for i in range(6, 8):
            _report(runtime, writer, 442079460100 + i)
        after = collector.take(5)
        assert collector.nothing_more()
        client.close()
    got = before + after
    assert [c.seq for c in got] == list(range(1, 9))
    assert [c.number for c in got] == [f"+4420794601{i:02d}" for i in range(8)]
    assert stream.reconnects >= 1
    collector.thread.join(WAIT_S)
    assert not collector.thread.is_alive()  # closing the client ended the stream


def test_a_slow_consumer_cut_off_resumes_with_no_gap(url: str, keys: Keys, runtime: Runtime, writer: Member) -> None:
    with RingfenceClient(url, keys.reader) as client:
        stream = client.changes(reconnect_delay=0.1)
        collector = Collector(stream)
        _report(runtime, writer, 442079460200)
        assert [c.seq for c in collector.take(1)] == [1]  # the stream is live now
        # one write of more changes than the live queue holds: the server cuts the stream off (slow_consumer)
        burst = [(i, NewReport(442079460201 + i, Category.IRSF, START_MS)) for i in range(STREAM_QUEUE * 4)]
        runtime.registry.report_many(writer, burst)
        got = collector.take(len(burst))
        assert [c.seq for c in got] == list(range(2, 2 + len(burst)))
        assert collector.nothing_more()
        assert stream.reconnects == 1


def test_an_expired_start_raises_feed_expired(
    url: str, keys: Keys, runtime: Runtime, writer: Member, clock: FixedClock
) -> None:
    for i in range(3):
        _report(runtime, writer, 442079460300 + i)
    clock.advance(runtime.settings.change_retention * 1000 + 1)
    _report(runtime, writer, 442079460303)
    assert runtime.feed.log.prune(clock.now_ms() - runtime.settings.change_retention * 1000) == 3

    with RingfenceClient(url, keys.reader) as client, watchdog(client):
        with pytest.raises(FeedExpired) as caught:
            next(client.changes(since=1))
        assert (caught.value.since, caught.value.floor, caught.value.head) == (1, 3, 4)
        assert caught.value.status == 410
        with pytest.raises(FeedExpired):
            client.changes_page(0)
        # from the floor on, all is there
        assert [c.seq for c in client.changes_page(3).changes] == [4]
        with client.changes(since=3) as stream:
            assert next(stream).seq == 4


def test_a_stream_that_reconnects_past_retention_raises_feed_expired(
    keys: Keys, runtime: Runtime, writer: Member, clock: FixedClock
) -> None:
    port = free_port()
    with live_server(runtime, daemons=False, port=port, shutdown_timeout_s=0) as url:
        client = RingfenceClient(url, keys.reader)
        collector = Collector(client.changes(reconnect_delay=0.1, max_reconnect_delay=0.3))
        _report(runtime, writer, 442079460400)
        collector.take(1)
    for i in range(1, 3):
        _report(runtime, writer, 442079460400 + i)
    clock.advance(runtime.settings.change_retention * 1000 + 1)
    _report(runtime, writer, 442079460403)
    runtime.feed.log.prune(clock.now_ms() - runtime.settings.change_retention * 1000)
    with live_server(runtime, daemons=False, port=port, shutdown_timeout_s=0):
        error = collector.error()
        client.close()
    assert isinstance(error, FeedExpired)
    assert (error.since, error.floor) == (1, 3)


def test_closing_from_another_thread_ends_a_blocked_read_at_once(url: str, keys: Keys) -> None:
    # nothing happens on the feed and the keep-alive is 30 s away: only the close can end the read
    with RingfenceClient(url, keys.reader) as client, watchdog(client):
        stream = client.changes()
        threading.Timer(0.5, stream.close).start()
        started = time.monotonic()
        assert list(stream) == []
        assert time.monotonic() - started < 5
        assert stream.closed

        other = client.changes()
        threading.Timer(0.5, client.close).start()
        started = time.monotonic()
        assert list(other) == []
        assert time.monotonic() - started < 5


def test_breaking_out_and_closing_stops_the_stream(url: str, keys: Keys, runtime: Runtime, writer: Member) -> None:
    with RingfenceClient(url, keys.reader) as client, watchdog(client):
        _report(runtime, writer, 442079460500)
        _report(runtime, writer, 442079460501)
        with client.changes(since=0) as stream:
            for change in stream:
                if change.seq == 1:
                    break
        assert stream.closed and stream.last_seq == 1
        assert list(stream) == []
        # resuming where it stopped gives the rest
        with client.changes(since=stream.last_seq) as resumed:
            assert next(resumed).seq == 2


def test_a_bad_key_on_the_stream_raises(url: str) -> None:
    with RingfenceClient(url, "rf_nobody_0000000000000000000000000000000000000000000") as client, watchdog(client):
        with pytest.raises(AuthError) as caught:
            next(client.changes(since=0))
        assert caught.value.status == 401
        with pytest.raises(AuthError):
            client.changes()  # since=None asks the head first
