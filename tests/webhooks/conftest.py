"""Webhook tests: small timeouts and backoffs, a real HTTP receiver, the verification snippet of the docs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ringfence.config import Settings
from tests.webhooks.receiver import Receiver, receiver_at

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"

Verify = Callable[..., bool]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        default_region="GB",
        webhook_timeout_ms=1_000,
        webhook_retry_base_ms=1_000,
        webhook_retry_cap_ms=60_000,
        webhook_max_failures=4,
        webhook_poll_ms=100,
        webhook_batch=3,
        webhook_secret_grace_s=3600,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiver_at() as r:
        yield r


@pytest.fixture(scope="session")
def documented_verify() -> Verify:
    """``verify_ringfence_signature`` exactly as docs/webhooks.md prints it."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    source = next(b for b in blocks if "def verify_ringfence_signature" in b)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOCS), "exec"), namespace)
    function: Verify = namespace["verify_ringfence_signature"]
    return function
