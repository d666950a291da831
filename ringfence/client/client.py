"""``RingfenceClient``: the registry over HTTP, for members' own systems (sync; see :mod:`ringfence.client.aio`).

Calls answer typed results (:mod:`ringfence.client.models`) or raise a :class:`~ringfence.client.errors.ClientError`.
A call that is safe to repeat (lookups, reads, a report with a ``report_id``, a withdrawal) is sent again when the
connection fails before an answer comes; any other call raises :class:`~ringfence.client.errors.TransportError`.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import TypeVar

import httpx

from ringfence.client import calls
from ringfence.client.bulk import BulkFormat, BulkSource
from ringfence.client.calls import Call, Texts
from ringfence.client.errors import ClientError, TooLargeError
from ringfence.client.models import BulkResult, ChangesPage, LookupFailure, LookupResult, ReportResult, ReportsPage
from ringfence.client.stream import ChangeStream, Follower

__all__ = ["RingfenceClient", "retry_delay"]

T = TypeVar("T")


def retry_delay(attempt: int) -> float:
    """Pause before retry ``attempt`` (0, 1, ...) of a call whose connection failed."""
    return float(min(0.25 * 2**attempt, 5.0))


def numbers_list(numbers: Iterable[str]) -> list[str]:
    if isinstance(numbers, str):
        raise TypeError("lookup_many takes a list of numbers, not one string; use lookup() for one number")
    return list(numbers)


class RingfenceClient:
    """A ringfence server at ``base_url`` (e.g. ``https://ringfence.example.net``), used with the API key ``key``.

    ``timeout`` bounds each request (seconds); ``retries`` is how often a call safe to repeat is sent again after a
    connection failure; ``max_batch`` is the most numbers per lookup request (lowered automatically to the server's
    limit); ``stream_timeout`` is how long a change stream waits for a byte (the server sends a keep-alive every 15 s
    by default) before it takes the connection for dead and reconnects. ``transport`` replaces httpx's (tests,
    proxies, mounts). Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        max_batch: int = 10_000,
        stream_timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.max_batch = max_batch
        self._timeout = timeout
        self._stream_timeout = httpx.Timeout(timeout, read=stream_timeout)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": calls.USER_AGENT, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )
        self._streams: weakref.WeakSet[ChangeStream] = weakref.WeakSet()
        self._closed = False

    # --- life cycle ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every change stream of this client and close its connections."""
        self._closed = True
        for stream in list(self._streams):
            stream.close()
        self._http.close()

    def __enter__(self) -> RingfenceClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            if self._closed:
                raise ClientError("the client is closed", code="closed")
            try:
                response = self._http.request(
                    call.method, call.path, params=tuple(call.params), content=call.body, headers=call.headers
                )
            except httpx.TransportError as exc:
                if call.idempotent and attempt < self.retries and not self._closed:
                    time.sleep(retry_delay(attempt))
                    attempt += 1
                    continue
                raise calls.transport_error(exc, self.base_url) from exc
            return call.finish(response.status_code, response.content, response.reason_phrase)

    # --- numbers ------------------------------------------------------------------------------------------------
    def lookup(self, number: str, *, region: str | None = None) -> LookupResult:
        """Is ``number`` listed? ``region`` (e.g. ``"GB"``) reads national formats; default: the server's.

        An unusable number raises :class:`~ringfence.client.errors.InvalidInputError` (code ``invalid_number``)."""
        return self._send(calls.lookup(number, region))

    def lookup_many(self, numbers: Iterable[str], *, region: str | None = None) -> list[LookupResult | LookupFailure]:
        """One answer per number, in order: a :class:`LookupResult`, or a :class:`LookupFailure` for an unusable
        input. Any number of numbers: they are sent in batches of at most the server's limit."""
        todo = numbers_list(numbers)
        out: list[LookupResult | LookupFailure] = []
        while len(out) < len(todo):
            chunk = todo[len(out) : len(out) + self.max_batch]
            try:
                answers = self._send(calls.lookup_many(chunk, region))
            except TooLargeError as exc:
                limit = calls.batch_limit(exc, len(chunk))
                if limit is None:
                    raise
                self.max_batch = limit
                continue
            out.extend(answers)
        return out

    def remove_listing(self, number: str, *, region: str | None = None) -> int:
        """Admins: take a number off the registry; returns how many standing reports were removed."""
        return self._send(calls.remove_listing(number, region))

    # --- reports ------------------------------------------------------------------------------------------------
    def report(
        self,
        number: str,
        category: str,
        *,
        occurred_at: datetime | str | None = None,
        note: str | None = None,
        report_id: str | None = None,
        region: str | None = None,
    ) -> ReportResult:
        """Report ``number`` as used for ``category`` fraud (irsf, wangiri, vishing, ...).

        With ``report_id`` (your own reference) the report is stored once however often it is sent: a repeat answers
        ``duplicate=True``, and the call is retried after a connection failure. The server counts a repeat as the
        same report when number, category and note are the same and ``occurred_at`` is too or was left out.
        ``region`` reads a national-format number (default: the server's region)."""
        return self._send(calls.report(number, category, occurred_at, note, report_id, region))

    def bulk_report(
        self, source: BulkSource, *, region: str | None = None, fmt: BulkFormat | None = None
    ) -> BulkResult:
        """Report many numbers: ``source`` is a CSV or JSONL file path, or an iterable of :class:`NewReport` or
        dicts. Good lines are stored, bad ones come back in ``errors`` with their line number. Never retried."""
        return self._send(calls.bulk_report(source, region, fmt))

    def withdraw(self, ref: str) -> ReportResult:
        """Withdraw one of your reports, by ringfence's id or your report_id (a repeat changes nothing)."""
        return self._send(calls.withdraw(ref))

    def reports(
        self, *, mine: bool = False, include_withdrawn: bool = False, limit: int = 100, before: str | None = None
    ) -> ReportsPage:
        """Your reports, newest first (admins: everyone's unless ``mine``); page on with ``before=page.next``."""
        return self._send(calls.reports(mine, include_withdrawn, limit, before))

    # --- the change feed ----------------------------------------------------------------------------------------
    def head(self) -> int:
        """The newest seq in the change feed."""
        return self._send(calls.head())

    def changes_page(
        self,
        since: int = 0,
        *,
        limit: int = 1000,
        categories: Texts = None,
        countries: Texts = None,
        prefixes: Texts = None,
    ) -> ChangesPage:
        """Up to ``limit`` changes after ``since``, oldest first; raises FeedExpired if ``since`` is too old."""
        return self._send(calls.changes_page(since, limit, calls.filter_params(categories, countries, prefixes)))

    def changes(
        self,
        since: int | None = None,
        *,
        categories: Texts = None,
        countries: Texts = None,
        prefixes: Texts = None,
        reconnect_delay: float | None = None,
        max_reconnect_delay: float = 30.0,
    ) -> ChangeStream:
        """Every change after ``since``, for ever, through dropped connections (see :mod:`ringfence.client.stream`).

        ``since=None`` starts at the feed's head as of this call (asked now): every change made after ``changes()``
        returns is seen. Filters: categories (``"irsf"``), countries (``"GB"``), number prefixes (``"+4470"``)."""
        if self._closed:
            raise ClientError("the client is closed", code="closed")
        filters = calls.filter_params(categories, countries, prefixes)
        start = self.head() if since is None else since
        stream = ChangeStream(
            self._http, Follower(start, filters, reconnect_delay, max_reconnect_delay), self._stream_timeout
        )
        self._streams.add(stream)
        return stream
