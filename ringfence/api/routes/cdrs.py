"""/v1/cdrs: a member sends its call records (a file, or a JSON batch) and gets back what its rules raised.

Records are read with a preset layout or detected from the header; bad rows are quarantined with their line number
and reason and the rest evaluated (stream mode by default: the member's window state carries over from one upload to
the next). Alerts become the member's incidents (``/v1/alerts``). See docs/cdrs.md and docs/rules.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.api.auth import require
from ringfence.api.body import read_upload
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer
from ringfence.api.schemas_cdrs import PresetsAnswer, QuarantineAnswer, ScanAnswer, body_schema
from ringfence.cdrs.mapping import PRESETS, preset
from ringfence.errors import InvalidInput, TooLarge
from ringfence.monitoring.models import Mode
from ringfence.monitoring.views import outcome_view, preset_view
from ringfence.numbers.regions import check_region
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

__all__ = ["PATH", "router"]

PATH: Final = "/v1/cdrs"
router = APIRouter(tags=["cdrs"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorAnswer} for code in (400, 401, 403, 413, 422)}
_ENCODINGS = ("", "identity", "gzip", "x-gzip")
#: How many quarantined rows an answer lists (all are counted; the first ones are also kept in the quarantine).
MAX_LISTED: Final = 1000


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _mode(raw: str) -> Mode:
    try:
        return Mode(raw.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"mode {raw!r} is not one of stream, batch", code="invalid_mode", details={"input": raw}
        ) from None


@router.post(
    PATH,
    response_model=ScanAnswer,
    responses=_ERRORS,
    summary="Send call records; answers the alerts they raised (reporter)",
    description=(
        "The body is a CDR file — CSV (with a header, or headerless for the `asterisk` preset) or JSONL, gzip too "
        '(`Content-Encoding: gzip` or its magic bytes) — or `application/json` with `{"records": [{...}, ...]}` '
        "(objects with the layout's column names). The layout is `preset` (see `GET /v1/cdrs/presets`), else "
        "detected from the header. Bad rows are quarantined with their line number and reason (listed here and "
        "kept: `GET /v1/cdrs/quarantine`); the rest go through the rules. `mode=stream` (default) continues the "
        "member's stream, so a pattern spread over several uploads is seen whole; `mode=batch` evaluates this "
        "input alone. The alerts are recorded as the member's incidents (`/v1/alerts`); a re-sent file records "
        "nothing twice."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": body_schema()},
            }
        }
    },
)
async def send_cdrs(
    request: Request,
    preset_name: Annotated[str | None, Query(alias="preset", description="Layout preset (default: detected)")] = None,
    mode: Annotated[str, Query(description="stream (default) or batch")] = "stream",
    region: Annotated[
        str | None, Query(description="Region for national-format numbers (default: the server's)")
    ] = None,
    source: Annotated[str | None, Query(max_length=1000, description="Where the records came from")] = None,
    who: Principal = require(Role.REPORTER),
) -> Response:
    runtime = _runtime(request)
    settings = runtime.settings
    chosen_mode = _mode(mode)
    mapping = None if preset_name is None else preset(preset_name)
    hint = check_region(region)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in _ENCODINGS:
        raise InvalidInput(
            f"Content-Encoding {encoding!r} is not supported; send the body as it is or gzip",
            code="unsupported_encoding",
            details={"input": encoding},
        )
    body = await read_upload(request, settings.max_bulk_bytes)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    monitor = runtime.monitor
    name = source or "upload"
    if media == "application/json":
        records = _records(body, settings.max_cdr_batch)
        outcome = await run_in_threadpool(
            lambda: monitor.scan(
                who.member,
                lambda r: r.read_records(records),
                source=name,
                mode=chosen_mode,
                mapping=mapping,
                region=hint,
            )
        )
    else:
        fmt_name = {"text/csv": "upload.csv", "application/x-ndjson": "upload.jsonl"}.get(media)
        outcome = await run_in_threadpool(
            lambda: monitor.scan(
                who.member,
                lambda r: r.read_bytes(body, name=fmt_name),
                source=name,
                mode=chosen_mode,
                mapping=mapping,
                region=hint,
            )
        )
    return json_response(outcome_view(outcome, max_listed=MAX_LISTED))


def _records(body: bytes, limit: int) -> list[Any]:
    """The items of ``{"records": [...]}`` (each checked by the reader, so one bad item costs only itself)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the request body is not valid JSON", code="malformed_json") from None
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list) or set(data) != {"records"}:
        raise InvalidInput('expected {"records": [ {...}, ... ]}', code="invalid_body")
    if len(records) > limit:
        raise TooLarge(
            f"{len(records)} records in one request; at most {limit} (send a file for more)",
            code="batch_too_large",
            details={"count": len(records), "limit": limit},
        )
    return records


@router.get(PATH + "/presets", response_model=PresetsAnswer, responses=_ERRORS, summary="The CDR layout presets")
def list_presets(who: Principal = require(Role.READER)) -> Response:
    return json_response({"presets": [preset_view(name, mapping) for name, mapping in PRESETS.items()]})


@router.get(
    PATH + "/quarantine",
    response_model=QuarantineAnswer,
    responses=_ERRORS,
    summary="Rows of sent call records that could not be used, newest first",
)
def quarantine(
    request: Request,
    before: Annotated[int | None, Query(ge=1, description="Page: rows below this id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    who: Principal = require(Role.REPORTER),
) -> Response:
    """A member sees its own rows; an admin every member's."""
    member_id = None if who.member.role.allows(Role.ADMIN) else who.member.id
    rows = _runtime(request).monitor.quarantine.rows(member_id, before=before, limit=limit)
    return json_response(
        {"rows": [r.to_dict() for r in rows], "next_before": rows[-1].id if len(rows) == limit else None}
    )
