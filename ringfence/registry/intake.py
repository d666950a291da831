"""Turning outside input (API bodies, CSV and JSONL rows, CLI arguments) into validated reports.

Every front door hands its fields to :func:`parse_report`, so a report is checked the same way wherever it comes
from: the number through ``ringfence.numbers``, the category against the known ones, the time as ISO 8601.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ringfence.clock import to_ms
from ringfence.errors import InvalidInput
from ringfence.numbers import normalise
from ringfence.registry.models import NewReport, parse_category

__all__ = ["REPORT_FIELDS", "parse_occurred_at", "parse_report"]

REPORT_FIELDS = ("number", "category", "occurred_at", "note", "report_id")
_KNOWN = frozenset(REPORT_FIELDS)
MAX_NOTE = 2000
MAX_REPORT_ID = 200


def parse_occurred_at(raw: object, now_ms: int, future_skew_ms: int) -> int:
    """ISO 8601 time (naive means UTC) as epoch ms; refused when it lies further in the future than the skew allows."""
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, str) and raw.strip():
        try:
            moment = datetime.fromisoformat(raw.strip())  # Python 3.11 reads a trailing Z as UTC
        except ValueError:
            raise InvalidInput(
                f"occurred_at {raw!r} is not an ISO 8601 time (e.g. 2026-11-21T09:30:00Z)",
                code="invalid_time",
                details={"field": "occurred_at", "input": raw},
            ) from None
    else:
        raise InvalidInput(
            f"occurred_at must be an ISO 8601 time string, got {raw!r}",
            code="invalid_time",
            details={"field": "occurred_at", "input": repr(raw)},
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = to_ms(moment)
    if ms > now_ms + future_skew_ms:
        raise InvalidInput(
            f"occurred_at {raw!s} lies in the future",
            code="time_in_future",
            details={"field": "occurred_at", "input": str(raw)},
        )
    return ms


def _optional_text(fields: Mapping[str, object], name: str, limit: int) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if type(value) is str and len(value) <= limit:
        return value
    if not isinstance(value, str):
        raise InvalidInput(
            f"{name} must be text, got {value!r}", code="invalid_field", details={"field": name, "input": repr(value)}
        )
    if len(value) > limit:
        raise InvalidInput(
            f"{name} is longer than {limit} characters", code="field_too_long", details={"field": name, "limit": limit}
        )
    return value


def parse_report(
    fields: Mapping[str, object],
    *,
    now_ms: int,
    region: str | None = None,
    future_skew_ms: int = 300_000,
) -> NewReport:
    """A validated :class:`NewReport` from raw fields, or an :class:`InvalidInput` naming the field and the reason."""
    if not _KNOWN.issuperset(fields):
        unknown = sorted(set(fields) - _KNOWN)
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}; expected {', '.join(REPORT_FIELDS)}",
            code="unknown_field",
            details={"fields": unknown},
        )
    raw_number = fields.get("number")
    raw_category = fields.get("category")
    if raw_number is None or raw_number == "" or raw_category is None or raw_category == "":
        name = "number" if raw_number is None or raw_number == "" else "category"
        raise InvalidInput(f"{name} is required", code="missing_field", details={"field": name})
    if not isinstance(raw_number, str):
        raise InvalidInput(
            f"number must be text, got {raw_number!r}",
            code="invalid_field",
            details={"field": "number", "input": repr(raw_number)},
        )
    number = normalise(raw_number, region)
    category = parse_category(raw_category)
    occurred = fields.get("occurred_at")
    occurred_ms = now_ms if occurred in (None, "") else parse_occurred_at(occurred, now_ms, future_skew_ms)
    return NewReport(
        number=number,
        category=category,
        occurred_ms=occurred_ms,
        note=_optional_text(fields, "note", MAX_NOTE),
        report_id=_optional_text(fields, "report_id", MAX_REPORT_ID),
        occurred_given=occurred not in (None, ""),
    )
