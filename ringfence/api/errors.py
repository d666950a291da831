"""Errors as HTTP answers: every failure is ``{"error": {"code", "message", "details"}}`` with a 4xx status.

Mapped once here: ringfence's own errors, FastAPI's request validation, Starlette's HTTP errors (404/405), and as a
last resort anything unexpected (500, logged, without internals in the body).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ringfence.errors import RingfenceError

__all__ = ["error_body", "error_response", "install_error_handlers"]

log = logging.getLogger("ringfence.api")


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message, "details": details or {}}})


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    return Response(error_body(code, message, details), status, headers=headers, media_type="application/json")


def _ringfence(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RingfenceError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return error_response(exc.http_status, exc.code, exc.message, exc.details, headers)


def _validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    in_body = False
    for err in exc.errors():
        location = [str(part) for part in err.get("loc", ())]
        in_body = in_body or not location or location[0] == "body"
        problems.append(
            {
                "field": ".".join(location[1:]) or location[0] if location else "",
                "type": err.get("type"),
                "message": err.get("msg"),
            }
        )
    if any(p["type"] == "json_invalid" for p in problems):
        return error_response(400, "malformed_json", "the request body is not valid JSON", {"problems": problems})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    if in_body:
        return error_response(
            422, "invalid_body", f"the request does not fit the schema: {summary}", {"problems": problems}
        )
    return error_response(422, "invalid_parameter", f"bad query or path parameter: {summary}", {"problems": problems})


def _http(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}
    code = codes.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "ringfence failed to answer; the error is logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RingfenceError, _ringfence)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
