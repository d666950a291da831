"""/v1/alerts over HTTP: every role, who sees which incident, the incident with its alerts and evidence, the life
cycle and its errors, close-as-fraud, bad input, counts, and the events (paged and long-polled)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ringfence.registry.models import Member
from ringfence.rules.models import Severity
from ringfence.runtime import Runtime
from tests.alerts.factory import HOUR, NUMBER, SUBJECT, T0, make_alert, make_cdr
from tests.support import Keys, bearer


@pytest.fixture
def people(runtime: Runtime, keys: Keys) -> dict[str, Member]:
    return {name: runtime.members.get(name) for name in ("admin-org", "carrier-a", "bank-b", "contact-centre-c")}


def record(runtime: Runtime, member: Member, *alerts: object, source: str = "day1.csv") -> list[int]:
    made = runtime.alerts.record(member.id, list(alerts) or [make_alert(T0)], source=source)  # type: ignore[arg-type]
    return list(made.incidents)


async def test_every_role_reads_and_acknowledges_its_own_and_only_reporters_close(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    assert (await client.get("/v1/alerts")).status_code == 401
    for key, name in ((keys.reader, "contact-centre-c"), (keys.reporter, "carrier-a"), (keys.admin, "admin-org")):
        (incident,) = record(runtime, people[name])
        for path in ("/v1/alerts", "/v1/alerts/summary", "/v1/alerts/events", f"/v1/alerts/{incident}"):
            assert (await client.get(path, headers=bearer(key))).status_code == 200, (name, path)
        acked = await client.post(f"/v1/alerts/{incident}/ack", headers=bearer(key))
        assert acked.status_code == 200, acked.text
        assert acked.json()["incident"]["acknowledged_by"] == name
        closed = await client.post(
            f"/v1/alerts/{incident}/close", json={"verdict": "false_positive"}, headers=bearer(key)
        )
        if name == "contact-centre-c":
            assert (closed.status_code, closed.json()["error"]["code"]) == (403, "forbidden_role")
        else:
            assert closed.status_code == 200, closed.text
            assert closed.json()["incident"]["status"] == "closed"


async def test_a_member_sees_only_its_own_incidents_and_admins_see_all(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    (mine,) = record(runtime, people["carrier-a"])
    (theirs,) = record(runtime, people["bank-b"], make_alert(T0, rule="wangiri"))
    listed = (await client.get("/v1/alerts", headers=bearer(keys.reporter))).json()
    assert [i["id"] for i in listed["incidents"]] == [mine]
    assert "member" not in listed["incidents"][0]
    for method, path, body in (
        ("GET", f"/v1/alerts/{theirs}", None),
        ("POST", f"/v1/alerts/{theirs}/ack", None),
        ("POST", f"/v1/alerts/{theirs}/close", {"verdict": "fraud", "report": True}),
    ):
        hidden = await client.request(method, path, json=body, headers=bearer(keys.reporter))
        assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "incident_not_found"), path
    summary = (await client.get("/v1/alerts/summary", headers=bearer(keys.reporter))).json()
    assert summary["total"] == 1 and summary["by_rule"] == {"hotlist_hit": {"open": 1, "acknowledged": 0, "closed": 0}}
    refused = await client.get("/v1/alerts", params={"member": "bank-b"}, headers=bearer(keys.reporter))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden_role")

    every = (await client.get("/v1/alerts", headers=bearer(keys.admin))).json()["incidents"]
    assert [(i["id"], i["member"]) for i in every] == [(theirs, "bank-b"), (mine, "carrier-a")]
    only = (await client.get("/v1/alerts", params={"member": "bank-b"}, headers=bearer(keys.admin))).json()
    assert [i["id"] for i in only["incidents"]] == [theirs]
    unknown = await client.get("/v1/alerts", params={"member": "nobody"}, headers=bearer(keys.admin))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "member_not_found")
    assert (await client.get("/v1/alerts/summary", headers=bearer(keys.admin))).json()["total"] == 2


async def test_one_incident_with_its_alerts_and_their_evidence(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    cdrs = [make_cdr(i, start_ms=T0 + i * 1000) for i in range(3)]
    first = make_alert(T0, evidence=cdrs, severity=Severity.MEDIUM)
    (incident, _, _) = record(runtime, people["carrier-a"], first, make_alert(T0 + HOUR), make_alert(T0 + 2 * HOUR))
    answer = await client.get(f"/v1/alerts/{incident}", params={"limit": 2}, headers=bearer(keys.reporter))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    shown = body["incident"]
    assert (shown["id"], shown["rule"], shown["subject"], shown["severity"], shown["status"]) == (
        incident,
        "hotlist_hit",
        SUBJECT,
        "high",
        "open",
    )
    assert shown["numbers"] == [f"+{NUMBER}"] and shown["alert_count"] == 3
    assert shown["first_fired_at"] == "2026-09-21T14:14:20.000Z"
    assert len(body["alerts"]) == 2 and body["next_alert"] == body["alerts"][-1]["id"]
    alert = body["alerts"][0]
    assert (alert["incident"], alert["severity"], alert["source"], alert["seq"]) == (incident, "medium", "day1.csv", 2)
    assert alert["evidence"] == [c.to_dict() for c in cdrs]
    assert alert["evidence"][0]["called"] == f"+{NUMBER}"
    rest = await client.get(
        f"/v1/alerts/{incident}", params={"after": body["next_alert"]}, headers=bearer(keys.reporter)
    )
    assert [a["window_start_at"] for a in rest.json()["alerts"]] == ["2026-09-21T16:13:20.000Z"]
    assert rest.json()["next_alert"] is None
    for missing in ("999", "abc", "-1"):
        gone = await client.get(f"/v1/alerts/{missing}", headers=bearer(keys.reporter))
        assert (gone.status_code, gone.json()["error"]["code"]) == (404, "incident_not_found"), missing


async def test_the_life_cycle_and_its_conflicts(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    (incident,) = record(runtime, people["carrier-a"])
    acked = await client.post(f"/v1/alerts/{incident}/ack", json={"note": "on it"}, headers=bearer(keys.reporter))
    assert (acked.json()["incident"]["status"], acked.json()["incident"]["ack_note"]) == ("acknowledged", "on it")
    closed = await client.post(
        f"/v1/alerts/{incident}/close",
        json={"verdict": "false_positive", "note": "a test"},
        headers=bearer(keys.reporter),
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["incident"]["verdict"] == "false_positive" and closed.json()["reports"] == []
    for path, body in ((f"/v1/alerts/{incident}/ack", None), (f"/v1/alerts/{incident}/close", {"verdict": "fraud"})):
        again = await client.post(path, json=body, headers=bearer(keys.reporter))
        assert (again.status_code, again.json()["error"]["code"]) == (409, "incident_closed"), path


async def test_closing_as_fraud_over_http_lists_the_numbers(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    (incident,) = record(runtime, people["carrier-a"])
    closed = await client.post(
        f"/v1/alerts/{incident}/close", json={"verdict": "fraud", "report": True}, headers=bearer(keys.reporter)
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["reports"] == [
        {"number": f"+{NUMBER}", "outcome": "reported", "report_id": f"incident-{incident}-+{NUMBER}", "error": None}
    ]
    assert closed.json()["incident"]["reports"] == closed.json()["reports"]
    looked = (await client.get(f"/v1/numbers/+{NUMBER}", headers=bearer(keys.reader))).json()
    assert looked["listed"] is True and looked["listing"]["categories"] == ["irsf"]


async def test_bad_requests_name_the_field_or_the_value(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    (incident,) = record(runtime, people["carrier-a"])
    close = f"/v1/alerts/{incident}/close"
    for body, code, field in (
        ({}, "invalid_body", "verdict"),
        ({"verdict": "fraud", "colour": "red"}, "invalid_body", "colour"),
        ({"verdict": "fraud", "report": "perhaps"}, "invalid_body", "report"),
        ({"verdict": "fraud", "note": "x" * 2001}, "invalid_body", "note"),
        ({"verdict": "guilty"}, "unknown_verdict", None),
        ({"verdict": "false_positive", "report": True}, "report_needs_fraud", None),
    ):
        bad = await client.post(close, json=body, headers=bearer(keys.reporter))
        error = bad.json()["error"]
        assert (bad.status_code, error["code"]) == (422, code), body
        if field is not None:
            assert field in [p["field"] for p in error["details"]["problems"]], body
    malformed = await client.post(close, content=b"{verdict", headers=bearer(keys.reporter))
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "malformed_json")
    ack = await client.post(f"/v1/alerts/{incident}/ack", json={"nope": 1}, headers=bearer(keys.reporter))
    assert (ack.status_code, ack.json()["error"]["code"]) == (422, "invalid_body")
    for params, code in (
        ({"severity": "dire"}, "unknown_severity"),
        ({"status": "pending"}, "unknown_status"),
        ({"since": "yesterday"}, "invalid_parameter"),
        ({"limit": "0"}, "invalid_parameter"),
    ):
        bad = await client.get("/v1/alerts", params=params, headers=bearer(keys.reporter))
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, code), params
    assert runtime.alerts.get(incident).status.value == "open"


async def test_filters_and_pages_of_the_incident_list(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    made = record(
        runtime,
        people["carrier-a"],
        make_alert(T0, severity=Severity.LOW),
        make_alert(T0, rule="wangiri", severity=Severity.CRITICAL),
        make_alert(T0 + 5 * 24 * HOUR, subject="range:+37255"),
    )

    async def ids(**params: str) -> list[int]:
        answer = await client.get("/v1/alerts", params=params, headers=bearer(keys.reporter))
        assert answer.status_code == 200, answer.text
        return [i["id"] for i in answer.json()["incidents"]]

    assert await ids() == made[::-1]
    assert await ids(severity="high") == [made[2], made[1]]
    assert await ids(rule="wangiri") == [made[1]]
    assert await ids(subject="range:+37255") == [made[2]]
    assert await ids(status="open") == made[::-1]
    assert await ids(since="2026-09-24T00:00:00Z") == [made[2]]
    assert await ids(until="2026-09-24T00:00:00Z") == [made[1], made[0]]
    page = (await client.get("/v1/alerts", params={"limit": 2}, headers=bearer(keys.reporter))).json()
    assert page["next"] == made[1]
    assert await ids(before=str(page["next"])) == [made[0]]
    counts = (await client.get("/v1/alerts/summary", params={"severity": "high"}, headers=bearer(keys.reporter))).json()
    assert counts["total"] == 2 and counts["by_severity"]["critical"]["open"] == 1


async def test_events_page_per_member_and_wait_for_the_next(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    (mine,) = record(runtime, people["carrier-a"], make_alert(T0), make_alert(T0 + HOUR))[:1]
    (theirs,) = record(runtime, people["bank-b"])
    await client.post(f"/v1/alerts/{mine}/ack", headers=bearer(keys.reporter))
    page = (await client.get("/v1/alerts/events", headers=bearer(keys.reporter))).json()
    assert [(e["kind"], e["incident"]) for e in page["events"]] == [
        ("opened", mine),
        ("alert", mine),
        ("acknowledged", mine),
    ]
    assert page["last_id"] == page["events"][-1]["id"] and "member_id" not in page["events"][0]
    every = (await client.get("/v1/alerts/events", headers=bearer(keys.admin))).json()["events"]
    assert [e["incident"] for e in every] == [mine, mine, theirs, mine]
    assert every[2]["member_id"] == people["bank-b"].id
    second = (
        await client.get("/v1/alerts/events", params={"since": every[0]["id"], "limit": 2}, headers=bearer(keys.admin))
    ).json()
    assert second["events"] == every[1:3]
    last = page["last_id"]
    empty = (await client.get("/v1/alerts/events", params={"since": last}, headers=bearer(keys.reporter))).json()
    assert empty == {"events": [], "last_id": last}

    waiting = asyncio.create_task(
        client.get("/v1/alerts/events", params={"since": last, "wait": 10}, headers=bearer(keys.reporter))
    )
    await asyncio.sleep(0.3)
    assert not waiting.done()
    # another member's event wakes nobody up for it: the wait goes on
    await asyncio.to_thread(runtime.alerts.record, people["bank-b"].id, [make_alert(T0 + HOUR)], source="x")
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await asyncio.to_thread(runtime.alerts.record, people["carrier-a"].id, [make_alert(T0 + 9 * 24 * HOUR)], source="x")
    answer = await asyncio.wait_for(waiting, 5)
    assert [e["kind"] for e in answer.json()["events"]] == ["opened"]
    quiet = await client.get("/v1/alerts/events", params={"since": 10**6, "wait": 0.2}, headers=bearer(keys.reporter))
    assert quiet.json() == {"events": [], "last_id": 10**6}
    bad = await client.get("/v1/alerts/events", params={"wait": 61}, headers=bearer(keys.reporter))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_parameter")


async def test_a_long_poll_sees_events_written_by_another_process(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, people: dict[str, Member]
) -> None:
    from ringfence.clock import FixedClock

    waiting = asyncio.create_task(client.get("/v1/alerts/events", params={"wait": 10}, headers=bearer(keys.admin)))
    await asyncio.sleep(0.2)
    other = Runtime.open(runtime.settings, clock=FixedClock(T0), load_index=False)
    try:
        await asyncio.to_thread(other.alerts.record, people["carrier-a"].id, [make_alert(T0)], source="elsewhere")
    finally:
        other.close()
    answer = await asyncio.wait_for(waiting, 5)
    assert [e["kind"] for e in answer.json()["events"]] == ["opened"]


async def test_the_openapi_document_describes_the_alert_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/v1/alerts", "/v1/alerts/summary", "/v1/alerts/events", "/v1/alerts/{incident_id}"):
        assert "get" in paths[path], path
    close = paths["/v1/alerts/{incident_id}/close"]["post"]
    schema = close["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["verdict"] and set(schema["properties"]) == {"verdict", "note", "report"}
