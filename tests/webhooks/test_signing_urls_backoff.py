"""Signatures (against the snippet printed in docs/webhooks.md), endpoint URL rules, and the retry schedule."""

from __future__ import annotations

import random

import pytest

from ringfence.errors import InvalidInput
from ringfence.webhooks.delivery import backoff_ms, headers_for
from ringfence.webhooks.signing import new_secret, sign, signature_header, verify
from ringfence.webhooks.urls import check_url
from tests.webhooks.conftest import Verify

BODY = b'{"delivery_id":"dl_1","webhook_id":"wh_1","type":"changes","changes":[]}'
NOW = 1_790_000_000


def test_the_documented_snippet_accepts_what_ringfence_signs(documented_verify: Verify) -> None:
    secret = new_secret()
    headers = headers_for(delivery_id="dl_1", webhook_id="wh_1", attempt=1, timestamp=NOW, secrets=(secret,), body=BODY)
    timestamp, signature = headers["Ringfence-Timestamp"], headers["Ringfence-Signature"]
    assert signature == f"v1={sign(secret, NOW, BODY)}" and len(signature) == 3 + 64
    assert documented_verify(secret, BODY, timestamp, signature, now=NOW + 10)
    assert verify(secret, BODY, timestamp, signature, now_s=NOW + 10)


@pytest.mark.parametrize("check", ["docs", "library"])
def test_tampering_a_wrong_secret_and_old_timestamps_are_refused(check: str, documented_verify: Verify) -> None:
    secret = new_secret()

    def ok(body: bytes, timestamp: str, signature: str, now: float, key: str = secret) -> bool:
        if check == "docs":
            return documented_verify(key, body, timestamp, signature, now=now)
        return verify(key, body, timestamp, signature, now_s=now)

    good = signature_header([secret], NOW, BODY)
    assert ok(BODY, str(NOW), good, NOW)
    assert not ok(BODY + b" ", str(NOW), good, NOW)  # body changed
    assert not ok(BODY, str(NOW + 1), good, NOW)  # timestamp changed
    assert not ok(BODY, str(NOW), good, NOW, key=new_secret())  # someone else's secret
    assert not ok(BODY, str(NOW), good, NOW + 301)  # too old: a replay
    assert not ok(BODY, str(NOW), good, NOW - 301)  # from the future
    assert ok(BODY, str(NOW), good, NOW + 299)
    assert not ok(BODY, str(NOW), "v0=" + good[3:], NOW)  # unknown scheme
    assert not ok(BODY, "soon", good, NOW)
    assert not ok(BODY, str(NOW), "v1=ünïcode", NOW)


def test_during_a_rotation_either_secret_verifies(documented_verify: Verify) -> None:
    new, old = new_secret(), new_secret()
    header = signature_header([new, old], NOW, BODY)
    assert header.count("v1=") == 2 and ", " in header
    assert documented_verify(new, BODY, str(NOW), header, now=NOW)
    assert documented_verify(old, BODY, str(NOW), header, now=NOW)
    assert not documented_verify(new_secret(), BODY, str(NOW), header, now=NOW)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.net/ringfence",
        "https://hooks.example.net:8443/a/b?token=x",
        "HTTPS://Hooks.Example.NET",
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::1]:8080/",
    ],
)
def test_accepted_urls(url: str) -> None:
    checked = check_url(url, allow_http_localhost=True)
    assert checked.startswith(("https://", "http://"))


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "invalid_url"),
        ("hooks.example.net/x", "invalid_url"),
        ("ftp://hooks.example.net/x", "invalid_url"),
        ("javascript:alert(1)", "invalid_url"),
        ("file:///etc/passwd", "invalid_url"),
        ("https://", "invalid_url"),
        ("https://hooks.example.net:99999/", "invalid_url"),
        ("https://hooks.example.net/a b", "invalid_url"),
        ("https://hooks.example.net/#frag", "invalid_url"),
        ("http://hooks.example.net/hook", "insecure_url"),
        ("http://localhost.example.net/hook", "insecure_url"),
        ("http://10.0.0.5/hook", "insecure_url"),
        ("https://user:pw@hooks.example.net/", "url_credentials"),
        ("https://token@hooks.example.net/", "url_credentials"),
        ("https://x.example/" + "a" * 2000, "invalid_url"),
    ],
)
def test_refused_urls(url: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_url(url, allow_http_localhost=True)
    assert refused.value.code == code
    assert "pw" not in str(refused.value.details)


def test_http_to_localhost_needs_the_setting() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_url("http://127.0.0.1:9000/hook", allow_http_localhost=False)
    assert refused.value.code == "insecure_url"


def test_backoff_windows_double_up_to_the_cap_and_jitter_stays_inside() -> None:
    windows = [backoff_ms(n, 1_000, 30_000, lambda: 1.0) for n in range(1, 9)]
    assert windows == [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
    assert backoff_ms(3, 1_000, 30_000, lambda: 0.0) == 0
    assert backoff_ms(10_000, 1_000, 30_000, lambda: 1.0) == 30_000  # no overflow on long runs
    rng = random.Random(7)
    draws = [backoff_ms(4, 1_000, 30_000, rng.random) for _ in range(500)]
    assert all(0 <= d <= 8_000 for d in draws)
    assert len(set(draws)) > 400 and min(draws) < 1_000 and max(draws) > 7_000  # spread over the whole window
