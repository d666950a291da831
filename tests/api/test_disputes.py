"""/v1/disputes over HTTP: any member disputes a listing, admins decide, and nobody but an admin learns who disputed."""

from __future__ import annotations

import httpx
import pytest

from ringfence.feed.models import ChangeKind
from ringfence.registry.audit import AuditLog
from ringfence.registry.models import FLAG_DISPUTED
from ringfence.registry.reputation import STANDING, UPHELD_PENALTY, reputations
from ringfence.runtime import Runtime
from tests.support import Keys, bearer

NUMBER = "+442079460018"
VALUE = 442079460018


async def _listed(client: httpx.AsyncClient, keys: Keys, number: str = NUMBER) -> None:
    answer = await client.post(
        "/v1/reports",
        json={"number": number, "category": "vishing", "occurred_at": "2026-09-21T10:00:00Z"},
        headers=bearer(keys.reporter),
    )
    assert answer.status_code == 201, answer.text


async def _open(client: httpx.AsyncClient, key: str, **body: object) -> httpx.Response:
    return await client.post(
        "/v1/disputes", json={"number": NUMBER, "reason": "own_number", **body}, headers=bearer(key)
    )


async def test_a_reader_disputes_a_listing_and_it_shows_disputed(
    client: httpx.AsyncClient, keys: Keys, runtime: Runtime
) -> None:
    await _listed(client, keys)
    head = runtime.feed.log.head()
    answer = await _open(client, keys.reader, number="020 7946 0018", reason="legitimate_customer", note="ours")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    dispute = body["dispute"]
    assert dispute["number"] == NUMBER and dispute["status"] == "open" and dispute["note"] == "ours"
    assert dispute["opened_at"] == "2026-09-21T14:13:20.000Z" and dispute["resolved_at"] is None
    assert "member" not in dispute and "member_id" not in dispute
    # one reporter's disputed listing weighs half: it may decay below its threshold, and the answer still shows it
    assert body["listing"]["listing"]["disputed"] is True
    changes = runtime.feed.log.read(head, 10)
    assert [(c.kind, c.number) for c in changes] == [(ChangeKind.UPDATED, VALUE)]
    assert changes[0].listing is not None and changes[0].listing.flags == FLAG_DISPUTED
    lookup = await client.get(
        f"/v1/numbers/{NUMBER}", params={"include_decayed": "true"}, headers=bearer(keys.reporter2)
    )
    assert lookup.json()["listing"]["disputed"] is True

    again = await _open(client, keys.reader)
    assert again.status_code == 409 and again.json()["error"]["code"] == "dispute_exists"


async def test_upheld_removes_the_listing(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> None:
    await _listed(client, keys)
    dispute_id = (await _open(client, keys.reader)).json()["dispute"]["id"]
    head = runtime.feed.log.head()
    answer = await client.post(
        f"/v1/disputes/{dispute_id}/resolve",
        json={"outcome": "upheld", "note": "the bank's own IVR line"},
        headers=bearer(keys.admin),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["dispute"]["status"] == "upheld" and body["dispute"]["resolution_note"] == "the bank's own IVR line"
    assert body["dispute"]["member"] == "contact-centre-c" and body["listing"]["listed"] is False
    assert [(c.kind, c.listing) for c in runtime.feed.log.read(head, 10)] == [(ChangeKind.DISPUTE, None)]
    assert (await client.get(f"/v1/numbers/{NUMBER}", headers=bearer(keys.reader))).json()["listed"] is False
    reporter = runtime.members.get("carrier-a")
    with runtime.engine.connect() as conn:
        assert reputations(conn, [reporter.id]) == {reporter.id: STANDING - UPHELD_PENALTY}
    assert AuditLog(runtime.engine).query(number=VALUE)[0].reason == "dispute"

    twice = await client.post(
        f"/v1/disputes/{dispute_id}/resolve", json={"outcome": "rejected"}, headers=bearer(keys.admin)
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "dispute_closed"


async def test_rejected_keeps_the_listing_and_clears_the_flag(client: httpx.AsyncClient, keys: Keys) -> None:
    await _listed(client, keys)
    dispute_id = (await _open(client, keys.reporter2, reason="reassigned")).json()["dispute"]["id"]
    answer = await client.post(
        f"/v1/disputes/{dispute_id}/resolve", json={"outcome": "rejected"}, headers=bearer(keys.admin)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["dispute"]["status"] == "rejected"
    listing = answer.json()["listing"]
    assert listing["listed"] is True and listing["listing"]["disputed"] is False  # and it weighs in full again


async def test_withdraw_and_privacy(client: httpx.AsyncClient, keys: Keys) -> None:
    await _listed(client, keys)
    mine = (await _open(client, keys.reader)).json()["dispute"]["id"]
    theirs = (await _open(client, keys.reporter2, reason="reassigned")).json()["dispute"]["id"]

    # a member sees its own disputes only, without a member field; another's is "not found"
    own = await client.get("/v1/disputes", headers=bearer(keys.reader))
    assert [d["id"] for d in own.json()["disputes"]] == [mine] and "member" not in own.json()["disputes"][0]
    for path in (f"/v1/disputes/{theirs}", f"/v1/disputes/{theirs}/withdraw"):
        method = client.get if path.endswith(theirs) else client.post
        hidden = await method(path, headers=bearer(keys.reader))
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "dispute_not_found"
        assert "bank-b" not in hidden.text
    assert (await client.get(f"/v1/disputes/{mine}", headers=bearer(keys.reader))).status_code == 200

    # admins see all, with who disputed, and filter by status and number
    every = (await client.get("/v1/disputes", headers=bearer(keys.admin))).json()["disputes"]
    assert [(d["id"], d["member"]) for d in every] == [(theirs, "bank-b"), (mine, "contact-centre-c")]
    withdrawn = await client.post(f"/v1/disputes/{mine}/withdraw", headers=bearer(keys.reader))
    assert withdrawn.status_code == 200 and withdrawn.json()["dispute"]["status"] == "withdrawn"
    assert withdrawn.json()["listing"]["listing"]["disputed"] is True  # bank-b's dispute is still open
    open_only = await client.get("/v1/disputes", params={"status": "open"}, headers=bearer(keys.admin))
    assert [d["id"] for d in open_only.json()["disputes"]] == [theirs]
    by_number = await client.get(
        "/v1/disputes", params={"number": "020 7946 0018", "limit": 1}, headers=bearer(keys.admin)
    )
    assert [d["id"] for d in by_number.json()["disputes"]] == [theirs] and by_number.json()["next"] == theirs
    older = await client.get("/v1/disputes", params={"before": theirs}, headers=bearer(keys.admin))
    assert [d["id"] for d in older.json()["disputes"]] == [mine] and older.json()["next"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "key", "status", "code"),
    [
        ("POST", "/v1/disputes", {"number": NUMBER, "reason": "dislike"}, "reader", 422, "unknown_reason"),
        ("POST", "/v1/disputes", {"number": "nope", "reason": "own_number"}, "reader", 422, "invalid_number"),
        ("POST", "/v1/disputes", {"number": "+12015550123", "reason": "own_number"}, "reader", 404, "not_listed"),
        ("POST", "/v1/disputes", {"number": NUMBER}, "reader", 422, "invalid_body"),
        ("POST", "/v1/disputes", {"number": NUMBER, "reason": "own_number", "x": 1}, "reader", 422, "invalid_body"),
        ("POST", "/v1/disputes", {"number": NUMBER, "reason": "own_number", "region": "ZZ"}, "reader", 422, None),
        ("POST", "/v1/disputes", {"number": NUMBER, "reason": "own_number", "note": "x" * 2001}, "reader", 422, None),
        ("POST", "/v1/disputes", {"number": NUMBER, "reason": "own_number"}, None, 401, "missing_key"),
        ("GET", "/v1/disputes/abc", None, "reader", 404, "dispute_not_found"),
        ("GET", "/v1/disputes/12345", None, "admin", 404, "dispute_not_found"),
        ("GET", "/v1/disputes?status=pending", None, "admin", 422, "unknown_status"),
        ("GET", "/v1/disputes?number=junk", None, "admin", 422, "invalid_number"),
        ("GET", "/v1/disputes?before=x", None, "admin", 422, "invalid_parameter"),
        ("POST", "/v1/disputes/1/resolve", {"outcome": "upheld"}, "reporter", 403, "forbidden_role"),
        ("POST", "/v1/disputes/1/resolve", {"outcome": "maybe"}, "admin", 422, "unknown_outcome"),
        ("POST", "/v1/disputes/99/resolve", {"outcome": "upheld"}, "admin", 404, "dispute_not_found"),
        ("POST", "/v1/disputes/1/resolve", {}, "admin", 422, "invalid_body"),
        ("POST", "/v1/disputes/1/withdraw", None, "reporter", 404, "dispute_not_found"),
    ],
)
async def test_bad_requests_get_a_stable_4xx(
    client: httpx.AsyncClient,
    keys: Keys,
    runtime: Runtime,
    method: str,
    path: str,
    body: dict[str, object] | None,
    key: str | None,
    status: int,
    code: str | None,
) -> None:
    await _listed(client, keys)
    assert (await _open(client, keys.reader)).json()["dispute"]["id"] == "1"
    headers = bearer(getattr(keys, key)) if key else {}
    answer = await client.request(method, path, json=body, headers=headers)
    assert answer.status_code == status, answer.text
    if code is not None:
        assert answer.json()["error"]["code"] == code
    assert [d.status.value for d in runtime.disputes.list()] == ["open"]  # nothing changed
