"""``AsyncRingfenceClient``: :class:`~ringfence.client.client.RingfenceClient` for asyncio, call for call.

It sends the same :mod:`~ringfence.client.calls` and reads the same answers; only the waiting differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import TypeVar

import httpx

from ringfence.client import calls
from ringfence.client.bulk import BulkFormat, BulkSource
from ringfence.client.calls import Call, Texts
from ringfence.client.client import numbers_list, retry_delay
from ringfence.client.errors import ClientError, TooLargeError
from ringfence.client.models import BulkResult, ChangesPage, LookupFailure, LookupResult, ReportResult, ReportsPage
from ringfence.client.stream import AsyncChangeStream, Follower

__all__ = ["AsyncRingfenceClient"]

T = TypeVar("T")


class AsyncRingfenceClient:
    """Like :class:`~ringfence.client.client.RingfenceClient` (same arguments, same methods, awaited); use it with
    ``async with`` or call :meth:`aclose`. :meth:`changes` is awaited too (with ``since=None`` it asks the head)."""

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        max_batch: int = 10_000,
        stream_timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.max_batch = max_batch
        self._stream_timeout = httpx.Timeout(timeout, read=stream_timeout)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": calls.USER_AGENT, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )
        self._streams: list[AsyncChangeStream] = []
        self._closed = False

    async def aclose(self) -> None:
        """Stop every change stream of this client and close its connections."""
        self._closed = True
        for stream in self._streams:
            await stream.aclose()
        self._streams.clear()
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRingfenceClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            if self._closed:
                raise ClientError("the client is closed", code="closed")
            try:
                response = await self._http.request(
                    call.method, call.path, params=tuple(call.params), content=call.body, headers=call.headers
                )
            except httpx.TransportError as exc:
                if call.idempotent and attempt < self.retries and not self._closed:
                    await asyncio.sleep(retry_delay(attempt))
                    attempt += 1
                    continue
                raise calls.transport_error(exc, self.base_url) from exc
            return call.finish(response.status_code, response.content, response.reason_phrase)

    async def lookup(self, number: str, *, region: str | None = None) -> LookupResult:
        return await self._send(calls.lookup(number, region))

    async def lookup_many(
        self, numbers: Iterable[str], *, region: str | None = None
    ) -> list[LookupResult | LookupFailure]:
        todo = numbers_list(numbers)
        out: list[LookupResult | LookupFailure] = []
        while len(out) < len(todo):
            chunk = todo[len(out) : len(out) + self.max_batch]
            try:
                answers = await self._send(calls.lookup_many(chunk, region))
            except TooLargeError as exc:
                limit = calls.batch_limit(exc, len(chunk))
                if limit is None:
                    raise
                self.max_batch = limit
                continue
            out.extend(answers)
        return out

    async def remove_listing(self, number: str, *, region: str | None = None) -> int:
        return await self._send(calls.remove_listing(number, region))

    async def report(
        self,
        number: str,
        category: str,
        *,
        occurred_at: datetime | str | None = None,
        note: str | None = None,
        report_id: str | None = None,
        region: str | None = None,
    ) -> ReportResult:
        return await self._send(calls.report(number, category, occurred_at, note, report_id, region))

    async def bulk_report(
        self, source: BulkSource, *, region: str | None = None, fmt: BulkFormat | None = None
    ) -> BulkResult:
        return await self._send(calls.bulk_report(source, region, fmt))

    async def withdraw(self, ref: str) -> ReportResult:
        return await self._send(calls.withdraw(ref))

    async def reports(
        self, *, mine: bool = False, include_withdrawn: bool = False, limit: int = 100, before: str | None = None
    ) -> ReportsPage:
        return await self._send(calls.reports(mine, include_withdrawn, limit, before))

    async def head(self) -> int:
        return await self._send(calls.head())

    async def changes_page(
        self,
        since: int = 0,
        *,
        limit: int = 1000,
        categories: Texts = None,
        countries: Texts = None,
        prefixes: Texts = None,
    ) -> ChangesPage:
        return await self._send(calls.changes_page(since, limit, calls.filter_params(categories, countries, prefixes)))

    async def changes(
        self,
        since: int | None = None,
        *,
        categories: Texts = None,
        countries: Texts = None,
        prefixes: Texts = None,
        reconnect_delay: float | None = None,
        max_reconnect_delay: float = 30.0,
    ) -> AsyncChangeStream:
        """``async for change in await client.changes(): ...``; see RingfenceClient.changes."""
        if self._closed:
            raise ClientError("the client is closed", code="closed")
        filters = calls.filter_params(categories, countries, prefixes)
        start = await self.head() if since is None else since
        stream = AsyncChangeStream(
            self._http, Follower(start, filters, reconnect_delay, max_reconnect_delay), self._stream_timeout
        )
        self._streams = [s for s in self._streams if not s.closed]
        self._streams.append(stream)
        return stream
