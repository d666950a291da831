"""/v1/files: the snapshot and delta files of the drop folder, listed by their manifests and downloaded by name."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from ringfence.api.auth import require
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer
from ringfence.files.drop import DropFile, DropFolder
from ringfence.registry.members import Principal
from ringfence.registry.models import Role

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["files"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorAnswer} for code in (401, 403, 404)}


def _drop(request: Request) -> DropFolder:
    return DropFolder(request.app.state.runtime.settings.drop_dir)


def _listed(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest as listed: each file with the path it is downloaded from."""
    for entry in manifest["files"]:
        entry["url"] = f"/v1/files/{entry['name']}"
    manifest["manifest_url"] = f"/v1/files/{manifest['manifest']}"
    return manifest


@router.get("/files", responses=_ERRORS, summary="Snapshot and delta file sets, newest first")
async def list_files(
    request: Request, kind: Literal["full", "delta"] | None = None, _who: Principal = require(Role.READER)
) -> Response:
    """The manifest of every complete file set in the drop folder, newest first (``kind`` picks full snapshots or
    deltas). To start: download the newest full snapshot, then the deltas whose ``seq_from`` follows its ``seq_to``,
    or follow the change feed from ``seq_to + 1``."""
    sets = await run_in_threadpool(_drop(request).sets)
    chosen = [s for s in reversed(sets) if kind is None or s.kind == kind]
    return json_response({"sets": [_listed(s.to_dict()) for s in chosen]})


def _sha256(found: DropFile) -> str:
    if found.entry is not None:
        return found.entry.sha256
    with open(found.path, "rb") as f:  # a manifest: small, hashed as it is now
        return hashlib.file_digest(f, "sha256").hexdigest()


@router.get(
    "/files/{name}",
    responses={**_ERRORS, 200: {"content": {"application/gzip": {}, "application/json": {}}}},
    response_class=FileResponse,
    summary="Download one file of the drop folder",
)
async def download(name: str, request: Request, _who: Principal = require(Role.READER)) -> Response:
    """One file by its name as a manifest lists it (``*.csv.gz``, ``*.jsonl.gz``, ``*.manifest.json``). The ETag is
    the file's SHA-256 (the manifest's ``sha256``); ranges are served, so a broken download can resume."""
    found = await run_in_threadpool(_drop(request).resolve, name)
    etag = f'"{await run_in_threadpool(_sha256, found)}"'
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers={"ETag": etag})
    return FileResponse(
        found.path,
        media_type=found.media_type,
        filename=found.name,
        stat_result=found.stat,
        headers={"ETag": etag, "Cache-Control": "private, no-cache"},
    )
