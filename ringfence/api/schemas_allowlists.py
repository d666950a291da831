"""Request and response shapes of the allowlist endpoints (/v1/never-list, /v1/lists), for validation and OpenAPI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ringfence.allowlists.models import MAX_NOTE, EntryKind, ListKind

__all__ = [
    "MemberEntryAnswer",
    "MemberEntryBody",
    "MemberListsAnswer",
    "NeverEntryAnswer",
    "NeverEntryBody",
    "NeverListAnswer",
    "OwnNumberBody",
    "PlacementAnswer",
    "ProtectionOut",
]

_STRICT = ConfigDict(extra="forbid")
_REGION = "Region for a national-format number (default: the server's)"


class NeverEntryBody(BaseModel):
    model_config = _STRICT
    pattern: str = Field(description="A number in any format, or an international prefix with a *, e.g. +44800*")
    kind: str = Field(
        description="member_own: one of your own numbers (POST /v1/never-list/own does the same for any reporter)",
        json_schema_extra={"enum": [k.value for k in EntryKind]},
    )
    note: str | None = Field(None, max_length=MAX_NOTE)
    region: str | None = Field(None, description=_REGION)


class OwnNumberBody(BaseModel):
    model_config = _STRICT
    number: str = Field(description="One of your own numbers, any format")
    note: str | None = Field(None, max_length=MAX_NOTE, description="Shown to everyone with the entry")
    region: str | None = Field(None, description=_REGION)


class MemberEntryBody(BaseModel):
    model_config = _STRICT
    list: str = Field(
        description="allow: trusted whatever the registry says; deny: distrusted",
        json_schema_extra={"enum": [k.value for k in ListKind]},
    )
    note: str | None = Field(None, max_length=MAX_NOTE, description="Your note, seen by you alone")


class NeverEntryOut(BaseModel):
    id: int
    pattern: str = Field(description="+442079460000 (a number) or +44800* (a prefix)")
    match: str = Field(description="number or prefix")
    kind: EntryKind
    source: str = Field(description="consortium, or member_own (a member's own number)")
    note: str | None
    created_at: str
    member_id: int | None = Field(None, description="Admins only: whose own number it is")
    created_by: int | None = Field(None, description="Admins only: the member who added it (null: the operator)")


class NeverEntryAnswer(BaseModel):
    entry: NeverEntryOut


class PlacementAnswer(BaseModel):
    entry: NeverEntryOut
    created: bool = Field(description="False: you had published this number already")
    retired: list[str] = Field(description="Listed numbers the entry took off the registry")


class NeverListAnswer(BaseModel):
    entries: list[NeverEntryOut]


class ProtectionOut(BaseModel):
    kind: EntryKind
    pattern: str
    source: str = Field(description="consortium or member_own (never which member)")
    note: str | None


class MemberEntryOut(BaseModel):
    number: str = Field(description="E.164")
    list: ListKind
    note: str | None
    set_at: str


class MemberEntryAnswer(BaseModel):
    entry: MemberEntryOut


class MemberListsAnswer(BaseModel):
    entries: list[MemberEntryOut]
