"""``pin``, ``unpin``, ``expire``, ``audit`` and ``sweep``: an admin's hand over listings, and the record it leaves.

On the local database ``pin``, ``unpin`` and ``expire`` act for the admin named by ``--admin`` (the audit log says
who); ``audit`` reads the log and ``sweep`` runs the expiry sweep as ringfence itself, so neither names one: whoever
can open the database is its operator. With ``--url``/``--key`` every command goes through the HTTP API and needs
an admin key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from ringfence.clock import to_ms
from ringfence.numbers import format_e164, normalise
from ringfence.registry.assess import LookupOptions, assess
from ringfence.registry.audit import AuditLog
from ringfence.registry.audit_views import actor_names, audit_page
from ringfence.registry.members import Principal
from ringfence.registry.models import Member, Role
from ringfence.registry.sweep import sweep_once
from ringfence.registry.views import iso, lookup_answer

from .output import print_json, show_lookups, table
from .remote import path_part
from .state import State, pass_state

__all__ = ["COMMANDS", "audit", "expire", "pin", "sweep", "unpin"]

#: As over HTTP: a pinned or unpinned listing is shown even when decayed.
_SHOWN = LookupOptions(include_decayed=True)
_ADMIN_HELP = "The admin acting (local database only; remote: the key's member)."


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _admin(state: State, name: str | None) -> Member:
    if not name:
        raise click.UsageError("--admin NAME is required when working on the local database")
    member = state.runtime().members.get(name)
    Principal(member, "cli").require(Role.ADMIN)
    return member


def _region_params(state: State) -> dict[str, str | None]:
    return {"region": state.settings.default_region}


def _show_listing(verb: str, answer: Mapping[str, Any]) -> None:
    listing = answer.get("listing") or {}
    state = "listed" if answer.get("listed") else "not listed (decayed)" if listing.get("decayed") else "not listed"
    click.echo(f"{verb} {answer['number']}: {state}, score {listing.get('score', '')}")
    show_lookups([answer])


def _pinning(state: State, number: str, pinned: bool, note: str | None, admin: str | None) -> dict[str, Any]:
    remote = state.remote
    if remote is not None:
        path = f"/v1/numbers/{path_part(number)}/pin"
        body = {"note": note} if note else None
        answer: dict[str, Any] = remote.call(
            "POST" if pinned else "DELETE", path, json=body, params=_region_params(state)
        )
        return answer
    who = _admin(state, admin)
    value = normalise(number, state.settings.default_region)
    registry = state.runtime().registry
    listing = registry.pin(who, value, pinned, note)
    # assessed from the listing the store answered: the local index may not be loaded, nor need to be
    return lookup_answer(value, assess(registry.scorer, listing, registry.clock.now_ms(), _SHOWN), _SHOWN)


@click.command()
@click.argument("number")
@click.option("--note", help="Why, for the audit log (no personal data).")
@click.option("--admin", metavar="NAME", help=_ADMIN_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
@pass_state
def pin(state: State, number: str, note: str | None, admin: str | None, as_json: bool) -> None:
    """Pin the listing of NUMBER: decay cannot undo it, and the expiry sweep leaves it."""
    answer = _pinning(state, number, True, note, admin)
    print_json(answer) if as_json else _show_listing("pinned", answer)


@click.command()
@click.argument("number")
@click.option("--admin", metavar="NAME", help=_ADMIN_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
@pass_state
def unpin(state: State, number: str, admin: str | None, as_json: bool) -> None:
    """Unpin the listing of NUMBER: it decays again from its last report (maybe at once)."""
    answer = _pinning(state, number, False, None, admin)
    print_json(answer) if as_json else _show_listing("unpinned", answer)


@click.command()
@click.argument("number")
@click.option("--note", help="Why, for the audit log (no personal data).")
@click.option("--admin", metavar="NAME", help=_ADMIN_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@pass_state
def expire(state: State, number: str, note: str | None, admin: str | None, as_json: bool) -> None:
    """Expire the listing of NUMBER now, as decay would: its reports stop standing (kept as history)."""
    remote = state.remote
    answer: dict[str, Any]
    if remote is not None:
        body = {"note": note} if note else None
        path = f"/v1/numbers/{path_part(number)}/expire"
        answer = remote.call("POST", path, json=body, params=_region_params(state))
    else:
        who = _admin(state, admin)
        value = normalise(number, state.settings.default_region)
        retired = state.runtime().registry.expire(who, value, note)
        answer = {"number": format_e164(value), "expired_reports": retired.reports, "listing": None}
    if as_json:
        print_json(answer)
    else:
        click.echo(f"expired {answer['number']}: {_count(answer['expired_reports'], 'standing report')} retired")


def _since(_ctx: click.Context, _param: click.Parameter, raw: str | None) -> int | None:
    """``--since`` as epoch ms (ISO 8601; no offset means UTC)."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise click.BadParameter(f"{raw!r} is not an ISO 8601 time (e.g. 2026-11-21T09:30:00Z)") from None
    return to_ms(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _show_entries(entries: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("id", "at", "actor", "action", "number", "reason", "note"),
        (
            (
                e["id"],
                e["at"],
                e.get("actor") or ("ringfence" if e.get("actor_id") is None else f"#{e['actor_id']}"),
                e["action"],
                e.get("number") or "",
                e.get("reason") or "",
                e.get("note") or "",
            )
            for e in entries
        ),
    )


@click.command()
@click.option("--number", metavar="NUMBER", help="Only entries of this number.")
@click.option("--action", metavar="ACTION", help="Only this action (pinned, unpinned, expired, removed, ...).")
@click.option("--since", metavar="TIME", callback=_since, help="Only entries at or after TIME (ISO 8601).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option(
    "--before", metavar="ID", type=click.IntRange(1, 2**63 - 1), help="Entries older than ID (a page's next)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the page as JSON (entries with before/after states).")
@pass_state
def audit(
    state: State,
    number: str | None,
    action: str | None,
    since: int | None,
    limit: int,
    before: int | None,
    as_json: bool,
) -> None:
    """The audit log, newest first: who changed which listing, when, why (actor "ringfence": the expiry sweep)."""
    remote = state.remote
    page: dict[str, Any]
    if remote is not None:
        params: dict[str, str | None] = {"limit": str(limit), "action": action, "since": iso(since)}
        if before is not None:
            params["before"] = str(before)
        if number:
            params.update(number=number, **_region_params(state))
        page = remote.call("GET", "/v1/audit", params=params)
    else:
        runtime = state.runtime()
        value = normalise(number, state.settings.default_region) if number else None
        entries = AuditLog(runtime.engine).query(
            number=value, action=action, since_ms=since, limit=limit, before=before
        )
        page = audit_page(entries, limit, actor_names(runtime.members))
    if as_json:
        print_json(page)
        return
    _show_entries(page["entries"])
    if page.get("next"):
        click.echo(f"more: --before {page['next']}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@pass_state
def sweep(state: State, as_json: bool) -> None:
    """Run the expiry sweep now: retire every listing decayed below its threshold (pinned ones excepted)."""
    remote = state.remote
    if remote is not None:
        answer: dict[str, Any] = remote.call("POST", "/v1/sweep")
    else:
        answer = {"expired": sweep_once(state.runtime(load_index=True))}  # candidates come from the index
    print_json(answer) if as_json else click.echo(f"expired {_count(answer['expired'], 'decayed listing')}")


COMMANDS = (pin, unpin, expire, audit, sweep)
