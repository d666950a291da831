"""Request and response shapes, for validation and for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ringfence.numbers import NumberType
from ringfence.registry.assess import LookupOptions
from ringfence.registry.models import Category, Role

__all__ = [
    "BulkAnswer",
    "ChangeOut",
    "ChangesPage",
    "ErrorAnswer",
    "FeedHead",
    "KeyAnswer",
    "LookupAnswer",
    "LookupRequest",
    "MemberAnswer",
    "NewMember",
    "ReportAnswer",
    "ReportBody",
    "ReportsAnswer",
    "ScoredListingOut",
]

_STRICT = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable error code, e.g. invalid_number")
    message: str
    details: dict[str, Any]


class ErrorAnswer(BaseModel):
    error: ErrorDetail


class NumberInfoView(BaseModel):
    country: str | None = Field(description="ISO 3166 region (001 for non-geographic numbers)")
    country_code: int
    type: NumberType
    valid: bool


class ListingOut(BaseModel):
    first_reported_at: str
    last_reported_at: str = Field(description="Time of the newest standing report")
    report_count: int
    reporter_count: int = Field(description="Distinct members with a standing report")
    categories: list[Category]


class ScoredListingOut(ListingOut):
    score: float = Field(description="The listing's score now, 0-100, one decimal (docs/scoring.md)")
    threshold: float = Field(description="Below this score the listing has decayed")
    decayed: bool = Field(description="Below its threshold (and not pinned): not listed, shown only when asked for")
    pinned: bool = Field(description="An admin pinned it: decay cannot undo it")
    disputed: bool = Field(description="A member's dispute is open: it weighs less")
    ported: bool = Field(description="Ported after its last report: it weighs less")


class LookupAnswer(BaseModel):
    number: str = Field(description="E.164")
    listed: bool = Field(description="Reported, not decayed, and at or above min_score when one was asked")
    info: NumberInfoView
    listing: ScoredListingOut | None = Field(description="The listing, when listed (or decayed and asked for)")
    explain: dict[str, Any] | None = Field(None, description="With explain=1: how the score came about")


class LookupItemError(BaseModel):
    input: Any
    error: ErrorDetail


class LookupRequest(BaseModel):
    model_config = _STRICT
    numbers: list[str] = Field(description="Up to max_batch numbers, any common format")
    region: str | None = Field(None, description="Region for national-format numbers (default: the server's)")
    min_score: float | None = Field(None, ge=0, le=100, description="Listed only at or above this score")
    include_decayed: bool = Field(False, description="Show decayed listings too (listed stays false for them)")
    lifetime_days: float | None = Field(None, gt=0, le=36500, description="Decay model override: lifetime")
    speed: float | None = Field(None, gt=0, description="Decay model override: speed (with lifetime_days)")
    threshold: float | None = Field(None, ge=0, le=100, description="Decay model override: threshold (default 30)")
    explain: bool = Field(False, description="Explain each score")

    def options(self) -> LookupOptions:
        return LookupOptions.parse(
            min_score=self.min_score,
            include_decayed=self.include_decayed,
            lifetime_days=self.lifetime_days,
            speed=self.speed,
            threshold=self.threshold,
            explain=self.explain,
        )


class LookupManyAnswer(BaseModel):
    results: list[LookupAnswer | LookupItemError] = Field(description="One entry per input, in request order")


class ReportBody(BaseModel):
    model_config = _STRICT
    number: str
    category: str = Field(json_schema_extra={"enum": [c.value for c in Category]})
    occurred_at: str | None = Field(None, description="ISO 8601; default: when received")
    note: str | None = Field(None, max_length=2000)
    report_id: str | None = Field(None, max_length=200, description="Your reference: a retry with it is idempotent")
    region: str | None = Field(None, description="Region for a national-format number (default: the server's)")


class ReportOut(BaseModel):
    id: str
    report_id: str | None
    number: str
    category: Category
    occurred_at: str
    received_at: str
    note: str | None
    withdrawn_at: str | None
    withdrawn_reason: str | None
    member_id: int | None = Field(None, description="Admins only")


class ReportAnswer(BaseModel):
    report: ReportOut
    duplicate: bool = Field(description="True when this answers a retry of an already stored report_id")
    listing: LookupAnswer | None = None


class ReportsAnswer(BaseModel):
    reports: list[ReportOut]
    next: str | None = Field(description="Pass as before= for the next page")


class BulkError(BaseModel):
    line: int
    code: str
    message: str
    details: dict[str, Any]


class BulkAnswer(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    errors: list[BulkError]


class NewMember(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=200)
    role: Role


class MemberOut(BaseModel):
    id: int
    name: str
    role: Role
    created_at: str


class MemberAnswer(BaseModel):
    member: MemberOut
    key: str | None = Field(None, description="Shown once, never again")


class KeyOut(BaseModel):
    id: str
    member: str
    created_at: str
    revoked_at: str | None


class KeyAnswer(BaseModel):
    key: KeyOut
    secret: str | None = Field(None, description="The whole key, shown once")


class ChangeOut(BaseModel):
    seq: int = Field(description="Strictly increasing, without gaps; the SSE event id")
    at: str = Field(description="When the change was made (ISO 8601 UTC)")
    kind: str = Field(description="listed, re_reported, withdrawn, removed, expired, owner_change, dispute or updated")
    number: str = Field(description="E.164")
    info: NumberInfoView
    listed: bool = Field(description="Whether the number is listed after the change")
    categories: list[Category] = Field(description="The listing's categories (before the change, for a removal)")
    listing: ListingOut | None = Field(description="The listing after the change; null when no longer listed")


class ChangesPage(BaseModel):
    changes: list[ChangeOut]
    next: int = Field(description="Pass as since for the next page")
    head: int = Field(description="The newest seq in the feed")


class FeedHead(BaseModel):
    head: int = Field(description="The newest seq in the feed")
    floor: int = Field(description="The newest seq retention deleted: a start older than this is refused")
    applied: int = Field(description="The newest seq this node's index reflects")
