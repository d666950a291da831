"""What a real server does not do on demand, with a scripted transport: malformed answers, dropped connections,
retries, and the change stream's reconnect protocol (Last-Event-ID, duplicates, error events, 5xx, 410)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.client import (
    AuthError,
    ChangesPage,
    ClientError,
    FeedExpired,
    LookupResult,
    NewReport,
    RingfenceClient,
    ServerError,
    TransportError,
    UnexpectedAnswer,
)
from ringfence.client.sse import parse_events
from ringfence.client.stream import Follower

Handler = Callable[[httpx.Request], httpx.Response]

INFO = {"country": "GB", "country_code": 44, "type": "fixed_line", "valid": True}
LISTING = {
    "first_reported_at": "2026-09-21T14:13:20.000Z",
    "last_reported_at": "2026-09-21T14:13:20.000Z",
    "report_count": 1,
    "reporter_count": 1,
    "categories": ["irsf"],
}
ANSWER: dict[str, Any] = {"number": "+442079460018", "listed": True, "info": INFO, "listing": LISTING}


def _client(handler: Handler, **kwargs: Any) -> RingfenceClient:
    return RingfenceClient("http://ringfence.test", "rf_key", transport=httpx.MockTransport(handler), **kwargs)


def _json(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body), headers={"content-type": "application/json"})


def _change(seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": "2026-09-21T14:13:20.000Z",
        "kind": "listed",
        "number": f"+4420794600{seq:02d}",
        "info": INFO,
        "listed": True,
        "categories": ["irsf"],
        "listing": LISTING,
    }


def _sse(*events: bytes) -> httpx.Response:
    return httpx.Response(200, content=b"".join(events), headers={"content-type": "text/event-stream"})


def _event(seq: int) -> bytes:
    return b"id: %d\nevent: change\ndata: %s\n\n" % (seq, orjson.dumps(_change(seq)))


# --- answers that are not what the API promises -------------------------------------------------------------------
def test_answers_that_are_not_json_or_not_the_right_shape_raise_unexpected_answer() -> None:
    bodies: list[httpx.Response] = [
        httpx.Response(200, content=b"<html>maintenance</html>"),
        _json([ANSWER]),
        _json({**ANSWER, "listing": {**LISTING, "report_count": "1"}}),
        _json({k: v for k, v in ANSWER.items() if k != "info"}),
        _json({**ANSWER, "listing": {**LISTING, "first_reported_at": "yesterday"}}),
    ]
    fields = [None, None, "listing.report_count", "info", "listing.first_reported_at"]
    for response, field in zip(bodies, fields, strict=True):
        with _client(lambda _request, r=response: r) as client, pytest.raises(UnexpectedAnswer) as caught:
            client.lookup("+442079460018")
        assert caught.value.status == 200 and caught.value.code == "unexpected_answer"
        if field is not None:
            assert caught.value.details["field"] == field and field in caught.value.message


def test_a_batch_answer_of_the_wrong_length_is_refused() -> None:
    with _client(lambda _r: _json({"results": [ANSWER]})) as client, pytest.raises(UnexpectedAnswer) as caught:
        client.lookup_many(["+442079460018", "+442079460019"])
    assert "1 results for 2 numbers" in caught.value.message


def test_error_statuses_without_an_error_body_keep_their_status() -> None:
    cases = [
        (httpx.Response(502, content=b"<html>Bad gateway</html>"), ServerError, 502),
        (httpx.Response(401, content=b""), AuthError, 401),
        (httpx.Response(418, content=b"teapot"), ClientError, 418),
    ]
    for response, kind, status in cases:
        with _client(lambda _r, r=response: r) as client, pytest.raises(kind) as caught:
            client.head()
        assert caught.value.status == status and caught.value.code == "http_error"
        assert str(status) in caught.value.message


def _replace(value: Any, path: list[str | int], new: object) -> Any:
    """``value`` with the item at ``path`` replaced (or deleted, when ``new`` is the sentinel ``...``)."""
    out = copy.deepcopy(value)
    target = out
    for key in path[:-1]:
        target = target[key]
    if new is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return out


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_PATHS: list[list[str | int]] = [
    ["number"],
    ["listed"],
    ["info"],
    ["info", "country"],
    ["info", "country_code"],
    ["listing"],
    ["listing", "categories"],
    ["listing", "categories", 0],
    ["listing", "last_reported_at"],
    ["listing", "reporter_count"],
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_PATHS), st.just(...) | _JSON_VALUES)
def test_any_damage_to_an_answer_is_a_client_error_or_a_typed_result(path: list[str | int], new: object) -> None:
    body = orjson.dumps(_replace(ANSWER, path, new))
    change = orjson.dumps({"changes": [_replace(_change(1), path, new)], "next": 1, "head": 1})
    batch = orjson.dumps({"results": [_replace(ANSWER, path, new)]})
    answers = {"/v1/numbers/+442079460018": body, "/v1/changes": change, "/v1/numbers/lookup": batch}
    with _client(lambda r: httpx.Response(200, content=answers[r.url.path])) as client:
        for call in (
            lambda: client.lookup("+442079460018"),
            lambda: client.changes_page(0),
            lambda: client.lookup_many(["+442079460018"]),
        ):
            try:
                result = call()
            except ClientError:
                continue
            assert isinstance(result, LookupResult | ChangesPage | list)


# --- retries ------------------------------------------------------------------------------------------------------
class Flaky:
    """Fails the first ``failures`` requests with ``error``, then answers ``answer``."""

    def __init__(self, failures: int, error: type[httpx.TransportError], answer: httpx.Response) -> None:
        self.failures = failures
        self.error = error
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            raise self.error("connection lost", request=request)
        return self.answer


REPORT_ANSWER = {
    "report": {
        "id": "1",
        "report_id": "r-1",
        "number": "+442079460018",
        "category": "irsf",
        "occurred_at": "2026-09-21T14:13:20.000Z",
        "received_at": "2026-09-21T14:13:20.000Z",
        "note": None,
        "withdrawn_at": None,
        "withdrawn_reason": None,
    },
    "duplicate": True,
    "listing": ANSWER,
}


def test_idempotent_calls_are_retried_after_a_connection_failure() -> None:
    flaky = Flaky(2, httpx.ConnectError, _json(ANSWER))
    with _client(flaky) as client:
        assert isinstance(client.lookup("+442079460018"), LookupResult)
    assert len(flaky.requests) == 3

    flaky = Flaky(1, httpx.ReadError, _json(REPORT_ANSWER))
    with _client(flaky) as client:
        assert client.report("+442079460018", "irsf", report_id="r-1").duplicate
    assert len(flaky.requests) == 2
    assert orjson.loads(flaky.requests[0].content) == orjson.loads(flaky.requests[1].content)


def test_retries_give_up_with_a_transport_error() -> None:
    flaky = Flaky(10, httpx.ConnectError, _json(ANSWER))
    with _client(flaky, retries=1) as client, pytest.raises(TransportError) as caught:
        client.lookup("+442079460018")
    assert caught.value.code == "unreachable" and caught.value.status is None
    assert len(flaky.requests) == 2


def test_calls_that_are_not_idempotent_are_not_retried() -> None:
    for send in (
        lambda c: c.report("+442079460018", "irsf"),  # no report_id: a repeat would be a second report
        lambda c: c.bulk_report([NewReport("+442079460018", "irsf", report_id="r-1")]),
    ):
        flaky = Flaky(1, httpx.ReadError, _json(REPORT_ANSWER))
        with _client(flaky) as client, pytest.raises(TransportError) as caught:
            send(client)
        assert caught.value.code == "transport_error"
        assert len(flaky.requests) == 1


# --- the change stream's protocol ---------------------------------------------------------------------------------
class Script:
    """Answers stream requests in turn from a list, recording what each asked for."""

    def __init__(self, answers: list[httpx.Response | type[httpx.TransportError]]) -> None:
        self.answers: Iterator[httpx.Response | type[httpx.TransportError]] = iter(answers)
        self.asked: list[tuple[str | None, str | None]] = []  # (since, Last-Event-ID)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/changes/stream"
        self.asked.append((request.url.params.get("since"), request.headers.get("last-event-id")))
        answer = next(self.answers)
        if isinstance(answer, type):
            raise answer("dropped", request=request)
        return answer


def test_the_stream_reconnects_from_the_last_seq_and_drops_what_it_has_already_handed_out() -> None:
    script = Script(
        [
            _json({"error": {"code": "internal", "message": "restarting", "details": {}}}, status=503),
            _sse(b"retry: 10\n: hello\n\n", _event(5), b": keepalive\n\n", _event(6)),  # then the connection ends
            httpx.ConnectError,
            _sse(_event(6), _event(7), b'event: error\ndata: {"code":"slow_consumer","resume_after":7}\n\n'),
            _sse(_event(8), b'id: 9\nevent: change\ndata: {"seq": 9, "at"'),  # cut off inside an event
            _json({"error": {"code": "since_expired", "message": "gone", "details": {"floor": 20, "head": 30}}}, 410),
        ]
    )
    with _client(script) as client:
        stream = client.changes(since=4, categories="irsf", reconnect_delay=0.01)
        got: list[int] = []
        with pytest.raises(FeedExpired) as caught:
            for change in stream:
                got.append(change.seq)
    assert got == [5, 6, 7, 8]
    assert script.asked == [("4", "4"), ("4", "4"), ("6", "6"), ("6", "6"), ("7", "7"), ("8", "8")]
    assert (caught.value.floor, caught.value.head) == (20, 30)
    assert stream.reconnects == 5 and stream.last_seq == 8


def test_the_stream_raises_what_reconnecting_cannot_fix() -> None:
    cases: list[tuple[httpx.Response, type[ClientError]]] = [
        (httpx.Response(200, content=b"{}", headers={"content-type": "application/json"}), UnexpectedAnswer),
        (_sse(b"event: change\ndata: {not json}\n\n"), UnexpectedAnswer),
        (_sse(b'event: change\ndata: {"seq": "1"}\n\n'), UnexpectedAnswer),
        (_json({"error": {"code": "forbidden_role", "message": "no", "details": {}}}, 403), AuthError),
    ]
    for response, kind in cases:
        with _client(Script([response])) as client, pytest.raises(kind):
            next(client.changes(since=0, reconnect_delay=0.01))


def test_reconnect_delays_follow_the_server_hint_and_back_off() -> None:
    follower = Follower(0, [], max_reconnect_delay=5.0)
    assert 0.8 <= follower.next_delay() <= 1.0  # nobody said: one second
    follower = Follower(0, [])
    follower.server_retry_ms = 2000
    delays = [follower.next_delay() for _ in range(6)]
    assert 1.6 <= delays[0] <= 2.0 and 3.2 <= delays[1] <= 4.0
    assert all(d <= 30.0 for d in delays) and delays[-1] >= 24.0  # capped at max_reconnect_delay
    (event,) = parse_events([_event(1)])
    assert follower.accept(event) is not None
    assert follower.failures == 0  # a change received resets the back-off
    with pytest.raises(ValueError):
        Follower(-1, [])
