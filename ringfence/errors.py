"""One error hierarchy for the whole platform.

Every error carries a stable machine-readable ``code``, a human ``message`` and optional ``details``.
Front doors map them once: HTTP status (``http_status``) and CLI exit code (``exit_code``).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Conflict",
    "Forbidden",
    "Gone",
    "InvalidInput",
    "InvalidNumber",
    "NotFound",
    "RingfenceError",
    "TooLarge",
    "Unauthorized",
]


class RingfenceError(Exception):
    """Base of every error ringfence raises on purpose."""

    code = "error"
    http_status = 400
    exit_code = 1

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(RingfenceError):
    """The caller sent something malformed (wrong type, unknown field, bad value)."""

    code = "invalid_input"
    http_status = 422
    exit_code = 2


class InvalidNumber(InvalidInput):
    """A phone number could not be parsed, or is not a possible number.

    ``details`` always holds ``input`` (what was given) and ``reason`` (a stable reason code).
    """

    code = "invalid_number"

    def __init__(self, raw: object, reason: str, explanation: str) -> None:
        super().__init__(
            f"{raw!r} is not a usable phone number: {explanation}",
            details={"input": raw if isinstance(raw, str) else repr(raw), "reason": reason},
        )
        self.raw = raw
        self.reason = reason


class Unauthorized(RingfenceError):
    code = "unauthorized"
    http_status = 401
    exit_code = 3


class Forbidden(RingfenceError):
    code = "forbidden"
    http_status = 403
    exit_code = 3


class NotFound(RingfenceError):
    code = "not_found"
    http_status = 404
    exit_code = 4


class Conflict(RingfenceError):
    code = "conflict"
    http_status = 409
    exit_code = 5


class TooLarge(RingfenceError):
    code = "too_large"
    http_status = 413
    exit_code = 2


class Gone(RingfenceError):
    """What was asked for existed once and no longer does (a feed position older than retention)."""

    code = "gone"
    http_status = 410
    exit_code = 4
