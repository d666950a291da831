"""/v1/export: every listing as CSV or JSONL (counts only, never who reported)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from ringfence.api.auth import require
from ringfence.api.schemas import ErrorAnswer
from ringfence.registry.files import write_listings
from ringfence.registry.members import Principal
from ringfence.registry.models import Role

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["export"])


@router.get("/export", responses={401: {"model": ErrorAnswer}}, summary="All listings as CSV or JSONL")
async def export(
    request: Request, format: Literal["csv", "jsonl"] = "csv", _who: Principal = require(Role.READER)
) -> StreamingResponse:
    """Written to an unlinked temporary file first (a consistent snapshot that holds no store cursor while a slow
    client reads), then streamed from it."""
    registry = request.app.state.runtime.registry
    spool = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115 - closed by the streaming generator

    def write() -> None:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)
        write_listings(registry.iter_listings(), text, format)
        text.detach()
        spool.seek(0)

    try:
        await run_in_threadpool(write)
    except BaseException:
        spool.close()
        raise

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while block := await run_in_threadpool(spool.read, 1 << 20):
                yield block
        finally:
            spool.close()

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    disposition = {"Content-Disposition": f'attachment; filename="ringfence-listings.{format}"'}
    return StreamingResponse(chunks(), media_type=media, headers=disposition)
