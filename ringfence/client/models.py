"""What the client hands back: frozen dataclasses read from the server's JSON, with times as aware ``datetime``.

Categories (``"irsf"``, ``"wangiri"``, …), number types (``"mobile"``, …) and change kinds (``"listed"``,
``"withdrawn"``, …) are kept as the strings the server sends, so a newer server's new values reach older clients
unharmed; the API reference (``/openapi.json``) lists the current ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ringfence.client.decode import Fields
from ringfence.client.errors import InvalidInputError

__all__ = [
    "BulkLineError",
    "BulkResult",
    "Change",
    "ChangesPage",
    "Listing",
    "LookupFailure",
    "LookupResult",
    "NewReport",
    "NumberInfo",
    "Report",
    "ReportResult",
    "ReportsPage",
]


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """What the numbering plan says about a number."""

    country: str | None  # ISO 3166 region, "001" for non-geographic numbers, None when no region claims it
    country_code: int
    type: str  # mobile, fixed_line, toll_free, premium_rate, voip, ... or unknown
    valid: bool

    @classmethod
    def from_json(cls, f: Fields) -> NumberInfo:
        return cls(f.maybe_text("country"), f.integer("country_code"), f.text("type"), f.flag("valid"))


@dataclass(frozen=True, slots=True)
class Listing:
    """Why a number is listed: counts and categories of the standing reports (never who made them)."""

    first_reported_at: datetime
    last_reported_at: datetime
    report_count: int
    reporter_count: int  # distinct members with a standing report
    categories: tuple[str, ...]

    @classmethod
    def from_json(cls, f: Fields) -> Listing:
        return cls(
            f.moment("first_reported_at"),
            f.moment("last_reported_at"),
            f.integer("report_count"),
            f.integer("reporter_count"),
            f.texts("categories"),
        )


@dataclass(frozen=True, slots=True)
class LookupResult:
    """The answer for one number: ``listed`` with its ``listing``, or not listed (``listing`` is ``None``)."""

    number: str  # E.164, e.g. +442079460018
    listed: bool
    info: NumberInfo
    listing: Listing | None

    @classmethod
    def from_json(cls, f: Fields) -> LookupResult:
        listing = f.maybe_fields("listing")
        return cls(
            f.text("number"),
            f.flag("listed"),
            NumberInfo.from_json(f.fields("info")),
            None if listing is None else Listing.from_json(listing),
        )


@dataclass(frozen=True, slots=True)
class LookupFailure:
    """A batch lookup input the server could not use (``code`` is e.g. ``invalid_number``); the rest still answer."""

    input: str  # what was sent
    code: str
    message: str
    details: Mapping[str, object] = field(default_factory=dict)

    def to_error(self) -> InvalidInputError:
        """The failure as the exception a single lookup of the same input raises."""
        return InvalidInputError(self.message, status=422, code=self.code, details=dict(self.details))


@dataclass(frozen=True, slots=True)
class Report:
    """A stored report. ``id`` is ringfence's; ``report_id`` is the member's own reference (idempotency key)."""

    id: str
    report_id: str | None
    number: str
    category: str
    occurred_at: datetime
    received_at: datetime
    note: str | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    member_id: int | None = None  # shown to admins only

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @classmethod
    def from_json(cls, f: Fields) -> Report:
        return cls(
            id=f.text("id"),
            report_id=f.maybe_text("report_id"),
            number=f.text("number"),
            category=f.text("category"),
            occurred_at=f.moment("occurred_at"),
            received_at=f.moment("received_at"),
            note=f.maybe_text("note"),
            withdrawn_at=f.maybe_moment("withdrawn_at"),
            withdrawn_reason=f.maybe_text("withdrawn_reason"),
            member_id=f.maybe_integer("member_id"),
        )


@dataclass(frozen=True, slots=True)
class ReportResult:
    """The answer to a report or a withdrawal: the stored report, and the number's listing after it."""

    report: Report
    duplicate: bool  # True: a retry of a report_id already stored (nothing new was stored)
    listing: LookupResult | None

    @property
    def created(self) -> bool:
        return not self.duplicate

    @classmethod
    def from_json(cls, f: Fields) -> ReportResult:
        listing = f.maybe_fields("listing")
        return cls(
            Report.from_json(f.fields("report")),
            f.flag("duplicate"),
            None if listing is None else LookupResult.from_json(listing),
        )


@dataclass(frozen=True, slots=True)
class ReportsPage:
    """Reports, newest first; pass ``next`` as ``before`` for the following page (``None``: this was the last)."""

    reports: tuple[Report, ...]
    next: str | None

    @classmethod
    def from_json(cls, f: Fields) -> ReportsPage:
        items = f.items("reports")
        reports = tuple(Report.from_json(Fields(item, f"reports[{i}]")) for i, item in enumerate(items))
        return cls(reports, f.maybe_text("next"))


@dataclass(frozen=True, slots=True)
class NewReport:
    """A report to submit in bulk (a plain dict with the same keys works too).

    ``occurred_at`` is a ``datetime`` (naive means UTC) or ISO 8601 text; left out, the server uses the time it
    received the report. With ``report_id`` a repeated submission of the same report is counted as a duplicate.
    """

    number: str
    category: str
    occurred_at: datetime | str | None = None
    note: str | None = None
    report_id: str | None = None

    def to_json(self) -> dict[str, str]:
        body = {"number": self.number, "category": self.category}
        if self.occurred_at is not None:
            body["occurred_at"] = iso_time(self.occurred_at)
        if self.note is not None:
            body["note"] = self.note
        if self.report_id is not None:
            body["report_id"] = self.report_id
        return body


def iso_time(value: datetime | str) -> str:
    """A time as the server reads it: ISO 8601 (a naive datetime is taken as UTC by the server)."""
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class BulkLineError:
    """A rejected line of a bulk submission: its line number (1 = the first line or item) and why."""

    line: int
    code: str
    message: str
    details: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def from_json(cls, f: Fields) -> BulkLineError:
        return cls(f.integer("line"), f.text("code"), f.text("message"), f.mapping("details"))


@dataclass(frozen=True, slots=True)
class BulkResult:
    """The outcome of a bulk submission: good lines are stored, bad ones listed in ``errors``."""

    accepted: int
    duplicates: int
    rejected: int
    errors: tuple[BulkLineError, ...]

    @property
    def ok(self) -> bool:
        """Whether every line was stored (or was a duplicate)."""
        return self.rejected == 0

    @classmethod
    def from_json(cls, f: Fields) -> BulkResult:
        items = f.items("errors")
        errors = tuple(BulkLineError.from_json(Fields(item, f"errors[{i}]")) for i, item in enumerate(items))
        return cls(f.integer("accepted"), f.integer("duplicates"), f.integer("rejected"), errors)


@dataclass(frozen=True, slots=True)
class Change:
    """One change of the registry, as the change feed carries it.

    ``seq`` is strictly increasing; ``kind`` says what happened (listed, re_reported, withdrawn, removed, expired,
    owner_change, dispute, updated); ``listing`` is the listing after the change (``None`` once the number is no
    longer listed); ``categories`` are the listing's categories (before the change, for a removal).
    """

    seq: int
    at: datetime
    kind: str
    number: str
    info: NumberInfo
    listed: bool
    categories: tuple[str, ...]
    listing: Listing | None

    @classmethod
    def from_json(cls, f: Fields) -> Change:
        listing = f.maybe_fields("listing")
        return cls(
            seq=f.integer("seq"),
            at=f.moment("at"),
            kind=f.text("kind"),
            number=f.text("number"),
            info=NumberInfo.from_json(f.fields("info")),
            listed=f.flag("listed"),
            categories=f.texts("categories"),
            listing=None if listing is None else Listing.from_json(listing),
        )


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """A page of the change feed, oldest first: pass ``next`` as ``since`` for the next page; ``head`` is the
    newest seq in the feed (``next >= head``: caught up)."""

    changes: tuple[Change, ...]
    next: int
    head: int

    @classmethod
    def from_json(cls, f: Fields) -> ChangesPage:
        items = f.items("changes")
        changes = tuple(Change.from_json(Fields(item, f"changes[{i}]")) for i, item in enumerate(items))
        return cls(changes, f.integer("next"), f.integer("head"))
