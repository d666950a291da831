"""Which endpoint URLs a webhook may have: HTTPS, no credentials, no fragment; plain HTTP only to this machine."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx

from ringfence.errors import InvalidInput

__all__ = ["LOCAL_HOSTS", "MAX_URL_LENGTH", "check_url"]

MAX_URL_LENGTH = 2000
#: Hosts plain ``http://`` may go to when ``webhook_allow_http_localhost`` is on (tests, demos, a local relay).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _refuse(message: str, raw: str, code: str = "invalid_url") -> InvalidInput:
    return InvalidInput(message, code=code, details={"field": "url", "input": raw[:MAX_URL_LENGTH]})


def check_url(raw: object, *, allow_http_localhost: bool) -> str:
    """The endpoint URL, checked; refused with ``invalid_url``, ``insecure_url`` or ``url_credentials``."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("url is required: the HTTPS endpoint to POST changes to", code="invalid_url")
    text = raw.strip()
    if len(text) > MAX_URL_LENGTH:
        raise _refuse(f"url is longer than {MAX_URL_LENGTH} characters", text)
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise _refuse("url contains spaces or control characters", text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _refuse(f"url {text!r} is not an https:// URL", text)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refuse(
            "url must not carry credentials (user:password@); the signature authenticates ringfence to you",
            text.split("@")[-1],
            "url_credentials",
        )
    host = parts.hostname
    if not host:
        raise _refuse(f"url {text!r} names no host", text)
    try:
        _ = parts.port
    except ValueError:
        raise _refuse(f"url {text!r} has an invalid port", text) from None
    if parts.fragment or text.endswith("#"):
        raise _refuse("url must not have a #fragment (it is never sent)", text)
    if scheme == "http" and not (allow_http_localhost and host.lower() in LOCAL_HOSTS):
        hint = " (plain http:// is allowed only to localhost, 127.0.0.1 or [::1])" if allow_http_localhost else ""
        raise _refuse(f"url must use https://{hint}", text, "insecure_url")
    url = urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise _refuse(f"url {text!r} is not usable: {exc}", text) from None
    return url
