"""/v1/changes over HTTP: the paged feed, the SSE stream (resume with Last-Event-ID, no gap, no duplicate; an
expired start refused; slow readers cut off) and the WebSocket."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
import websockets

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.registry.models import Category, Member, NewReport, Role
from ringfence.runtime import Runtime
from tests.live import live_server
from tests.support import Keys, bearer

DAY = 86_400_000


def _reporter(runtime: Runtime) -> Member:
    return runtime.members.add("feeder", Role.REPORTER)[0]


def _report(runtime: Runtime, member: Member, number: int, category: Category = Category.VISHING) -> None:
    runtime.registry.report(member, NewReport(number=number, category=category, occurred_ms=0))


async def test_the_page_lists_changes_after_since_with_next_and_head(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    member = _reporter(runtime)
    for i in range(5):
        _report(runtime, member, 447700900000 + i)
    answer = await client.get("/v1/changes", params={"since": 1, "limit": 2}, headers=bearer(keys.reader))
    assert answer.status_code == 200
    body = answer.json()
    assert [c["seq"] for c in body["changes"]] == [2, 3] and body["next"] == 3 and body["head"] == 5
    change = body["changes"][0]
    assert change["kind"] == "listed" and change["number"] == "+447700900001" and change["listed"] is True
    assert change["listing"]["report_count"] == 1 and change["categories"] == ["vishing"]
    assert "member" not in orjson.dumps(body).decode()  # never who reported


async def test_head_says_where_the_feed_stands(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys, clock: FixedClock
) -> None:
    member = _reporter(runtime)
    for i in range(3):
        _report(runtime, member, 447700900000 + i)
    clock.advance(8 * DAY)
    runtime.feed.log.prune(clock.now_ms() - 7 * DAY)
    answer = await client.get("/v1/changes/head", headers=bearer(keys.reader))
    assert answer.json() == {"head": 3, "floor": 2, "applied": 3}


async def test_the_page_filters(client: httpx.AsyncClient, runtime: Runtime, keys: Keys) -> None:
    member = _reporter(runtime)
    _report(runtime, member, 442079460018)
    _report(runtime, member, 33142685300, Category.SMISHING)
    answer = await client.get(
        "/v1/changes", params=[("country", "FR"), ("category", "smishing,robocall")], headers=bearer(keys.reader)
    )
    assert [c["number"] for c in answer.json()["changes"]] == ["+33142685300"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"category": "scam"}, "unknown_category"),
        ({"country": "XX"}, "unknown_country"),
        ({"prefix": "44-abc"}, "invalid_prefix"),
        ({"since": "-1"}, "invalid_parameter"),
        ({"limit": "0"}, "invalid_parameter"),
    ],
)
async def test_bad_page_requests_get_a_clear_422(
    client: httpx.AsyncClient, keys: Keys, params: dict[str, str], code: str
) -> None:
    answer = await client.get("/v1/changes", params=params, headers=bearer(keys.reader))
    assert answer.status_code == 422 and answer.json()["error"]["code"] == code


async def test_the_feed_needs_a_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/changes")).status_code == 401
    assert (await client.get("/v1/changes/stream")).status_code == 401


async def test_an_expired_since_is_410_with_the_floor(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys, clock: FixedClock
) -> None:
    member = _reporter(runtime)
    for i in range(3):
        _report(runtime, member, 447700900000 + i)
    clock.advance(8 * DAY)
    _report(runtime, member, 442079460018)
    runtime.feed.log.prune(clock.now_ms() - 7 * DAY)
    for path in ("/v1/changes", "/v1/changes/stream"):
        answer = await client.get(path, params={"since": 1}, headers=bearer(keys.reader))
        assert answer.status_code == 410
        error = answer.json()["error"]
        assert error["code"] == "since_expired" and error["details"]["floor"] == 3 and "snapshot" in error["message"]
    answer = await client.get("/v1/changes", params={"since": 3}, headers=bearer(keys.reader))
    assert [c["seq"] for c in answer.json()["changes"]] == [4]


# --- streams against a real server ------------------------------------------------------------------------------
@pytest.fixture
def stream_runtime(tmp_path: object) -> Iterator[Runtime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/feed.db", default_region="GB", stream_keepalive_s=1)
    runtime = Runtime.open(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def _events(response: httpx.Response, count: int) -> list[dict[str, object]]:
    """Read ``count`` change events (their id and data) off an SSE response."""
    out: list[dict[str, object]] = []
    event: dict[str, object] = {}
    for line in response.iter_lines():
        if line.startswith("id: "):
            event["id"] = int(line[4:])
        elif line.startswith("event: "):
            event["event"] = line[7:]
        elif line.startswith("data: "):
            event["data"] = orjson.loads(line[6:])
        elif line == "" and event:
            out.append(event)
            event = {}
            if len(out) == count:
                return out
    return out


def test_sse_replays_then_goes_live_and_resumes_with_last_event_id(stream_runtime: Runtime) -> None:
    runtime = stream_runtime
    member = _reporter(runtime)
    key = runtime.members.add("reader", Role.READER)[1]
    for i in range(3):
        _report(runtime, member, 447700900000 + i)
    with live_server(runtime) as url, httpx.Client(base_url=url, headers=bearer(key), timeout=10) as http:
        with http.stream("GET", "/v1/changes/stream", params={"since": 0}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            later = threading.Timer(0.3, lambda: _report(runtime, member, 447700900099))
            later.start()
            events = _events(response, 4)
        assert [e["id"] for e in events] == [1, 2, 3, 4]
        assert events[3]["event"] == "change" and events[3]["data"]["number"] == "+447700900099"  # type: ignore[index]

        _report(runtime, member, 447700900100)  # made while no one listens
        _report(runtime, member, 447700900101)
        with http.stream("GET", "/v1/changes/stream", headers={"Last-Event-ID": "4"}) as response:
            resumed = _events(response, 2)
        assert [e["id"] for e in resumed] == [5, 6]  # no gap, nothing twice

        with http.stream("GET", "/v1/changes/stream") as response:  # no start: from now on
            threading.Timer(0.3, lambda: _report(runtime, member, 447700900102)).start()
            assert [e["id"] for e in _events(response, 1)] == [7]


def test_sse_keeps_idle_streams_alive_and_filters(stream_runtime: Runtime) -> None:
    runtime = stream_runtime
    member = _reporter(runtime)
    key = runtime.members.add("reader", Role.READER)[1]
    with live_server(runtime) as url, httpx.Client(base_url=url, headers=bearer(key), timeout=10) as http:
        with http.stream("GET", "/v1/changes/stream", params={"prefix": "+33"}) as response:

            def later() -> None:
                time.sleep(1.5)  # longer than the keep-alive interval
                _report(runtime, member, 442079460018)
                _report(runtime, member, 33142685300)

            threading.Thread(target=later).start()
            seen: list[str] = []
            for line in response.iter_lines():
                seen.append(line)
                if line.startswith("data: "):
                    break
        assert ": keepalive" in seen
        assert orjson.loads(seen[-1][6:])["number"] == "+33142685300"


def test_sse_cuts_off_a_reader_that_falls_behind(tmp_path: object) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/slow.db", stream_queue=10, stream_keepalive_s=1)
    runtime = Runtime.open(settings)
    try:
        member = _reporter(runtime)
        key = runtime.members.add("reader", Role.READER)[1]
        with (
            live_server(runtime) as url,
            httpx.Client(base_url=url, headers=bearer(key), timeout=10) as http,
            http.stream("GET", "/v1/changes/stream") as response,
        ):
            time.sleep(0.3)  # the stream is live and waiting
            runtime.registry.report_many(
                member, [(i, NewReport(447700900000 + i, Category.VISHING, 0)) for i in range(1, 30)]
            )
            text = "\n".join(response.iter_lines())
        assert "event: error" in text and "slow_consumer" in text
        error = orjson.loads(text.split("event: error\ndata: ")[1].split("\n")[0])
        assert error["resume_after"] == 0  # nothing was handed out before the cut: resume from the start
    finally:
        runtime.close()


def test_websocket_subscribes_with_filters_and_receives_changes(stream_runtime: Runtime) -> None:
    runtime = stream_runtime
    member = _reporter(runtime)
    key = runtime.members.add("reader", Role.READER)[1]
    _report(runtime, member, 33142685300)

    async def session(url: str) -> list[dict[str, object]]:
        async with websockets.connect(url.replace("http", "ws") + "/v1/changes/ws") as ws:
            await ws.send(orjson.dumps({"type": "subscribe", "since": 0, "prefixes": ["+33"], "key": key}).decode())
            got = [orjson.loads(await ws.recv())]
            await asyncio.to_thread(_report, runtime, member, 442079460018)
            await asyncio.to_thread(_report, runtime, member, 33142685301)
            while len(got) < 3:
                message = orjson.loads(await ws.recv())
                if message["type"] != "heartbeat":
                    got.append(message)
            return got

    with live_server(runtime) as url:
        got = asyncio.run(session(url))
    assert got[0]["type"] == "subscribed" and got[0]["filter"] == {
        "categories": [],
        "countries": [],
        "prefixes": ["+33"],
    }
    assert [(m["type"], m["seq"], m["number"]) for m in got[1:]] == [
        ("change", 1, "+33142685300"),
        ("change", 3, "+33142685301"),
    ]


@pytest.mark.parametrize(
    ("message", "close_code", "error"),
    [
        ({"type": "subscribe"}, 4401, "missing_key"),
        ({"type": "subscribe", "key": "rf_nope_nope"}, 4401, None),
        ({"type": "hello"}, 4422, "invalid_subscribe"),
        ({"type": "subscribe", "since": "x", "key": None}, 4401, "missing_key"),
        ({"type": "subscribe", "colour": "red"}, 4422, "invalid_subscribe"),
        ({"type": "subscribe", "categories": ["scam"], "key": "KEY"}, 4422, "unknown_category"),
        ({"type": "subscribe", "since": -5, "key": "KEY"}, 4422, "invalid_since"),
    ],
)
def test_websocket_refuses_bad_subscriptions_with_a_reason(
    stream_runtime: Runtime, message: dict[str, object], close_code: int, error: str | None
) -> None:
    key = stream_runtime.members.add("reader", Role.READER)[1]
    if message.get("key") == "KEY":
        message = {**message, "key": key}

    async def session(url: str) -> tuple[dict[str, object], int | None]:
        async with websockets.connect(url.replace("http", "ws") + "/v1/changes/ws") as ws:
            await ws.send(orjson.dumps(message).decode())
            answer = orjson.loads(await ws.recv())
            try:
                await ws.recv()
            except websockets.ConnectionClosed as closed:
                return answer, closed.rcvd.code if closed.rcvd else None
            return answer, None

    with live_server(stream_runtime) as url:
        answer, code = asyncio.run(session(url))
    assert answer["type"] == "error" and code == close_code
    if error:
        assert answer["code"] == error


def test_websocket_accepts_the_key_in_the_authorization_header(stream_runtime: Runtime) -> None:
    key = stream_runtime.members.add("reader", Role.READER)[1]

    async def session(url: str) -> dict[str, object]:
        async with websockets.connect(
            url.replace("http", "ws") + "/v1/changes/ws", additional_headers=bearer(key)
        ) as ws:
            await ws.send('{"type": "subscribe"}')
            answer: dict[str, object] = orjson.loads(await ws.recv())
            return answer

    with live_server(stream_runtime) as url:
        assert asyncio.run(session(url))["type"] == "subscribed"
