"""Looking numbers up over HTTP: single (fast path and framework route alike) and batch."""

from __future__ import annotations

import httpx
import pytest

from ringfence.api import create_app
from ringfence.runtime import Runtime
from tests.support import Keys, bearer


@pytest.fixture
async def either(runtime: Runtime, fast_paths: bool) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(runtime, fast_paths=fast_paths))
    return httpx.AsyncClient(transport=transport, base_url="http://ringfence.test")


async def _report(client: httpx.AsyncClient, key: str, number: str, category: str = "vishing") -> None:
    answer = await client.post("/v1/reports", json={"number": number, "category": category}, headers=bearer(key))
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    "written",
    ["+442079460018", "+44 20 7946 0018", "0044 20 7946 0018", "020 7946 0018", "(020) 7946-0018", "+44.20.7946.0018"],
)
async def test_every_common_format_finds_the_same_listing(either: httpx.AsyncClient, keys: Keys, written: str) -> None:
    await _report(either, keys.reporter, "+44 20 7946 0018")
    answer = await either.get(f"/v1/numbers/{written}", headers=bearer(keys.reader))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["number"] == "+442079460018"
    assert body["listed"] is True
    assert body["info"] == {"country": "GB", "country_code": 44, "type": "fixed_line", "valid": True}
    listing = body["listing"]
    assert listing["report_count"] == 1 and listing["reporter_count"] == 1
    assert listing["categories"] == ["vishing"]
    assert listing["last_reported_at"].endswith("Z")


async def test_unlisted_numbers_say_so_plainly(either: httpx.AsyncClient, keys: Keys) -> None:
    answer = await either.get("/v1/numbers/+447400123456", headers=bearer(keys.reader))
    assert answer.status_code == 200
    body = answer.json()
    assert body["listed"] is False and body["listing"] is None
    assert body["info"]["type"] == "mobile"


async def test_answers_never_name_the_reporter(either: httpx.AsyncClient, keys: Keys) -> None:
    await _report(either, keys.reporter, "+442079460018")
    await _report(either, keys.reporter2, "+442079460018", "smishing")
    text = (await either.get("/v1/numbers/+442079460018", headers=bearer(keys.reader))).text
    for name in ("carrier-a", "bank-b", "member_id"):
        assert name not in text
    assert '"reporter_count":2' in text


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("hello", "not_a_number"),
        ("+99912345", "invalid_country_code"),
        ("+44 20 79", "local_only"),
        ("+44 2", "too_short"),
    ],
)
async def test_an_unusable_number_is_a_422_naming_it(
    either: httpx.AsyncClient, keys: Keys, raw: str, reason: str
) -> None:
    answer = await either.get(f"/v1/numbers/{raw}", headers=bearer(keys.reader))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_number"
    assert error["details"] == {"input": raw, "reason": reason}
    assert raw in error["message"]


async def test_lookup_needs_a_live_key(either: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    missing = await either.get("/v1/numbers/+442079460018")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_key"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await either.get("/v1/numbers/+442079460018", headers=bearer("rf_abcdefgh_nope"))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_key"
    assert (await either.get("/v1/numbers/+442079460018", headers=bearer(keys.reader))).status_code == 200
    runtime.members.revoke(keys.reader.split("_")[1])
    revoked = await either.get("/v1/numbers/+442079460018", headers=bearer(keys.reader))
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "revoked_key"


async def test_region_query_parameter_reads_national_numbers(either: httpx.AsyncClient, keys: Keys) -> None:
    answer = await either.get("/v1/numbers/(201) 555-0123?region=US", headers=bearer(keys.reader))
    assert answer.status_code == 200, answer.text
    assert answer.json()["number"] == "+12015550123"


async def test_batch_answers_in_order_with_errors_in_place(client: httpx.AsyncClient, keys: Keys) -> None:
    await _report(client, keys.reporter, "+442079460018")
    numbers = ["+447400123456", "not a number", "020 7946 0018", "+1 201 555 0123", ""]
    answer = await client.post("/v1/numbers/lookup", json={"numbers": numbers}, headers=bearer(keys.reader))
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == 5
    assert results[0]["number"] == "+447400123456" and results[0]["listed"] is False
    assert results[1]["input"] == "not a number" and results[1]["error"]["code"] == "invalid_number"
    assert results[2]["number"] == "+442079460018" and results[2]["listed"] is True
    assert results[2]["listing"]["report_count"] == 1
    assert results[3]["info"]["country"] == "US"
    assert results[4]["error"]["details"]["reason"] == "empty"


async def test_batch_answers_match_single_answers(client: httpx.AsyncClient, keys: Keys) -> None:
    numbers = ["+442079460018", "+447400123456", "+12015550123", "+4930123456", "+88213012345", "+80012345678"]
    await _report(client, keys.reporter, numbers[0])
    await _report(client, keys.reporter, numbers[2], "robocall")
    batch = (await client.post("/v1/numbers/lookup", json={"numbers": numbers}, headers=bearer(keys.reader))).json()
    for number, result in zip(numbers, batch["results"], strict=True):
        single = await client.get(f"/v1/numbers/{number}", headers=bearer(keys.reader))
        assert single.status_code == 200, (number, single.text)
        assert result == single.json()


async def test_batch_over_the_limit_is_refused_whole(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    numbers = ["+442079460018"] * (runtime.settings.max_batch + 1)
    answer = await client.post("/v1/numbers/lookup", json={"numbers": numbers}, headers=bearer(keys.reader))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "batch_too_large"


async def test_admin_removes_a_listing_members_cannot(client: httpx.AsyncClient, keys: Keys) -> None:
    await _report(client, keys.reporter, "+442079460018")
    refused = await client.delete("/v1/numbers/+442079460018", headers=bearer(keys.reporter))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden_role"
    removed = await client.delete("/v1/numbers/+442079460018", headers=bearer(keys.admin))
    assert removed.status_code == 200 and removed.json()["removed_reports"] == 1
    after = await client.get("/v1/numbers/+442079460018", headers=bearer(keys.reader))
    assert after.json()["listed"] is False
    history = await client.get("/v1/numbers/+442079460018/reports?include_withdrawn=true", headers=bearer(keys.admin))
    assert [r["withdrawn_reason"] for r in history.json()["reports"]] == ["removed"]
    assert (await client.get("/v1/numbers/+442079460018/reports", headers=bearer(keys.reader))).status_code == 403


async def test_batch_body_is_read_as_json_whatever_the_content_type(client: httpx.AsyncClient, keys: Keys) -> None:
    answer = await client.post(
        "/v1/numbers/lookup",
        content=b'{"numbers": ["+442079460018"]}',
        headers={**bearer(keys.reader), "content-type": "application/x-www-form-urlencoded"},  # what curl -d sends
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["number"] == "+442079460018"
    unknown = await client.post(
        "/v1/numbers/lookup", json={"numbers": [], "colour": "red"}, headers=bearer(keys.reader)
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_body"
    assert unknown.json()["error"]["details"]["problems"][0]["field"] == "colour"


@pytest.mark.parametrize("path", ["/v1/numbers/020%207946%200018?region=UK", "/v1/numbers/020%207946%200018?region=ZZ"])
async def test_an_unknown_region_is_refused_naming_it(either: httpx.AsyncClient, keys: Keys, path: str) -> None:
    answer = await either.get(path, headers=bearer(keys.reader))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "unknown_region" and path[-2:] in answer.json()["error"]["message"]
