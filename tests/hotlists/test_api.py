"""/v1/hotlists over HTTP: roles, creating lists, uploading versions (TXT, CSV, gzip), bad input, versions and diffs,
checks of one number and of batches, and the version events (paged and long-polled)."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
from collections.abc import AsyncIterator

import httpx
import pytest

from ringfence.runtime import Runtime
from tests.support import Keys, bearer


def upload(key: str, media: str = "text/plain", **extra: str) -> dict[str, str]:
    return {**bearer(key), "content-type": media, **extra}


async def make_list(client: httpx.AsyncClient, keys: Keys, name: str = "irsf", **options: object) -> httpx.Response:
    answer = await client.post("/v1/hotlists", json={"name": name, **options}, headers=bearer(keys.admin))
    assert answer.status_code == 201, answer.text
    return answer


async def test_roles_readers_read_and_check_admins_manage(client: httpx.AsyncClient, keys: Keys) -> None:
    assert (await client.get("/v1/hotlists")).status_code == 401
    refused = await client.post("/v1/hotlists", json={"name": "irsf"}, headers=bearer(keys.reporter))
    assert refused.status_code == 403
    await make_list(client, keys)
    for key in (keys.reader, keys.reporter):
        denied = await client.post("/v1/hotlists/irsf/versions", content="+3725521234\n", headers=upload(key))
        assert denied.status_code == 403
        patch = await client.patch("/v1/hotlists/irsf", json={"retain_missing": True}, headers=bearer(key))
        assert patch.status_code == 403
    made = await client.post("/v1/hotlists/irsf/versions", content="+3725521234\n", headers=upload(keys.admin))
    assert made.status_code == 201
    for path in ("/v1/hotlists", "/v1/hotlists/irsf", "/v1/hotlists/irsf/versions", "/v1/hotlists/check/+3725521234"):
        assert (await client.get(path, headers=bearer(keys.reader))).status_code == 200, path
    batch = await client.post("/v1/hotlists/check", json={"numbers": ["+3725521234"]}, headers=bearer(keys.reader))
    assert batch.status_code == 200


async def test_create_list_and_change_a_list(client: httpx.AsyncClient, keys: Keys, tmp_path: object) -> None:
    created = (await make_list(client, keys, "IRSF", retain_missing=True, wildcard_last=2, region="gb")).json()
    assert (created["name"], created["retain_missing"], created["wildcard_last"], created["region"]) == (
        "irsf",
        True,
        2,
        "GB",
    )
    assert created["sync"] == {"url": None, "folder": None, "every_s": 3600} and created["latest_version"] is None
    again = await client.post("/v1/hotlists", json={"name": "irsf"}, headers=bearer(keys.admin))
    assert again.status_code == 409 and again.json()["error"]["code"] == "hotlist_exists"
    for body, code in (
        ({"name": "no spaces"}, "invalid_hotlist_name"),
        ({"name": "events"}, "invalid_hotlist_name"),
        ({"name": "x", "url": "file:///etc/passwd"}, "invalid_sync_url"),
        ({"name": "x", "folder": "/no/such/folder"}, "invalid_sync_folder"),
        ({"name": "x", "region": "XX"}, "unknown_region"),
    ):
        bad = await client.post("/v1/hotlists", json=body, headers=bearer(keys.admin))
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, code), body
    schema = await client.post("/v1/hotlists", json={"name": "x", "wildcard_last": 99}, headers=bearer(keys.admin))
    assert schema.status_code == 422
    changed = await client.patch(
        "/v1/hotlists/irsf",
        json={
            "retain_missing": False,
            "url": "https://lists.example/irsf.txt",
            "every_s": 600,
            "folder": str(tmp_path),
        },
        headers=bearer(keys.admin),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["retain_missing"] is False
    assert changed.json()["sync"] == {"url": "https://lists.example/irsf.txt", "folder": str(tmp_path), "every_s": 600}
    listed = (await client.get("/v1/hotlists", headers=bearer(keys.reader))).json()["hotlists"]
    assert [h["name"] for h in listed] == ["irsf"]
    missing = await client.get("/v1/hotlists/nope", headers=bearer(keys.reader))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "hotlist_not_found")


async def test_uploads_answer_the_summary_and_bad_rows_with_their_lines(client: httpx.AsyncClient, keys: Keys) -> None:
    await make_list(client, keys)
    csv = "Number,Country,Destination\n07700 900123,GB,UK\n+3725521??,,EE\njunk,,\n07700 900123,44,UK again\n"
    made = await client.post(
        "/v1/hotlists/irsf/versions",
        content=csv,
        params={"source": "vendor.csv"},
        headers=upload(keys.admin, "text/csv"),
    )
    assert made.status_code == 201, made.text
    answer = made.json()
    assert (answer["version"], answer["source"], answer["added"], answer["invalid"], answer["duplicates"]) == (
        1,
        "vendor.csv",
        2,
        1,
        1,
    )
    assert [(e["line"], e["code"]) for e in answer["errors"]] == [(4, "invalid_number")]
    assert answer["ignored_columns"] == ["Destination"]

    gz = gzip.compress(b"020 7946 0018\n+3725521??\n")
    second = await client.post(
        "/v1/hotlists/irsf/versions",
        content=gz,
        params={"region": "GB", "format": "txt"},
        headers=upload(keys.admin, "application/octet-stream", **{"content-encoding": "gzip"}),
    )
    assert second.status_code == 201, second.text
    assert (second.json()["added"], second.json()["unchanged"], second.json()["removed"]) == (1, 1, 1)

    jsonl = '{"number": "+88216*", "source": "gsma"}\n'
    third = await client.post(
        "/v1/hotlists/irsf/versions", content=jsonl, headers=upload(keys.admin, "application/x-ndjson")
    )
    assert third.status_code == 201 and third.json()["entries"] == 1


async def test_a_file_with_no_valid_numbers_is_422_and_the_version_stays(client: httpx.AsyncClient, keys: Keys) -> None:
    await make_list(client, keys)
    await client.post("/v1/hotlists/irsf/versions", content="+3725521234\n", headers=upload(keys.admin))
    refused = await client.post("/v1/hotlists/irsf/versions", content="junk\n0123\n", headers=upload(keys.admin))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "no_valid_numbers" and "keeps its current version" in error["message"]
    assert [e["line"] for e in error["details"]["errors"]] == [1, 2]
    versions = (await client.get("/v1/hotlists/irsf/versions", headers=bearer(keys.reader))).json()["versions"]
    assert [v["version"] for v in versions] == [1]
    still = (await client.get("/v1/hotlists/check/+3725521234", headers=bearer(keys.reader))).json()
    assert still["hotlisted"] is True

    for headers, params, code in (
        (upload(keys.admin, **{"content-encoding": "br"}), {}, "unsupported_encoding"),
        (upload(keys.admin), {"format": "xml"}, "unknown_format"),
        (upload(keys.admin), {"region": "XX"}, "unknown_region"),
        (upload(keys.admin, "text/csv"), {}, "missing_header"),
    ):
        bad = await client.post("/v1/hotlists/irsf/versions", content="+3725521299\n", params=params, headers=headers)
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, code)
    unknown = await client.post("/v1/hotlists/nope/versions", content="+3725521299\n", headers=upload(keys.admin))
    assert unknown.status_code == 404


async def test_versions_and_diffs(client: httpx.AsyncClient, keys: Keys) -> None:
    await make_list(client, keys, retain_missing=True)
    for body in ("+3725521234\n+3725521235\n", "+3725521235\n+88216*\n"):
        assert (
            await client.post("/v1/hotlists/irsf/versions", content=body, headers=upload(keys.admin))
        ).status_code == 201
    versions = (await client.get("/v1/hotlists/irsf/versions", headers=bearer(keys.reader))).json()["versions"]
    assert [(v["version"], v["added"], v["retained"], v["entries"]) for v in versions] == [(1, 2, 0, 2), (2, 1, 1, 3)]
    one = (await client.get("/v1/hotlists/irsf/versions/2", headers=bearer(keys.reader))).json()
    assert one == versions[1]

    diff = (await client.get("/v1/hotlists/irsf/versions/2/diff", headers=bearer(keys.reader))).json()
    assert (diff["version"], diff["against"], diff["counts"]) == (2, 1, {"added": 1, "removed": 0, "retained": 1})
    assert [e["pattern"] for e in diff["added"]] == ["+88216*"] and diff["added"][0]["kind"] == "prefix"
    assert [e["pattern"] for e in diff["retained"]] == ["+3725521234"]
    whole = await client.get("/v1/hotlists/irsf/versions/2/diff", params={"against": 0}, headers=bearer(keys.reader))
    assert whole.json()["counts"]["added"] == 3
    for path in ("/v1/hotlists/irsf/versions/3", "/v1/hotlists/irsf/versions/3/diff"):
        missing = await client.get(path, headers=bearer(keys.reader))
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "version_not_found")
    bad = await client.get("/v1/hotlists/irsf/versions/2/diff", params={"against": 7}, headers=bearer(keys.reader))
    assert bad.status_code == 404


async def test_checks_single_and_batch(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    await make_list(client, keys, wildcard_last=2)
    body = "number,source\n+3725521234,vendor-a\n+88216*,gsma\n"
    assert (
        await client.post("/v1/hotlists/irsf/versions", content=body, headers=upload(keys.admin))
    ).status_code == 201
    one = (await client.get("/v1/hotlists/check/+3725521299", headers=bearer(keys.reader))).json()
    assert one["number"] == "+3725521299" and one["hotlisted"] is True
    assert (one["match"]["pattern"], one["match"]["derived"], one["match"]["source"]) == (
        "+37255212??",
        True,
        "vendor-a",
    )
    national = await client.get("/v1/hotlists/check/07700900123", params={"region": "GB"}, headers=bearer(keys.reader))
    assert national.json() == {"number": "+447700900123", "hotlisted": False, "match": None, "matches": []}
    bad = await client.get("/v1/hotlists/check/junk", headers=bearer(keys.reader))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_number")

    batch = await client.post(
        "/v1/hotlists/check",
        json={"numbers": ["+3725521234", "junk", "+88216123456", "020 7946 0018"], "region": "GB"},
        headers=bearer(keys.reader),
    )
    results = batch.json()["results"]
    assert [r.get("hotlisted") for r in results] == [True, None, True, False]
    assert [m["pattern"] for m in results[0]["matches"]] == ["+3725521234", "+37255212??"]
    assert results[1]["input"] == "junk" and results[1]["error"]["code"] == "invalid_number"
    assert results[2]["match"]["hotlist"] == "irsf" and results[2]["match"]["kind"] == "prefix"

    runtime.settings = dataclasses.replace(runtime.settings, max_batch=2)
    too_many = await client.post("/v1/hotlists/check", json={"numbers": ["+1"] * 3}, headers=bearer(keys.reader))
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (413, "batch_too_large")
    malformed = await client.post("/v1/hotlists/check", json={"numbers": "+3725521234"}, headers=bearer(keys.reader))
    assert malformed.status_code == 422


async def test_events_list_versions_after_an_id_and_wait_for_the_next(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime
) -> None:
    await make_list(client, keys)
    await make_list(client, keys, "other")
    for name in ("irsf", "other"):
        await client.post(f"/v1/hotlists/{name}/versions", content="+3725521234\n", headers=upload(keys.admin))
    page = (await client.get("/v1/hotlists/events", headers=bearer(keys.reader))).json()
    assert [(v["hotlist"], v["version"]) for v in page["versions"]] == [("irsf", 1), ("other", 1)]
    last = page["last_id"]
    assert last == page["versions"][-1]["id"]
    empty = (await client.get("/v1/hotlists/events", params={"since": last}, headers=bearer(keys.reader))).json()
    assert empty == {"versions": [], "last_id": last}

    waiting = asyncio.create_task(
        client.get("/v1/hotlists/events", params={"since": last, "wait": 10}, headers=bearer(keys.reader))
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await asyncio.to_thread(runtime.hotlists.import_file, None, "irsf", b"+3725521299\n")
    answer = await asyncio.wait_for(waiting, 5)
    assert [(v["hotlist"], v["version"]) for v in answer.json()["versions"]] == [("irsf", 2)]
    quiet = await client.get("/v1/hotlists/events", params={"since": 10**6, "wait": 0.2}, headers=bearer(keys.reader))
    assert quiet.json()["versions"] == []


@pytest.fixture
async def small_body_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from ringfence.api import create_app

    runtime.settings = dataclasses.replace(runtime.settings, max_body_bytes=2_000)
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://ringfence.test") as c:
        yield c


async def test_uploads_have_the_bulk_limit_not_the_body_limit(small_body_client: httpx.AsyncClient, keys: Keys) -> None:
    client = small_body_client
    await make_list(client, keys)
    big = "".join(f"+37255{i:05d}\n" for i in range(1_000))  # 12 kB: over the body limit, under the bulk one
    made = await client.post("/v1/hotlists/irsf/versions", content=big, headers=upload(keys.admin))
    assert made.status_code == 201, made.text
    assert made.json()["entries"] == 1_000
    json_body = {"numbers": ["+3725500000"] * 300}
    refused = await client.post("/v1/hotlists/check", json=json_body, headers=bearer(keys.reader))
    assert (refused.status_code, refused.json()["error"]["code"]) == (413, "body_too_large")
