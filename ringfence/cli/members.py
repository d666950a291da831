"""``members`` and ``keys``: who belongs to the consortium and the API keys they use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import click

from ringfence.registry.members import ApiKey, parse_role
from ringfence.registry.views import key_view, member_view

from .output import print_json, show_keys, show_members
from .remote import path_part
from .state import State, pass_state

__all__ = ["COMMANDS", "keys", "members"]

_SHOWN_ONCE = "This key is shown only now and cannot be shown again: store it safely."


@click.group()
def members() -> None:
    """Consortium members (organisations with a role)."""


@members.command("add")
@click.argument("name")
@click.option("--role", required=True, metavar="reader|reporter|admin", help="What the member may do.")
@pass_state
def add_member(state: State, name: str, role: str) -> None:
    """Add member NAME and make its first API key."""
    parsed = parse_role(role)
    remote = state.remote
    if remote is not None:
        answer = remote.call("POST", "/v1/members", json={"name": name, "role": parsed.value})
        shown, key = answer["member"], answer["key"]
    else:
        member, key = state.runtime().members.add(name, parsed)
        shown = member_view(member)
    click.echo(f"added member {shown['name']} ({shown['role']}, id {shown['id']})")
    click.echo(f"API key: {key}")
    click.echo(_SHOWN_ONCE)


@members.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def list_members(state: State, as_json: bool) -> None:
    """All members."""
    remote = state.remote
    rows: list[dict[str, Any]]
    if remote is not None:
        rows = remote.call("GET", "/v1/members")["members"]
    else:
        rows = [member_view(m) for m in state.runtime().members.all()]
    print_json(rows) if as_json else show_members(rows)


@click.group()
def keys() -> None:
    """API keys of members."""


@keys.command("create")
@click.argument("member")
@pass_state
def create_key(state: State, member: str) -> None:
    """A new API key for MEMBER (its other keys keep working)."""
    remote = state.remote
    if remote is not None:
        answer = remote.call("POST", f"/v1/members/{path_part(member)}/keys")
        secret, name = answer["secret"], answer["key"]["member"]
    else:
        service = state.runtime().members
        owner = service.get(member)
        secret, name = service.create_key(owner), owner.name
    click.echo(f"new API key for {name}: {secret}")
    click.echo(_SHOWN_ONCE)


@keys.command("list")
@click.argument("member", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def list_keys(state: State, member: str | None, as_json: bool) -> None:
    """API keys (ids only, never secrets), of MEMBER or of everyone."""
    remote = state.remote
    rows: list[dict[str, Any]]
    if remote is not None:
        rows = [k for k in remote.call("GET", "/v1/keys")["keys"] if member is None or k["member"] == member]
    else:
        service = state.runtime().members
        found = cast(Iterable[ApiKey], service.keys(None if member is None else service.get(member)))
        rows = [key_view(k) for k in found]
    print_json(rows) if as_json else show_keys(rows)


@keys.command("revoke")
@click.argument("key_id")
@pass_state
def revoke_key(state: State, key_id: str) -> None:
    """Revoke the API key KEY_ID (or a whole key); it stops working at once."""
    remote = state.remote
    if remote is not None:
        key = remote.call("DELETE", f"/v1/keys/{path_part(key_id)}")["key"]
    else:
        key = key_view(state.runtime().members.revoke(key_id))
    click.echo(f"revoked key {key['id']} of {key['member']} ({key['revoked_at']})")


COMMANDS = (members, keys)
