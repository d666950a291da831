"""POST /v1/reassigned: an admin applies a reassigned/disconnected numbers feed over HTTP (CSV, JSONL, gzip, JSON)."""

from __future__ import annotations

import dataclasses
import gzip

import httpx
import orjson

from ringfence.registry.models import FLAG_PORTED, Category, NewReport
from ringfence.runtime import Runtime
from tests.conftest import START_MS
from tests.support import Keys, bearer

DAY = 86_400_000
GONE, STAYS, PORTED = 12015550101, 12015550102, 12015550104
CSV = """tn,date,type
2015550101,09/21/2026,
2015550102,2026-09-19,
2015550104,2026-09-21,port
12345,2026-09-21,
2015550106,2026-09-21,moved
"""
COUNTS = ("rows", "listed", "removed", "updated", "ported", "rejected")


def seed(runtime: Runtime) -> None:
    """Three listings reported on 2026-09-20 (START_MS is the 21st, 14:13 UTC)."""
    member = runtime.members.get("carrier-a")
    for number in (GONE, STAYS, PORTED):
        runtime.registry.report(member, NewReport(number, Category.IRSF, START_MS - DAY))


def counts(answer: httpx.Response) -> dict[str, int]:
    assert answer.status_code == 200, answer.text
    data = answer.json()
    return {k: data[k] for k in COUNTS}


async def test_a_csv_feed_removes_earlier_listings_and_lists_bad_rows(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime
) -> None:
    seed(runtime)
    answer = await client.post(
        "/v1/reassigned",
        content=CSV,
        params={"region": "US"},
        headers={**bearer(keys.admin), "content-type": "text/csv"},
    )
    assert counts(answer) == {"rows": 3, "listed": 3, "removed": 1, "updated": 0, "ported": 1, "rejected": 2}
    errors = answer.json()["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [(5, "invalid_number"), (6, "unknown_type")]
    assert errors[0]["details"] == {"input": "12345", "reason": "too_short"}

    gone = await client.get("/v1/numbers/+12015550101", headers=bearer(keys.reader))
    assert gone.json()["listed"] is False
    ported = (await client.get("/v1/numbers/+12015550104", headers=bearer(keys.reader))).json()
    assert ported["listed"] is True
    listing = runtime.registry.lookup(PORTED)
    assert listing is not None and listing.flags & FLAG_PORTED
    assert runtime.registry.lookup(STAYS) is not None


async def test_the_region_defaults_to_the_servers(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    seed(runtime)  # the test server's default region is GB: ten national digits are a GB number there
    answer = await client.post(
        "/v1/reassigned", content=CSV, headers={**bearer(keys.admin), "content-type": "text/csv"}
    )
    assert counts(answer)["listed"] == 0


async def test_gzip_jsonl_by_content_encoding(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    seed(runtime)
    jsonl = b'{"phone_number": "+12015550101", "permanent_disconnect_date": "2026-09-21"}\n{"tn": "x"}\n'
    answer = await client.post(
        "/v1/reassigned",
        content=gzip.compress(jsonl),
        headers={**bearer(keys.admin), "content-type": "application/x-ndjson", "content-encoding": "gzip"},
    )
    assert counts(answer) == {"rows": 1, "listed": 1, "removed": 1, "updated": 0, "ported": 0, "rejected": 1}
    assert answer.json()["errors"][0]["line"] == 2


async def test_json_rows_with_a_region(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    seed(runtime)
    body = {
        "rows": [
            {"number": "2015550101", "disconnect_date": "2026-09-21"},
            {"number": "(201) 555-0104", "disconnect_date": "09/21/2026", "type": "ported"},
            {"number": "2015550102", "disconnect_date": "2026-09-22T00:00:00Z"},
            {"number": "2015550102", "date": "2026-09-21", "type": "disconnect", "extra": 1},
        ],
        "region": "US",
    }
    answer = await client.post("/v1/reassigned", json=body, headers=bearer(keys.admin))
    assert counts(answer) == {"rows": 2, "listed": 2, "removed": 1, "updated": 0, "ported": 1, "rejected": 2}
    assert [(e["line"], e["code"]) for e in answer.json()["errors"]] == [(3, "date_in_future"), (4, "unknown_field")]


async def test_gzip_json_is_read_too(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    body = orjson.dumps({"rows": [{"number": "+12015550101", "disconnect_date": "2026-09-21"}]})
    answer = await client.post(
        "/v1/reassigned",
        content=gzip.compress(body),
        headers={**bearer(keys.admin), "content-type": "application/json", "content-encoding": "gzip"},
    )
    assert counts(answer)["rows"] == 1


async def test_only_admins_apply_a_feed(client: httpx.AsyncClient, keys: Keys) -> None:
    for key in (keys.reporter, keys.reader):
        answer = await client.post("/v1/reassigned", content=CSV, headers={**bearer(key), "content-type": "text/csv"})
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden_role"
    assert (await client.post("/v1/reassigned", content=CSV)).status_code == 401


async def test_bad_bodies_are_refused_with_a_code(client: httpx.AsyncClient, keys: Keys) -> None:
    admin = bearer(keys.admin)
    cases = [
        ({"content-type": "text/csv"}, b"number,tpye\n1,2\n", 422, "unknown_column"),
        ({"content-type": "application/json"}, b"{not json", 422, "malformed_json"),
        ({"content-type": "application/json"}, b'{"numbers": []}', 422, "invalid_body"),
        ({"content-type": "application/json"}, b'{"rows": [], "region": "XX"}', 422, "unknown_region"),
        ({"content-type": "text/csv", "content-encoding": "br"}, b"tn,date\n", 422, "unsupported_encoding"),
    ]
    for headers, body, status, code in cases:
        answer = await client.post("/v1/reassigned", content=body, headers={**admin, **headers})
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body


async def test_a_feed_may_be_larger_than_a_json_body_but_not_than_the_bulk_limit(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime
) -> None:
    rows = "".join(f"{2015550000 + i % 10_000},2026-09-01\n" for i in range(80_000))
    feed = ("tn,date\n" + rows).encode()
    assert runtime.settings.max_body_bytes < len(feed) < runtime.settings.max_bulk_bytes
    headers = {**bearer(keys.admin), "content-type": "text/csv"}
    answer = await client.post("/v1/reassigned", content=feed, params={"region": "US"}, headers=headers)
    assert counts(answer)["rows"] == 80_000
    runtime.settings = dataclasses.replace(runtime.settings, max_bulk_bytes=1000)
    too_big = await client.post("/v1/reassigned", content=feed, headers=headers)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "body_too_large"


async def test_the_openapi_document_describes_the_route(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    post = document["paths"]["/v1/reassigned"]["post"]
    body = post["requestBody"]["content"]
    assert set(body) == {"text/csv", "application/x-ndjson", "application/json"}
    assert "$defs" not in orjson.dumps(body).decode()
    assert body["application/json"]["schema"]["properties"]["rows"]["items"]["required"] == [
        "number",
        "disconnect_date",
    ]
