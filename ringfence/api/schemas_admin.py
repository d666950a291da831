"""Request and response shapes of the admin routes over listings (pin, expire, sweep) and the audit log."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ringfence.api.schemas import LookupAnswer
from ringfence.registry.intake import MAX_NOTE
from ringfence.registry.models import Category

__all__ = ["AuditEntryOut", "AuditPage", "AuditStateOut", "ExpireAnswer", "NoteBody", "SweepAnswer"]


class NoteBody(BaseModel):
    """The optional body of ``POST /v1/numbers/{number}/pin`` and ``/expire``: why, for the audit log."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=MAX_NOTE, description="Why, kept in the audit log (no personal data)")


class ExpireAnswer(BaseModel):
    number: str = Field(description="E.164")
    expired_reports: int = Field(description="How many standing reports stopped standing (kept as history)")
    listing: LookupAnswer | None = Field(description="Always null: the listing is gone")


class SweepAnswer(BaseModel):
    expired: int = Field(description="How many decayed listings this sweep retired")


class AuditStateOut(BaseModel):
    """A listing as the log stored it at the time of the change (no score: a score belongs to the present)."""

    first_reported_at: str
    last_reported_at: str
    report_count: int
    reporter_count: int
    categories: list[Category]
    reporters_weight: float = Field(description="Distinct reporters' reputations summed (1.0 per reporter of standing)")
    pinned: bool
    disputed: bool
    ported: bool


class AuditEntryOut(BaseModel):
    id: str
    at: str = Field(description="When the change was made (ISO 8601, UTC)")
    actor: str | None = Field(description="The acting member's name; null when ringfence itself acted (expiry sweep)")
    actor_id: int | None
    action: str = Field(description="pinned, unpinned, expired, removed, withdrawn, owner_change, dispute, ported, ...")
    number: str | None = Field(description="E.164")
    reason: str | None
    note: str | None
    before: AuditStateOut | None = Field(description="The listing before the change; null: not listed")
    after: AuditStateOut | None = Field(description="The listing after the change; null: not listed any more")


class AuditPage(BaseModel):
    entries: list[AuditEntryOut] = Field(description="Newest first")
    next: str | None = Field(description="Pass as before= for the next page")
