"""``import`` and ``export``: report files in (with a progress bar), listings out."""

from __future__ import annotations

import gzip
import os
from typing import Any, BinaryIO, TextIO, cast

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from ringfence.registry.files import FileFormat, import_reports, sniff_format, write_listings
from ringfence.registry.views import bulk_view

from .output import console, print_json, show_bulk, write_errors_csv
from .state import State, pass_state

__all__ = ["COMMANDS", "export", "file_kind", "import_file"]

_MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
_FORMAT = click.Choice(["csv", "jsonl"], case_sensitive=False)


def _import_local(state: State, path: str, fmt: FileFormat | None, member: str | None) -> dict[str, Any]:
    reporter = state.reporter(member)
    runtime = state.runtime()
    settings = state.settings
    size = os.path.getsize(path) if path != "-" else None
    columns = (TextColumn("importing"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    screen = console(stderr=True)
    with (
        Progress(*columns, console=screen, transient=True, disable=not screen.is_terminal) as progress,
        click.open_file(path, "rb") as stream,
    ):
        task = progress.add_task("import", total=size)
        outcome = import_reports(
            runtime.registry,
            reporter,
            cast(BinaryIO, stream),
            fmt=fmt,
            region=settings.default_region,
            future_skew_ms=settings.future_skew_ms,
            on_progress=lambda done: progress.update(task, completed=done),
        )
    return bulk_view(outcome)


def file_kind(path: str, fmt: FileFormat | None) -> tuple[FileFormat, bool]:
    """The file's format (given, or sniffed from its first non-blank line) and whether it is gzip."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    if fmt is not None:
        return fmt, gzipped
    with gzip.open(path, "rb") if gzipped else open(path, "rb") as text:
        for line in text:
            if line.strip():
                return sniff_format(line.removeprefix(b"\xef\xbb\xbf")), gzipped
    return "csv", gzipped


def _import_remote(state: State, path: str, fmt: FileFormat | None) -> dict[str, Any]:
    remote = state.remote
    assert remote is not None
    if path == "-":
        raise click.UsageError("a file name is needed to upload to a server (not -)")
    kind, gzipped = file_kind(path, fmt)
    headers = {"Content-Type": _MEDIA[kind]}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    with open(path, "rb") as body:
        answer: dict[str, Any] = remote.call(
            "POST", "/v1/reports/bulk", content=body, headers=headers, params={"region": state.settings.default_region}
        )
    return answer


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=_FORMAT, help="File format (default: sniffed; gzip is recognised by itself).")
@click.option("--member", metavar="NAME", help="The member reporting (local database only; remote: the key's).")
@click.option("--errors", "errors_file", metavar="FILE", help="Write every rejected row to FILE as CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_state
def import_file(
    state: State, file: str, fmt: str | None, member: str | None, errors_file: str | None, as_json: bool
) -> None:
    """Report every number of a CSV or JSONL FILE (optionally gzip) at once.

    CSV needs a header naming its columns: number, category and optionally occurred_at, note, report_id. Good rows are
    stored even when others are bad; bad rows are listed by line. Exit code 0 when every row was taken, 1 when some
    were rejected.
    """
    kind = cast(FileFormat | None, fmt.lower() if fmt else None)
    local = state.remote is None
    answer = _import_local(state, file, kind, member) if local else _import_remote(state, file, kind)
    if errors_file:
        write_errors_csv(errors_file, answer.get("errors") or [])
    print_json(answer) if as_json else show_bulk(answer)
    if answer["rejected"]:
        raise click.exceptions.Exit(1)


@click.command()
@click.option("--format", "fmt", type=_FORMAT, default="csv", show_default=True, help="Output format.")
@click.option("-o", "--output", metavar="FILE", default="-", help="Write to FILE instead of standard output.")
@pass_state
def export(state: State, fmt: str, output: str) -> None:
    """Every listing (number, counts, categories; never who reported) as CSV or JSONL."""
    kind = cast(FileFormat, fmt.lower())
    remote = state.remote
    if remote is not None:
        with click.open_file(output, "wb") as out:
            remote.download("/v1/export", cast(BinaryIO, out), params={"format": kind})
        return
    registry = state.runtime().registry
    with click.open_file(output, "w", encoding="utf-8") as out:
        count = write_listings(registry.iter_listings(), cast(TextIO, out), kind)
    if output != "-":
        click.echo(f"wrote {count} listings to {output}", err=True)


COMMANDS = (import_file, export)
