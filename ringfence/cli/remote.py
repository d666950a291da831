"""The HTTP client of ``--url``: the same commands against a running ringfence server.

Answers are JSON; errors ``{"error": {"code", "message", "details"}}`` become the :class:`RingfenceError` of their
status, so they are printed and exit exactly like local ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
import orjson

from ringfence import __version__
from ringfence.errors import Conflict, Forbidden, InvalidInput, NotFound, RingfenceError, TooLarge, Unauthorized

__all__ = ["Remote", "error_from_response"]

_BY_STATUS: dict[int, type[RingfenceError]] = {
    400: InvalidInput,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    422: InvalidInput,
}


def error_from_response(response: httpx.Response) -> RingfenceError:
    """The error a server answered with, as the RingfenceError class its status stands for."""
    try:
        body = orjson.loads(response.read())
        error = body["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
    except (orjson.JSONDecodeError, KeyError, TypeError):
        text = response.text.strip()[:300]
        code, message, details = "http_error", f"HTTP {response.status_code}: {text or response.reason_phrase}", {}
    cls = _BY_STATUS.get(response.status_code, RingfenceError)
    return cls(message, code=code, details=details)


def path_part(value: str) -> str:
    """``value`` escaped for use as one segment of a URL path ('+' stays as it is)."""
    return quote(value, safe="+")


class Remote:
    """A ringfence server at ``url``, authenticated with ``key`` (``Authorization: Bearer``)."""

    def __init__(self, url: str, key: str | None, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        headers = {"User-Agent": f"ringfence-cli/{__version__}"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.ConnectError as exc:
            raise RingfenceError(
                f"cannot connect to {self.url}: {exc}", code="unreachable", details={"url": self.url}
            ) from None
        except httpx.TimeoutException:
            raise RingfenceError(
                f"{self.url} did not answer in time", code="timeout", details={"url": self.url}
            ) from None
        except httpx.HTTPError as exc:
            raise RingfenceError(
                f"request to {self.url} failed: {exc}", code="http_error", details={"url": self.url}
            ) from None

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | None] | None = None,
        content: BinaryIO | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One request; the decoded JSON answer, or the server's error raised."""
        kwargs: dict[str, Any] = {"params": {k: v for k, v in (params or {}).items() if v is not None}}
        if json is not None:
            kwargs["content"] = orjson.dumps(json)
            kwargs["headers"] = {"Content-Type": "application/json", **(headers or {})}
        else:
            kwargs["content"] = content
            kwargs["headers"] = dict(headers or {})
        with self._errors():
            response = self._client.request(method, path, **kwargs)
            if response.is_error:
                raise error_from_response(response)
            return orjson.loads(response.content) if response.content else None

    def download(self, path: str, out: BinaryIO, *, params: Mapping[str, str] | None = None) -> int:
        """Stream a GET answer into ``out``; returns the bytes written."""
        written = 0
        with self._errors(), self._client.stream("GET", path, params=params) as response:
            if response.is_error:
                raise error_from_response(response)
            for chunk in response.iter_bytes():
                out.write(chunk)
                written += len(chunk)
        return written
