"""What can go wrong talking to a ringfence server, as exceptions a caller can tell apart.

Every error is a :class:`ClientError` carrying ``status`` (the HTTP status, ``None`` when no answer came), ``code``
(the server's stable machine-readable code, or one of the client's own: ``unreachable``, ``timeout``,
``transport_error``, ``unexpected_answer``, ``http_error``), ``message`` and ``details``. The subclass says what kind
of failure it is: :class:`AuthError` (401/403), :class:`NotFoundError` (404), :class:`InvalidInputError` (400/422),
:class:`ConflictError` (409), :class:`FeedExpired` (410 ``since_expired``), :class:`TooLargeError` (413),
:class:`ServerError` (5xx), :class:`TransportError` (no answer) and :class:`UnexpectedAnswer` (an answer that is not
what the API promises).
"""

from __future__ import annotations

import orjson

__all__ = [
    "AuthError",
    "ClientError",
    "ConflictError",
    "FeedExpired",
    "InvalidInputError",
    "NotFoundError",
    "ServerError",
    "TooLargeError",
    "TransportError",
    "UnexpectedAnswer",
    "error_from_answer",
]


class ClientError(Exception):
    """A request to ringfence failed; ``code`` is stable, ``message`` is for people."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "error", details: dict[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, object] = details or {}

    def __str__(self) -> str:
        where = f"HTTP {self.status}, " if self.status is not None else ""
        return f"{self.message} ({where}{self.code})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class AuthError(ClientError):
    """401: the key is missing, malformed, unknown or revoked; 403: the key's role does not allow the call."""


class NotFoundError(ClientError):
    """404: no such report (or route)."""


class InvalidInputError(ClientError):
    """400/422: the server refused what was sent (a bad number, an unknown category, a malformed field)."""


class ConflictError(ClientError):
    """409: e.g. a ``report_id`` already used for a different report."""


class TooLargeError(ClientError):
    """413: the request is over a server limit (``details`` says which)."""


class ServerError(ClientError):
    """5xx: the server (or a proxy in front of it) failed to answer."""


class TransportError(ClientError):
    """No answer at all: the server could not be reached, the connection broke, or it did not answer in time."""


class UnexpectedAnswer(ClientError):
    """The server answered, but not with what the API promises (not JSON, or a field missing or of the wrong type)."""


class FeedExpired(ClientError):
    """410 ``since_expired``: the changes after ``since`` are no longer kept (retention deleted up to ``floor``).

    Take a snapshot (``GET /v1/export``), then follow the feed from the snapshot's seq, or from ``head``."""

    def __init__(
        self, message: str, *, status: int | None = 410, code: str = "since_expired", details: dict[str, object]
    ) -> None:
        super().__init__(message, status=status, code=code, details=details)
        self.since = _optional_int(details.get("since"))
        self.floor = _optional_int(details.get("floor"))
        self.head = _optional_int(details.get("head"))


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_BY_STATUS: dict[int, type[ClientError]] = {
    400: InvalidInputError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
    413: TooLargeError,
    422: InvalidInputError,
}


def error_from_answer(status: int, content: bytes, reason: str = "") -> ClientError:
    """The error an HTTP answer with an error status stands for.

    A body ``{"error": {"code", "message", "details"}}`` gives code, message and details; anything else (a proxy's
    HTML page, an empty body) keeps the status with code ``http_error`` and the start of the body as the message.
    """
    parsed = _error_body(content)
    details: dict[str, object]
    if parsed is None:
        text = content.decode("utf-8", "replace").strip()[:300]
        code, message, details = "http_error", f"HTTP {status}: {text or reason or 'no body'}", {}
    else:
        code, message, details = parsed
    if status == 410 and code == "since_expired":
        return FeedExpired(message, status=status, code=code, details=details)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ClientError)
    return cls(message, status=status, code=code, details=details)


def _error_body(content: bytes) -> tuple[str, str, dict[str, object]] | None:
    try:
        body: object = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code, message, details = error.get("code"), error.get("message"), error.get("details")
    if not isinstance(code, str) or not isinstance(message, str):
        return None
    return code, message, (details if isinstance(details, dict) else {})
