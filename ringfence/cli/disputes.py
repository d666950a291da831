"""``disputes``: members dispute listings, admins uphold or reject them.

On the local database the operator acts for the member named by ``--member`` (or the admin named by ``--admin``) and
sees every dispute; with ``--url``/``--key`` the commands act as the key's member, through the HTTP API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from ringfence.disputes.models import parse_outcome, parse_reason, parse_status
from ringfence.disputes.service import DisputeService
from ringfence.disputes.views import dispute_view
from ringfence.numbers import normalise
from ringfence.registry.members import Principal
from ringfence.registry.models import Member, Role

from .output import print_json, table
from .remote import path_part
from .state import State, pass_state

__all__ = ["COMMANDS", "disputes"]


def _service(state: State) -> DisputeService:
    return state.runtime().disputes


def _acting(state: State, name: str | None, option: str, role: Role) -> Member:
    """The local member a command acts for; it must hold ``role``."""
    if not name:
        raise click.UsageError(f"{option} NAME is required when working on the local database")
    member = state.runtime().members.get(name)
    Principal(member, "cli").require(role)
    return member


def _show(dispute: Mapping[str, Any]) -> None:
    lines = [
        ("dispute", dispute["id"]),
        ("number", dispute["number"]),
        ("member", dispute.get("member") or ""),
        ("reason", dispute["reason"]),
        ("note", dispute.get("note") or ""),
        ("status", dispute["status"]),
        ("opened", dispute["opened_at"]),
        ("resolved", dispute.get("resolved_at") or ""),
        ("resolution note", dispute.get("resolution_note") or ""),
    ]
    for name, value in lines:
        click.echo(f"{name + ':':<17}{value}")


def _show_list(rows: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("id", "number", "member", "reason", "status", "opened", "resolved"),
        (
            (
                d["id"],
                d["number"],
                d.get("member") or "",
                d["reason"],
                d["status"],
                d["opened_at"],
                d.get("resolved_at") or "",
            )
            for d in rows
        ),
    )


def _output(dispute: Mapping[str, Any], as_json: bool) -> None:
    print_json(dispute) if as_json else _show(dispute)


@click.group()
def disputes() -> None:
    """Disputes of listings: a member says a listing is wrong, an admin decides."""


@disputes.command("open")
@click.argument("number")
@click.option(
    "--reason", required=True, metavar="legitimate_customer|own_number|reassigned", help="Why the listing is wrong."
)
@click.option("--note", help="Free text for the admins (no personal data).")
@click.option("--member", metavar="NAME", help="The member disputing (local database only; remote: the key's).")
@click.option("--json", "as_json", is_flag=True, help="Print the dispute as JSON.")
@pass_state
def open_dispute(state: State, number: str, reason: str, note: str | None, member: str | None, as_json: bool) -> None:
    """Dispute the listing of NUMBER; it weighs less until an admin decides."""
    why = parse_reason(reason)
    remote = state.remote
    if remote is not None:
        body: dict[str, Any] = {"number": number, "reason": why.value, "note": note}
        if state.settings.default_region:
            body["region"] = state.settings.default_region
        shown = remote.call("POST", "/v1/disputes", json=body)["dispute"]
    else:
        who = _acting(state, member, "--member", Role.READER)
        value = normalise(number, state.settings.default_region)
        shown = dispute_view(_service(state).open(who, value, why, note), include_member=True)
    if not as_json:
        click.echo(f"opened dispute {shown['id']} of {shown['number']} ({shown['reason']})")
    _output(shown, as_json)


@disputes.command("list")
@click.option("--status", metavar="open|upheld|rejected|withdrawn", help="Only disputes in this state.")
@click.option("--number", metavar="NUMBER", help="Only disputes of this number.")
@click.option("--member", metavar="NAME", help="Only this member's disputes (local database only).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def list_disputes(
    state: State, status: str | None, number: str | None, member: str | None, limit: int, as_json: bool
) -> None:
    """Disputes, newest first (remote: the key's own, or everyone's for an admin key)."""
    wanted = parse_status(status) if status else None
    remote = state.remote
    rows: list[dict[str, Any]]
    if remote is not None:
        params: dict[str, str | None] = {"limit": str(limit)}
        if wanted is not None:
            params["status"] = wanted.value
        if number:
            params["number"] = number
            if state.settings.default_region:
                params["region"] = state.settings.default_region
        rows = remote.call("GET", "/v1/disputes", params=params)["disputes"]
    else:
        runtime = state.runtime()
        owner = runtime.members.get(member) if member else None
        value = normalise(number, state.settings.default_region) if number else None
        found = runtime.disputes.list(member=owner, status=wanted, number=value, limit=limit)
        rows = [dispute_view(d, include_member=True) for d in found]
    print_json(rows) if as_json else _show_list(rows)


@disputes.command("show")
@click.argument("dispute_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def show_dispute(state: State, dispute_id: str, as_json: bool) -> None:
    """One dispute."""
    remote = state.remote
    if remote is not None:
        shown = remote.call("GET", f"/v1/disputes/{path_part(dispute_id)}")["dispute"]
    else:
        shown = dispute_view(_service(state).get(dispute_id), include_member=True)
    _output(shown, as_json)


@disputes.command("withdraw")
@click.argument("dispute_id", metavar="ID")
@click.option("--member", metavar="NAME", help="The member whose dispute it is (local database only).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def withdraw_dispute(state: State, dispute_id: str, member: str | None, as_json: bool) -> None:
    """Withdraw one of your disputes."""
    remote = state.remote
    if remote is not None:
        shown = remote.call("POST", f"/v1/disputes/{path_part(dispute_id)}/withdraw")["dispute"]
    else:
        who = _acting(state, member, "--member", Role.READER)
        shown = dispute_view(_service(state).withdraw(who, dispute_id), include_member=True)
    if not as_json:
        click.echo(f"withdrew dispute {shown['id']} of {shown['number']}")
    _output(shown, as_json)


@disputes.command("resolve")
@click.argument("dispute_id", metavar="ID")
@click.argument("outcome", metavar="upheld|rejected")
@click.option("--note", help="Why, for the record.")
@click.option("--admin", metavar="NAME", help="The admin deciding (local database only; remote: the key's).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def resolve_dispute(
    state: State, dispute_id: str, outcome: str, note: str | None, admin: str | None, as_json: bool
) -> None:
    """Decide dispute ID: upheld removes the listing (its reporters' reputation drops), rejected keeps it."""
    decided = parse_outcome(outcome)
    remote = state.remote
    if remote is not None:
        body = {"outcome": decided.value, "note": note}
        shown = remote.call("POST", f"/v1/disputes/{path_part(dispute_id)}/resolve", json=body)["dispute"]
    else:
        who = _acting(state, admin, "--admin", Role.ADMIN)
        shown = dispute_view(_service(state).resolve(who, dispute_id, decided, note), include_member=True)
    if not as_json:
        click.echo(f"dispute {shown['id']} of {shown['number']}: {shown['status']}")
    _output(shown, as_json)


COMMANDS = (disputes,)
