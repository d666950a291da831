"""``webhooks``: members' endpoints that changes are pushed to, and their delivery log.

On the local database the operator reaches every webhook (``--member`` names whose a new one is, and filters lists);
with ``--url``/``--key`` the commands act as the key's member, through the HTTP API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from ringfence.webhooks.service import WebhookService
from ringfence.webhooks.views import delivery_view, webhook_view

from .output import print_json, table
from .remote import path_part
from .state import State, pass_state

__all__ = ["COMMANDS", "webhooks"]

_SHOWN_ONCE = "This secret is shown only now: store it where your receiver verifies signatures (docs/webhooks.md)."


def _service(state: State) -> WebhookService:
    return WebhookService.of(state.runtime())


def _now(state: State) -> int:
    return state.runtime().clock.now_ms()


def _filter_text(hook: Mapping[str, Any]) -> str:
    parts = [", ".join(values) for values in hook["filter"].values() if values]
    return "; ".join(parts) or "everything"


def _show(hook: Mapping[str, Any]) -> None:
    state = "enabled" if hook["enabled"] else f"DISABLED since {hook['disabled_at']}: {hook['disabled_reason']}"
    lines = [
        ("webhook", hook["id"]),
        ("member", hook["member"]),
        ("url", hook["url"]),
        ("description", hook.get("description") or ""),
        ("filter", _filter_text(hook)),
        ("state", state),
        ("consecutive failures", hook["consecutive_failures"]),
        ("cursor (seq)", hook["cursor"]),
        ("created", hook["created_at"]),
    ]
    if hook.get("previous_secret_valid_until"):
        lines.append(("previous secret valid until", hook["previous_secret_valid_until"]))
    for name, value in lines:
        click.echo(f"{name + ':':<29}{value}")


def _show_list(hooks: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("id", "member", "url", "filter", "state", "failures", "cursor"),
        (
            (
                h["id"],
                h["member"],
                h["url"],
                _filter_text(h),
                "enabled" if h["enabled"] else "DISABLED",
                h["consecutive_failures"],
                h["cursor"],
            )
            for h in hooks
        ),
    )


def _show_deliveries(rows: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("delivery", "kind", "status", "seqs", "attempts", "last status", "last error", "created", "delivered"),
        (
            (
                d["id"],
                d["kind"],
                d["status"],
                "" if d["first_seq"] is None else f"{d['first_seq']}-{d['last_seq']} ({d['change_count']})",
                d["attempts"],
                d["last_status"] or "",
                (d["last_error"] or "")[:60],
                d["created_at"],
                d["delivered_at"] or (f"next {d['next_attempt_at']}" if d["next_attempt_at"] else ""),
            )
            for d in rows
        ),
    )


@click.group()
def webhooks() -> None:
    """Webhooks: changes POSTed to members' HTTPS endpoints, signed (see docs/webhooks.md)."""


@webhooks.command("add")
@click.argument("url")
@click.option("--category", "categories", multiple=True, help="Only changes of these categories (repeatable).")
@click.option("--country", "countries", multiple=True, help="Only numbers of these regions, e.g. GB (repeatable).")
@click.option("--prefix", "prefixes", multiple=True, help="Only numbers starting so, e.g. +4477 (repeatable).")
@click.option("--from-seq", type=click.IntRange(min=0), help="Deliver the changes after this seq (default: now).")
@click.option("--description", help="A note: which system receives it.")
@click.option("--member", help="Whose webhook it is (local database; remote: the key's member).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def add_webhook(
    state: State,
    url: str,
    categories: tuple[str, ...],
    countries: tuple[str, ...],
    prefixes: tuple[str, ...],
    from_seq: int | None,
    description: str | None,
    member: str | None,
    as_json: bool,
) -> None:
    """Add a webhook POSTing every change (that passes the filter) to URL; prints its secret once."""
    fields: dict[str, Any] = {
        "categories": list(categories) or None,
        "countries": list(countries) or None,
        "prefixes": list(prefixes) or None,
        "from_seq": from_seq,
        "description": description,
    }
    remote = state.remote
    if remote is not None:
        answer = remote.call("POST", "/v1/webhooks", json={"url": url, **{k: v for k, v in fields.items() if v}})
    else:
        if not member:
            raise click.UsageError("--member NAME is required when working on the local database")
        owner = state.runtime().members.get(member)
        hook, secret = _service(state).create(owner, url, **fields)
        answer = {"webhook": webhook_view(hook, _now(state)), "secret": secret}
    if as_json:
        print_json(answer)
        return
    _show(answer["webhook"])
    click.echo(f"secret: {answer['secret']}")
    click.echo(_SHOWN_ONCE)


@webhooks.command("list")
@click.option("--member", help="Only this member's webhooks (local database).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def list_webhooks(state: State, member: str | None, as_json: bool) -> None:
    """Webhooks: all of them (local database), or the key's member's (remote)."""
    remote = state.remote
    rows: list[dict[str, Any]]
    if remote is not None:
        rows = [h for h in remote.call("GET", "/v1/webhooks")["webhooks"] if member is None or h["member"] == member]
    else:
        owner = None if member is None else state.runtime().members.get(member)
        rows = [webhook_view(h, _now(state)) for h in _service(state).all(owner)]
    print_json(rows) if as_json else _show_list(rows)


def _one(state: State, webhook_id: str) -> dict[str, Any]:
    remote = state.remote
    if remote is not None:
        hook: dict[str, Any] = remote.call("GET", f"/v1/webhooks/{path_part(webhook_id)}")["webhook"]
        return hook
    return webhook_view(_service(state).get(webhook_id), _now(state))


@webhooks.command("show")
@click.argument("webhook_id")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def show_webhook(state: State, webhook_id: str, as_json: bool) -> None:
    """One webhook: its endpoint, filter, state (and why it is disabled) and position in the feed."""
    hook = _one(state, webhook_id)
    print_json(hook) if as_json else _show(hook)


@webhooks.command("deliveries")
@click.argument("webhook_id")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="How many.")
@click.option("--before", help="The 'next' of the previous page.")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]), help="Only these.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (with the page's 'next').")
@pass_state
def list_deliveries(
    state: State, webhook_id: str, limit: int, before: str | None, status: str | None, as_json: bool
) -> None:
    """The delivery log of a webhook, newest first."""
    remote = state.remote
    if remote is not None:
        params = {"limit": str(limit), "before": before, "status": status}
        answer = remote.call("GET", f"/v1/webhooks/{path_part(webhook_id)}/deliveries", params=params)
    else:
        page = _service(state).deliveries(webhook_id, None, limit=limit, before=before, status=status)
        answer = {"deliveries": [delivery_view(d) for d in page.deliveries], "next": page.next}
    if as_json:
        print_json(answer)
        return
    _show_deliveries(answer["deliveries"])
    if answer["next"]:
        click.echo(f"older deliveries: --before {answer['next']}")


def _patch(state: State, webhook_id: str, **fields: Any) -> dict[str, Any]:
    remote = state.remote
    if remote is not None:
        hook: dict[str, Any] = remote.call("PATCH", f"/v1/webhooks/{path_part(webhook_id)}", json=fields)["webhook"]
        return hook
    updated = _service(state).update(webhook_id, None, by="the operator", **fields)
    return webhook_view(updated, _now(state))


@webhooks.command("enable")
@click.argument("webhook_id")
@click.option("--from-seq", type=click.IntRange(min=0), help="Move the cursor too: deliver the changes after this seq.")
@pass_state
def enable_webhook(state: State, webhook_id: str, from_seq: int | None) -> None:
    """Enable a webhook: the failure run starts again and delivery resumes from its cursor."""
    fields: dict[str, Any] = {"enabled": True}
    if from_seq is not None:
        fields["from_seq"] = from_seq
    hook = _patch(state, webhook_id, **fields)
    click.echo(f"enabled webhook {hook['id']} ({hook['url']}); delivering the changes after seq {hook['cursor']}")


@webhooks.command("disable")
@click.argument("webhook_id")
@pass_state
def disable_webhook(state: State, webhook_id: str) -> None:
    """Disable a webhook: nothing is sent until it is enabled again (changes are queued from its cursor then)."""
    hook = _patch(state, webhook_id, enabled=False)
    click.echo(f"disabled webhook {hook['id']} ({hook['url']}) at seq {hook['cursor']}")


@webhooks.command("remove")
@click.argument("webhook_id")
@pass_state
def remove_webhook(state: State, webhook_id: str) -> None:
    """Remove a webhook, its queued deliveries and its log."""
    remote = state.remote
    if remote is not None:
        hook = remote.call("DELETE", f"/v1/webhooks/{path_part(webhook_id)}")["webhook"]
    else:
        hook = webhook_view(_service(state).delete(webhook_id, None), _now(state))
    click.echo(f"removed webhook {hook['id']} ({hook['url']})")


@webhooks.command("rotate-secret")
@click.argument("webhook_id")
@click.option(
    "--grace-s",
    type=click.IntRange(0, 30 * 86_400),
    help="Seconds the old secret also signs deliveries (default: the server's setting; 0: stop at once).",
)
@pass_state
def rotate_secret(state: State, webhook_id: str, grace_s: int | None) -> None:
    """A new signing secret for a webhook, printed once."""
    remote = state.remote
    if remote is not None:
        params = {"grace_s": None if grace_s is None else str(grace_s)}
        answer = remote.call("POST", f"/v1/webhooks/{path_part(webhook_id)}/rotate-secret", params=params)
        hook, secret = answer["webhook"], answer["secret"]
    else:
        updated, secret = _service(state).rotate_secret(webhook_id, None, grace_s)
        hook = webhook_view(updated, _now(state))
    click.echo(f"new secret of webhook {hook['id']}: {secret}")
    until = hook.get("previous_secret_valid_until")
    click.echo(f"the previous secret also signs until {until}" if until else "the previous secret no longer signs")
    click.echo(_SHOWN_ONCE)


@webhooks.command("test")
@click.argument("webhook_id")
@pass_state
def test_webhook(state: State, webhook_id: str) -> None:
    """Queue a ping delivery (no changes) to try the endpoint; a serving node sends it."""
    remote = state.remote
    if remote is not None:
        delivery = remote.call("POST", f"/v1/webhooks/{path_part(webhook_id)}/test")["delivery"]
    else:
        delivery = delivery_view(_service(state).ping(webhook_id, None))
    click.echo(f"queued ping delivery {delivery['id']}; see: ringfence webhooks deliveries {webhook_id}")


COMMANDS = (webhooks,)
