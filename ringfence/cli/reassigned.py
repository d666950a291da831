"""``reassigned import``: apply a reassigned/disconnected numbers feed (the FCC Reassigned Numbers Database's shape)
to the local store with a progress bar, or upload it to a server with ``--url``/``--key``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, BinaryIO, cast

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from ringfence.numbers.regions import check_region
from ringfence.reassigned import import_disconnects, outcome_view
from ringfence.registry.files import FileFormat
from ringfence.registry.members import Principal
from ringfence.registry.models import Role

from .output import MAX_SHOWN_ERRORS, console, print_json, write_errors_csv
from .state import State, pass_state
from .transfer import file_kind

__all__ = ["COMMANDS", "reassigned"]

_MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
_FORMAT = click.Choice(["csv", "jsonl"], case_sensitive=False)
_COUNTS = ("rows", "listed", "removed", "updated", "ported", "rejected")


def _import_local(state: State, path: str, fmt: FileFormat | None, admin: str | None, region: str | None) -> Any:
    if not admin:
        raise click.UsageError("--admin NAME is required when working on the local database")
    actor = state.runtime().members.get(admin)
    Principal(actor, "cli").require(Role.ADMIN)
    runtime = state.runtime(load_index=True)  # only listed numbers are touched, and the index says which
    size = os.path.getsize(path) if path != "-" else None
    columns = (TextColumn("applying"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    screen = console(stderr=True)
    with (
        Progress(*columns, console=screen, transient=True, disable=not screen.is_terminal) as progress,
        click.open_file(path, "rb") as stream,
    ):
        task = progress.add_task("reassigned", total=size)
        outcome, errors = import_disconnects(
            runtime.registry,
            actor,
            cast(BinaryIO, stream),
            region,
            progress=lambda done: progress.update(task, completed=done),
            fmt=fmt,
            future_skew_ms=state.settings.future_skew_ms,
        )
    return outcome_view(outcome, errors)


def _import_remote(state: State, path: str, fmt: FileFormat | None, region: str | None) -> Any:
    remote = state.remote
    assert remote is not None
    if path == "-":
        raise click.UsageError("a file name is needed to upload to a server (not -)")
    kind, gzipped = file_kind(path, fmt)
    headers = {"Content-Type": _MEDIA[kind]}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    with open(path, "rb") as body:
        return remote.call("POST", "/v1/reassigned", content=body, headers=headers, params={"region": region})


def _show(answer: Mapping[str, Any], *, limit: int = MAX_SHOWN_ERRORS) -> None:
    """The outcome's counts on one line, then its bad rows as ``line N: code: message`` (at most ``limit``)."""
    click.echo(", ".join(f"{name}: {answer[name]}" for name in _COUNTS))
    errors = answer.get("errors") or []
    for error in errors[:limit]:
        click.echo(f"line {error['line']}: {error['code']}: {error['message']}")
    if len(errors) > limit:
        click.echo(f"... and {len(errors) - limit} more rejected rows (use --errors FILE to get them all)")


@click.group()
def reassigned() -> None:
    """The reassigned/disconnected numbers feed (FCC Reassigned Numbers Database shape)."""


@reassigned.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--region",
    metavar="CC",
    help="Region for national-format numbers, e.g. US for the FCC's ten-digit numbers (default: the global --region).",
)
@click.option("--format", "fmt", type=_FORMAT, help="File format (default: sniffed; gzip is recognised by itself).")
@click.option("--admin", metavar="NAME", help="The admin applying the feed (local database only; remote: the key's).")
@click.option("--errors", "errors_file", metavar="FILE", help="Write every rejected row to FILE as CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_state
def import_feed(
    state: State,
    file: str,
    region: str | None,
    fmt: str | None,
    admin: str | None,
    errors_file: str | None,
    as_json: bool,
) -> None:
    """Apply a feed FILE of disconnected, reassigned and ported numbers (CSV or JSONL, optionally gzip).

    CSV needs a header: number (or phone_number, tn, telephone_number), disconnect_date (or date,
    permanent_disconnect_date, disconnected_on) and optionally type (disconnect, reassigned, port). Listings whose
    reports predate a disconnection lose them (reason owner_change) and go when none is left; a port after the last
    report lowers the score. Exit code 0 when every row was taken, 1 when some were rejected.
    """
    kind = cast(FileFormat | None, fmt.lower() if fmt else None)
    feed_region = check_region(region) or state.settings.default_region
    if state.remote is None:
        answer = _import_local(state, file, kind, admin, feed_region)
    else:
        answer = _import_remote(state, file, kind, feed_region)
    if errors_file:
        write_errors_csv(errors_file, answer.get("errors") or [])
    print_json(answer) if as_json else _show(answer)
    if answer["rejected"]:
        raise click.exceptions.Exit(1)


COMMANDS = (reassigned,)
