"""``changes``: page through the change feed, or follow it (local store or ``--url`` server)."""

from __future__ import annotations

import time
from typing import Any

import click
import orjson

from ringfence.feed.filters import ChangeFilter
from ringfence.feed.stream import check_since
from ringfence.feed.views import change_view

from .state import State, pass_state

__all__ = ["COMMANDS", "changes"]

_POLL_S = 1.0


def _page(state: State, since: int, limit: int, where: ChangeFilter, raw: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    remote = state.remote
    if remote is not None:
        params: dict[str, str | None] = {"since": str(since), "limit": str(limit)}
        params.update({name: ",".join(values) for name, values in raw.items() if values})
        answer: dict[str, Any] = remote.call("GET", "/v1/changes", params=params)
        return answer
    feed = state.runtime().feed
    check_since(feed, since)
    found, reached = feed.log.read_page(since, limit, where)
    return {"changes": [change_view(c) for c in found], "next": reached, "head": feed.log.head()}


def _line(change: dict[str, Any]) -> str:
    listing = change.get("listing")
    counts = f"reports={listing['report_count']} reporters={listing['reporter_count']}" if listing else "not listed"
    return f"{change['seq']:>10}  {change['at']}  {change['kind']:<12} {change['number']:<17} {counts}"


@click.command()
@click.option("--since", type=click.IntRange(min=0), default=0, show_default=True, help="Start after this seq.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=1000, show_default=True, help="Changes per page.")
@click.option("--category", multiple=True, help="Only these categories (repeat or comma-separate).")
@click.option("--country", multiple=True, help="Only numbers of these regions (ISO 3166, e.g. GB).")
@click.option("--prefix", multiple=True, help="Only numbers starting so, e.g. +4477.")
@click.option("--follow", "-f", is_flag=True, help="Keep going: print new changes as they come (Ctrl-C stops).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per change (JSON lines).")
@pass_state
def changes(
    state: State,
    since: int,
    limit: int,
    category: tuple[str, ...],
    country: tuple[str, ...],
    prefix: tuple[str, ...],
    follow: bool,
    as_json: bool,
) -> None:
    """Print the changes after --since, oldest first (the seq is the first column)."""
    where = ChangeFilter.parse(category, country, prefix)
    raw = {"category": category, "country": country, "prefix": prefix}
    cursor = since
    while True:
        page = _page(state, cursor, limit, where, raw)
        for change in page["changes"]:
            if as_json:
                click.echo(orjson.dumps(change).decode())
            else:
                click.echo(_line(change))
        moved = page["next"] != cursor
        cursor = page["next"]
        if not moved:
            if not follow:
                return
            time.sleep(_POLL_S)


COMMANDS = (changes,)
