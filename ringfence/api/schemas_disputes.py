"""Request and response shapes of /v1/disputes, for validation and for the OpenAPI document.

Reasons and outcomes are plain strings here and parsed by ringfence.disputes, so an unknown one gets its own stable
error code (``unknown_reason``, ``unknown_outcome``) rather than a schema error.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ringfence.api.schemas import LookupAnswer
from ringfence.disputes.models import MAX_NOTE, DisputeReason, DisputeStatus, Outcome

__all__ = ["DisputeAnswer", "DisputeBody", "DisputeOut", "DisputesAnswer", "ResolveBody"]

_STRICT = ConfigDict(extra="forbid")


class DisputeBody(BaseModel):
    model_config = _STRICT
    number: str = Field(description="The listed number, any common format")
    reason: str = Field(json_schema_extra={"enum": [r.value for r in DisputeReason]})
    note: str | None = Field(None, max_length=MAX_NOTE, description="Free text for the admins (no personal data)")
    region: str | None = Field(None, description="Region for a national-format number (default: the server's)")


class ResolveBody(BaseModel):
    model_config = _STRICT
    outcome: str = Field(
        json_schema_extra={"enum": [o.value for o in Outcome]},
        description="upheld: the listing is removed; rejected: it stays",
    )
    note: str | None = Field(None, max_length=MAX_NOTE)


class DisputeOut(BaseModel):
    id: str
    number: str = Field(description="E.164")
    reason: DisputeReason
    note: str | None
    status: DisputeStatus
    opened_at: str
    resolved_at: str | None
    resolution_note: str | None
    member_id: int | None = Field(None, description="Who disputes (admins only)")
    member: str | None = Field(None, description="Who disputes (admins only)")
    resolved_by: int | None = Field(None, description="Who closed it (admins only)")


class DisputeAnswer(BaseModel):
    dispute: DisputeOut
    listing: LookupAnswer | None = Field(None, description="How the number stands now")


class DisputesAnswer(BaseModel):
    disputes: list[DisputeOut]
    next: str | None = Field(description="Pass as before= for the next page")
