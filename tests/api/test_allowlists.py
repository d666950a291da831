"""The never-list and members' private lists over HTTP: who may do what, what each sees, and stable error codes."""

from __future__ import annotations

import httpx

from ringfence.runtime import Runtime
from tests.support import Keys, bearer


async def test_admins_manage_the_never_list_and_members_read_it(client: httpx.AsyncClient, keys: Keys) -> None:
    body = {"pattern": "+44 800*", "kind": "service", "note": "UK freephone"}
    made = await client.post("/v1/never-list", json=body, headers=bearer(keys.admin))
    assert made.status_code == 201, made.text
    entry = made.json()["entry"]
    assert made.json()["created"] is True and made.json()["retired"] == []
    assert (entry["pattern"], entry["match"], entry["kind"], entry["source"]) == (
        "+44800*",
        "prefix",
        "service",
        "consortium",
    )
    number = {"pattern": "020 7946 0000", "kind": "emergency", "region": "GB"}
    second = await client.post("/v1/never-list", json=number, headers=bearer(keys.admin))
    assert second.status_code == 201 and second.json()["entry"]["pattern"] == "+442079460000"
    for key in (keys.reader, keys.reporter, keys.admin):
        listed = await client.get("/v1/never-list", headers=bearer(key))
        assert listed.status_code == 200
        assert [e["pattern"] for e in listed.json()["entries"]] == ["+44800*", "+442079460000"]
    gone = await client.delete(f"/v1/never-list/{entry['id']}", headers=bearer(keys.admin))
    assert gone.status_code == 200 and gone.json()["entry"]["id"] == entry["id"]
    again = await client.delete(f"/v1/never-list/{entry['id']}", headers=bearer(keys.admin))
    assert again.status_code == 404 and again.json()["error"]["code"] == "never_list_entry_not_found"


async def test_only_admins_change_the_never_list(client: httpx.AsyncClient, keys: Keys) -> None:
    body = {"pattern": "+44800*", "kind": "service"}
    for key in (keys.reader, keys.reporter):
        refused = await client.post("/v1/never-list", json=body, headers=bearer(key))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden_role"
        assert (await client.delete("/v1/never-list/1", headers=bearer(key))).status_code == 403
    assert (await client.get("/v1/never-list")).status_code == 401


async def test_bad_never_list_input_gets_stable_codes(client: httpx.AsyncClient, keys: Keys) -> None:
    cases = [
        ({"pattern": "+44*", "kind": "service"}, 422, "invalid_pattern"),
        ({"pattern": "junk", "kind": "service"}, 422, "invalid_number"),
        ({"pattern": "020 7946 0000", "kind": "service", "region": "ZZ"}, 422, "unknown_region"),
        ({"pattern": "+442079460000", "kind": "vip"}, 422, "unknown_kind"),
        ({"pattern": "+442079460000", "kind": "service", "extra": 1}, 422, "invalid_body"),
        ({"pattern": "+442079460000", "kind": "service", "note": "x" * 501}, 422, "invalid_body"),
        ({"kind": "service"}, 422, "invalid_body"),
    ]
    for body, status, code in cases:
        answer = await client.post("/v1/never-list", json=body, headers=bearer(keys.admin))
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body
    broken = await client.post("/v1/never-list", content=b"{", headers=bearer(keys.admin))
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "malformed_json"
    bad_id = await client.delete("/v1/never-list/abc", headers=bearer(keys.admin))
    assert bad_id.status_code == 422 and bad_id.json()["error"]["code"] == "invalid_parameter"
    ok = {"pattern": "+442079460000", "kind": "service"}
    assert (await client.post("/v1/never-list", json=ok, headers=bearer(keys.admin))).status_code == 201
    twice = await client.post("/v1/never-list", json=ok, headers=bearer(keys.admin))
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "never_list_exists"


async def test_members_publish_their_own_numbers_named_to_admins_only(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime
) -> None:
    body = {"number": "+44 20 7946 0001", "note": "our fraud hotline"}
    made = await client.post("/v1/never-list/own", json=body, headers=bearer(keys.reporter))
    assert made.status_code == 201, made.text
    assert made.json()["entry"]["source"] == "member_own" and "member_id" not in made.json()["entry"]
    again = await client.post("/v1/never-list/own", json=body, headers=bearer(keys.reporter))
    assert again.status_code == 200 and again.json()["created"] is False
    taken = await client.post("/v1/never-list/own", json=body, headers=bearer(keys.reporter2))
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "never_list_exists"
    reader = await client.post("/v1/never-list/own", json=body, headers=bearer(keys.reader))
    assert reader.status_code == 403
    carrier = runtime.members.get("carrier-a")
    seen_by_admin = (await client.get("/v1/never-list", headers=bearer(keys.admin))).json()["entries"]
    assert seen_by_admin[0]["member_id"] == carrier.id
    for key in (keys.reader, keys.reporter2):
        seen = (await client.get("/v1/never-list", headers=bearer(key))).json()["entries"]
        assert seen[0]["source"] == "member_own" and "member_id" not in seen[0] and "created_by" not in seen[0]
    own = (await client.get("/v1/never-list/own", headers=bearer(keys.reporter))).json()["entries"]
    assert [e["pattern"] for e in own] == ["+442079460001"]
    assert (await client.get("/v1/never-list/own", headers=bearer(keys.reporter2))).json()["entries"] == []
    not_theirs = await client.delete("/v1/never-list/own/+442079460001", headers=bearer(keys.reporter2))
    assert not_theirs.status_code == 404 and not_theirs.json()["error"]["code"] == "never_list_entry_not_found"
    national = await client.delete("/v1/never-list/own/02079460001?region=GB", headers=bearer(keys.reporter))
    assert national.status_code == 200 and national.json()["entry"]["pattern"] == "+442079460001"
    assert runtime.allowlists.protected(442079460001) is None


async def test_members_keep_private_lists(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    put = await client.put(
        "/v1/lists/+442079460000", json={"list": "deny", "note": "scam"}, headers=bearer(keys.reader)
    )
    assert put.status_code == 200, put.text
    assert put.json()["entry"] == {
        "number": "+442079460000",
        "list": "deny",
        "note": "scam",
        "set_at": "2026-09-21T14:13:20.000Z",
    }
    national = await client.put(
        "/v1/lists/0800 123 4567?region=GB", json={"list": "allow"}, headers=bearer(keys.reader)
    )
    assert national.status_code == 200 and national.json()["entry"]["number"] == "+448001234567"
    mine = (await client.get("/v1/lists", headers=bearer(keys.reader))).json()["entries"]
    assert [(e["number"], e["list"]) for e in mine] == [("+442079460000", "deny"), ("+448001234567", "allow")]
    only = (await client.get("/v1/lists?list=allow", headers=bearer(keys.reader))).json()["entries"]
    assert [e["number"] for e in only] == ["+448001234567"]
    assert (await client.get("/v1/lists", headers=bearer(keys.reporter))).json()["entries"] == []  # only one's own
    assert (await client.get("/v1/lists", headers=bearer(keys.admin))).json()["entries"] == []
    one = await client.get("/v1/lists/+442079460000", headers=bearer(keys.reader))
    assert one.status_code == 200 and one.json()["entry"]["list"] == "deny"
    other = await client.get("/v1/lists/+442079460000", headers=bearer(keys.reporter))
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_on_lists"
    reader = runtime.members.get("contact-centre-c")
    assert runtime.allowlists.member_list(reader.id, 442079460000) == "deny"
    removed = await client.delete("/v1/lists/+442079460000", headers=bearer(keys.reader))
    assert removed.status_code == 200 and removed.json()["entry"]["list"] == "deny"
    again = await client.delete("/v1/lists/+442079460000", headers=bearer(keys.reader))
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_on_lists"


async def test_bad_list_input_gets_stable_codes(client: httpx.AsyncClient, keys: Keys) -> None:
    cases = [
        ("/v1/lists/+442079460000", {"list": "grey"}, 422, "unknown_list"),
        ("/v1/lists/junk", {"list": "allow"}, 422, "invalid_number"),
        ("/v1/lists/02079460000?region=ZZ", {"list": "allow"}, 422, "unknown_region"),
        ("/v1/lists/+442079460000", {"list": "allow", "colour": "red"}, 422, "invalid_body"),
        ("/v1/lists/+442079460000", {}, 422, "invalid_body"),
    ]
    for path, body, status, code in cases:
        answer = await client.put(path, json=body, headers=bearer(keys.reader))
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), path
    bad_filter = await client.get("/v1/lists?list=grey", headers=bearer(keys.reader))
    assert bad_filter.status_code == 422 and bad_filter.json()["error"]["code"] == "unknown_list"
    assert (await client.put("/v1/lists/+442079460000", json={"list": "allow"})).status_code == 401


async def test_the_endpoints_are_documented(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/v1/never-list"]) == {"get", "post"}
    assert set(paths["/v1/never-list/{entry_id}"]) == {"delete"}
    assert set(paths["/v1/never-list/own"]) == {"get", "post"}
    assert set(paths["/v1/never-list/own/{number}"]) == {"delete"}
    assert set(paths["/v1/lists/{number}"]) == {"get", "put", "delete"}
    assert "requestBody" in paths["/v1/lists/{number}"]["put"]
    assert "409" in paths["/v1/never-list"]["post"]["responses"]
