"""Webhook secrets and signatures.

Each delivery carries ``Ringfence-Timestamp: <unix seconds>`` and ``Ringfence-Signature: v1=<hex>``, where the hex is
HMAC-SHA256, keyed with the webhook's secret (its UTF-8 bytes, the ``whsec_`` prefix included), over
``<timestamp>.<body>``: the timestamp's decimal digits, one ``.``, then the body's bytes exactly as sent. During the
grace period after a rotation the header carries one ``v1=`` entry per valid secret, comma-separated; a receiver
accepts the delivery when any entry matches a secret it holds.

The secret is stored as it is (not hashed): the server must be able to compute the HMAC with it. It is shown to the
member once, on creation or rotation, and never again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

__all__ = ["SCHEME", "new_secret", "sign", "signature_header", "verify"]

SCHEME = "v1"
_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh secret: ``whsec_`` and 32 random bytes, URL-safe base64."""
    return _PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` keyed with ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(keys: Iterable[str], timestamp: int, body: bytes) -> str:
    """``v1=<hex>`` per secret, comma-separated (more than one only while a rotated secret's grace lasts)."""
    return ", ".join(f"{SCHEME}={sign(key, timestamp, body)}" for key in keys)


def verify(secret: str, body: bytes, timestamp: str, signature: str, *, now_s: float, tolerance_s: int = 300) -> bool:
    """Whether ``signature`` (a header value) signs ``body`` at ``timestamp`` with ``secret``, within tolerance.

    The same check as the snippet in docs/webhooks.md, for receivers written in Python that use ringfence."""
    if not timestamp.isascii() or not timestamp.isdigit() or abs(now_s - int(timestamp)) > tolerance_s:
        return False
    expected = sign(secret, int(timestamp), body)
    candidates = [part.strip().partition("=") for part in signature.split(",")]
    return any(
        scheme == SCHEME and hmac.compare_digest(value.encode(), expected.encode()) for scheme, _, value in candidates
    )
