"""A real HTTP server over a runtime, in a thread of the test process (uvicorn on a free port).

The in-process ASGI client buffers whole responses, so streams (SSE, WebSocket) and anything that needs a real
socket are tested against this instead.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from ringfence.runtime import Runtime

__all__ = ["free_port", "live_server"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(
    runtime: Runtime, *, daemons: bool = True, port: int | None = None, shutdown_timeout_s: int | None = None
) -> Iterator[str]:
    """Serve ``create_app(runtime)`` until the block ends; yields the base URL.

    ``port`` (default: a free one) lets a test start a server again where clients already point (a restart);
    ``shutdown_timeout_s`` bounds how long stopping waits for open responses such as streams before cutting them off
    (default: it waits for them, up to the 10 s join)."""
    from ringfence.api import create_app

    port = free_port() if port is None else port
    config = uvicorn.Config(
        create_app(runtime, daemons=daemons),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=shutdown_timeout_s,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
