"""``cdrs``: call records through the fraud rules. ``scan`` reads files (CSV or JSONL, gzip too), stdin or a growing
file, quarantines bad rows with their line numbers, and records the alerts as the member's incidents (``ringfence
alerts``). On the local database it acts for ``--member``; with ``--url``/``--key`` the records go to the server as
the key's member."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import sys
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import click
import orjson

from ringfence.cdrs.follow import follow
from ringfence.cdrs.mapping import PRESETS, CdrMapping, load_mapping, preset
from ringfence.cdrs.reader import CdrRead, CdrReader
from ringfence.monitoring.models import Mode, ScanOutcome
from ringfence.monitoring.service import MonitorService
from ringfence.monitoring.views import outcome_view, preset_view
from ringfence.registry.models import Member

from .output import MAX_SHOWN_ERRORS, print_json, table
from .state import State, pass_state

__all__ = ["COMMANDS", "cdrs"]

_MODE = click.Choice([m.value for m in Mode], case_sensitive=False)


@click.group()
def cdrs() -> None:
    """Call records through the IRSF and Wangiri rules: scan files, streams and growing files."""


def _mapping(preset_name: str | None, mapping_file: str | None) -> CdrMapping | None:
    if mapping_file:
        return load_mapping(Path(mapping_file).read_text(encoding="utf-8"))
    return None if preset_name is None else preset(preset_name)


def _show(answer: Mapping[str, Any], *, limit: int = MAX_SHOWN_ERRORS) -> None:
    click.echo(
        f"{answer['source']}: {answer['rows']} records, {answer['processed']} evaluated, {answer['late']} late, "
        f"{answer['quarantined']} quarantined; {answer['alerts']} alerts ({answer['new_alerts']} new)"
    )
    for note in answer.get("notes") or []:
        click.echo(f"note: {note}")
    rows = answer.get("quarantine") or []
    for row in rows[:limit]:
        click.echo(f"line {row['line']}: {row['reason']}: {row['message']}")
    if answer["quarantined"] > limit:
        click.echo(f"... and {answer['quarantined'] - limit} more quarantined rows (use --quarantine FILE for all)")
    raised = answer.get("raised") or []
    if raised:
        table(
            ("incident", "severity", "rule", "subject", "summary"),
            ((a["incident"], a["severity"], a["rule"], a["subject"], a["summary"]) for a in raised),
        )


def _write_quarantine(path: str, rows: list[dict[str, Any]]) -> None:
    """Every quarantined row as CSV: source, line, reason, message, raw."""
    with click.open_file(path, "w", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("source", "line", "reason", "message", "raw"))
        writer.writerows((r["source"], r["line"], r["reason"], r["message"], r["raw"]) for r in rows)


def _open_chunks(
    monitor: MonitorService, file: str, mapping: CdrMapping | None, region: str | None
) -> Iterator[CdrRead]:
    reader = monitor.reader(mapping, region)
    if file == "-":
        yield from reader.iter_stream(sys.stdin.buffer)
        return
    with open(file, "rb") as stream:
        yield from reader.iter_stream(stream)


def _follow(
    monitor: MonitorService, member: Member, file: str, mapping: CdrMapping | None, region: str | None, as_json: bool
) -> None:
    """Tail ``file`` until interrupted, evaluating each batch of new lines as it is appended."""
    reader = monitor.reader(mapping, region)

    async def run() -> None:
        async for chunk in follow(Path(file), reader):
            outcome = monitor.feed(member, chunk, source=os.path.basename(file))
            answer = outcome_view(outcome)
            if as_json:  # one JSON document per line: a stream a program can read as it comes
                click.echo(orjson.dumps(answer).decode())
            elif outcome.alerts or outcome.quarantined:
                _show(answer)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@cdrs.command("scan")
@click.argument("files", nargs=-1, required=True, metavar="FILE... | -")
@click.option("--member", metavar="NAME", help="The member whose records these are (local database).")
@click.option("--preset", "preset_name", type=click.Choice(sorted(PRESETS)), help="Layout (default: from the header).")
@click.option(
    "--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False), help="A column mapping (YAML or JSON)."
)
@click.option(
    "--mode",
    default=Mode.BATCH.value,
    type=_MODE,
    show_default=True,
    help="batch: each file alone, vectorised; stream: record by record, state carried from file to file.",
)
@click.option(
    "--follow",
    "follow_file",
    is_flag=True,
    help="Keep reading FILE as it grows (stream mode; Ctrl-C stops); with --json, one JSON line per batch read.",
)
@click.option("--region", "file_region", metavar="CC", help="Region for national-format numbers.")
@click.option(
    "--quarantine", "quarantine_file", type=click.Path(dir_okay=False), help="Write every quarantined row to this CSV."
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def scan(
    state: State,
    files: tuple[str, ...],
    member: str | None,
    preset_name: str | None,
    mapping_file: str | None,
    mode: str,
    follow_file: bool,
    file_region: str | None,
    quarantine_file: str | None,
    as_json: bool,
) -> None:
    """Run the fraud rules over call records in FILEs ('-': stdin, read and evaluated in chunks as it comes).

    Bad rows are quarantined with their line number and reason, the rest evaluated; alerts become the member's
    incidents. Exit code 0 when every row was used, 1 when some were quarantined."""
    if preset_name and mapping_file:
        raise click.UsageError("give --preset or --mapping, not both")
    if follow_file and (len(files) != 1 or files[0] == "-"):
        raise click.UsageError("--follow takes exactly one FILE")
    mapping = _mapping(preset_name, mapping_file)
    chosen = Mode(mode.lower())
    remote = state.remote
    answers: list[dict[str, Any]] = []
    if remote is not None:
        if follow_file:
            raise click.UsageError("--follow works on the local database only")
        for file in files:
            data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
            source = "stdin" if file == "-" else os.path.basename(file)
            params = {"preset": preset_name, "mode": chosen.value, "region": file_region, "source": source}
            answers.append(
                remote.call(
                    "POST",
                    "/v1/cdrs",
                    content=data,
                    params=params,
                    headers={"Content-Type": "application/octet-stream"},
                )
            )
    else:
        runtime = state.runtime()
        actor = state.reporter(member)
        monitor = runtime.monitor
        if follow_file:
            _follow(monitor, actor, files[0], mapping, file_region, as_json)
            return
        for file in files:
            source = "stdin" if file == "-" else os.path.basename(file)
            outcome: ScanOutcome
            if file == "-" or chosen is Mode.STREAM:
                outcome = monitor.scan_chunks(actor, _open_chunks(monitor, file, mapping, file_region), source=source)
            else:
                outcome = monitor.scan(
                    actor,
                    partial(CdrReader.read_path, path=Path(file)),
                    source=source,
                    mode=chosen,
                    mapping=mapping,
                    region=file_region,
                )
            answers.append(outcome_view(outcome))
    if quarantine_file:
        _write_quarantine(quarantine_file, [dict(q, source=a["source"]) for a in answers for q in a["quarantine"]])
    if as_json:
        print_json(answers if len(answers) > 1 else answers[0])
    else:
        for answer in answers:
            _show(answer)
    if any(a["quarantined"] for a in answers):
        raise click.exceptions.Exit(1)


@cdrs.command("presets")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def presets(as_json: bool) -> None:
    """The CDR layouts ringfence reads without a mapping."""
    views = [preset_view(name, mapping) for name, mapping in PRESETS.items()]
    if as_json:
        print_json(views)
        return
    for view in views:
        click.echo(f"{view['name']}: {view.get('description', '')}")


@cdrs.command("quarantine")
@click.option("--member", metavar="NAME", help="Only this member's rows (default: every member's).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def quarantine(state: State, member: str | None, limit: int, as_json: bool) -> None:
    """Rows of scanned call records that could not be used, newest first."""
    remote = state.remote
    if remote is not None:
        rows = remote.call("GET", "/v1/cdrs/quarantine", params={"limit": str(limit)})["rows"]
    else:
        runtime = state.runtime()
        member_id = runtime.members.get(member).id if member else None
        rows = [r.to_dict() for r in runtime.monitor.quarantine.rows(member_id, limit=limit)]
    if as_json:
        print_json(rows)
        return
    table(
        ("id", "source", "line", "reason", "message"),
        ((r["id"], r["source"], r["line"], r["reason"], r["message"]) for r in rows),
    )


COMMANDS = [cdrs]
