"""``files`` and ``sftp``: snapshot and delta files in the drop folder, and who may download them over SFTP."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import click

from ringfence.errors import InvalidInput
from ringfence.files.credentials import SftpCredentials, credential_view
from ringfence.files.drop import DropFolder
from ringfence.files.manifest import FileSet
from ringfence.files.snapshots import Snapshots

from .output import print_json, table
from .state import State, pass_state

__all__ = ["COMMANDS", "files", "sftp"]


def _local_only(state: State, what: str) -> None:
    if state.remote is not None:
        raise InvalidInput(
            f"'{what}' works on the local store only (drop --url, give --database-url)", code="local_only"
        )


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} B"


def _show_sets(sets: Sequence[Mapping[str, Any]]) -> None:
    table(
        ("set", "kind", "seq from", "seq to", "rows", "created", "csv.gz", "jsonl.gz"),
        (
            (
                s["name"],
                s["kind"],
                s["seq_from"],
                s["seq_to"],
                s["rows"],
                s["created_at"],
                *(_size(f["bytes"]) for f in s["files"]),
            )
            for s in sets
        ),
    )


@click.group()
def files() -> None:
    """Snapshot and delta files in the drop folder (RINGFENCE_DROP_DIR)."""


@files.command("snapshot")
@click.option("--delta", is_flag=True, help="Write a delta (changes since the newest file set) instead of a full one.")
@click.option("--force", is_flag=True, help="Write a full snapshot even when one at the same seq exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@pass_state
def snapshot(state: State, delta: bool, force: bool, as_json: bool) -> None:
    """Write a full snapshot (or a delta) into the drop folder now."""
    _local_only(state, "files snapshot")
    writer = Snapshots.for_runtime(state.runtime())
    written: FileSet | None
    if delta:
        written = writer.write_delta()
        if written is None:
            latest = writer.drop.latest()
            seq = latest.seq_to if latest is not None else 0
            if as_json:
                print_json(None)
            else:
                click.echo(f"no changes since seq {seq}: no delta written")
            return
        new = True
    else:
        written, new = writer.write_full(force=force)
    if as_json:
        print_json(written.to_dict())
        return
    what = "full snapshot" if written.kind == "full" else "delta"
    if new:
        click.echo(f"wrote {what} {written.stem}: {written.rows} rows, seq {written.seq_from}..{written.seq_to}")
    else:
        click.echo(f"a {what} at seq {written.seq_to} exists already: {written.stem} (--force writes it again)")
    for entry in written.files:
        click.echo(f"  {entry.name}  {_size(entry.bytes)}  sha256 {entry.sha256}")
    click.echo(f"  {written.manifest}")


@files.command("list")
@click.option("--kind", type=click.Choice(["full", "delta"]), help="Only full snapshots or only deltas.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifests as JSON.")
@pass_state
def list_files(state: State, kind: str | None, as_json: bool) -> None:
    """The file sets in the drop folder (or on the server given by --url), newest first."""
    remote = state.remote
    rows: list[dict[str, Any]]
    if remote is not None:
        rows = remote.call("GET", "/v1/files", params={"kind": kind})["sets"]
    else:
        sets = DropFolder(state.settings.drop_dir).sets()
        rows = [s.to_dict() for s in reversed(sets) if kind is None or s.kind == kind]
    if as_json:
        print_json(rows)
    elif rows:
        _show_sets(rows)
    else:
        click.echo("no file sets yet (write one with: ringfence files snapshot)")


@click.group()
def sftp() -> None:
    """Who may download the drop folder over SFTP (RINGFENCE_SFTP_PORT): members' keys and passwords."""


def _credentials(state: State, what: str) -> SftpCredentials:
    _local_only(state, f"sftp {what}")
    runtime = state.runtime()
    return SftpCredentials(runtime.engine, runtime.clock)


@sftp.command("add-key")
@click.argument("member")
@click.argument("pubkeyfile", type=click.File("rb"))
@pass_state
def add_key(state: State, member: str, pubkeyfile: BinaryIO) -> None:
    """Let MEMBER log in with the OpenSSH public key in PUBKEYFILE (e.g. id_ed25519.pub; - reads stdin)."""
    credentials = _credentials(state, "add-key")
    owner = state.runtime().members.get(member)
    raw = pubkeyfile.read(1 << 20)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"{pubkeyfile.name} is not a text file: give the OpenSSH public key (the .pub file)",
            code="invalid_public_key",
        ) from None
    added = credential_view(credentials.add_key(owner, text))
    click.echo(
        f"added {added['algorithm']} key {added['fingerprint']} for {added['member']} (credential {added['id']})"
    )
    click.echo(f"log in with: sftp -P <port> {owner.name}@<host>")


@sftp.command("set-password")
@click.argument("member")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_state
def set_password(state: State, member: str, password_stdin: bool) -> None:
    """Set MEMBER's SFTP password (prompted for; its previous password stops working)."""
    credentials = _credentials(state, "set-password")
    owner = state.runtime().members.get(member)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New SFTP password", hide_input=True, confirmation_prompt=True)
    added = credential_view(credentials.set_password(owner, password))
    click.echo(f"set the SFTP password of {added['member']} (credential {added['id']})")


@sftp.command("list")
@click.argument("member", required=False)
@click.option("--all", "show_all", is_flag=True, help="Include revoked credentials.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_state
def list_credentials(state: State, member: str | None, show_all: bool, as_json: bool) -> None:
    """SFTP credentials (never passwords), of MEMBER or of everyone."""
    credentials = _credentials(state, "list")
    owner = None if member is None else state.runtime().members.get(member)
    rows = [credential_view(c) for c in credentials.all(owner, include_revoked=show_all)]
    if as_json:
        print_json(rows)
        return
    table(
        ("id", "member", "kind", "key", "created", "revoked"),
        (
            (
                r["id"],
                r["member"],
                r["kind"],
                " ".join(p for p in (r["algorithm"], r["fingerprint"], r["comment"]) if p),
                r["created_at"],
                r["revoked_at"] or "",
            )
            for r in rows
        ),
    )


@sftp.command("revoke")
@click.argument("credential_id")
@pass_state
def revoke(state: State, credential_id: str) -> None:
    """Revoke the SFTP credential CREDENTIAL_ID (see 'sftp list'); the next login with it is refused."""
    gone = credential_view(_credentials(state, "revoke").revoke(credential_id))
    click.echo(f"revoked {gone['kind']} credential {gone['id']} of {gone['member']} ({gone['revoked_at']})")


@sftp.command("host-key")
@pass_state
def host_key(state: State) -> None:
    """The SFTP server's host key fingerprint, for members to check (the key is generated if missing)."""
    from ringfence.files.sftp import load_host_key  # local: the SSH stack is loaded only when needed

    _local_only(state, "sftp host-key")
    key = load_host_key(state.settings.sftp_host_key)
    click.echo(f"{key.get_algorithm()} {key.get_fingerprint('sha256')}")
    click.echo(key.export_public_key("openssh").decode().strip())


COMMANDS = (files, sftp)
