"""Each API call as data: method, path, parameters, body, whether a retry is safe, and how to read the answer.

The sync and async clients both send these and hand the answer back to :meth:`Call.finish`, so everything but the
sending itself (paths, parameters, parsing, errors) is written once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import quote

import httpx
import orjson

from ringfence import __version__
from ringfence.client import errors
from ringfence.client.bulk import BulkFormat, BulkSource, bulk_body
from ringfence.client.decode import Fields, loads
from ringfence.client.errors import TooLargeError, UnexpectedAnswer, error_from_answer
from ringfence.client.models import (
    BulkResult,
    ChangesPage,
    LookupFailure,
    LookupResult,
    ReportResult,
    ReportsPage,
    iso_time,
)

__all__ = [
    "STREAM_PATH",
    "USER_AGENT",
    "Call",
    "Params",
    "Texts",
    "batch_limit",
    "bulk_report",
    "changes_page",
    "filter_params",
    "head",
    "lookup",
    "lookup_many",
    "remove_listing",
    "report",
    "reports",
    "texts",
    "transport_error",
    "withdraw",
]

T = TypeVar("T")
Params = list[tuple[str, str]]
#: One value or several: ``"irsf"`` or ``["irsf", "wangiri"]``.
Texts = str | Iterable[str] | None

USER_AGENT = f"ringfence-client/{__version__}"
STREAM_PATH = "/v1/changes/stream"
#: A ``since`` beyond any seq: the paged feed then answers at once with no changes, and its ``head``.
#: Numbers safe to put in a URL path as they are; anything else is looked up through the batch route.
_PLAIN_NUMBER = re.compile(r"\+?[0-9][0-9 ().\-]*")
_JSON = "application/json"


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[object], T]
    params: Params = field(default_factory=list)
    body: bytes | None = None
    content_type: str | None = None
    idempotent: bool = True  # safe to send again when the connection failed before an answer came

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type} if self.content_type else {}

    def finish(self, status: int, content: bytes, reason: str = "") -> T:
        """The typed answer, or the error the answer stands for."""
        if not 200 <= status < 300:
            raise error_from_answer(status, content, reason)
        try:
            return self.read(loads(content))
        except UnexpectedAnswer as exc:
            exc.status = status
            raise


def transport_error(exc: httpx.HTTPError, base_url: str) -> errors.ClientError:
    """An httpx failure without an answer, as a ClientError."""
    details: dict[str, object] = {"url": base_url, "cause": type(exc).__name__}
    if isinstance(exc, httpx.TimeoutException):
        return errors.TransportError(f"{base_url} did not answer in time", code="timeout", details=details)
    if isinstance(exc, httpx.ConnectError):
        return errors.TransportError(f"cannot connect to {base_url}: {exc}", code="unreachable", details=details)
    return errors.TransportError(f"request to {base_url} failed: {exc}", code="transport_error", details=details)


def _json(value: dict[str, object]) -> bytes:
    return orjson.dumps(value)


def _region(region: str | None) -> Params:
    return [] if region is None else [("region", region)]


def texts(value: Texts) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"expected strings, got {item!r}")
    return items


def filter_params(categories: Texts, countries: Texts, prefixes: Texts) -> Params:
    """The change feed's filters as query parameters (each repeated per value)."""
    return (
        [("category", c) for c in texts(categories)]
        + [("country", c) for c in texts(countries)]
        + [("prefix", p) for p in texts(prefixes)]
    )


# --- numbers --------------------------------------------------------------------------------------------------
def lookup(number: str, region: str | None) -> Call[LookupResult]:
    if not isinstance(number, str):
        raise TypeError(f"a number is a string, got {number!r}")
    if _PLAIN_NUMBER.fullmatch(number):
        return Call("GET", f"/v1/numbers/{quote(number, safe='+')}", _lookup_result, _region(region))
    # '/', letters and the like cannot travel in the path: ask the batch route, whose answer is the same
    return Call("POST", "/v1/numbers/lookup", _single(number), body=_lookup_body([number], region), content_type=_JSON)


def _lookup_result(value: object) -> LookupResult:
    return LookupResult.from_json(Fields(value))


def _single(number: str) -> Callable[[object], LookupResult]:
    def read(value: object) -> LookupResult:
        (item,) = _results([number], value)
        if isinstance(item, LookupFailure):
            raise item.to_error()
        return item

    return read


def _lookup_body(numbers: Sequence[str], region: str | None) -> bytes:
    body: dict[str, object] = {"numbers": list(numbers)}
    if region is not None:
        body["region"] = region
    return _json(body)


def lookup_many(numbers: Sequence[str], region: str | None) -> Call[list[LookupResult | LookupFailure]]:
    """One batch request (the client splits bigger inputs); read-only, so safe to retry."""
    for number in numbers:
        if not isinstance(number, str):
            raise TypeError(f"a number is a string, got {number!r}")
    return Call(
        "POST",
        "/v1/numbers/lookup",
        lambda value: _results(numbers, value),
        body=_lookup_body(numbers, region),
        content_type=_JSON,
    )


def _results(numbers: Sequence[str], value: object) -> list[LookupResult | LookupFailure]:
    items = Fields(value).items("results")
    if len(items) != len(numbers):
        raise UnexpectedAnswer(
            f"unexpected answer: {len(items)} results for {len(numbers)} numbers",
            code="unexpected_answer",
            details={"field": "results", "expected": len(numbers), "got": len(items)},
        )
    out: list[LookupResult | LookupFailure] = []
    for i, (number, item) in enumerate(zip(numbers, items, strict=True)):
        fields = Fields(item, f"results[{i}]")
        if fields.has("error"):
            error = fields.fields("error")
            out.append(LookupFailure(number, error.text("code"), error.text("message"), error.mapping("details")))
        else:
            out.append(LookupResult.from_json(fields))
    return out


def batch_limit(error: TooLargeError, sent: int) -> int | None:
    """The server's batch limit, when ``error`` says a batch of ``sent`` numbers was over it."""
    limit = error.details.get("limit")
    if error.code != "batch_too_large" or not isinstance(limit, int) or isinstance(limit, bool):
        return None
    return limit if 0 < limit < sent else None


def remove_listing(number: str, region: str | None) -> Call[int]:
    """Admins: take a number off the registry; answers how many standing reports were removed."""
    return Call(
        "DELETE",
        f"/v1/numbers/{quote(number, safe='+')}",
        lambda value: Fields(value).integer("removed_reports"),
        _region(region),
    )


# --- reports --------------------------------------------------------------------------------------------------
def report(
    number: str,
    category: str,
    occurred_at: datetime | str | None,
    note: str | None,
    report_id: str | None,
    region: str | None = None,
) -> Call[ReportResult]:
    """One report. Safe to retry only with a ``report_id``: the server then stores it once."""
    body: dict[str, object] = {"number": number, "category": category}
    if occurred_at is not None:
        body["occurred_at"] = iso_time(occurred_at)
    if note is not None:
        body["note"] = note
    if report_id is not None:
        body["report_id"] = report_id
    if region is not None:
        body["region"] = region
    return Call(
        "POST", "/v1/reports", _report_result, body=_json(body), idempotent=report_id is not None, content_type=_JSON
    )


def _report_result(value: object) -> ReportResult:
    return ReportResult.from_json(Fields(value))


def withdraw(ref: str) -> Call[ReportResult]:
    """Withdraw one of the caller's reports by ringfence's id or the caller's report_id (idempotent)."""
    return Call("DELETE", f"/v1/reports/{quote(str(ref), safe='')}", _report_result)


def reports(mine: bool, include_withdrawn: bool, limit: int, before: str | None) -> Call[ReportsPage]:
    params: Params = [("limit", str(limit))]
    if mine:
        params.append(("mine", "true"))
    if include_withdrawn:
        params.append(("include_withdrawn", "true"))
    if before is not None:
        params.append(("before", before))
    return Call("GET", "/v1/reports", lambda value: ReportsPage.from_json(Fields(value)), params)


def bulk_report(source: BulkSource, region: str | None, fmt: BulkFormat | None) -> Call[BulkResult]:
    """A bulk upload; never retried (lines without report_id would be stored twice)."""
    body, media = bulk_body(source, fmt)
    return Call(
        "POST",
        "/v1/reports/bulk",
        lambda value: BulkResult.from_json(Fields(value)),
        _region(region),
        body=body,
        content_type=media,
        idempotent=False,
    )


# --- the change feed ------------------------------------------------------------------------------------------
def changes_page(since: int, limit: int, filters: Params) -> Call[ChangesPage]:
    params: Params = [("since", str(since)), ("limit", str(limit)), *filters]
    return Call("GET", "/v1/changes", lambda value: ChangesPage.from_json(Fields(value)), params)


def head() -> Call[int]:
    """The newest seq in the feed."""
    return Call("GET", "/v1/changes/head", lambda value: Fields(value).integer("head"))
