"""Members and keys over HTTP: admins manage, keys are shown once, revocation bites at once."""

from __future__ import annotations

import httpx

from tests.support import Keys, bearer


async def test_admin_adds_a_member_whose_key_works_once_shown(client: httpx.AsyncClient, keys: Keys) -> None:
    made = await client.post("/v1/members", json={"name": "telco-d", "role": "reader"}, headers=bearer(keys.admin))
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    me = await client.get("/v1/me", headers=bearer(key))
    assert me.json()["member"]["name"] == "telco-d" and me.json()["member"]["role"] == "reader"
    listed = (await client.get("/v1/members", headers=bearer(keys.admin))).json()["members"]
    assert "telco-d" in {m["name"] for m in listed}
    assert key not in (await client.get("/v1/keys", headers=bearer(keys.admin))).text  # never shown again


async def test_only_admins_manage_members(client: httpx.AsyncClient, keys: Keys) -> None:
    for key in (keys.reader, keys.reporter):
        answer = await client.post("/v1/members", json={"name": "x", "role": "admin"}, headers=bearer(key))
        assert answer.status_code == 403
        assert (await client.get("/v1/members", headers=bearer(key))).status_code == 403


async def test_duplicate_member_and_unknown_role(client: httpx.AsyncClient, keys: Keys) -> None:
    dup = await client.post("/v1/members", json={"name": "bank-b", "role": "reader"}, headers=bearer(keys.admin))
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "member_exists"
    bad = await client.post("/v1/members", json={"name": "y", "role": "owner"}, headers=bearer(keys.admin))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_body"


async def test_members_revoke_their_own_keys_not_others(client: httpx.AsyncClient, keys: Keys) -> None:
    own = keys.reporter.split("_")[1]
    other = keys.reporter2.split("_")[1]
    assert (await client.delete(f"/v1/keys/{other}", headers=bearer(keys.reporter))).status_code == 403
    listed = (await client.get("/v1/keys", headers=bearer(keys.reporter))).json()["keys"]
    assert [k["id"] for k in listed] == [own]
    assert (await client.delete(f"/v1/keys/{own}", headers=bearer(keys.reporter))).status_code == 200
    assert (await client.get("/v1/me", headers=bearer(keys.reporter))).status_code == 401


async def test_admin_issues_a_second_key(client: httpx.AsyncClient, keys: Keys) -> None:
    made = await client.post("/v1/members/bank-b/keys", headers=bearer(keys.admin))
    assert made.status_code == 201
    assert (await client.get("/v1/me", headers=bearer(made.json()["secret"]))).json()["member"]["name"] == "bank-b"
    assert (await client.post("/v1/members/nobody/keys", headers=bearer(keys.admin))).status_code == 404
