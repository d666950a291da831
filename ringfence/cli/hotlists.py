"""``hotlists``: IRSF and Wangiri test-number lists: create and configure them, import versions, see versions and
diffs, check numbers. On the local database the operator acts; with ``--url``/``--key`` the commands go through the
HTTP API as the key's member (creating lists and importing need an admin key)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from ringfence.hotlists.checks import check_many
from ringfence.hotlists.reader import FORMATS, check_format
from ringfence.hotlists.service import HotlistOptions
from ringfence.hotlists.views import diff_view, hotlist_view, import_view, version_view
from ringfence.numbers.regions import check_region
from ringfence.registry.members import Principal
from ringfence.registry.models import Member, Role

from .output import MAX_SHOWN_ERRORS, print_json, table, write_errors_csv
from .remote import path_part
from .state import State, pass_state

__all__ = ["COMMANDS", "hotlists"]

_COUNTS = ("added", "unchanged", "removed", "retained", "invalid", "duplicates", "derived", "entries")
_FORMAT = click.Choice(list(FORMATS), case_sensitive=False)


def _admin(state: State, name: str | None) -> Member | None:
    """The local admin named by ``--admin`` (recorded with the version), or None: the operator."""
    if not name:
        return None
    member = state.runtime().members.get(name)
    Principal(member, "cli").require(Role.ADMIN)
    return member


def _options(
    description: str | None,
    retain: bool | None,
    wildcard_last: int | None,
    region: str | None,
    url: str | None,
    folder: str | None,
    every: int | None,
) -> HotlistOptions:
    return HotlistOptions(
        description=description,
        retain_missing=retain,
        wildcard_last=wildcard_last,
        region=region,
        url=url,
        folder=folder,
        every_s=every,
    )


def _body(options: HotlistOptions) -> dict[str, Any]:
    fields = {
        "description": options.description,
        "retain_missing": options.retain_missing,
        "wildcard_last": options.wildcard_last,
        "region": options.region,
        "url": options.url,
        "folder": options.folder,
        "every_s": options.every_s,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _show_hotlist(view: Mapping[str, Any]) -> None:
    sync = view["sync"]
    retain = "retains missing entries" if view["retain_missing"] else "drops missing entries"
    wildcard = f", last {view['wildcard_last']} digits of test numbers wildcarded" if view["wildcard_last"] else ""
    click.echo(f"{view['name']}: {retain}{wildcard}")
    if sync["url"]:
        click.echo(f"  polls {sync['url']} every {sync['every_s']} s")
    if sync["folder"]:
        click.echo(f"  watches {sync['folder']}")
    latest = view.get("latest_version")
    if latest:
        click.echo(f"  version {latest['version']} of {latest['imported_at']}: {latest['entries']} entries in force")


def _show_import(answer: Mapping[str, Any], *, limit: int = MAX_SHOWN_ERRORS) -> None:
    click.echo(f"hotlist {answer['hotlist']} version {answer['version']}")
    click.echo(", ".join(f"{name}: {answer[name]}" for name in _COUNTS))
    if answer.get("ignored_columns"):
        click.echo(f"columns not read: {', '.join(answer['ignored_columns'])}")
    errors = answer.get("errors") or []
    for error in errors[:limit]:
        click.echo(f"line {error['line']}: {error['code']}: {error['message']}")
    if len(errors) > limit:
        click.echo(f"... and {len(errors) - limit} more refused rows (use --errors FILE to get them all)")


def _show_versions(rows: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("version", "id", "imported", "source", *_COUNTS, "sha256"),
        (
            (v["version"], v["id"], v["imported_at"], v["source"], *(v[c] for c in _COUNTS), v["sha256"][:16])
            for v in rows
        ),
    )


@click.group()
def hotlists() -> None:
    """IRSF and Wangiri hotlists: test numbers and ranges, their versions, and checks against them."""


def _sync_options(command: Any) -> Any:
    for option in reversed(
        (
            click.option("--description", help="What the list is."),
            click.option(
                "--wildcard-last",
                type=click.IntRange(0, 6),
                help="Also put in force, for every test number, the range of its last N digits wildcarded.",
            ),
            click.option("--region", "list_region", metavar="CC", help="Country hint for synced files."),
            click.option("--url", help="Poll this http(s) URL and import it when its content changes."),
            click.option("--folder", type=click.Path(), help="Import every new file that appears in this folder."),
            click.option("--every", type=click.IntRange(1), metavar="SECONDS", help="How often to poll --url."),
            click.option("--json", "as_json", is_flag=True, help="Print as JSON."),
        )
    ):
        command = option(command)
    return command


@hotlists.command("create")
@click.argument("name")
@click.option("--retain", is_flag=True, default=False, help="Keep entries a new version no longer publishes.")
@_sync_options
@pass_state
def create(
    state: State,
    name: str,
    retain: bool,
    description: str | None,
    wildcard_last: int | None,
    list_region: str | None,
    url: str | None,
    folder: str | None,
    every: int | None,
    as_json: bool,
) -> None:
    """Create the hotlist NAME (lower-case letters, digits, '.', '_', '-')."""
    options = _options(description, retain, wildcard_last, list_region, url, folder, every)
    remote = state.remote
    if remote is not None:
        view = remote.call("POST", "/v1/hotlists", json={"name": name, **_body(options)})
    else:
        view = hotlist_view(state.runtime().hotlists.create(None, name, options))
    print_json(view) if as_json else _show_hotlist(view)


@hotlists.command("set")
@click.argument("name")
@click.option("--retain/--no-retain", default=None, help="Keep (or drop) entries a new version no longer publishes.")
@_sync_options
@pass_state
def set_options(
    state: State,
    name: str,
    retain: bool | None,
    description: str | None,
    wildcard_last: int | None,
    list_region: str | None,
    url: str | None,
    folder: str | None,
    every: int | None,
    as_json: bool,
) -> None:
    """Change how hotlist NAME is kept (an empty --url or --folder stops syncing from it)."""
    options = _options(description, retain, wildcard_last, list_region, url, folder, every)
    remote = state.remote
    if remote is not None:
        view = remote.call("PATCH", f"/v1/hotlists/{path_part(name)}", json=_body(options))
    else:
        service = state.runtime().hotlists
        service.update(None, name, options)
        view = hotlist_view(*service.overview(name)[0])
    print_json(view) if as_json else _show_hotlist(view)


@hotlists.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def list_hotlists(state: State, as_json: bool) -> None:
    """Every hotlist, with its newest version."""
    remote = state.remote
    if remote is not None:
        views = remote.call("GET", "/v1/hotlists")["hotlists"]
    else:
        views = [hotlist_view(h, v) for h, v in state.runtime().hotlists.overview()]
    if as_json:
        print_json(views)
        return
    table(
        ("name", "retain", "wildcard_last", "version", "entries", "imported", "sync"),
        (
            (
                v["name"],
                "yes" if v["retain_missing"] else "no",
                v["wildcard_last"],
                (v["latest_version"] or {}).get("version", ""),
                (v["latest_version"] or {}).get("entries", ""),
                (v["latest_version"] or {}).get("imported_at", ""),
                v["sync"]["url"] or v["sync"]["folder"] or "",
            )
            for v in views
        ),
    )


@hotlists.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--region", "file_region", metavar="CC", help="Country hint for the file's national-format numbers.")
@click.option("--format", "fmt", type=_FORMAT, help="txt, csv or jsonl (default: sniffed; gzip is recognised).")
@click.option("--admin", metavar="NAME", help="The admin importing (local database; remote: the key's member).")
@click.option("--errors", "errors_file", metavar="FILE", help="Write every refused row to FILE as CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_state
def import_version(
    state: State,
    name: str,
    file: str,
    file_region: str | None,
    fmt: str | None,
    admin: str | None,
    errors_file: str | None,
    as_json: bool,
) -> None:
    """Import FILE (TXT, CSV or JSONL; gzip too) as the next version of hotlist NAME.

    Exit code 0 when every row was taken, 1 when some were refused; a file with no valid number is refused
    as a whole (exit code 2) and the list keeps its current version."""
    kind = check_format(fmt)
    hint = check_region(file_region)
    source = "stdin" if file == "-" else os.path.basename(file)
    if file == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(file, "rb") as stream:
            data = stream.read()
    remote = state.remote
    if remote is not None:
        params = {"region": hint, "format": kind, "source": source}
        headers = {"Content-Type": "application/octet-stream"}
        answer = remote.call(
            "POST", f"/v1/hotlists/{path_part(name)}/versions", content=data, headers=headers, params=params
        )
    else:
        actor = _admin(state, admin)
        outcome = state.runtime().hotlists.import_file(actor, name, data, source=source, fmt=kind, region=hint)
        answer = import_view(outcome)
    if errors_file:
        write_errors_csv(errors_file, answer.get("errors") or [])
    print_json(answer) if as_json else _show_import(answer)
    if answer["invalid"]:
        raise click.exceptions.Exit(1)


@hotlists.command("versions")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def versions(state: State, name: str, as_json: bool) -> None:
    """The versions of hotlist NAME, oldest first."""
    remote = state.remote
    if remote is not None:
        rows = remote.call("GET", f"/v1/hotlists/{path_part(name)}/versions")["versions"]
    else:
        rows = [version_view(v) for v in state.runtime().hotlists.versions(name)]
    print_json(rows) if as_json else _show_versions(rows)


@hotlists.command("diff")
@click.argument("name")
@click.argument("version", type=click.IntRange(1))
@click.option("--against", type=click.IntRange(0), help="Compare with this version (default: the one before).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def diff(state: State, name: str, version: int, against: int | None, as_json: bool) -> None:
    """What VERSION of hotlist NAME changed: entries added (+), removed (-) and retained (=)."""
    remote = state.remote
    if remote is not None:
        params = {"against": None if against is None else str(against)}
        view = remote.call("GET", f"/v1/hotlists/{path_part(name)}/versions/{version}/diff", params=params)
    else:
        view = diff_view(state.runtime().hotlists.diff(name, version, against))
    if as_json:
        print_json(view)
        return
    counts = view["counts"]
    click.echo(
        f"hotlist {view['hotlist']} version {view['version']} against {view['against']}: "
        f"{counts['added']} added, {counts['removed']} removed, {counts['retained']} retained"
    )
    for mark, key in (("+", "added"), ("-", "removed"), ("=", "retained")):
        for entry in view[key]:
            derived = " (derived)" if entry["derived"] else ""
            click.echo(f"{mark} {entry['pattern']}{derived}  {entry['source'] or ''}".rstrip())


@hotlists.command("check")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def check(state: State, numbers: tuple[str, ...], as_json: bool) -> None:
    """Check NUMBERs against every hotlist (national format: with the global --region)."""
    region = state.settings.default_region
    remote = state.remote
    if remote is not None:
        results = remote.call("POST", "/v1/hotlists/check", json={"numbers": list(numbers), "region": region})[
            "results"
        ]
    else:
        runtime = state.runtime()
        results = check_many(runtime.hotlists, list(numbers), region, limit=max(len(numbers), 1))
    if as_json:
        print_json(results)
        return
    rows: list[tuple[object, ...]] = []
    for answer in results:
        if "error" in answer:
            rows.append((answer["input"], answer["error"]["code"], "", "", "", "", "", ""))
            continue
        match = answer["match"] or {}
        rows.append(
            (
                answer["number"],
                "HOTLISTED" if answer["hotlisted"] else "not hotlisted",
                match.get("hotlist", ""),
                match.get("pattern", ""),
                match.get("source") or "",
                match.get("first_seen_at", ""),
                match.get("last_seen_at", ""),
                len(answer["matches"]) or "",
            )
        )
    table(("number", "answer", "hotlist", "pattern", "source", "first seen", "last seen", "matches"), rows)


@hotlists.command("events")
@click.option("--since", type=click.IntRange(0), default=0, help="The last version id seen (0: from the start).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def events(state: State, since: int, as_json: bool) -> None:
    """Versions of every hotlist applied after version id --since."""
    remote = state.remote
    if remote is not None:
        rows = remote.call("GET", "/v1/hotlists/events", params={"since": str(since)})["versions"]
    else:
        rows = [version_view(v) for v in state.runtime().hotlists.events(since)]
    print_json(rows) if as_json else _show_versions(rows)


COMMANDS = (hotlists,)
