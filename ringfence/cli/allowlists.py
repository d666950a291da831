"""``never-list`` and ``lists``: numbers that must never be listed, and members' private allow and deny lists.

On the local database the operator manages the never-list (``--member`` names whose own number an entry is) and
works on the lists of the member named by ``--member``; with ``--url``/``--key`` the commands act as the key's
member, through the HTTP API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from ringfence.allowlists.models import EntryKind, parse_entry_kind, parse_list
from ringfence.allowlists.views import member_entry_view, never_entry_view, placement_view
from ringfence.registry.models import Member

from .output import print_json, table
from .remote import path_part
from .state import State, pass_state

__all__ = ["COMMANDS", "lists", "never_list"]

_KINDS = "|".join(k.value for k in EntryKind)


def _member(state: State, name: str | None) -> Member:
    """The local member a command acts for (``--member``), of any role."""
    if not name:
        raise click.UsageError("--member NAME is required when working on the local database")
    return state.runtime().members.get(name)


def _show_entries(rows: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("id", "pattern", "kind", "source", "member", "note", "created"),
        (
            (e["id"], e["pattern"], e["kind"], e["source"], e.get("member_id") or "", e["note"] or "", e["created_at"])
            for e in rows
        ),
    )


def _show_placement(answer: Mapping[str, Any]) -> None:
    entry = answer["entry"]
    verb = "added" if answer["created"] else "already on the never-list:"
    click.echo(f"{verb} {entry['pattern']} ({entry['kind']}), entry {entry['id']}")
    if answer["retired"]:
        click.echo(f"took {len(answer['retired'])} listings off the registry: {', '.join(answer['retired'])}")


@click.group("never-list")
def never_list() -> None:
    """Numbers and prefixes that are never listed: reports against them are refused."""


@never_list.command("add")
@click.argument("pattern")
@click.option("--kind", required=True, metavar=_KINDS, help="Why it is never listed.")
@click.option("--note", help="Shown with the entry, e.g. what the number is.")
@click.option("--member", help="member_own: whose own number it is (local database; remote: the key's member).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def add_entry(state: State, pattern: str, kind: str, note: str | None, member: str | None, as_json: bool) -> None:
    """Put PATTERN on the never-list: a number (any format) or a prefix such as +44800*.

    Listings it covers are taken off the registry."""
    parsed = parse_entry_kind(kind)
    remote = state.remote
    answer: dict[str, Any]
    if remote is not None:
        region = state.settings.default_region
        if parsed is EntryKind.MEMBER_OWN:
            answer = remote.call("POST", "/v1/never-list/own", json={"number": pattern, "note": note, "region": region})
        else:
            body = {"pattern": pattern, "kind": parsed.value, "note": note, "region": region}
            answer = remote.call("POST", "/v1/never-list", json=body)
    else:
        owner = _member(state, member) if member is not None else None
        if parsed is EntryKind.MEMBER_OWN and owner is None:
            raise click.UsageError("--member NAME is required for a member_own entry")
        runtime = state.runtime(load_index=True)  # a prefix finds the listings it covers in the index
        placed = runtime.allowlists.add(None, pattern, parsed, note, region=state.settings.default_region, owner=owner)
        answer = placement_view(placed, include_member=True)
    print_json(answer) if as_json else _show_placement(answer)


@never_list.command("remove")
@click.argument("entry", metavar="ID|NUMBER")
@pass_state
def remove_entry(state: State, entry: str) -> None:
    """Take entry ID off the never-list (remote, for a non-admin key: one of your own numbers, by NUMBER)."""
    remote = state.remote
    if remote is not None:
        if entry.strip().isdigit() and len(entry.strip()) < 10:
            shown = remote.call("DELETE", f"/v1/never-list/{entry.strip()}")["entry"]
        else:
            params = {"region": state.settings.default_region}
            shown = remote.call("DELETE", f"/v1/never-list/own/{path_part(entry)}", params=params)["entry"]
    else:
        if not entry.strip().isdigit():
            raise click.UsageError(f"{entry!r} is not an entry id (see: ringfence never-list list)")
        shown = never_entry_view(state.runtime().allowlists.remove(None, int(entry)), include_member=True)
    click.echo(f"removed {shown['pattern']} ({shown['kind']}), entry {shown['id']}")


@never_list.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def list_entries(state: State, as_json: bool) -> None:
    """Every never-list entry."""
    remote = state.remote
    rows: list[dict[str, Any]]
    if remote is not None:
        rows = remote.call("GET", "/v1/never-list")["entries"]
    else:
        rows = [never_entry_view(e, include_member=True) for e in state.runtime().allowlists.entries()]
    print_json(rows) if as_json else _show_entries(rows)


@click.group("lists")
def lists() -> None:
    """A member's private allow and deny lists: they shape that member's own answers only."""


@lists.command("set")
@click.argument("number")
@click.option("--list", "kind", required=True, metavar="allow|deny", help="The list to put NUMBER on.")
@click.option("--note", help="Your note (nobody else sees it).")
@click.option("--member", help="Whose lists (local database; remote: the key's member).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def set_entry(state: State, number: str, kind: str, note: str | None, member: str | None, as_json: bool) -> None:
    """Put NUMBER on the member's allow or deny list (taking it off the other)."""
    chosen = parse_list(kind)
    remote = state.remote
    if remote is not None:
        params = {"region": state.settings.default_region}
        body = {"list": chosen.value, "note": note}
        shown = remote.call("PUT", f"/v1/lists/{path_part(number)}", json=body, params=params)["entry"]
    else:
        owner = _member(state, member)
        entry = state.runtime().allowlists.set_member_entry(
            owner, number, chosen, note, region=state.settings.default_region
        )
        shown = member_entry_view(entry)
    print_json(shown) if as_json else click.echo(f"{shown['number']} is on the {shown['list']} list")


@lists.command("remove")
@click.argument("number")
@click.option("--member", help="Whose lists (local database; remote: the key's member).")
@pass_state
def remove_list_entry(state: State, number: str, member: str | None) -> None:
    """Take NUMBER off the member's lists."""
    remote = state.remote
    if remote is not None:
        params = {"region": state.settings.default_region}
        shown = remote.call("DELETE", f"/v1/lists/{path_part(number)}", params=params)["entry"]
    else:
        owner = _member(state, member)
        entry = state.runtime().allowlists.remove_member_entry(owner, number, region=state.settings.default_region)
        shown = member_entry_view(entry)
    click.echo(f"took {shown['number']} off the {shown['list']} list")


@lists.command("show")
@click.option("--member", help="Whose lists (local database; remote: the key's member).")
@click.option("--list", "kind", metavar="allow|deny", help="Only one of the lists.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def show_entries(state: State, member: str | None, kind: str | None, as_json: bool) -> None:
    """The member's allow and deny lists."""
    chosen = None if kind is None else parse_list(kind)
    remote = state.remote
    rows: list[dict[str, Any]]
    if remote is not None:
        params = {} if chosen is None else {"list": chosen.value}
        rows = remote.call("GET", "/v1/lists", params=params)["entries"]
    else:
        rows = [member_entry_view(e) for e in state.runtime().allowlists.member_entries(_member(state, member), chosen)]
    if as_json:
        print_json(rows)
    else:
        table(("number", "list", "note", "set"), ((e["number"], e["list"], e["note"] or "", e["set_at"]) for e in rows))


COMMANDS = (never_list, lists)
