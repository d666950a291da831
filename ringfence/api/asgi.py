"""A module-level ASGI factory for servers that import their app (``granian --factory ringfence.api.asgi:app``)."""

from __future__ import annotations

from starlette.types import ASGIApp

from ringfence.api import create_app
from ringfence.config import Settings
from ringfence.runtime import Runtime

__all__ = ["app"]


def app() -> ASGIApp:
    """Build the runtime from ``RINGFENCE_*`` settings and the app over it."""
    return create_app(Runtime.open(Settings.from_env()))
