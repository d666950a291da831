"""``alerts``: a member's incidents (alerts grouped by rule and subject): list, show with evidence, acknowledge,
close as fraud (reporting the numbers) or false positive, and counts.

On the local database the operator sees every incident and acts for the member named by ``--member`` (closing needs
a reporter); with ``--url``/``--key`` the commands go through the HTTP API as the key's member, who sees its own
incidents (an admin key: everyone's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from ringfence.alerts.models import IncidentFilter, parse_severity, parse_status, parse_verdict
from ringfence.alerts.service import MAX_ALERTS_PAGE, MAX_PAGE
from ringfence.alerts.views import incident_detail, incident_view, incidents_page, report_view, summary_view
from ringfence.clock import to_ms
from ringfence.registry.views import iso

from .output import print_json, table
from .remote import path_part
from .state import State, pass_state

__all__ = ["COMMANDS", "alerts"]


def _time(_ctx: click.Context, param: click.Parameter, raw: str | None) -> int | None:
    """A time option as epoch ms (ISO 8601; no offset means UTC)."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise click.BadParameter(f"{raw!r} is not an ISO 8601 time (e.g. 2026-11-21T09:30:00Z)") from None
    return to_ms(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _filters(func: Any) -> Any:
    """The incident filters ``list`` and ``summary`` share."""
    options = (
        click.option("--status", metavar="open|acknowledged|closed", help="Only incidents in this state."),
        click.option("--rule", metavar="RULE", help="Only this rule's incidents."),
        click.option("--severity", metavar="LEVEL", help="Only incidents at least this severe (low ... critical)."),
        click.option("--subject", metavar="SUBJECT", help="Only this subject, e.g. number:+3725521234."),
        click.option("--member", metavar="NAME", help="Only this member's incidents (remote: admin keys only)."),
        click.option("--since", metavar="TIME", callback=_time, help="Latest alert fired at or after TIME (ISO 8601)."),
        click.option("--until", metavar="TIME", callback=_time, help="First alert fired before TIME (ISO 8601)."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _params(
    status: str | None,
    rule: str | None,
    severity: str | None,
    subject: str | None,
    member: str | None,
    since: int | None,
    until: int | None,
) -> dict[str, str | None]:
    return {
        "status": status,
        "rule": rule,
        "severity": severity,
        "subject": subject,
        "member": member,
        "since": iso(since),
        "until": iso(until),
    }


def _filter(
    state: State,
    status: str | None,
    rule: str | None,
    severity: str | None,
    subject: str | None,
    member: str | None,
    since: int | None,
    until: int | None,
) -> IncidentFilter:
    return IncidentFilter(
        status=parse_status(status) if status else None,
        rule=rule or None,
        min_severity=parse_severity(severity) if severity else None,
        subject=subject or None,
        member_id=state.runtime().members.get(member).id if member else None,
        since_ms=since,
        until_ms=until,
    )


def _show_list(rows: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("id", "member", "rule", "subject", "severity", "status", "alerts", "first fired", "last fired"),
        (
            (
                i["id"],
                i.get("member") or "",
                i["rule"],
                i["subject"],
                i["severity"],
                i["status"] + (f" ({i['verdict']})" if i.get("verdict") else ""),
                i["alert_count"],
                i["first_fired_at"],
                i["last_fired_at"],
            )
            for i in rows
        ),
    )


def _show_incident(incident: Mapping[str, Any]) -> None:
    lines = [
        ("incident", incident["id"]),
        ("member", incident.get("member") or ""),
        ("rule", incident["rule"]),
        ("subject", incident["subject"]),
        ("category", incident["category"]),
        ("severity", incident["severity"]),
        ("status", incident["status"]),
        ("verdict", incident.get("verdict") or ""),
        ("alerts", incident["alert_count"]),
        ("numbers", ", ".join(incident["numbers"])),
        ("first fired", incident["first_fired_at"]),
        ("last fired", incident["last_fired_at"]),
        ("acknowledged", " ".join(filter(None, (incident.get("acknowledged_at"), incident.get("acknowledged_by"))))),
        ("ack note", incident.get("ack_note") or ""),
        ("closed", " ".join(filter(None, (incident.get("closed_at"), incident.get("closed_by"))))),
        ("close note", incident.get("close_note") or ""),
    ]
    for name, value in lines:
        click.echo(f"{name + ':':<14}{value}")


def _show_reports(reports: Sequence[Mapping[str, Any]]) -> None:
    if not reports:
        return
    table(
        ("number", "outcome", "report id", "error"),
        ((r["number"], r["outcome"], r["report_id"], (r.get("error") or {}).get("message") or "") for r in reports),
    )


@click.group()
def alerts() -> None:
    """Incidents: the rules' alerts grouped by rule and subject, and their life cycle."""


@alerts.command("list")
@_filters
@click.option("--limit", type=click.IntRange(1, MAX_PAGE), default=100, show_default=True)
@click.option("--before", type=click.IntRange(min=1), help="The `next` of the previous page.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def list_incidents(
    state: State,
    status: str | None,
    rule: str | None,
    severity: str | None,
    subject: str | None,
    member: str | None,
    since: int | None,
    until: int | None,
    limit: int,
    before: int | None,
    as_json: bool,
) -> None:
    """Incidents, newest first."""
    remote = state.remote
    if remote is not None:
        params = {**_params(status, rule, severity, subject, member, since, until), "limit": str(limit)}
        if before is not None:
            params["before"] = str(before)
        page = remote.call("GET", "/v1/alerts", params=params)
    else:
        wanted = _filter(state, status, rule, severity, subject, member, since, until)
        found = state.runtime().alerts.list(wanted, limit=limit, before=before)
        page = incidents_page(found, limit, include_member=True)
    if as_json:
        print_json(page)
        return
    _show_list(page["incidents"])
    if page.get("next"):
        click.echo(f"more: --before {page['next']}")


@alerts.command("show")
@click.argument("incident_id", metavar="ID")
@click.option("--limit", type=click.IntRange(1, MAX_ALERTS_PAGE), default=100, show_default=True, help="Alerts shown.")
@click.option("--after", type=click.IntRange(min=0), help="The `next_alert` of the previous page.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (with every alert's evidence).")
@pass_state
def show_incident(state: State, incident_id: str, limit: int, after: int | None, as_json: bool) -> None:
    """One incident with its alerts (and, with --json, the call records that fired each)."""
    remote = state.remote
    if remote is not None:
        params = {"limit": str(limit), "after": None if after is None else str(after)}
        detail = remote.call("GET", f"/v1/alerts/{path_part(incident_id)}", params=params)
    else:
        service = state.runtime().alerts
        incident = service.get(incident_id)
        detail = incident_detail(
            incident, service.alerts(incident.id, after=after, limit=limit), limit, include_member=True
        )
    if as_json:
        print_json(detail)
        return
    _show_incident(detail["incident"])
    _show_reports(detail["incident"].get("reports") or [])
    table(
        ("alert", "fired", "severity", "window start", "window end", "evidence", "summary"),
        (
            (
                a["id"],
                a["fired_at"],
                a["severity"],
                a["window_start_at"],
                a["window_end_at"],
                len(a["evidence"]),
                a["summary"],
            )
            for a in detail["alerts"]
        ),
    )
    if detail.get("next_alert"):
        click.echo(f"more alerts: --after {detail['next_alert']}")


@alerts.command("ack")
@click.argument("incident_id", metavar="ID")
@click.option("--note", help="Free text for the record (no personal data).")
@click.option("--member", metavar="NAME", help="Who acknowledges (local database only; remote: the key's).")
@click.option("--json", "as_json", is_flag=True, help="Print the incident as JSON.")
@pass_state
def acknowledge(state: State, incident_id: str, note: str | None, member: str | None, as_json: bool) -> None:
    """Acknowledge incident ID: someone is on it (any role)."""
    remote = state.remote
    if remote is not None:
        shown = remote.call("POST", f"/v1/alerts/{path_part(incident_id)}/ack", json={"note": note})["incident"]
    else:
        if not member:
            raise click.UsageError("--member NAME is required when working on the local database")
        runtime = state.runtime()
        actor = runtime.members.get(member)
        shown = incident_view(runtime.alerts.acknowledge(actor, incident_id, note), include_member=True)
    if as_json:
        print_json(shown)
    else:
        click.echo(f"incident {shown['id']}: {shown['status']} by {shown.get('acknowledged_by') or ''}".rstrip())


@alerts.command("close")
@click.argument("incident_id", metavar="ID")
@click.argument("verdict", metavar="fraud|false_positive")
@click.option("--note", help="Why, for the record (no personal data).")
@click.option("--report", is_flag=True, help="With fraud: report every number of the incident to the registry.")
@click.option("--member", metavar="NAME", help="Who closes, a reporter (local database only; remote: the key's).")
@click.option("--json", "as_json", is_flag=True, help="Print the incident and the reports as JSON.")
@pass_state
def close_incident(
    state: State, incident_id: str, verdict: str, note: str | None, report: bool, member: str | None, as_json: bool
) -> None:
    """Close incident ID as fraud or false_positive (needs a reporter); --report reports its numbers."""
    decided = parse_verdict(verdict)
    remote = state.remote
    if remote is not None:
        body = {"verdict": decided.value, "note": note, "report": report}
        answer = remote.call("POST", f"/v1/alerts/{path_part(incident_id)}/close", json=body)
    else:
        if not member:
            raise click.UsageError("--member NAME is required when working on the local database")
        runtime = state.runtime()
        actor = runtime.members.get(member)
        outcome = runtime.alerts.close(actor, incident_id, decided, note, report=report)
        answer = {
            "incident": incident_view(outcome.incident, include_member=True),
            "reports": [report_view(r) for r in outcome.reports],
        }
    if as_json:
        print_json(answer)
        return
    shown = answer["incident"]
    click.echo(f"incident {shown['id']}: closed as {shown['verdict']}")
    reports = answer["reports"]
    if reports:
        done = sum(r["outcome"] != "refused" for r in reports)
        click.echo(f"reported {done} of {len(reports)} numbers to the registry")
        _show_reports(reports)


@alerts.command("summary")
@_filters
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def summary(
    state: State,
    status: str | None,
    rule: str | None,
    severity: str | None,
    subject: str | None,
    member: str | None,
    since: int | None,
    until: int | None,
    as_json: bool,
) -> None:
    """Counts of incidents per status, rule, severity and verdict."""
    remote = state.remote
    if remote is not None:
        counts = remote.call(
            "GET", "/v1/alerts/summary", params=_params(status, rule, severity, subject, member, since, until)
        )
    else:
        wanted = _filter(state, status, rule, severity, subject, member, since, until)
        counts = summary_view(state.runtime().alerts.summary(wanted))
    if as_json:
        print_json(counts)
        return
    statuses = list(counts["by_status"])
    click.echo(f"incidents: {counts['total']} (" + ", ".join(f"{s}: {counts['by_status'][s]}" for s in statuses) + ")")
    rows = [("rule", name, *(per.get(s, 0) for s in statuses)) for name, per in counts["by_rule"].items()]
    rows += [("severity", name, *(per.get(s, 0) for s in statuses)) for name, per in counts["by_severity"].items()]
    table(("by", "value", *statuses), rows)
    verdicts = counts["by_verdict"]
    click.echo("closed as: " + ", ".join(f"{v}: {n}" for v, n in verdicts.items()))


COMMANDS = (alerts,)
