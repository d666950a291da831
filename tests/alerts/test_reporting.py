"""Closing an incident as fraud reports its numbers to the registry in one step: listings appear (seen through the
lookup API), a retry reports nothing twice, refusals are per number and the closure still happens, the reporter is
the closing member (an admin closing another's incident reports as the admin)."""

from __future__ import annotations

import httpx
import pytest

from ringfence.alerts.models import IncidentStatus, Verdict
from ringfence.alerts.reporting import report_numbers
from ringfence.errors import Forbidden
from ringfence.registry.models import Category, Member
from ringfence.runtime import Runtime
from tests.alerts.factory import NUMBER, T0, make_alert
from tests.support import Keys, bearer

OTHER = 3725521299


@pytest.fixture
def carrier(runtime: Runtime, keys: Keys) -> Member:
    return runtime.members.get("carrier-a")


async def lookup(client: httpx.AsyncClient, keys: Keys, number: int) -> dict[str, object]:
    answer = await client.get(f"/v1/numbers/+{number}", headers=bearer(keys.reader))
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def test_closing_as_fraud_lists_every_number_of_the_incident(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, carrier: Member
) -> None:
    incident = runtime.alerts.record(
        carrier.id, [make_alert(T0, numbers=(NUMBER,)), make_alert(T0 + 60_000, numbers=(OTHER,))], source="a"
    ).incidents[0]
    assert not (await lookup(client, keys, NUMBER))["listed"]
    outcome = runtime.alerts.close(carrier, incident, Verdict.FRAUD, "confirmed with the carrier", report=True)
    assert [(r.number, r.outcome, r.report_id) for r in outcome.reports] == [
        (NUMBER, "reported", f"incident-{incident}-+{NUMBER}"),
        (OTHER, "reported", f"incident-{incident}-+{OTHER}"),
    ]
    assert outcome.incident.reports == outcome.reports and outcome.incident.status is IncidentStatus.CLOSED
    for number in (NUMBER, OTHER):
        answer = await lookup(client, keys, number)
        assert answer["listed"] is True
        assert answer["listing"]["categories"] == ["irsf"]  # type: ignore[index]
    (mine,) = runtime.registry.reports(member=carrier, number=NUMBER)
    assert (mine.category, mine.occurred_ms, mine.report_id) == (
        Category.IRSF,
        T0 + 60_000,
        f"incident-{incident}-+{NUMBER}",
    )
    assert mine.note == f"ringfence incident {incident}: hotlist_hit on number:+{NUMBER}"


async def test_reporting_again_reports_nothing_twice(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, carrier: Member
) -> None:
    incident_id = runtime.alerts.record(carrier.id, [make_alert(T0)], source="a").incidents[0]
    # a closure that failed after its reports were made (the process died): the retry finds them made
    first = report_numbers(runtime.registry, carrier, runtime.alerts.get(incident_id))
    assert [r.outcome for r in first] == ["reported"]
    retried = runtime.alerts.close(carrier, incident_id, Verdict.FRAUD, report=True)
    assert [r.outcome for r in retried.reports] == ["already_reported"]
    listing = (await lookup(client, keys, NUMBER))["listing"]
    assert listing["report_count"] == 1  # type: ignore[index]
    assert len(runtime.registry.reports(member=carrier, number=NUMBER)) == 1


async def test_refused_numbers_are_answered_one_by_one_and_the_incident_still_closes(
    runtime: Runtime, client: httpx.AsyncClient, keys: Keys, carrier: Member
) -> None:
    runtime.allowlists.add(None, f"+{OTHER}", "service", "our own service number")
    unallocated = 999123456  # digits a switch dialled, that no numbering plan allows
    incident = runtime.alerts.record(
        carrier.id, [make_alert(T0, numbers=(NUMBER, OTHER, unallocated), category="wangiri")], source="a"
    ).incidents[0]
    outcome = runtime.alerts.close(carrier, incident, Verdict.FRAUD, report=True)
    by_number = {r.number: r for r in outcome.reports}
    assert by_number[NUMBER].outcome == "reported"
    assert (by_number[OTHER].outcome, by_number[unallocated].outcome) == ("refused", "refused")
    assert by_number[unallocated].code == "invalid_number"
    assert by_number[OTHER].code is not None and by_number[OTHER].message
    assert outcome.incident.status is IncidentStatus.CLOSED
    assert (await lookup(client, keys, NUMBER))["listing"]["categories"] == ["wangiri"]  # type: ignore[index]
    assert not (await lookup(client, keys, OTHER))["listed"]


def test_an_admin_closing_another_members_incident_reports_as_the_admin(runtime: Runtime, keys: Keys) -> None:
    carrier = runtime.members.get("carrier-a")
    admin = runtime.members.get("admin-org")
    incident = runtime.alerts.record(carrier.id, [make_alert(T0, category="simbox")], source="a").incidents[0]
    outcome = runtime.alerts.close(admin, incident, Verdict.FRAUD, report=True)
    assert [r.outcome for r in outcome.reports] == ["reported"]
    assert runtime.registry.reports(member=carrier) == []
    (made,) = runtime.registry.reports(member=admin)
    assert made.category is Category.OTHER  # a category the registry does not know


def test_a_reader_cannot_close_so_cannot_report(runtime: Runtime, keys: Keys) -> None:
    reader = runtime.members.get("contact-centre-c")
    incident = runtime.alerts.record(reader.id, [make_alert(T0)], source="a").incidents[0]
    with pytest.raises(Forbidden) as refused:
        runtime.alerts.close(reader, incident, Verdict.FRAUD, report=True)
    assert refused.value.code == "forbidden_role"
    assert runtime.registry.reports() == [] and runtime.alerts.get(incident).status is IncidentStatus.OPEN
