"""/v1/reassigned: an admin applies a reassigned/disconnected numbers feed (the FCC Reassigned Numbers Database's
shape), as a file or as JSON rows. Listings reported before a number's disconnection go (``owner_change``); ports
after the last report lower the score."""

from __future__ import annotations

import io
import zlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.api.auth import require
from ringfence.api.body import UPLOAD_FORMATS, read_upload
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer
from ringfence.api.schemas_reassigned import ReassignedAnswer, body_schema
from ringfence.errors import InvalidInput, TooLarge
from ringfence.numbers.regions import check_region
from ringfence.reassigned import apply_objects, import_disconnects, outcome_view
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

__all__ = ["PATH", "router"]

PATH = "/v1/reassigned"
router = APIRouter(tags=["reassigned"])
_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorAnswer} for code in (400, 401, 403, 413, 422)}
_GZIP_MAGIC = b"\x1f\x8b"
_ENCODINGS = ("", "identity", "gzip", "x-gzip")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post(
    PATH,
    response_model=ReassignedAnswer,
    responses=_ERRORS,
    summary="Apply a reassigned/disconnected numbers feed (admin)",
    description=(
        "Rows of (number, disconnect date, type) in the shape of the FCC Reassigned Numbers Database. Any listing "
        "whose reports predate a number's disconnection loses them (reason `owner_change`) and is removed when none "
        "is left; reports made after it stand. A `port` after the last report lowers the score and removes nothing."
        "\n\nSend the feed as the body: `text/csv` (header naming number and disconnect_date, optionally type; "
        "also phone_number / tn / telephone_number, date / permanent_disconnect_date / disconnected_on, kind) or "
        "`application/x-ndjson`, gzip too (by `Content-Encoding: gzip` or its magic bytes); or `application/json` "
        'with `{"rows": [...], "region": "US"}`. Numbers in national format are read with `region` (the FCC\'s '
        "ten-digit numbers: US). Good rows are applied, bad rows are listed with their line number and reason."
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
async def apply_feed(
    request: Request,
    region: Annotated[str | None, Query(description="Region for national-format numbers (FCC: US)")] = None,
    who: Principal = require(Role.ADMIN),
) -> Response:
    runtime = _runtime(request)
    limit = runtime.settings.max_bulk_bytes
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in _ENCODINGS:
        raise InvalidInput(
            f"Content-Encoding {encoding!r} is not supported; send the body as it is or gzip",
            code="unsupported_encoding",
            details={"input": encoding},
        )
    body = await read_upload(request, limit)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    chosen = check_region(region)
    skew = runtime.settings.future_skew_ms
    if media == "application/json":
        rows, body_region = _json_rows(_inflated(body, limit))
        feed_region = check_region(body_region) or chosen or runtime.settings.default_region
        outcome, errors = await run_in_threadpool(
            lambda: apply_objects(runtime.registry, who.member, rows, feed_region, future_skew_ms=skew)
        )
    else:
        fmt = UPLOAD_FORMATS.get(media)
        feed_region = chosen or runtime.settings.default_region
        outcome, errors = await run_in_threadpool(
            lambda: import_disconnects(
                runtime.registry,
                who.member,
                io.BytesIO(body),
                feed_region,
                fmt=fmt,  # type: ignore[arg-type]
                future_skew_ms=skew,
            )
        )
    return json_response(outcome_view(outcome, errors))


def _inflated(body: bytes, limit: int) -> bytes:
    """A JSON body as it is, or gunzipped (refused when it would grow past ``limit``)."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InvalidInput(f"the gzip body is damaged: {exc}", code="invalid_gzip") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"the body is over {limit} bytes once unzipped", code="body_too_large", details={"limit": limit})
    return data


def _json_rows(body: bytes) -> tuple[list[Any], str | None]:
    """The rows and the region of ``{"rows": [...], "region": "US"}``; the rows are validated one by one later."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the request body is not valid JSON", code="malformed_json") from None
    rows = data.get("rows") if isinstance(data, dict) else None
    region = data.get("region") if isinstance(data, dict) else None
    if not isinstance(rows, list) or set(data) - {"rows", "region"} or not (region is None or isinstance(region, str)):
        raise InvalidInput('expected {"rows": [ {...}, ... ], "region": "US"}', code="invalid_body")
    return rows, region
