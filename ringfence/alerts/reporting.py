"""Closing an incident as fraud reports its numbers to the registry: one report per number, as the closing member.

Each report goes through :meth:`RegistryService.report`, the same path as ``POST /v1/reports``: the never-list
refuses what it protects, the listing, its audit and change-feed event are written as for any report. The report
is made idempotent by what identifies it: the member's ``report_id`` is ``incident-<id>-+<number>``, its time the
incident's first firing and its note names the incident, none of which changes, so closing again after a failure
(or a retry of a closure whose answer was lost) stores nothing twice.

The category is the incident's when the registry knows it (``irsf``, ``wangiri``, ...), else ``other``. A number
the one normalisation path does not accept as it stands (an unallocated destination kept as dialled digits) is
refused here: the registry only lists numbers someone can be called from.
"""

from __future__ import annotations

from ringfence.alerts.models import Incident, NumberReport
from ringfence.errors import InvalidNumber, RingfenceError
from ringfence.numbers import format_e164, normalise
from ringfence.registry.models import Category, Member, NewReport
from ringfence.registry.service import RegistryService

__all__ = ["ALREADY_REPORTED", "REFUSED", "REPORTED", "report_category", "report_id", "report_numbers"]

REPORTED = "reported"
ALREADY_REPORTED = "already_reported"
REFUSED = "refused"

_CATEGORIES = {c.value: c for c in Category}


def report_id(incident_id: int, number: int) -> str:
    """The member's own reference of the report of ``number`` made by closing incident ``incident_id``."""
    return f"incident-{incident_id}-{format_e164(number)}"


def report_category(incident: Incident) -> Category:
    return _CATEGORIES.get(incident.category.strip().lower(), Category.OTHER)


def report_numbers(registry: RegistryService, member: Member, incident: Incident) -> tuple[NumberReport, ...]:
    """Report every number of ``incident`` as ``member``; what became of each, in number order."""
    category = report_category(incident)
    note = f"ringfence incident {incident.id}: {incident.rule} on {incident.subject}"
    outcomes: list[NumberReport] = []
    for number in sorted(incident.numbers):
        ref = report_id(incident.id, number)
        try:
            if normalise(format_e164(number)) != number:
                raise InvalidNumber(format_e164(number), "not_canonical", "it is not a number in E.164 form")
            _, new = registry.report(member, NewReport(number, category, incident.first_fired_ms, note, ref))
        except RingfenceError as err:
            outcomes.append(NumberReport(number, REFUSED, ref, err.code, err.message))
            continue
        outcomes.append(NumberReport(number, REPORTED if new else ALREADY_REPORTED, ref))
    return tuple(outcomes)
