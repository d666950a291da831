"""A real HTTP server publishing a hotlist, for auto-sync tests: serves ``body`` at its URL (with an ETag when
``etag`` is on, answering 304 to a matching If-None-Match), records every request, and can be told to answer an
error status or to stall past the client's timeout."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Publisher", "publisher_at"]


@dataclass
class Publisher:
    url: str = ""
    body: bytes = b""
    etag: bool = False
    status: int = 200
    stall_s: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, text: str | bytes) -> None:
        with self.lock:
            self.body = text.encode() if isinstance(text, str) else text

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)


def _handler(publisher: Publisher) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            with publisher.lock:
                publisher.requests.append(dict(self.headers.items()))
                body, status, stall = publisher.body, publisher.status, publisher.stall_s
                tag = f'"{hashlib.sha256(body).hexdigest()[:16]}"' if publisher.etag else None
            if stall:
                time.sleep(stall)
            if tag is not None and self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            payload = body if status == 200 else b"not today"
            self.send_response(status)
            if tag is not None:
                self.send_header("ETag", tag)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that gave up
        pass


@contextmanager
def publisher_at(path: str = "/irsf.txt") -> Iterator[Publisher]:
    """A publisher on 127.0.0.1 and a free port until the block ends; ``publisher.url`` is its list's URL."""
    publisher = Publisher()
    server = _Server(("127.0.0.1", 0), _handler(publisher))
    publisher.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield publisher
    finally:
        server.shutdown()
        server.server_close()
