"""/v1/reports: members report numbers (one, or files in bulk), withdraw their own, and list their own."""

from __future__ import annotations

import io
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.answers import answer_one
from ringfence.api.auth import require
from ringfence.api.body import UPLOAD_FORMATS, json_body, openapi_body, read_upload
from ringfence.api.render import json_response
from ringfence.api.schemas import BulkAnswer, ErrorAnswer, ReportAnswer, ReportBody, ReportsAnswer
from ringfence.errors import InvalidInput
from ringfence.numbers.regions import check_region
from ringfence.registry.files import import_reports, store_rows
from ringfence.registry.intake import parse_report
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.registry.views import bulk_view, report_view, reports_page
from ringfence.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1/reports", tags=["reports"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 409, 413, 422)
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post(
    "",
    response_model=ReportAnswer,
    status_code=201,
    responses=_ERRORS,
    summary="Report a number",
    openapi_extra=openapi_body(ReportBody),
)
async def create_report(request: Request, who: Principal = require(Role.REPORTER)) -> Response:
    runtime = _runtime(request)
    body = await json_body(request, ReportBody)
    return await run_in_threadpool(_store_report, runtime, who, body)


def _store_report(runtime: Runtime, who: Principal, body: ReportBody) -> Response:
    new = parse_report(
        body.model_dump(exclude_none=True, exclude={"region"}),
        now_ms=runtime.clock.now_ms(),
        region=check_region(body.region) or runtime.settings.default_region,
        future_skew_ms=runtime.settings.future_skew_ms,
    )
    report, created = runtime.registry.report(who.member, new)
    answer = {
        "report": report_view(report),
        "duplicate": not created,
        "listing": answer_one(runtime, report.number, who.member.id),
    }
    return json_response(answer, 201 if created else 200)


@router.post(
    "/bulk",
    response_model=BulkAnswer,
    responses=_ERRORS,
    summary="Report many numbers from a CSV or JSONL file (gzip too)",
    description=(
        "Send the file as the body: `text/csv` (header row: number, category, occurred_at, note, report_id) or "
        "`application/x-ndjson` (one JSON object per line); gzip is recognised by its magic bytes. "
        '`application/json` with `{"reports": [...]}` works too. Good rows are stored, bad rows are listed with '
        "their line number and reason."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object", "properties": {"reports": {"type": "array"}}}},
            }
        }
    },
)
async def bulk_reports(
    request: Request,
    region: Annotated[str | None, Query(description="Region for national-format numbers")] = None,
    who: Principal = require(Role.REPORTER),
) -> Response:
    runtime = _runtime(request)
    body = await read_upload(request, runtime.settings.max_bulk_bytes)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    region = check_region(region) or runtime.settings.default_region
    if media == "application/json":
        rows = _json_rows(body)
        outcome = await run_in_threadpool(
            lambda: store_rows(
                runtime.registry, who.member, rows, region=region, future_skew_ms=runtime.settings.future_skew_ms
            )
        )
    else:
        fmt = UPLOAD_FORMATS.get(media)
        outcome = await run_in_threadpool(
            lambda: import_reports(
                runtime.registry,
                who.member,
                io.BytesIO(body),
                fmt=fmt,  # type: ignore[arg-type]
                region=region,
                future_skew_ms=runtime.settings.future_skew_ms,
            )
        )
    return json_response(bulk_view(outcome))


def _json_rows(body: bytes) -> list[tuple[int, dict[str, object] | InvalidInput]]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the request body is not valid JSON", code="malformed_json") from None
    reports = data.get("reports") if isinstance(data, dict) else None
    if not isinstance(reports, list) or set(data) - {"reports"}:
        raise InvalidInput('expected {"reports": [ {...}, ... ]}', code="invalid_body")
    rows: list[tuple[int, dict[str, object] | InvalidInput]] = []
    for i, item in enumerate(reports, start=1):
        if isinstance(item, dict):
            rows.append((i, item))
        else:
            rows.append((i, InvalidInput(f"item {i} is not an object", code="invalid_row")))
    return rows


@router.delete("/{report}", response_model=ReportAnswer, responses=_ERRORS, summary="Withdraw one of your reports")
def withdraw_report(report: str, request: Request, who: Principal = require(Role.REPORTER)) -> Response:
    runtime = _runtime(request)
    withdrawn = runtime.registry.withdraw(who.member, report)
    listing = answer_one(runtime, withdrawn.number, who.member.id)
    return json_response({"report": report_view(withdrawn), "duplicate": False, "listing": listing})


@router.get("", response_model=ReportsAnswer, responses=_ERRORS, summary="Your reports (admins: anyone's)")
def list_reports(
    request: Request,
    mine: bool = False,
    include_withdrawn: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(description="The `next` of the previous page")] = None,
    who: Principal = require(Role.READER),
) -> Response:
    runtime = _runtime(request)
    is_admin = who.member.role is Role.ADMIN
    member = who.member if (mine or not is_admin) else None
    found = runtime.registry.reports(member=member, include_withdrawn=include_withdrawn, limit=limit, before=before)
    return json_response(reports_page(found, limit, include_member=is_admin))
