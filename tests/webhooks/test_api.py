"""/v1/webhooks over HTTP: creating, reading, changing and removing; who sees what; bad input; the delivery log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ringfence.runtime import Runtime
from ringfence.webhooks.service import MAX_WEBHOOKS_PER_MEMBER
from tests.support import Keys, bearer
from tests.webhooks.helpers import advance, dispatcher, report

URL = "https://hooks.example.net/ringfence"
GB = [442079460000 + i for i in range(1, 40)]


async def _create(client: httpx.AsyncClient, key: str, **body: Any) -> dict[str, Any]:
    answer = await client.post("/v1/webhooks", json={"url": URL, **body}, headers=bearer(key))
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def test_create_shows_the_secret_once(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    report(runtime, GB[0])
    created = await _create(
        client, keys.reader, categories=["irsf", "Wangiri"], countries=["gb"], prefixes=["+44 20"], description="SBC"
    )
    hook, secret = created["webhook"], created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert hook["id"].startswith("wh_") and hook["member"] == "contact-centre-c" and hook["url"] == URL
    assert hook["filter"] == {"categories": ["irsf", "wangiri"], "countries": ["GB"], "prefixes": ["+4420"]}
    assert hook["enabled"] is True and hook["disabled_reason"] is None and hook["consecutive_failures"] == 0
    assert hook["cursor"] == 1  # from now: the change already made is not delivered
    assert hook["description"] == "SBC"
    shown = await client.get(f"/v1/webhooks/{hook['id']}", headers=bearer(keys.reader))
    assert shown.status_code == 200 and shown.json() == {"webhook": hook}
    assert secret not in shown.text
    listed = await client.get("/v1/webhooks", headers=bearer(keys.reader))
    assert listed.json() == {"webhooks": [hook]} and secret not in listed.text
    replay = await _create(client, keys.reader, from_seq=0)
    assert replay["webhook"]["cursor"] == 0


async def test_a_member_reaches_only_its_own_webhooks(client: httpx.AsyncClient, keys: Keys) -> None:
    mine = (await _create(client, keys.reporter))["webhook"]["id"]
    theirs = (await _create(client, keys.reporter2))["webhook"]["id"]
    other = bearer(keys.reporter2)
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("GET", "/deliveries"),
        ("POST", "/test"),
        ("GET", "/deliveries/dl_x"),
    ]:
        body = {"enabled": False} if method == "PATCH" else None
        answer = await client.request(method, f"/v1/webhooks/{mine}{path}", json=body, headers=other)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "webhook_not_found"
    listed = (await client.get("/v1/webhooks", headers=other)).json()["webhooks"]
    assert [h["id"] for h in listed] == [theirs]
    assert (await client.get(f"/v1/webhooks/{mine}", headers=bearer(keys.reporter))).json()["webhook"]["enabled"]
    # an admin sees and manages everyone's, but rotates only its own secrets
    admin = bearer(keys.admin)
    everyone = (await client.get("/v1/webhooks", headers=admin)).json()["webhooks"]
    assert {h["id"] for h in everyone} == {mine, theirs}
    assert (await client.get(f"/v1/webhooks/{mine}", headers=admin)).status_code == 200
    disabled = await client.patch(f"/v1/webhooks/{mine}", json={"enabled": False}, headers=admin)
    assert disabled.json()["webhook"]["disabled_reason"] == "disabled by admin-org"
    assert (await client.post(f"/v1/webhooks/{mine}/rotate-secret", headers=admin)).status_code == 404
    assert (await client.get("/v1/webhooks")).status_code == 401


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"url": "ftp://hooks.example.net/x"}, "invalid_url"),
    ({"url": "not a url"}, "invalid_url"),
    ({"url": "http://hooks.example.net/x"}, "insecure_url"),
    ({"url": "https://me:secret@hooks.example.net/x"}, "url_credentials"),
    ({"url": URL, "categories": ["bogus"]}, "unknown_category"),
    ({"url": URL, "countries": ["XX"]}, "unknown_country"),
    ({"url": URL, "prefixes": ["0044"]}, "invalid_prefix"),
    ({"url": URL, "colour": "red"}, "invalid_body"),
    ({"url": URL, "categories": "irsf"}, "invalid_body"),
    ({"url": URL, "from_seq": -1}, "invalid_body"),
    ({"url": URL, "from_seq": "0"}, "invalid_body"),
    ({"url": URL, "from_seq": 99}, "invalid_seq"),
    ({"url": URL, "description": "x" * 201}, "invalid_body"),
    ({}, "invalid_body"),
    ({"url": 42}, "invalid_body"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # validation only: the store does not matter
async def test_bad_input_is_refused_with_a_clear_code(client: httpx.AsyncClient, keys: Keys) -> None:
    for body, code in BAD_BODIES:
        answer = await client.post("/v1/webhooks", json=body, headers=bearer(keys.reader))
        assert answer.status_code == 422, (body, answer.text)
        error = answer.json()["error"]
        assert error["code"] == code and error["message"], (body, error)
        assert "secret" not in error["message"]  # credentials in a refused URL are not echoed
    assert (await client.get("/v1/webhooks", headers=bearer(keys.reader))).json()["webhooks"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # validation only: the store does not matter
async def test_malformed_json_and_bad_patches(client: httpx.AsyncClient, keys: Keys) -> None:
    auth = bearer(keys.reader)
    answer = await client.post("/v1/webhooks", content=b"{nope", headers=auth)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "malformed_json"
    hook = (await _create(client, keys.reader))["webhook"]["id"]
    for body, code in [
        ({"url": "http://example.net/"}, "insecure_url"),
        ({"url": None}, "invalid_url"),
        ({"enabled": "yes"}, "invalid_body"),
        ({"secret": "mine"}, "invalid_body"),
        ({"prefixes": ["+abc"]}, "invalid_prefix"),
    ]:
        answer = await client.patch(f"/v1/webhooks/{hook}", json=body, headers=auth)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code, (body, answer.text)


async def test_patch_changes_only_what_is_sent(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    auth = bearer(keys.reader)
    hook = (await _create(client, keys.reader, categories=["irsf"], countries=["GB"]))["webhook"]
    path = f"/v1/webhooks/{hook['id']}"
    advance(runtime, 1000)
    changed = (await client.patch(path, json={"url": URL + "/v2", "countries": ["US", "GB"]}, headers=auth)).json()
    view = changed["webhook"]
    assert view["url"] == URL + "/v2"
    assert view["filter"] == {"categories": ["irsf"], "countries": ["GB", "US"], "prefixes": []}
    assert view["updated_at"] != hook["updated_at"] and view["enabled"] is True
    cleared = (await client.patch(path, json={"categories": None, "description": "x"}, headers=auth)).json()
    assert cleared["webhook"]["filter"]["categories"] == [] and cleared["webhook"]["description"] == "x"
    off = (await client.patch(path, json={"enabled": False}, headers=auth)).json()["webhook"]
    assert off["enabled"] is False and off["disabled_reason"] == "disabled by contact-centre-c" and off["disabled_at"]
    ping = await client.post(f"{path}/test", headers=auth)
    assert ping.status_code == 409 and ping.json()["error"]["code"] == "webhook_disabled"
    on = (await client.patch(path, json={"enabled": True}, headers=auth)).json()["webhook"]
    assert on["enabled"] is True and on["disabled_reason"] is None and on["disabled_at"] is None
    report(runtime, GB[0])
    report(runtime, GB[1])
    moved = (await client.patch(path, json={"from_seq": 1}, headers=auth)).json()["webhook"]
    assert moved["cursor"] == 1
    beyond = await client.patch(path, json={"from_seq": 3}, headers=auth)
    assert beyond.status_code == 422 and beyond.json()["error"]["code"] == "invalid_seq"
    removed = await client.delete(path, headers=auth)
    assert removed.status_code == 200 and removed.json()["webhook"]["id"] == hook["id"]
    assert (await client.get(path, headers=auth)).status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # validation only: the store does not matter
async def test_rotating_the_secret(client: httpx.AsyncClient, keys: Keys) -> None:
    auth = bearer(keys.reader)
    created = await _create(client, keys.reader)
    path = f"/v1/webhooks/{created['webhook']['id']}/rotate-secret"
    rotated = (await client.post(path, headers=auth)).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["webhook"]["previous_secret_valid_until"] is not None  # webhook_secret_grace_s = 3600
    at_once = (await client.post(path, params={"grace_s": 0}, headers=auth)).json()
    assert at_once["webhook"]["previous_secret_valid_until"] is None
    bad = await client.post(path, params={"grace_s": -5}, headers=auth)
    assert bad.status_code == 422


async def test_the_delivery_log_pages_newest_first(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    auth = bearer(keys.reader)
    hook = (await _create(client, keys.reader))["webhook"]["id"]
    for number in GB[:7]:
        report(runtime, number)
    assert dispatcher(runtime).enqueue() == 3
    ping = await client.post(f"/v1/webhooks/{hook}/test", headers=auth)
    assert ping.status_code == 202 and ping.json()["delivery"]["kind"] == "ping"
    path = f"/v1/webhooks/{hook}/deliveries"
    first = (await client.get(path, params={"limit": 3}, headers=auth)).json()
    assert [d["kind"] for d in first["deliveries"]] == ["ping", "changes", "changes"]
    assert [d["first_seq"] for d in first["deliveries"]] == [None, 7, 4]
    assert all(d["status"] == "pending" and d["attempts"] == 0 and "body" not in d for d in first["deliveries"])
    second = (await client.get(path, params={"limit": 3, "before": first["next"]}, headers=auth)).json()
    assert [(d["first_seq"], d["last_seq"], d["change_count"]) for d in second["deliveries"]] == [(1, 3, 3)]
    assert second["next"] is None
    one_id = second["deliveries"][0]["id"]
    one = (await client.get(f"{path}/{one_id}", headers=auth)).json()["delivery"]
    assert one["body"]["delivery_id"] == one_id and [c["seq"] for c in one["body"]["changes"]] == [1, 2, 3]
    assert (await client.get(f"{path}/dl_missing", headers=auth)).json()["error"]["code"] == "delivery_not_found"
    only = (await client.get(path, params={"status": "delivered"}, headers=auth)).json()
    assert only == {"deliveries": [], "next": None}
    for params, code in [({"status": "lost"}, "unknown_status"), ({"before": "x"}, "invalid_cursor")]:
        answer = await client.get(path, params=params, headers=auth)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code
    assert (await client.get(path, params={"limit": 0}, headers=auth)).status_code == 422


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # validation only: the store does not matter
async def test_a_member_has_a_bounded_number_of_webhooks(client: httpx.AsyncClient, keys: Keys) -> None:
    for _ in range(MAX_WEBHOOKS_PER_MEMBER):
        await _create(client, keys.reader)
    answer = await client.post("/v1/webhooks", json={"url": URL}, headers=bearer(keys.reader))
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "too_many_webhooks"
