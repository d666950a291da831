"""NATS for the tests: the shared server (127.0.0.1:4222), private servers a test may kill, per-test stream names.

Under CI=true a shared NATS that does not answer, or a missing nats-server binary, fails the run instead of skipping.
Each test uses a stream and subject of its own (deleted afterwards), so tests never see each other's changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

__all__ = ["NATS_URL", "PrivateNats", "delete_stream", "free_port", "names", "require_nats", "require_nats_server"]

NATS_URL = os.environ.get("RINGFENCE_TEST_NATS", "nats://127.0.0.1:4222")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """A NATS server greets every connection with an INFO line."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(5).startswith(b"INFO")
    except OSError:
        return False


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI requires the NATS tests")
    pytest.skip(reason)


def require_nats() -> str:
    """The shared NATS server's URL; skips (fails under CI=true) when it does not answer."""
    parts = urlsplit(NATS_URL)
    if not _answers(parts.hostname or "127.0.0.1", parts.port or 4222):
        _unavailable(f"NATS at {NATS_URL} does not answer")
    return NATS_URL


def require_nats_server() -> str:
    """The nats-server binary, for servers of a test's own."""
    found = shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/local/bin/nats-server") if os.access(p, os.X_OK)), None
    )
    if found is None:
        _unavailable("nats-server is not installed")
    assert found is not None
    return found


def names() -> tuple[str, str]:
    """A stream name and a subject of this test's own."""
    tag = uuid.uuid4().hex[:12]
    return f"RF_TEST_{tag}", f"ringfence.test.{tag}"


async def _delete_stream(url: str, stream: str) -> None:
    import nats
    import nats.errors

    client = await nats.connect(url, connect_timeout=2, allow_reconnect=False)
    try:
        with contextlib.suppress(nats.errors.Error):
            await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


def delete_stream(url: str, stream: str) -> None:
    """Remove a test's stream (from a synchronous test or fixture)."""
    with contextlib.suppress(OSError, TimeoutError):
        asyncio.run(_delete_stream(url, stream))


class PrivateNats:
    """A JetStream nats-server of the test's own on a free loopback port, which the test may kill and start again
    (same port, same storage directory)."""

    def __init__(self, binary: str, store_dir: Path, port: int | None = None) -> None:
        self.binary = binary
        self.store_dir = store_dir
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        args = [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _answers("127.0.0.1", self.port, 0.2):
            if self.process.poll() is not None:
                raise AssertionError(f"nats-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise AssertionError(f"nats-server did not answer on port {self.port} within {timeout} s")
            time.sleep(0.05)

    def kill(self) -> None:
        """Kill the server outright (no goodbye to its clients)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None
