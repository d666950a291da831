"""/v1/alerts: a member's incidents (the rules engine's alerts, grouped), their alerts and evidence, their life cycle
and its events.

A member sees and acts on its own incidents only; another member's is answered as "not found". Admins see and act on
all. Any role may read and acknowledge; closing needs the reporter role. See docs/alerts.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ringfence.alerts.models import IncidentFilter, parse_severity, parse_status
from ringfence.alerts.service import MAX_ALERTS_PAGE, MAX_EVENTS, MAX_PAGE, AlertService
from ringfence.alerts.views import (
    events_page,
    incident_detail,
    incident_view,
    incidents_page,
    report_view,
    summary_view,
)
from ringfence.api.auth import require
from ringfence.api.body import json_body, openapi_body
from ringfence.api.longpoll import wait_for_events
from ringfence.api.render import json_response
from ringfence.api.schemas import ErrorAnswer
from ringfence.api.schemas_alerts import (
    AckBody,
    CloseAnswer,
    CloseBody,
    EventsAnswer,
    IncidentAnswer,
    IncidentDetailAnswer,
    IncidentsAnswer,
    SummaryAnswer,
)
from ringfence.clock import to_ms
from ringfence.errors import Forbidden
from ringfence.registry.members import Principal
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 409, 422)}
_MAX_WAIT_S = 60.0
#: While a long poll waits, the store is read again this often: events of other processes (another node, the CLI
#: on the same store) have no in-process notification.
_POLL_S = 1.0

Status = Annotated[str | None, Query(description="open, acknowledged or closed")]
Rule = Annotated[str | None, Query(max_length=64, description="Only this rule's incidents")]
MinSeverity = Annotated[
    str | None, Query(description="Only incidents at least this severe: low, medium, high, critical")
]
Subject = Annotated[str | None, Query(max_length=200, description="Only this subject, e.g. number:+3725521234")]
MemberName = Annotated[str | None, Query(max_length=200, description="Only this member's incidents (admins only)")]
Since = Annotated[datetime | None, Query(description="Only incidents whose latest alert fired at or after (ISO 8601)")]
Until = Annotated[datetime | None, Query(description="Only incidents whose first alert fired before (ISO 8601)")]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _service(request: Request) -> AlertService:
    return _runtime(request).alerts


def _is_admin(who: Principal) -> bool:
    return who.member.role is Role.ADMIN


def _filter(
    runtime: Runtime,
    who: Principal,
    status: str | None,
    rule: str | None,
    severity: str | None,
    subject: str | None,
    member: str | None,
    since: datetime | None,
    until: datetime | None,
) -> IncidentFilter:
    member_id = None
    if member is not None:
        if not _is_admin(who):
            raise Forbidden(
                "only admins see other members' incidents", code="forbidden_role", details={"needed": "admin"}
            )
        member_id = runtime.members.get(member).id
    return IncidentFilter(
        status=parse_status(status) if status else None,
        rule=rule or None,
        min_severity=parse_severity(severity) if severity else None,
        subject=subject or None,
        member_id=member_id,
        since_ms=None if since is None else to_ms(since),
        until_ms=None if until is None else to_ms(until),
    )


@router.get("", response_model=IncidentsAnswer, responses=_ERRORS, summary="Your incidents (admins: everyone's)")
def list_incidents(
    request: Request,
    status: Status = None,
    rule: Rule = None,
    severity: MinSeverity = None,
    subject: Subject = None,
    member: MemberName = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    before: Annotated[int | None, Query(ge=1, description="The `next` of the previous page")] = None,
    who: Principal = require(Role.READER),
) -> Response:
    """Incidents newest first (the order they were opened), filtered; page on with ``before=next``."""
    runtime = _runtime(request)
    wanted = _filter(runtime, who, status, rule, severity, subject, member, since, until)
    found = runtime.alerts.list(wanted, viewer=who.member, limit=limit, before=before)
    return json_response(incidents_page(found, limit, include_member=_is_admin(who)))


@router.get("/summary", response_model=SummaryAnswer, responses=_ERRORS, summary="Counts of your incidents")
def summary(
    request: Request,
    status: Status = None,
    rule: Rule = None,
    severity: MinSeverity = None,
    subject: Subject = None,
    member: MemberName = None,
    since: Since = None,
    until: Until = None,
    who: Principal = require(Role.READER),
) -> Response:
    """How many incidents the filters select: in all, per status, per rule and per severity (each per status),
    and per verdict."""
    runtime = _runtime(request)
    wanted = _filter(runtime, who, status, rule, severity, subject, member, since, until)
    return json_response(summary_view(runtime.alerts.summary(wanted, viewer=who.member)))


@router.get(
    "/events",
    response_model=EventsAnswer,
    responses=_ERRORS,
    summary="What happened to your incidents after an event id (long-poll with wait)",
)
async def events(
    request: Request,
    since: Annotated[int, Query(ge=0, description="An event id: the last one you have seen (0: from the start)")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS, description="At most this many events")] = 100,
    wait: Annotated[
        float, Query(ge=0, le=_MAX_WAIT_S, description="Seconds to wait for an event when there is none yet")
    ] = 0,
    who: Principal = require(Role.READER),
) -> Response:
    """Every incident opened, alert added, acknowledgement and closure after event id ``since``, oldest first
    (yours; admins: everyone's). With ``wait``, an empty answer waits up to that long for the next event."""
    service = _service(request)
    found = await run_in_threadpool(lambda: service.events(since, limit, viewer=who.member))
    if not found and wait > 0:
        found = await wait_for_events(
            service.subscribe, lambda: service.events(since, limit, viewer=who.member), wait, poll_s=_POLL_S
        )
    return json_response(events_page(found, since, include_member=_is_admin(who)))


@router.get(
    "/{incident_id}",
    response_model=IncidentDetailAnswer,
    responses=_ERRORS,
    summary="One incident with its alerts and their evidence",
)
def get_incident(
    incident_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_ALERTS_PAGE, description="At most this many alerts")] = 100,
    after: Annotated[int | None, Query(ge=0, description="The `next_alert` of the previous page")] = None,
    who: Principal = require(Role.READER),
) -> Response:
    """The incident and its alerts in the order recorded, each with the call records that fired it."""
    service = _service(request)
    incident = service.get(incident_id, viewer=who.member)
    found = service.alerts(incident.id, viewer=who.member, after=after, limit=limit)
    return json_response(incident_detail(incident, found, limit, include_member=_is_admin(who)))


@router.post(
    "/{incident_id}/ack",
    response_model=IncidentAnswer,
    responses=_ERRORS,
    summary="Acknowledge an incident",
    description=(
        "Someone is on it: open → acknowledged (again: no change). New alerts still join it. A closed incident is "
        '409 `incident_closed`. The body (`{"note"}`) is optional.'
    ),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": AckBody.model_json_schema()}},
        }
    },
)
async def acknowledge(incident_id: str, request: Request, who: Principal = require(Role.READER)) -> Response:
    body = await json_body(request, AckBody) if (await request.body()).strip() else AckBody(note=None)
    service = _service(request)
    incident = await run_in_threadpool(service.acknowledge, who.member, incident_id, body.note)
    return json_response({"incident": incident_view(incident, include_member=_is_admin(who))})


@router.post(
    "/{incident_id}/close",
    response_model=CloseAnswer,
    responses=_ERRORS,
    summary="Close an incident as fraud or false positive (reporter)",
    description=(
        "Closes an open or acknowledged incident (a closed one is 409 `incident_closed`; later alerts of its subject "
        "open a new incident). With `verdict` fraud and `report` true, every number of the incident is reported to "
        "the registry as you, under the incident's category, first: `reports` says what became of each (a number "
        "the registry refuses, e.g. on the never-list, is `refused` with its error; the incident closes all the "
        "same). Reports have the id `incident-<id>-<number>`, so retrying reports nothing twice."
    ),
    openapi_extra=openapi_body(CloseBody),
)
async def close(incident_id: str, request: Request, who: Principal = require(Role.REPORTER)) -> Response:
    body = await json_body(request, CloseBody)
    service = _service(request)
    outcome = await run_in_threadpool(
        lambda: service.close(who.member, incident_id, body.verdict, body.note, report=body.report)
    )
    return json_response(
        {
            "incident": incident_view(outcome.incident, include_member=_is_admin(who)),
            "reports": [report_view(r) for r in outcome.reports],
        }
    )
