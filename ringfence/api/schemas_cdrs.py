"""Shapes of ``/v1/cdrs`` for the OpenAPI document (the upload route reads its body itself)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PresetsAnswer", "QuarantineAnswer", "QuarantinedRow", "ScanAnswer", "body_schema"]


class QuarantinedRow(BaseModel):
    line: int = Field(description="Line number in the file (1-based, header included), or the item's index")
    reason: str = Field(description="Stable reason code (docs/cdrs.md)")
    message: str
    raw: str = Field(description="The row as sent (cut to 500 characters)")


class RaisedAlert(BaseModel):
    rule: str
    subject: str
    window_start_ms: int
    window_end_ms: int
    fired_ms: int
    seq: int
    severity: str
    category: str
    numbers: list[str]
    evidence: int = Field(description="How many records the alert carries as evidence (see GET /v1/alerts/{id})")
    summary: str
    facts: dict[str, Any]
    incident: int | None


class ScanAnswer(BaseModel):
    source: str
    mode: str
    rows: int = Field(description="Records read, good and bad")
    processed: int = Field(description="Records the rules evaluated")
    late: int = Field(description="Records older than the lateness allowance behind newer ones (not evaluated)")
    quarantined: int
    alerts: int = Field(description="Alerts raised")
    new_alerts: int = Field(description="Of which the store had not seen before")
    duplicates: int
    quarantine: list[QuarantinedRow] = Field(description="The quarantined rows (the first 1000)")
    notes: list[str]
    raised: list[RaisedAlert]


class JsonRecords(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(description="Records with the layout's column names (default: ringfence)")


def body_schema() -> dict[str, Any]:
    return JsonRecords.model_json_schema()


class Preset(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class PresetsAnswer(BaseModel):
    presets: list[Preset]


class StoredQuarantinedRow(QuarantinedRow):
    id: int
    source: str
    at_ms: int


class QuarantineAnswer(BaseModel):
    rows: list[StoredQuarantinedRow]
    next_before: int | None
