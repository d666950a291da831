"""The open endpoints (health, readiness, docs), metrics, export, limits and unknown routes."""

from __future__ import annotations

import csv
import io

import httpx

from ringfence.runtime import Runtime
from tests.support import Keys, bearer


async def test_only_health_ready_and_docs_are_open(client: httpx.AsyncClient, keys: Keys) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert spec["info"]["title"] == "ringfence"
    for path in ("/v1/numbers/{number}", "/v1/numbers/lookup", "/v1/reports", "/v1/reports/bulk", "/v1/export"):
        assert path in spec["paths"]
    for path in ("/metrics", "/v1/reports", "/v1/members", "/v1/export", "/v1/me", "/v1/keys"):
        assert (await client.get(path)).status_code == 401, path


async def test_metrics_count_lookups_for_admins(client: httpx.AsyncClient, keys: Keys) -> None:
    await client.get("/v1/numbers/+442079460018", headers=bearer(keys.reader))
    assert (await client.get("/metrics", headers=bearer(keys.reader))).status_code == 403
    text = (await client.get("/metrics", headers=bearer(keys.admin))).text
    assert 'ringfence_lookups_total{outcome="unlisted"} 1.0' in text
    assert 'route="/v1/numbers/{number}"' in text
    assert "ringfence_listings 0.0" in text


async def test_export_has_every_listing_and_no_reporter(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime
) -> None:
    for number in ("+442079460018", "+442079460019"):
        await client.post("/v1/reports", json={"number": number, "category": "vishing"}, headers=bearer(keys.reporter))
    answer = await client.get("/v1/export?format=csv", headers=bearer(keys.reader))
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["number"] for r in rows] == ["+442079460018", "+442079460019"]
    assert "carrier-a" not in answer.text
    jsonl = await client.get("/v1/export?format=jsonl", headers=bearer(keys.reader))
    assert len(jsonl.text.strip().splitlines()) == 2


async def test_unknown_routes_and_methods_answer_in_the_error_shape(client: httpx.AsyncClient, keys: Keys) -> None:
    missing = await client.get("/v2/nothing", headers=bearer(keys.reader))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = await client.put("/v1/reports", headers=bearer(keys.reader))
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


async def test_an_oversized_body_is_a_413(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    big = b'{"numbers": ["' + b"1" * (runtime.settings.max_body_bytes + 10) + b'"]}'
    answer = await client.post(
        "/v1/numbers/lookup", content=big, headers={**bearer(keys.reader), "content-type": "application/json"}
    )
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "body_too_large"
