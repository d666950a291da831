"""Admins over listings over HTTP: pin, unpin, expire, the expiry sweep on demand, and the audit log they leave.

Time is the injected clock: a single reporter's vishing listing scores 70 and decays below its threshold of 30 in
about 2.8 days, so four days on it is decayed but still in the store until a sweep retires it. Every test runs on
SQLite and PostgreSQL against the app as served (the lookup fast path in front); the end-to-end test runs without
the fast path too, since its lookups are what the fast path answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ringfence.api import create_app
from ringfence.clock import FixedClock
from ringfence.feed.models import ChangeKind
from ringfence.runtime import Runtime
from tests.support import Keys, bearer

NUMBER = "+442079460018"
VALUE = 442079460018
DAY_MS = 86_400_000


@pytest.fixture
async def either(runtime: Runtime, fast_paths: bool) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime, fast_paths=fast_paths, daemons=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://ringfence.test") as client:
        yield client


async def _report(client: httpx.AsyncClient, key: str, number: str = NUMBER) -> None:
    answer = await client.post("/v1/reports", json={"number": number, "category": "vishing"}, headers=bearer(key))
    assert answer.status_code == 201, answer.text


async def _lookup(client: httpx.AsyncClient, keys: Keys, number: str = NUMBER) -> dict[str, object]:
    answer = await client.get(f"/v1/numbers/{number}", headers=bearer(keys.reader))
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def test_pin_unpin_sweep_and_what_the_log_and_feed_say(
    either: httpx.AsyncClient, keys: Keys, runtime: Runtime, clock: FixedClock
) -> None:
    await _report(either, keys.reporter)
    clock.advance(4 * DAY_MS)
    assert (await _lookup(either, keys))["listed"] is False  # decayed, not yet swept
    head = runtime.feed.log.head()

    pinned = await either.post(
        "/v1/numbers/020 7946 0018/pin", params={"region": "GB"}, json={"note": "live case"}, headers=bearer(keys.admin)
    )
    assert pinned.status_code == 200, pinned.text
    body = pinned.json()
    assert body["number"] == NUMBER and body["listed"] is True
    assert body["listing"]["pinned"] is True and body["listing"]["decayed"] is False
    assert body["listing"]["score"] == 70.0
    assert (await _lookup(either, keys))["listed"] is True

    unpinned = await either.delete(f"/v1/numbers/{NUMBER}/pin", headers=bearer(keys.admin))
    assert unpinned.status_code == 200, unpinned.text
    body = unpinned.json()
    assert body["listed"] is False  # decayed at once, and shown as such
    assert body["listing"]["pinned"] is False and body["listing"]["decayed"] is True
    assert (await _lookup(either, keys))["listed"] is False

    swept = await either.post("/v1/sweep", headers=bearer(keys.admin))
    assert swept.status_code == 200, swept.text
    assert swept.json() == {"expired": 1}
    assert runtime.registry.lookup(VALUE) is None  # gone from the index, not merely decayed
    assert (await either.post("/v1/sweep", headers=bearer(keys.admin))).json() == {"expired": 0}

    changes = runtime.feed.log.read(head, 10)
    assert [(c.kind, c.number) for c in changes] == [
        (ChangeKind.UPDATED, VALUE),
        (ChangeKind.UPDATED, VALUE),
        (ChangeKind.EXPIRED, VALUE),
    ]
    paged = await either.get("/v1/changes", params={"since": head}, headers=bearer(keys.reader))
    assert [c["kind"] for c in paged.json()["changes"]] == ["updated", "updated", "expired"]

    logged = await either.get("/v1/audit", params={"number": NUMBER}, headers=bearer(keys.admin))
    assert logged.status_code == 200, logged.text
    entries = logged.json()["entries"]
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("expired", None),
        ("unpinned", "admin-org"),
        ("pinned", "admin-org"),
    ]
    expired, unpinned_entry, pinned_entry = entries
    assert expired["reason"] == "expired" and expired["actor_id"] is None
    assert expired["before"]["pinned"] is False and expired["after"] is None
    assert pinned_entry["note"] == "live case" and pinned_entry["number"] == NUMBER
    assert pinned_entry["before"]["pinned"] is False and pinned_entry["after"]["pinned"] is True
    assert pinned_entry["after"]["categories"] == ["vishing"] and pinned_entry["after"]["reporters_weight"] == 1.0
    assert pinned_entry["at"] == unpinned_entry["at"] == expired["at"] == "2026-09-25T14:13:20.000Z"  # the clock's
    assert pinned_entry["after"]["last_reported_at"] == "2026-09-21T14:13:20.000Z"
    assert int(expired["id"]) > int(unpinned_entry["id"]) > int(pinned_entry["id"])


async def test_a_pinned_listing_survives_the_sweep(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime, clock: FixedClock
) -> None:
    await _report(client, keys.reporter)
    await _report(client, keys.reporter, "+442079460019")
    assert (await client.post(f"/v1/numbers/{NUMBER}/pin", headers=bearer(keys.admin))).status_code == 200
    clock.advance(30 * DAY_MS)  # far past the vishing lifetime of 10 days
    assert (await client.post("/v1/sweep", headers=bearer(keys.admin))).json() == {"expired": 1}
    kept = await _lookup(client, keys)
    assert kept["listed"] is True
    assert (await _lookup(client, keys, "+442079460019"))["listed"] is False
    again = await client.post(f"/v1/numbers/{NUMBER}/pin", headers=bearer(keys.admin))  # pinning twice changes nothing
    assert again.status_code == 200 and again.json()["listing"]["pinned"] is True
    pins = await client.get("/v1/audit", params={"action": "pinned"}, headers=bearer(keys.admin))
    assert len(pins.json()["entries"]) == 1


async def test_an_admin_expires_a_listing_outright(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    await _report(client, keys.reporter)
    await _report(client, keys.reporter2)
    head = runtime.feed.log.head()
    answer = await client.post(
        f"/v1/numbers/{NUMBER}/expire", json={"note": "campaign over"}, headers=bearer(keys.admin)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"number": NUMBER, "expired_reports": 2, "listing": None}
    assert (await _lookup(client, keys))["listed"] is False
    assert [c.kind for c in runtime.feed.log.read(head, 10)] == [ChangeKind.EXPIRED]
    (entry,) = (await client.get("/v1/audit", headers=bearer(keys.admin), params={"action": "expired"})).json()[
        "entries"
    ]
    assert entry["actor"] == "admin-org" and entry["note"] == "campaign over" and entry["reason"] == "expired"
    assert entry["before"]["report_count"] == 2 and entry["before"]["reporter_count"] == 2 and entry["after"] is None
    reports = await client.get(
        f"/v1/numbers/{NUMBER}/reports", params={"include_withdrawn": "true"}, headers=bearer(keys.admin)
    )
    assert {r["withdrawn_reason"] for r in reports.json()["reports"]} == {"expired"}  # history is kept

    twice = await client.post(f"/v1/numbers/{NUMBER}/expire", headers=bearer(keys.admin))
    assert twice.status_code == 404 and twice.json()["error"]["code"] == "not_listed"


async def test_the_audit_log_pages_and_filters(client: httpx.AsyncClient, keys: Keys, clock: FixedClock) -> None:
    numbers = [f"+44207946001{i}" for i in range(5)]
    for number in numbers:
        await _report(client, keys.reporter, number)
    for number in numbers[:3]:
        assert (await client.post(f"/v1/numbers/{number}/pin", headers=bearer(keys.admin))).status_code == 200
    clock.advance(60_000)
    for number in numbers[3:]:
        assert (await client.post(f"/v1/numbers/{number}/expire", headers=bearer(keys.admin))).status_code == 200

    seen: list[str] = []
    before: str | None = None
    while True:
        params = {"limit": "2", **({"before": before} if before else {})}
        page = (await client.get("/v1/audit", params=params, headers=bearer(keys.admin))).json()
        seen += [e["number"] for e in page["entries"]]
        before = page["next"]
        if before is None:
            break
    assert seen == list(reversed(numbers))  # newest first, every entry once

    later = await client.get("/v1/audit", params={"since": "2026-09-21T14:14:20Z"}, headers=bearer(keys.admin))
    assert [e["action"] for e in later.json()["entries"]] == ["expired", "expired"]
    offset = await client.get("/v1/audit", params={"since": "2026-09-21T16:14:20+02:00"}, headers=bearer(keys.admin))
    assert len(offset.json()["entries"]) == 2
    national = await client.get(
        "/v1/audit", params={"number": "020 7946 0010", "region": "GB"}, headers=bearer(keys.admin)
    )
    assert [(e["number"], e["action"]) for e in national.json()["entries"]] == [(numbers[0], "pinned")]
    nothing = await client.get("/v1/audit", params={"action": "ported"}, headers=bearer(keys.admin))
    assert nothing.json() == {"entries": [], "next": None}


ROUTES = [
    ("POST", f"/v1/numbers/{NUMBER}/pin"),
    ("DELETE", f"/v1/numbers/{NUMBER}/pin"),
    ("POST", f"/v1/numbers/{NUMBER}/expire"),
    ("POST", "/v1/sweep"),
    ("GET", "/v1/audit"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_only_admins_may(client: httpx.AsyncClient, keys: Keys, method: str, path: str) -> None:
    await _report(client, keys.reporter)
    for key in (keys.reporter, keys.reader):
        refused = await client.request(method, path, headers=bearer(key))
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "forbidden_role"
    missing = await client.request(method, path)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_key"
    assert (await _lookup(client, keys))["listed"] is True  # nothing was done


@pytest.mark.parametrize(("method", "path"), ROUTES[:3])
async def test_numbers_are_checked(client: httpx.AsyncClient, keys: Keys, method: str, path: str) -> None:
    bad = await client.request(method, path.replace(NUMBER, "hello"), headers=bearer(keys.admin))
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_number"
    assert bad.json()["error"]["details"] == {"input": "hello", "reason": "not_a_number"}
    unknown = await client.request(method, path, headers=bearer(keys.admin))
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"] == {
        "code": "not_listed",
        "message": f"{NUMBER} is not listed",
        "details": {"number": NUMBER},
    }
    region = await client.request(method, path, params={"region": "XX"}, headers=bearer(keys.admin))
    assert region.status_code == 422 and region.json()["error"]["code"] == "unknown_region"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "0"}, "invalid_parameter"),
        ({"limit": "1001"}, "invalid_parameter"),
        ({"before": "x"}, "invalid_parameter"),
        ({"before": str(2**63)}, "invalid_parameter"),
        ({"since": "yesterday"}, "invalid_parameter"),
        ({"action": ""}, "invalid_parameter"),
        ({"number": "hello"}, "invalid_number"),
        ({"number": "020 7946 0018", "region": "XX"}, "unknown_region"),
    ],
)
async def test_bad_audit_queries_are_422(
    client: httpx.AsyncClient, keys: Keys, params: dict[str, str], code: str
) -> None:
    answer = await client.get("/v1/audit", params=params, headers=bearer(keys.admin))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"note": "x", "why": "y"}', 422, "invalid_body"),
        (b'{"note": 5}', 422, "invalid_body"),
        (b'{"note": ', 400, "malformed_json"),
        (b'{"note": "' + b"x" * 2001 + b'"}', 422, "invalid_body"),
    ],
)
async def test_bad_note_bodies(client: httpx.AsyncClient, keys: Keys, body: bytes, status: int, code: str) -> None:
    await _report(client, keys.reporter)
    for path in (f"/v1/numbers/{NUMBER}/pin", f"/v1/numbers/{NUMBER}/expire"):
        answer = await client.post(path, content=body, headers=bearer(keys.admin))
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["code"] == code
    assert (await _lookup(client, keys))["listed"] is True  # neither pinned nor expired


async def test_the_routes_are_documented(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/v1/numbers/{number}/pin"]) == {"post", "delete"}
    assert set(paths["/v1/numbers/{number}/expire"]) == {"post"}
    assert set(paths["/v1/sweep"]) == {"post"}
    assert set(paths["/v1/audit"]) == {"get"}
    assert paths["/v1/numbers/{number}/pin"]["post"]["requestBody"]["required"] is False
