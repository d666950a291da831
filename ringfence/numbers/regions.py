"""Regions named from outside (a request's ``region``): checked once, so a typo is refused, not taken as "none"."""

from __future__ import annotations

import phonenumbers

from ringfence.errors import InvalidInput

__all__ = ["check_region"]


def check_region(raw: str | None) -> str | None:
    """``raw`` as an upper-case region phonenumbers knows (ISO 3166 alpha-2), ``None`` for none given."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(
            f"region {raw!r} is not a region phonenumbers knows (ISO 3166 alpha-2, e.g. GB, US)",
            code="unknown_region",
            details={"input": raw},
        )
    return value
