"""Scale-out for real: two `ringfence serve` processes on one PostgreSQL schema, changes fanned out by NATS JetStream.

The store poll of every node is set to a minute, so whatever arrives within the test's deadlines came through the
bus (or through the store read a node makes when the bus (re)connects). The first two tests share nodes A and B, on
a schema and a stream and subject of this module's own on the shared NATS; the last has a nats-server of its own
that it kills and starts again.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from ringfence.config import Settings
from ringfence.registry.models import Role
from ringfence.runtime import Runtime
from tests.nats_support import PrivateNats, delete_stream, free_port, names, require_nats, require_nats_server

pytestmark = pytest.mark.postgres

POLL_MS = 60_000  # far beyond every deadline below: the poll never brings a change in these tests


@dataclass
class Node:
    url: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None


@dataclass
class Cluster:
    """The settings every node shares, the keys of two members, and the nodes started."""

    env: dict[str, str]
    tmp: Path
    reporter: dict[str, str]
    reader: dict[str, str]
    nodes: list[Node] = field(default_factory=list)

    def node(self, name: str) -> Node:
        port = free_port()
        node = Node(f"http://127.0.0.1:{port}", port, dict(self.env), self.tmp / f"{name}.log")
        self.nodes.append(node)
        return node


def _launch(node: Node) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")} | node.env
    args = [sys.executable, "-m", "ringfence.cli", "serve", "--port", str(node.port)]
    with node.log.open("ab") as out:
        node.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(node: Node, *, connected: bool = True, timeout: float = 60.0) -> dict[str, Any]:
    """Wait for /ready (and, with ``connected``, for the node's bus to be connected and reading)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{node.url}/ready", timeout=1)
            if answer.status_code == 200:
                ready: dict[str, Any] = answer.json()
                if not connected or ready["bus"].get("consuming"):
                    return ready
        except httpx.TransportError:
            pass
        assert node.process is not None
        if node.process.poll() is not None:
            raise AssertionError(f"node exited: {node.log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"node not ready within {timeout} s: {node.log.read_text()[-3000:]}")


def start(*nodes: Node) -> None:
    for node in nodes:
        _launch(node)
    for node in nodes:
        _wait_ready(node)


def stop(node: Node) -> None:
    if node.process is None:
        return
    os.killpg(node.process.pid, signal.SIGTERM)
    try:
        node.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(node.process.pid, signal.SIGKILL)
        node.process.wait()
    node.process = None


def _keys(database_url: str) -> tuple[str, str]:
    runtime = Runtime.open(Settings(database_url=database_url), load_index=False)
    try:
        return (
            runtime.members.add("carrier-a", Role.REPORTER)[1],
            runtime.members.add("contact-centre-c", Role.READER)[1],
        )
    finally:
        runtime.close()


@contextmanager
def _cluster(pg_url: str, tmp_path: Path, nats_url: str, stream: str, subject: str) -> Iterator[Cluster]:
    """Members and keys in the store, the nodes' shared settings; every node started is stopped at the end."""
    reporter, reader = _keys(pg_url)
    env = {
        "RINGFENCE_DATABASE_URL": pg_url,
        "RINGFENCE_NATS_URL": nats_url,
        "RINGFENCE_NATS_STREAM": stream,
        "RINGFENCE_NATS_SUBJECT": subject,
        "RINGFENCE_FEED_POLL_MS": str(POLL_MS),
        "RINGFENCE_STREAM_KEEPALIVE_S": "1",  # lets a test's stream reader notice it is asked to stop
    }
    cluster = Cluster(env, tmp_path, {"Authorization": f"Bearer {reporter}"}, {"Authorization": f"Bearer {reader}"})
    try:
        yield cluster
    finally:
        for node in cluster.nodes:
            stop(node)


@pytest.fixture(scope="module")
def cluster(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Nodes A and B on the shared NATS (a stream and subject of this module's own) and a PostgreSQL schema of this
    module's own, started once for the tests that use them (starting a node takes seconds); those tests use numbers
    of their own and leave both nodes running."""
    url = require_nats()
    stream, subject = names()
    schema = f"rf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        database_url = f"{pg_server}?options=-csearch_path%3D{schema}"
        with _cluster(database_url, tmp_path_factory.mktemp("nodes"), url, stream, subject) as found:
            start(found.node("a"), found.node("b"))
            yield found
    finally:
        delete_stream(url, stream)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- helpers ------------------------------------------------------------------------------------------------------
def report(cluster: Cluster, node: Node, number: str, report_id: str | None = None) -> None:
    body = {"number": number, "category": "wangiri", **({"report_id": report_id} if report_id else {})}
    answer = httpx.post(f"{node.url}/v1/reports", json=body, headers=cluster.reporter, timeout=10)
    assert answer.status_code == 201, answer.text


def listed(cluster: Cluster, node: Node, number: str) -> bool:
    answer = httpx.get(f"{node.url}/v1/numbers/{number}", headers=cluster.reader, timeout=5)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["listed"])


def within(seconds: float, check: Callable[[], bool], what: str) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.01)
    return time.monotonic() - started


class Events:
    """An SSE change stream of one node, read in a thread: the events arrive in :attr:`queue` as dicts."""

    def __init__(self, cluster: Cluster, node: Node, last_event_id: int | None = None) -> None:
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.opened = threading.Event()
        self.stopping = threading.Event()
        headers = dict(cluster.reader)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self.thread = threading.Thread(target=self._read, args=(f"{node.url}/v1/changes/stream", headers), daemon=True)
        self.thread.start()
        assert self.opened.wait(10), "the change stream did not open"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                assert response.status_code == 200
                event: dict[str, str] = {}
                for line in response.iter_lines():
                    if self.stopping.is_set():
                        return
                    if line.startswith(": ringfence change stream"):
                        self.opened.set()
                    elif line.startswith(("event: ", "data: ", "id: ")):
                        key, _, value = line.partition(": ")
                        event[key] = value
                    elif not line and event:
                        if event.get("event") == "change":
                            self.queue.put({"id": int(event["id"]), **orjson.loads(event["data"])})
                        event = {}
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test

    def take(self, count: int, timeout: float = 1.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        return [self.queue.get(timeout=max(deadline - time.monotonic(), 0.001)) for _ in range(count)]

    def close(self) -> None:
        """Stop reading (at the next keep-alive at the latest) and close the connection."""
        self.stopping.set()
        self.thread.join(5)
        self.client.close()


# --- the tests ----------------------------------------------------------------------------------------------------
def test_a_change_on_one_node_reaches_the_other_within_a_second(cluster: Cluster) -> None:
    a, b = cluster.nodes
    ready_a, ready_b = _wait_ready(a), _wait_ready(b)
    assert ready_a["node"] != ready_b["node"]
    assert ready_b["bus"]["transport"] == "nats" and ready_b["bus"]["stream"] == cluster.env["RINGFENCE_NATS_STREAM"]
    events = Events(cluster, b)
    try:
        report(cluster, a, "+447400100001", "scale-1")
        took = within(1.0, lambda: listed(cluster, b, "+447400100001"), "a report on A listed on B")
        [change] = events.take(1)
        assert change["number"] == "+447400100001" and change["kind"] == "listed"

        answer = httpx.delete(f"{b.url}/v1/reports/scale-1", headers=cluster.reporter, timeout=10)
        assert answer.status_code == 200, answer.text
        within(1.0, lambda: not listed(cluster, a, "+447400100001"), "a withdrawal on B unlisted on A")
        [withdrawn] = events.take(1)
        assert withdrawn["kind"] == "withdrawn" and withdrawn["id"] == change["id"] + 1
    finally:
        events.close()
    assert took < 1.0
    assert _wait_ready(a)["bus"]["published"] >= 1 and _wait_ready(b)["bus"]["received"] >= 1


def test_a_node_that_was_down_catches_up_and_its_stream_resumes_without_a_gap(cluster: Cluster) -> None:
    a, b = cluster.nodes
    report(cluster, a, "+447400200000")
    within(1.0, lambda: listed(cluster, b, "+447400200000"), "the first report on B")
    seen = httpx.get(f"{b.url}/v1/changes", headers=cluster.reader).json()["head"]

    stop(b)
    missed = [f"+44740020000{i}" for i in range(1, 6)]
    for number in missed:
        report(cluster, a, number)
    start(b)
    assert all(listed(cluster, b, number) for number in missed)

    events = Events(cluster, b, last_event_id=seen)  # an SSE client reconnecting where it stopped
    try:
        replayed = events.take(5)
        assert [e["id"] for e in replayed] == list(range(seen + 1, seen + 6))
        assert [e["number"] for e in replayed] == missed
        report(cluster, a, "+447400200009")
        [live] = events.take(1)
        assert live["id"] == seen + 6 and live["number"] == "+447400200009"
    finally:
        events.close()


@pytest.fixture
def private_cluster(pg_url: str, tmp_path: Path) -> Iterator[tuple[Cluster, PrivateNats]]:
    """Nodes on a nats-server of the test's own, which it may kill."""
    server = PrivateNats(require_nats_server(), tmp_path / "nats")
    server.start()
    try:
        stream, subject = names()
        with _cluster(pg_url, tmp_path, server.url, stream, subject) as found:
            yield found, server
    finally:
        server.kill()


def test_nodes_losing_nats_keep_serving_and_catch_up_when_it_is_back(
    private_cluster: tuple[Cluster, PrivateNats],
) -> None:
    cluster, server = private_cluster
    a, b = cluster.node("a"), cluster.node("b")
    start(a, b)
    report(cluster, a, "+447400300001")
    within(1.0, lambda: listed(cluster, b, "+447400300001"), "a report through NATS")

    server.kill()
    within(5.0, lambda: not _wait_ready(a, connected=False)["bus"]["connected"], "A notices NATS is gone")
    within(5.0, lambda: not _wait_ready(b, connected=False)["bus"]["connected"], "B notices NATS is gone")
    # both keep serving from their index, and writes still succeed
    assert listed(cluster, a, "+447400300001") and listed(cluster, b, "+447400300001")
    report(cluster, a, "+447400300002")
    assert listed(cluster, a, "+447400300002") and not listed(cluster, b, "+447400300002")  # no bus, no poll yet
    report(cluster, b, "+447400300003")  # (B's own write makes it read the store up to it: A's change comes too)
    assert listed(cluster, b, "+447400300003") and not listed(cluster, a, "+447400300003")
    ready = _wait_ready(a, connected=False)
    assert ready["status"] == "ready" and ready["bus"]["dropped"] >= 1 and ready["bus"]["last_error"]

    server.start()  # same port, same storage
    _wait_ready(a, timeout=5)
    _wait_ready(b, timeout=5)
    # on reconnecting each node reads the store: what was made while NATS was away is there
    within(2.0, lambda: listed(cluster, b, "+447400300002"), "the change made on A while NATS was away, on B")
    within(2.0, lambda: listed(cluster, a, "+447400300003"), "the change made on B while NATS was away, on A")
    report(cluster, a, "+447400300004")
    within(1.0, lambda: listed(cluster, b, "+447400300004"), "a report through NATS again")
    assert _wait_ready(b)["bus"]["reconnects"] >= 1
