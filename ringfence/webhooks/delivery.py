"""One attempt to deliver: the signed POST, what its answer means, and when to try again.

* 2xx: delivered.
* Anything else is a failed attempt, retried with the same delivery id and body: a timeout (the whole exchange must
  finish within ``webhook_timeout_ms``), a refused or dropped connection, a TLS failure, any 5xx, 408 and 429 (their
  ``Retry-After`` is honoured, up to the backoff cap), and also other 4xx and 3xx (redirects are not followed: the
  signed body goes only to the URL the member registered). A 4xx usually means the receiver is misconfigured (a
  rejected signature, a moved path); it is retried like the rest so a fix on the receiver's side loses nothing, and
  it counts towards the failure run that disables the webhook, so a permanent mistake does not go on for ever.
* The delay before retry *n* of a run of failures is drawn uniformly from ``[0, min(cap, base * 2**(n-1))]``
  ("full jitter"): growing windows, and endpoints coming back are not hit by every sender at the same instant.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from ringfence import __version__
from ringfence.webhooks.models import Attempt
from ringfence.webhooks.signing import signature_header

__all__ = ["USER_AGENT", "backoff_ms", "headers_for", "post"]

USER_AGENT = f"ringfence-webhooks/{__version__}"
_SNIPPET = 200  # characters of an error answer kept in the delivery log


def backoff_ms(failures: int, base_ms: int, cap_ms: int, rand: Callable[[], float]) -> int:
    """The delay before the next try after ``failures`` consecutive failures (full jitter; ``rand()`` in [0, 1])."""
    window = min(cap_ms, base_ms * 2 ** min(max(failures - 1, 0), 40))
    return int(window * min(max(rand(), 0.0), 1.0))


def headers_for(
    *, delivery_id: str, webhook_id: str, attempt: int, timestamp: int, secrets: tuple[str, ...], body: bytes
) -> dict[str, str]:
    """The headers of a delivery attempt (documented in docs/webhooks.md)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Ringfence-Delivery": delivery_id,
        "Ringfence-Webhook": webhook_id,
        "Ringfence-Attempt": str(attempt),
        "Ringfence-Timestamp": str(timestamp),
        "Ringfence-Signature": signature_header(secrets, timestamp, body),
    }


def _retry_after_ms(response: httpx.Response) -> int | None:
    raw = response.headers.get("retry-after", "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw) * 1000
    return None


def _describe(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timed out after {timeout_s:g} s"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection closed without a complete answer ({exc})" if str(exc) else "connection closed"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {exc}" if str(exc) else "connection failed"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Attempt:
    """POST ``body`` to ``url``; never raises for what the endpoint or the network does."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        async with asyncio.timeout(timeout_s):
            request = client.build_request("POST", url, content=body, headers=headers)
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if response.is_success:
                    return Attempt(True, response.status_code, None, duration_ms=took())
                text = b""
                async for chunk in response.aiter_bytes():
                    text += chunk
                    if len(text) >= 4 * _SNIPPET:
                        break
            finally:
                await response.aclose()
    except (TimeoutError, httpx.HTTPError, OSError) as exc:
        return Attempt(False, None, _describe(exc, timeout_s), duration_ms=took())
    status = response.status_code
    error = f"HTTP {status}"
    if response.is_redirect:
        error += f" (redirect to {response.headers.get('location', '?')[:_SNIPPET]} not followed)"
    snippet = " ".join(text.decode("utf-8", "replace").split())[:_SNIPPET]
    if snippet:
        error += f": {snippet}"
    retry_after = _retry_after_ms(response) if status in (429, 503) else None
    return Attempt(False, status, error, retry_after, took())
