"""/v1/cdrs over HTTP: who may send records, files and JSON batches, quarantined rows, the alerts answered and
recorded as incidents, the member's stream carried across uploads, and bad requests."""

from __future__ import annotations

import gzip

import httpx

from ringfence.runtime import Runtime
from tests.monitoring.cdrfiles import csv_of, row
from tests.support import Keys, bearer

HOTLISTED = "+88216000001"


def _hotlist(runtime: Runtime) -> None:
    runtime.hotlists.create(None, "irsf")
    runtime.hotlists.import_file(None, "irsf", HOTLISTED.encode() + b"\n", source="test")


def _csv(key: str) -> dict[str, str]:
    return {**bearer(key), "content-type": "text/csv"}


async def test_roles(client: httpx.AsyncClient, keys: Keys) -> None:
    data = csv_of([row(0, "+447700900001", "+442079460018")])
    assert (await client.post("/v1/cdrs", content=data)).status_code == 401
    refused = await client.post("/v1/cdrs", content=data, headers=_csv(keys.reader))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden_role"
    assert (await client.post("/v1/cdrs", content=data, headers=_csv(keys.reporter))).status_code == 200


async def test_a_file_answers_its_alerts_and_quarantined_rows(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime
) -> None:
    _hotlist(runtime)
    data = csv_of(
        [
            row(0, "+447700900001", HOTLISTED, 30),
            "not a time,+447700900002,+442079460018,10,true,outgoing,,T1,0.1",
            row(20, "+447700900003", "+442079460019", 50),
        ]
    )
    answer = await client.post(
        "/v1/cdrs?mode=batch&source=day.csv", content=gzip.compress(data), headers=_csv(keys.reporter)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["rows"], body["processed"], body["quarantined"]) == (3, 2, 1)
    assert body["quarantine"][0]["line"] == 3 and body["quarantine"][0]["reason"] == "bad_time"
    assert "not a time" in body["quarantine"][0]["message"]
    hit = next(a for a in body["raised"] if a["rule"] == "hotlist_hit")
    assert hit["subject"] == f"number:{HOTLISTED}" and hit["numbers"] == [HOTLISTED]
    incident = await client.get(f"/v1/alerts/{hit['incident']}", headers=bearer(keys.reporter))
    assert incident.status_code == 200, incident.text
    # the incident belongs to the sender: another member cannot see it
    other = await client.get(f"/v1/alerts/{hit['incident']}", headers=bearer(keys.reporter2))
    assert other.status_code in (403, 404)
    kept = (await client.get("/v1/cdrs/quarantine", headers=bearer(keys.reporter))).json()["rows"]
    assert [(r["line"], r["reason"], r["source"]) for r in kept] == [(3, "bad_time", "day.csv")]
    assert (await client.get("/v1/cdrs/quarantine", headers=bearer(keys.reporter2))).json()["rows"] == []


async def test_json_batches_continue_the_members_stream(client: httpx.AsyncClient, keys: Keys) -> None:
    def record(i: int) -> dict[str, object]:
        return {
            "start": f"2026-09-21T14:{13 + i:02d}:20Z",
            "caller": f"+4477009000{i:02d}",
            "called": f"+3715550{i:04d}",
            "duration_s": 200,
            "answered": True,
            "direction": "outgoing",
            "subscriber": f"sub-{i}",
        }

    first = await client.post(
        "/v1/cdrs", json={"records": [record(i) for i in range(3)]}, headers=bearer(keys.reporter)
    )
    assert first.status_code == 200, first.text
    assert not [a for a in first.json()["raised"] if a["rule"] == "range_velocity"]
    second = await client.post(
        "/v1/cdrs", json={"records": [record(i) for i in range(3, 6)] + [{"start": "x"}]}, headers=bearer(keys.reporter)
    )
    body = second.json()
    assert [a["rule"] for a in body["raised"]].count("range_velocity") >= 1
    assert body["quarantined"] == 1 and body["quarantine"][0]["line"] == 3  # records[3], counted from 0


async def test_bad_requests(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    async def code(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    headers = bearer(keys.reporter)
    assert await code(await client.post("/v1/cdrs?mode=fast", content=b"x", headers=headers)) == (422, "invalid_mode")
    assert (await client.post("/v1/cdrs?preset=nope", content=b"x", headers=headers)).status_code == 422
    bad_json = await client.post("/v1/cdrs", content=b"{", headers={**headers, "content-type": "application/json"})
    assert await code(bad_json) == (422, "malformed_json")
    wrong = await client.post("/v1/cdrs", json={"rows": []}, headers=headers)
    assert await code(wrong) == (422, "invalid_body")
    too_many = runtime.settings.max_cdr_batch + 1
    many = await client.post("/v1/cdrs", json={"records": [{}] * too_many}, headers=headers)
    assert await code(many) == (413, "batch_too_large")
    encoded = await client.post("/v1/cdrs", content=b"x", headers={**headers, "content-encoding": "br"})
    assert await code(encoded) == (422, "unsupported_encoding")


async def test_presets_are_listed(client: httpx.AsyncClient, keys: Keys) -> None:
    presets = (await client.get("/v1/cdrs/presets", headers=bearer(keys.reader))).json()["presets"]
    assert {"ringfence", "wholesale", "asterisk"} <= {p["name"] for p in presets}
