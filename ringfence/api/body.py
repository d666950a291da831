"""JSON request bodies, read whatever Content-Type the client sent (curl -d sends a form type by default)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from ringfence.errors import TooLarge

__all__ = ["UPLOAD_FORMATS", "json_body", "openapi_body", "read_upload"]

#: Media types of file uploads (bulk reports, owner-change feeds) and the file format each means.
UPLOAD_FORMATS = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}

M = TypeVar("M", bound=BaseModel)


async def json_body(request: Request, model: type[M]) -> M:
    """The body validated against ``model`` (pydantic's own JSON parser); schema errors as FastAPI's would be."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the JSON request body of a route that reads it with json_body."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


async def read_upload(request: Request, limit: int) -> bytes:
    """An upload's whole body, refused (413 ``body_too_large``) as soon as it is over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(
            f"the upload is {declared} bytes; at most {limit}", code="body_too_large", details={"limit": limit}
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the upload is over {limit} bytes", code="body_too_large", details={"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)
