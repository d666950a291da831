"""API keys: made here, shown once, stored only as a salted scrypt hash.

A key reads ``rf_<id>_<secret>``. The id is public (it names the key in listings and revocations); the secret is
32 random bytes. Verifying a secret costs one scrypt (tens of milliseconds, on purpose), so verified keys are kept in
a bounded in-memory cache keyed by the SHA-256 of the whole key: the hot path pays a hash, not a scrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = ["KeyParts", "hash_secret", "new_key", "split_key", "verify_secret"]

_PREFIX = "rf"
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class KeyParts:
    key_id: str
    secret: str


def new_key() -> tuple[str, KeyParts]:
    """A fresh key: the full text to show once, and its parts."""
    key_id = base64.b32encode(secrets.token_bytes(5)).decode().lower()  # 8 characters
    secret = secrets.token_urlsafe(32).replace("_", "x").replace("-", "y")
    return f"{_PREFIX}_{key_id}_{secret}", KeyParts(key_id, secret)


def split_key(key: str) -> KeyParts | None:
    """The parts of a presented key, or None when it is not shaped like one of ours."""
    pieces = key.split("_")
    if len(pieces) != 3 or pieces[0] != _PREFIX or len(pieces[1]) != 8 or not pieces[2]:
        return None
    return KeyParts(pieces[1], pieces[2])


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
    )
    return hmac.compare_digest(candidate.hex(), digest)
