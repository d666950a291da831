"""Request and response shapes of ``POST /v1/reassigned`` (the reassigned/disconnected numbers feed).

The route reads its body itself (a file of millions of rows is not a pydantic model); these shapes document the
JSON form of the body and the answer in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ringfence.api.schemas import BulkError

__all__ = ["DisconnectRow", "ReassignedAnswer", "ReassignedBody", "body_schema"]


class DisconnectRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(description="The number; national format is read with the body's region (FCC: 10 digits)")
    disconnect_date: str = Field(
        description="YYYY-MM-DD, YYYYMMDD, MM/DD/YYYY or ISO 8601 with a time; a bare date is 00:00 UTC. "
        "Also accepted as date, permanent_disconnect_date or disconnected_on"
    )
    type: Literal["disconnect", "reassigned", "port", "ported"] = Field(
        "disconnect", description="reassigned is a disconnect; a port only lowers the score (also accepted: kind)"
    )


class ReassignedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[DisconnectRow]
    region: str | None = Field(None, description="Region for national-format numbers (default: the server's)")


class ReassignedAnswer(BaseModel):
    rows: int = Field(description="Good rows applied")
    listed: int = Field(description="Of which named a listed number")
    removed: int = Field(description="Listings removed: every report predated the disconnection (owner_change)")
    updated: int = Field(description="Listings that stand on later reports, the earlier ones retired")
    ported: int = Field(description="Listings newly flagged as ported after their last report")
    rejected: int = Field(description="Rows refused, each listed in errors")
    errors: list[BulkError]


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inlined(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(item, defs) for item in node]
    return node


def body_schema() -> dict[str, Any]:
    """The JSON schema of :class:`ReassignedBody` with its row schema inlined: pydantic's ``$defs`` references would
    point nowhere once the schema sits inside the OpenAPI document."""
    schema = ReassignedBody.model_json_schema()
    defs = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inlined(schema, defs)
    return inlined
