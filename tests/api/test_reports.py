"""Reporting over HTTP: one report, retries, withdrawal, bulk files, and a member's view of its own reports."""

from __future__ import annotations

import gzip

import httpx
import pytest

from ringfence.runtime import Runtime
from tests.support import Keys, bearer


async def test_a_report_is_stored_and_answered_with_the_listing(client: httpx.AsyncClient, keys: Keys) -> None:
    body = {
        "number": "+44 20 7946 0018",
        "category": "account_takeover",
        "occurred_at": "2026-09-21T10:00:00Z",
        "note": "caller posed as the bank's fraud team",
        "report_id": "case-1",
    }
    answer = await client.post("/v1/reports", json=body, headers=bearer(keys.reporter))
    assert answer.status_code == 201, answer.text
    data = answer.json()
    assert data["duplicate"] is False
    assert data["report"]["number"] == "+442079460018"
    assert data["report"]["occurred_at"] == "2026-09-21T10:00:00.000Z"
    assert data["report"]["report_id"] == "case-1"
    assert data["listing"]["listing"]["categories"] == ["account_takeover"]

    retry = await client.post("/v1/reports", json=body, headers=bearer(keys.reporter))
    assert retry.status_code == 200
    assert retry.json()["duplicate"] is True and retry.json()["report"]["id"] == data["report"]["id"]
    assert retry.json()["listing"]["listing"]["report_count"] == 1

    conflict = await client.post("/v1/reports", json={**body, "category": "other"}, headers=bearer(keys.reporter))
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "report_id_conflict"


async def test_a_retry_without_occurred_at_is_still_a_duplicate(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime
) -> None:
    """occurred_at defaults to the time of receipt, which differs per attempt; the retry must still match."""
    body = {"number": "+442079460018", "category": "vishing", "report_id": "no-time-1"}
    first = await client.post("/v1/reports", json=body, headers=bearer(keys.reporter))
    runtime.clock.advance(5_000)  # type: ignore[attr-defined]
    retry = await client.post("/v1/reports", json=body, headers=bearer(keys.reporter))
    assert first.status_code == 201 and retry.status_code == 200 and retry.json()["duplicate"] is True
    assert retry.json()["report"]["occurred_at"] == first.json()["report"]["occurred_at"]
    other_time = {**body, "occurred_at": "2026-09-01T10:00:00Z"}
    conflict = await client.post("/v1/reports", json=other_time, headers=bearer(keys.reporter))
    assert conflict.status_code == 409  # an explicit, different time is a different report


async def test_a_report_may_name_the_region_of_a_national_number(client: httpx.AsyncClient, keys: Keys) -> None:
    body = {"number": "01 42 68 53 00", "category": "vishing", "region": "FR"}
    answer = await client.post("/v1/reports", json=body, headers=bearer(keys.reporter))
    assert answer.status_code == 201 and answer.json()["report"]["number"] == "+33142685300"
    bad = await client.post("/v1/reports", json={**body, "region": "ZZ"}, headers=bearer(keys.reporter))
    assert bad.status_code == 422 and "ZZ" in bad.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"number": "+442079460018", "category": "bogus"}, 422, "unknown_category"),
        ({"number": "nope", "category": "vishing"}, 422, "invalid_number"),
        ({"number": "+442079460018"}, 422, "invalid_body"),
        ({"number": 442079460018, "category": "vishing"}, 422, "invalid_body"),
        ({"number": "+442079460018", "category": "vishing", "colour": "red"}, 422, "invalid_body"),
        ({"number": "+442079460018", "category": "vishing", "occurred_at": "yesterday"}, 422, "invalid_time"),
        (
            {"number": "+442079460018", "category": "vishing", "occurred_at": "2099-01-01T00:00:00Z"},
            422,
            "time_in_future",
        ),
    ],
)
async def test_bad_reports_get_a_stable_4xx_and_store_nothing(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime, body: dict[str, object], status: int, code: str
) -> None:
    answer = await client.post("/v1/reports", json=body, headers=bearer(keys.reporter))
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert len(runtime.registry.index) == 0


async def test_malformed_json_is_a_400(client: httpx.AsyncClient, keys: Keys) -> None:
    answer = await client.post(
        "/v1/reports", content=b'{"number": "+44', headers={**bearer(keys.reporter), "content-type": "application/json"}
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "malformed_json"


async def test_a_reader_cannot_report(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    answer = await client.post(
        "/v1/reports", json={"number": "+442079460018", "category": "vishing"}, headers=bearer(keys.reader)
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden_role"
    assert len(runtime.registry.index) == 0


async def test_withdraw_own_report_only(client: httpx.AsyncClient, keys: Keys) -> None:
    made = await client.post(
        "/v1/reports", json={"number": "+442079460018", "category": "vishing"}, headers=bearer(keys.reporter)
    )
    report_id = made.json()["report"]["id"]
    stranger = await client.delete(f"/v1/reports/{report_id}", headers=bearer(keys.reporter2))
    assert stranger.status_code == 404
    own = await client.delete(f"/v1/reports/{report_id}", headers=bearer(keys.reporter))
    assert own.status_code == 200
    assert own.json()["report"]["withdrawn_reason"] == "withdrawn"
    assert own.json()["listing"]["listed"] is False


async def test_members_see_only_their_own_reports(client: httpx.AsyncClient, keys: Keys) -> None:
    for key, number in ((keys.reporter, "+442079460018"), (keys.reporter2, "+442079460019")):
        await client.post("/v1/reports", json={"number": number, "category": "vishing"}, headers=bearer(key))
    mine = (await client.get("/v1/reports?mine=1", headers=bearer(keys.reporter))).json()["reports"]
    assert [r["number"] for r in mine] == ["+442079460018"]
    assert "member_id" not in mine[0]
    everyone = (await client.get("/v1/reports", headers=bearer(keys.admin))).json()["reports"]
    assert {r["number"] for r in everyone} == {"+442079460018", "+442079460019"}
    assert all("member_id" in r for r in everyone)


CSV = (
    "number,category,occurred_at,note,report_id\n"
    "+442079460018,vishing,2026-09-20T10:00:00Z,,a-1\n"
    "not-a-number,vishing,,,a-2\n"
    "020 7946 0019,smishing,,,a-3\n"
    "+442079460020,martian,,,a-4\n"
    "\n"
    "+442079460021,irsf,,,a-5\n"
)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
async def test_bulk_csv_keeps_good_rows_and_lists_bad_ones_by_line(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime, compress: bool
) -> None:
    payload = gzip.compress(CSV.encode()) if compress else CSV.encode()
    answer = await client.post(
        "/v1/reports/bulk", content=payload, headers={**bearer(keys.reporter), "content-type": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert (data["accepted"], data["duplicates"], data["rejected"]) == (3, 0, 2)
    assert [(e["line"], e["code"]) for e in data["errors"]] == [(3, "invalid_number"), (5, "unknown_category")]
    assert sorted(runtime.registry.index.snapshot()["number"].tolist()) == [442079460018, 442079460019, 442079460021]
    again = await client.post(
        "/v1/reports/bulk", content=payload, headers={**bearer(keys.reporter), "content-type": "text/csv"}
    )
    assert again.json()["duplicates"] == 3 and again.json()["accepted"] == 0


async def test_bulk_jsonl_and_json(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    jsonl = b'{"number": "+442079460018", "category": "wangiri"}\n[1, 2]\n{"number": "+442079460019"}\n'
    answer = await client.post(
        "/v1/reports/bulk", content=jsonl, headers={**bearer(keys.reporter), "content-type": "application/x-ndjson"}
    )
    data = answer.json()
    assert data["accepted"] == 1
    assert [(e["line"], e["code"]) for e in data["errors"]] == [(2, "invalid_json"), (3, "missing_field")]
    as_json = await client.post(
        "/v1/reports/bulk",
        json={"reports": [{"number": "+442079460030", "category": "robocall"}, {"number": "x", "category": "other"}]},
        headers=bearer(keys.reporter),
    )
    assert as_json.json()["accepted"] == 1 and as_json.json()["errors"][0]["line"] == 2


async def test_bulk_needs_a_reporter(client: httpx.AsyncClient, keys: Keys) -> None:
    answer = await client.post(
        "/v1/reports/bulk", content=CSV.encode(), headers={**bearer(keys.reader), "content-type": "text/csv"}
    )
    assert answer.status_code == 403
