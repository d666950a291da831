"""A real HTTP endpoint for webhook tests: records every request, and answers as it is told.

``Receiver.script`` is a list of what to do with the next requests, one entry each (then ``default``): ``"ok"``
(204), an HTTP status as an int (``500``, ``410``, …), ``"sleep"`` (answer 200 after ``sleep_s``, past the sender's
timeout), ``"close"`` (read the request, then close the connection without answering).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

__all__ = ["Received", "Receiver", "receiver_at"]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()
    answer: str  # what the receiver did with it

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    default: str | int = "ok"
    script: list[str | int] = field(default_factory=list)
    sleep_s: float = 2.0
    retry_after: str | None = None
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def next_action(self) -> str | int:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def record(self, received: Received) -> None:
        with self.arrived:
            self.requests.append(received)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until ``count`` requests arrived (or fail)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self.arrived.wait(left)
            return list(self.requests)

    @property
    def delivered(self) -> list[Received]:
        """Requests answered 2xx."""
        with self.lock:
            return [r for r in self.requests if r.answer == "ok"]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            action = receiver.next_action()
            headers = {k: v for k, v in self.headers.items()}
            receiver.record(Received(self.path, headers, body, time.monotonic(), str(action)))
            if action == "close":
                self.close_connection = True
                return
            if action == "sleep":
                time.sleep(receiver.sleep_s)
                action = 200
            status = 204 if action == "ok" else int(action)
            text = b"" if status < 300 else b"receiver says no"
            self.send_response(status)
            if receiver.retry_after is not None and status in (429, 503):
                self.send_header("Retry-After", receiver.retry_after)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many senders at once

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that gave up: not our business
        pass


@contextmanager
def receiver_at(path: str = "/hook") -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 and a free port, until the block ends; ``receiver.url`` is its URL."""
    receiver = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
