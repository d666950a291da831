"""How the CLI shows things: error lines, JSON, tables and summaries. Data reaches here as the same dicts the HTTP API
answers with, so a local and a remote command print alike."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ringfence.errors import RingfenceError

__all__ = [
    "MAX_SHOWN_ERRORS",
    "console",
    "echo_error",
    "print_json",
    "show_bulk",
    "show_keys",
    "show_lookups",
    "show_members",
    "show_report",
    "table",
    "write_errors_csv",
]

MAX_SHOWN_ERRORS = 50


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr); wide when not a terminal, so piped tables are not cut."""
    stream = sys.stderr if stderr else sys.stdout
    wide = None if stream.isatty() else 200
    return Console(file=stream, width=wide, highlight=False, soft_wrap=False)


def echo_error(err: RingfenceError | str) -> None:
    """``error: <message>`` on stderr."""
    message = err.message if isinstance(err, RingfenceError) else err
    click.echo(f"error: {message}", err=True)


def print_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain table; cells are text (never rich markup)."""
    grid = Table(*columns, show_edge=False, header_style="bold", pad_edge=False)
    for row in rows:
        grid.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    console().print(grid)


def show_lookups(answers: Sequence[Mapping[str, Any]]) -> None:
    """Lookup answers (``views.lookup_answer`` shape) as a table, one number per row."""
    rows = []
    for answer in answers:
        listing = answer.get("listing") or {}
        about = answer.get("info") or {}
        rows.append(
            (
                answer["number"],
                "LISTED" if answer.get("listed") else "not listed",
                listing.get("report_count", ""),
                listing.get("reporter_count", ""),
                ", ".join(listing.get("categories", [])),
                listing.get("first_reported_at", ""),
                listing.get("last_reported_at", ""),
                about.get("country") or "",
                about.get("type") or "",
            )
        )
    if rows:
        columns = ("number", "status", "reports", "reporters", "categories", "first reported", "last reported")
        table((*columns, "country", "type"), rows)


def show_report(answer: Mapping[str, Any]) -> None:
    """The answer to a report or a withdrawal: the report and how its number now stands."""
    report = answer["report"]
    if report.get("withdrawn_at"):
        click.echo(f"withdrew report {report['id']} on {report['number']} ({report['withdrawn_at']})")
    elif answer.get("duplicate"):
        click.echo(f"already reported: report {report['id']} on {report['number']} (report_id {report['report_id']})")
    else:
        click.echo(f"reported {report['number']} as {report['category']}: report {report['id']}")
    listing = answer.get("listing")
    if listing:
        show_lookups([listing])


def show_members(members: Sequence[Mapping[str, Any]]) -> None:
    table(("id", "name", "role", "created"), ((m["id"], m["name"], m["role"], m["created_at"]) for m in members))


def show_keys(keys: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("key id", "member", "created", "revoked"),
        ((k["id"], k["member"], k["created_at"], k.get("revoked_at") or "") for k in keys),
    )


def show_bulk(answer: Mapping[str, Any], *, limit: int = MAX_SHOWN_ERRORS) -> None:
    """A bulk import's summary, then its bad rows as ``line N: code: message`` (at most ``limit`` of them)."""
    click.echo(f"accepted: {answer['accepted']}, duplicates: {answer['duplicates']}, rejected: {answer['rejected']}")
    errors = answer.get("errors") or []
    for error in errors[:limit]:
        click.echo(f"line {error['line']}: {error['code']}: {error['message']}")
    if len(errors) > limit:
        click.echo(f"... and {len(errors) - limit} more rejected rows (use --errors FILE to get them all)")


def write_errors_csv(path: str, errors: Iterable[Mapping[str, Any]]) -> int:
    """Every rejected row as CSV (line, code, message, details as JSON); returns how many."""
    count = 0
    with click.open_file(path, "w", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("line", "code", "message", "details"))
        for error in errors:
            details = orjson.dumps(error.get("details") or {}).decode()
            writer.writerow((error["line"], error["code"], error["message"], details))
            count += 1
    return count
