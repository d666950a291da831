"""Following the change feed over Server-Sent Events, for ever, through dropped connections.

The stream remembers the seq of the last change it handed out. Whenever the connection ends (the server restarts, the
network fails, nothing arrives for ``read_timeout`` seconds, or the server cuts off a reader that fell behind with a
``slow_consumer`` error event) it reconnects after a pause, sending that seq as ``Last-Event-ID``: the server replays
everything after it, so the caller sees every change once, in order, with no gap. A change at or below that seq is
never handed out twice. The pause is the server's ``retry`` hint (or ``reconnect_delay``), doubled after each failed
attempt up to ``max_reconnect_delay``, and reset by the next change received.

What reconnecting cannot fix is raised: :class:`~ringfence.client.errors.FeedExpired` when the server no longer
keeps the changes after that seq, an :class:`~ringfence.client.errors.AuthError` when the key stops working, and so
on. Answers with a 5xx status and connection failures are retried.

:class:`ChangeStream` (sync) and :class:`AsyncChangeStream` share :class:`Follower`, which holds all of this but the
I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType

import httpx

from ringfence.client.calls import STREAM_PATH, Params
from ringfence.client.decode import Fields, loads
from ringfence.client.errors import UnexpectedAnswer, error_from_answer
from ringfence.client.models import Change
from ringfence.client.sse import ServerSentEvent, SSEParser

__all__ = ["AsyncChangeStream", "ChangeStream", "Follower"]

log = logging.getLogger("ringfence.client")

#: Pause before reconnecting when neither the caller nor the server said (seconds).
DEFAULT_RECONNECT_DELAY = 1.0
#: Statuses that mean "try again later" rather than "this request is wrong".
_RETRY_STATUSES = frozenset({408, 425, 429})


class _Reconnect(Exception):
    """The connection is over; open a new one from the last seq."""


class Follower:
    """A change stream's position and reconnection policy, without the I/O."""

    def __init__(
        self, since: int, filters: Params, reconnect_delay: float | None = None, max_reconnect_delay: float = 30.0
    ) -> None:
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValueError(f"since must be a change seq (an integer >= 0), got {since!r}")
        self.last_seq = since
        self.filters = filters
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.server_retry_ms: int | None = None
        self.failures = 0  # connection attempts since the last change received
        self.reconnects = 0

    def request(self) -> tuple[Params, dict[str, str]]:
        """Query parameters and headers of the next connection: resume after the last seq handed out."""
        params: Params = [("since", str(self.last_seq)), *self.filters]
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", "Last-Event-ID": str(self.last_seq)}
        return params, headers

    def check_answer(self, status: int, content_type: str, error_body: bytes) -> None:
        """Raise what an answer that is not an event stream means; :class:`_Reconnect` when it is worth retrying."""
        if status == 200:
            if content_type.split(";")[0].strip().lower() != "text/event-stream":
                raise UnexpectedAnswer(
                    f"the change stream answered with {content_type or 'no content type'}, not text/event-stream",
                    status=status,
                    code="unexpected_answer",
                    details={"content_type": content_type},
                )
            return
        error = error_from_answer(status, error_body)
        if status >= 500 or status in _RETRY_STATUSES:
            log.warning("change stream: %s; reconnecting", error)
            raise _Reconnect from error
        raise error

    def accept(self, event: ServerSentEvent) -> Change | None:
        """The change an event carries, if it is one not handed out yet."""
        if event.event == "change":
            change = Change.from_json(Fields(loads(event.data.encode(), "a change event"), "change"))
            if change.seq <= self.last_seq:
                return None
            self.last_seq = change.seq
            self.failures = 0
            return change
        if event.event == "error":
            log.warning(
                "change stream: the server ended the stream: %s; resuming after seq %d", event.data, self.last_seq
            )
            raise _Reconnect
        return None

    def next_delay(self) -> float:
        """The pause before the next connection attempt (and count it)."""
        if self.reconnect_delay is not None:
            base = self.reconnect_delay
        elif self.server_retry_ms is not None:
            base = self.server_retry_ms / 1000
        else:
            base = DEFAULT_RECONNECT_DELAY
        delay = min(self.max_reconnect_delay, base * float(2 ** min(self.failures, 20)))
        self.failures += 1
        self.reconnects += 1
        return delay * random.uniform(0.8, 1.0)  # spread the reconnections of many clients after a restart


def _shutdown(response: httpx.Response) -> None:
    """Wake a thread blocked reading ``response``: shut its socket down (closing it would not wake the read)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class ChangeStream(Iterator[Change]):
    """Changes for ever (see the module docstring). Stop it with :meth:`close` (from any thread; a blocked read
    returns at once), by leaving its ``with`` block, or by closing the client."""

    def __init__(self, http: httpx.Client, follower: Follower, timeout: httpx.Timeout) -> None:
        self._http = http
        self._follower = follower
        self._timeout = timeout
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._running = False  # a thread is inside next()
        self._response: httpx.Response | None = None
        self._gen = self._run()

    @property
    def last_seq(self) -> int:
        """The seq of the last change handed out (or the start): keep it to resume later with ``since=``."""
        return self._follower.last_seq

    @property
    def reconnects(self) -> int:
        """How many times the stream has reconnected."""
        return self._follower.reconnects

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __iter__(self) -> ChangeStream:
        return self

    def __next__(self) -> Change:
        with self._lock:
            if self._closed.is_set():
                raise StopIteration
            self._running = True
        try:
            return next(self._gen)
        except StopIteration:
            self._closed.set()
            raise
        finally:
            with self._lock:
                self._running = False

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            response, idle = self._response, not self._running
        if response is not None:
            _shutdown(response)
        if idle:
            with contextlib.suppress(ValueError):  # another close() is running it
                self._gen.close()

    def __enter__(self) -> ChangeStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self) -> Generator[Change, None, None]:
        follower = self._follower
        while not self._closed.is_set():
            params, headers = follower.request()
            try:
                with self._http.stream(
                    "GET", STREAM_PATH, params=tuple(params), headers=headers, timeout=self._timeout
                ) as response:
                    with self._lock:
                        self._response = response
                    if self._closed.is_set():
                        return
                    body = response.read() if response.status_code != 200 else b""
                    follower.check_answer(response.status_code, response.headers.get("content-type", ""), body)
                    parser = SSEParser()
                    for chunk in response.iter_bytes():
                        for event in parser.feed(chunk):
                            change = follower.accept(event)
                            if change is not None:
                                yield change
                        if parser.retry_ms is not None:
                            follower.server_retry_ms = parser.retry_ms
            except _Reconnect:
                pass
            except httpx.HTTPError as exc:
                if not self._closed.is_set():
                    log.info("change stream: connection lost (%s); resuming after seq %d", exc, follower.last_seq)
            finally:
                with self._lock:
                    self._response = None
            if self._closed.wait(follower.next_delay()):
                return


class AsyncChangeStream(AsyncIterator[Change]):
    """Changes for ever, for asyncio (see the module docstring). Stop it by breaking out of ``async for`` and
    calling :meth:`aclose` (or leaving its ``async with`` block), by cancelling the task, or by closing the client."""

    def __init__(self, http: httpx.AsyncClient, follower: Follower, timeout: httpx.Timeout) -> None:
        self._http = http
        self._follower = follower
        self._timeout = timeout
        self._closed = False
        self._running = False
        self._wake: asyncio.Event | None = None
        self._response: httpx.Response | None = None
        self._gen = self._run()

    @property
    def last_seq(self) -> int:
        return self._follower.last_seq

    @property
    def reconnects(self) -> int:
        return self._follower.reconnects

    @property
    def closed(self) -> bool:
        return self._closed

    def __aiter__(self) -> AsyncChangeStream:
        return self

    async def __anext__(self) -> Change:
        if self._closed:
            raise StopAsyncIteration
        self._running = True
        try:
            return await self._gen.__anext__()
        except StopAsyncIteration:
            self._closed = True
            raise
        finally:
            self._running = False

    async def aclose(self) -> None:
        self._closed = True
        if self._wake is not None:
            self._wake.set()
        if not self._running:
            await self._gen.aclose()
        elif self._response is not None:  # another task is reading: end its read
            with contextlib.suppress(Exception):
                await self._response.aclose()

    async def __aenter__(self) -> AsyncChangeStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[Change, None]:
        follower = self._follower
        self._wake = asyncio.Event()
        while not self._closed:
            params, headers = follower.request()
            try:
                async with self._http.stream(
                    "GET", STREAM_PATH, params=tuple(params), headers=headers, timeout=self._timeout
                ) as response:
                    self._response = response
                    body = await response.aread() if response.status_code != 200 else b""
                    follower.check_answer(response.status_code, response.headers.get("content-type", ""), body)
                    parser = SSEParser()
                    async for chunk in response.aiter_bytes():
                        for event in parser.feed(chunk):
                            change = follower.accept(event)
                            if change is not None:
                                yield change
                        if parser.retry_ms is not None:
                            follower.server_retry_ms = parser.retry_ms
            except _Reconnect:
                pass
            except httpx.HTTPError as exc:
                if not self._closed:
                    log.info("change stream: connection lost (%s); resuming after seq %d", exc, follower.last_seq)
            finally:
                self._response = None
            if self._closed:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), follower.next_delay())
