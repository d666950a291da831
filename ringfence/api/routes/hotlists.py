"""/v1/hotlists: IRSF and Wangiri test-number lists, their versions and diffs, and checks of numbers against them.

Every member may read the lists and check numbers; admins create lists and import versions. A version is uploaded as
the body (TXT, CSV or JSONL, gzip too); the answer is its summary and the refused rows with their line numbers. See
docs/hotlists.md and docs/architecture.md (ringfence.hotlists).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.api.auth import require
from ringfence.api.body import json_body, openapi_body, read_upload
from ringfence.api.longpoll import wait_for_events
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer
from ringfence.api.schemas_hotlists import (
    CheckAnswer,
    CheckBatchAnswer,
    CheckBody,
    DiffAnswer,
    EventsAnswer,
    HotlistAnswer,
    HotlistBody,
    HotlistOptionsBody,
    HotlistsAnswer,
    ImportAnswer,
    VersionAnswer,
    VersionsAnswer,
)
from ringfence.errors import InvalidInput
from ringfence.hotlists.checks import check_many, check_one
from ringfence.hotlists.reader import HotlistFormat, check_format
from ringfence.hotlists.service import MAX_EVENTS, HotlistOptions, HotlistService
from ringfence.hotlists.views import diff_view, hotlist_view, import_view, version_view
from ringfence.numbers.regions import check_region
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

__all__ = ["UPLOAD_PATH", "router"]

router = APIRouter(prefix="/v1/hotlists", tags=["hotlists"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 409, 413, 422)
}
#: Media types that name a format; anything else (text/plain, application/octet-stream, ...) is sniffed.
_MEDIA: dict[str, HotlistFormat] = {
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
}
_ENCODINGS = ("", "identity", "gzip", "x-gzip")
_MAX_WAIT_S = 60.0
Region = Annotated[str | None, Query(description="Region for national-format numbers (default: the server's)")]


class _PathTemplate(str):
    """A path template that equals every concrete path it matches: ``UPLOAD_PATH == "/v1/hotlists/x/versions"``.

    The body limit exempts paths by equality; this lets it exempt the upload of every list, whatever its name."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str) and not isinstance(other, _PathTemplate):
            return _UPLOAD.fullmatch(other) is not None
        return str.__eq__(self, other)

    def __hash__(self) -> int:
        return str.__hash__(self)


_UPLOAD = re.compile(r"/v1/hotlists/[^/]+/versions")
#: The path of version uploads (they have their own, larger limit: ``max_bulk_bytes``).
UPLOAD_PATH = _PathTemplate("/v1/hotlists/{name}/versions")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _service(request: Request) -> HotlistService:
    return _runtime(request).hotlists


def _options(body: HotlistOptionsBody) -> HotlistOptions:
    return HotlistOptions(
        description=body.description,
        retain_missing=body.retain_missing,
        wildcard_last=body.wildcard_last,
        region=body.region,
        url=body.url,
        folder=body.folder,
        every_s=body.every_s,
    )


def _hotlist_answer(service: HotlistService, name: str) -> dict[str, Any]:
    return hotlist_view(*service.overview(name)[0])


# --- checks and events (before /{name}, which would take their names) ---------------------------------------
@router.get(
    "/check/{number}",
    response_model=CheckAnswer,
    responses=_ERRORS,
    summary="Check one number against every hotlist",
)
def check_number(
    number: str, request: Request, region: Region = None, who: Principal = require(Role.READER)
) -> Response:
    """The most specific entry covering the number (``match``) and every entry covering it (``matches``), each with
    its list, pattern, source and first/last seen times. An unusable number is a 422 ``invalid_number``."""
    runtime = _runtime(request)
    chosen = check_region(region) or runtime.settings.default_region
    return json_response(check_one(runtime.hotlists, number, chosen))


@router.post(
    "/check",
    response_model=CheckBatchAnswer,
    responses=_ERRORS,
    summary="Check a batch of numbers against every hotlist",
    openapi_extra=openapi_body(CheckBody),
)
async def check_numbers(request: Request, who: Principal = require(Role.READER)) -> Response:
    """Up to max_batch numbers, answered in order; an unusable number gets its own ``{"input", "error"}``."""
    body = await json_body(request, CheckBody)
    runtime = _runtime(request)
    region = check_region(body.region) or runtime.settings.default_region
    limit = runtime.settings.max_batch
    results = await run_in_threadpool(lambda: check_many(runtime.hotlists, body.numbers, region, limit=limit))
    return json_response({"results": results})


@router.get(
    "/events",
    response_model=EventsAnswer,
    responses=_ERRORS,
    summary="Versions applied after a version id (long-poll with wait)",
)
async def events(
    request: Request,
    since: Annotated[int, Query(ge=0, description="A version id: the last one you have seen (0: from the start)")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS, description="At most this many versions")] = 100,
    wait: Annotated[
        float, Query(ge=0, le=_MAX_WAIT_S, description="Seconds to wait for a version when there is none yet")
    ] = 0,
    who: Principal = require(Role.READER),
) -> Response:
    """Every version of every list (imports, and auto-sync from folders and URLs) applied after version id
    ``since``, oldest first. With ``wait``, an empty answer waits up to that long for the next version."""
    service = _service(request)
    found = await run_in_threadpool(service.events, since, limit)
    if not found and wait > 0:
        found = await wait_for_events(service.subscribe, lambda: service.events(since, limit), wait)
    return json_response({"versions": [version_view(v) for v in found], "last_id": found[-1].id if found else since})


# --- lists --------------------------------------------------------------------------------------------------
@router.get("", response_model=HotlistsAnswer, responses=_ERRORS, summary="Every hotlist")
def list_hotlists(request: Request, who: Principal = require(Role.READER)) -> Response:
    return json_response({"hotlists": [hotlist_view(h, v) for h, v in _service(request).overview()]})


@router.post(
    "",
    status_code=201,
    response_model=HotlistAnswer,
    responses=_ERRORS,
    summary="Create a hotlist (admin)",
    openapi_extra=openapi_body(HotlistBody),
)
async def create_hotlist(request: Request, who: Principal = require(Role.ADMIN)) -> Response:
    """A new, empty list; import versions into it with ``POST /v1/hotlists/{name}/versions``, or give it a
    ``url`` or ``folder`` to sync from."""
    body = await json_body(request, HotlistBody)
    service = _service(request)
    created = await run_in_threadpool(lambda: service.create(who.member, body.name, _options(body)))
    return json_response(hotlist_view(created), 201)


@router.get("/{name}", response_model=HotlistAnswer, responses=_ERRORS, summary="One hotlist")
def get_hotlist(name: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    return json_response(_hotlist_answer(_service(request), name))


@router.patch(
    "/{name}",
    response_model=HotlistAnswer,
    responses=_ERRORS,
    summary="Change how a hotlist is kept (admin)",
    openapi_extra=openapi_body(HotlistOptionsBody),
)
async def update_hotlist(name: str, request: Request, who: Principal = require(Role.ADMIN)) -> Response:
    """Options left out stay as they are; ``retain_missing`` and ``wildcard_last`` apply from the next version."""
    body = await json_body(request, HotlistOptionsBody)
    service = _service(request)
    await run_in_threadpool(lambda: service.update(who.member, name, _options(body)))
    return json_response(await run_in_threadpool(_hotlist_answer, service, name))


# --- versions -----------------------------------------------------------------------------------------------
@router.post(
    "/{name}/versions",
    status_code=201,
    response_model=ImportAnswer,
    responses=_ERRORS,
    summary="Import a version of a hotlist (admin)",
    openapi_extra={
        "requestBody": {
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            }
        }
    },
)
async def import_version(
    name: str,
    request: Request,
    region: Annotated[
        str | None,
        Query(description="Country hint for the file's national numbers (default: the list's; a row's own wins)"),
    ] = None,
    fmt: Annotated[
        str | None, Query(alias="format", description="txt, csv or jsonl (default: from Content-Type, else sniffed)")
    ] = None,
    source: Annotated[str | None, Query(max_length=1000, description="Where the file came from")] = None,
    who: Principal = require(Role.ADMIN),
) -> Response:
    """The body is the list: TXT (one entry per line, ``#`` comments), CSV with a header naming a number column
    (optionally ``country``/``region`` and ``source``), or JSONL; gzip too (``Content-Encoding: gzip`` or its magic
    bytes). The format is the ``format`` parameter, else ``text/csv`` or ``application/x-ndjson``, else sniffed.
    Entries are numbers, ranges with trailing wildcards (``+3725521??``, ``+88213xxxxxx``) or prefixes
    (``+88216*``). Good rows make the list's next version; bad rows are listed with their line numbers. A file with
    no valid entry is refused (422 ``no_valid_numbers``) and the list keeps its current version."""
    runtime = _runtime(request)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in _ENCODINGS:
        raise InvalidInput(
            f"Content-Encoding {encoding!r} is not supported; send the file as it is or gzip",
            code="unsupported_encoding",
            details={"input": encoding},
        )
    chosen = check_format(fmt)
    if chosen is None:
        chosen = _MEDIA.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    hint = check_region(region)
    body = await read_upload(request, runtime.settings.max_bulk_bytes)
    service = runtime.hotlists
    outcome = await run_in_threadpool(
        lambda: service.import_file(who.member, name, body, source=source or "upload", fmt=chosen, region=hint)
    )
    return json_response(import_view(outcome), 201)


@router.get("/{name}/versions", response_model=VersionsAnswer, responses=_ERRORS, summary="The versions of a hotlist")
def list_versions(name: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    return json_response({"versions": [version_view(v) for v in _service(request).versions(name)]})


@router.get(
    "/{name}/versions/{version}",
    response_model=VersionAnswer,
    responses=_ERRORS,
    summary="One version of a hotlist",
)
def get_version(name: str, version: int, request: Request, who: Principal = require(Role.READER)) -> Response:
    return json_response(version_view(_service(request).version(name, version)))


@router.get(
    "/{name}/versions/{version}/diff",
    response_model=DiffAnswer,
    responses=_ERRORS,
    summary="What a version changed: entries added, removed and retained",
)
def diff_version(
    name: str,
    version: int,
    request: Request,
    against: Annotated[
        int | None, Query(ge=0, description="The version to compare with (default: the one before; 0: empty)")
    ] = None,
    who: Principal = require(Role.READER),
) -> Response:
    return json_response(diff_view(_service(request).diff(name, version, against)))
