"""``ringfence files`` and ``ringfence sftp`` against a temporary SQLite database (click's CliRunner)."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import asyncssh
import orjson
import pytest
from click.testing import CliRunner, Result

from ringfence.cli import main
from tests.files.helpers import sha256_of

Run = Callable[..., Result]


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    return tmp_path / "drop"


@pytest.fixture
def run(tmp_path: Path, drop: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RINGFENCE_DROP_DIR", str(drop))
    monkeypatch.setenv("RINGFENCE_SFTP_HOST_KEY", str(tmp_path / "host-key"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["--database-url", url, *args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def member(run: Run) -> str:
    assert run("members", "add", "acme", "--role", "reporter").exit_code == 0
    for number in ("+442079460018", "+447911123456"):
        result = run("report", number, "--category", "vishing", "--member", "acme")
        assert result.exit_code == 0, result.output
    return "acme"


def test_snapshot_delta_and_list(run: Run, member: str, drop: Path) -> None:
    first = run("files", "snapshot")
    assert first.exit_code == 0, first.output
    assert "wrote full snapshot full-000000000002: 2 rows, seq 1..2" in first.output
    again = run("files", "snapshot")
    assert again.exit_code == 0 and "exists already" in again.output

    nothing = run("files", "snapshot", "--delta")
    assert nothing.exit_code == 0 and "no changes since seq 2" in nothing.output
    assert run("report", "+12015550123", "--category", "irsf", "--member", member).exit_code == 0
    delta = run("files", "snapshot", "--delta", "--json")
    assert delta.exit_code == 0, delta.output
    manifest = orjson.loads(delta.output)
    assert (manifest["kind"], manifest["seq_from"], manifest["seq_to"], manifest["rows"]) == ("delta", 3, 3, 1)
    for entry in manifest["files"]:
        assert sha256_of(drop / entry["name"]) == entry["sha256"]

    listed = run("files", "list", "--json")
    assert [s["name"] for s in orjson.loads(listed.output)] == ["delta-000000000003-000000000003", "full-000000000002"]
    table = run("files", "list")
    assert "full-000000000002" in table.output and "delta" in table.output
    only = run("files", "list", "--kind", "full", "--json")
    assert [s["kind"] for s in orjson.loads(only.output)] == ["full"]


def test_files_errors_are_one_line(run: Run, member: str) -> None:
    result = run("files", "snapshot", "--delta")
    assert result.exit_code == 4
    assert result.output.startswith("error: the drop folder holds no snapshot yet") and "Traceback" not in result.output
    empty = run("files", "list")
    assert empty.exit_code == 0 and "no file sets yet" in empty.output


def test_a_drop_folder_that_is_a_file_is_a_clear_error(run: Run, member: str, drop: Path) -> None:
    drop.write_text("oops")
    result = run("files", "snapshot")
    assert result.exit_code == 2 and "exists and is not a directory" in result.output


def _public_key(tmp_path: Path, name: str = "id_ed25519") -> tuple[Path, asyncssh.SSHKey]:
    key = asyncssh.generate_private_key("ssh-ed25519", comment="ops@acme")
    private = tmp_path / name
    private.write_bytes(key.export_private_key())
    public = tmp_path / f"{name}.pub"
    public.write_bytes(key.export_public_key())
    return private, key


def test_sftp_credentials_lifecycle(run: Run, member: str, tmp_path: Path) -> None:
    _private, key = _public_key(tmp_path)
    added = run("sftp", "add-key", member, str(tmp_path / "id_ed25519.pub"))
    assert added.exit_code == 0, added.output
    assert f"added ssh-ed25519 key {key.get_fingerprint('sha256')} for acme (credential 1)" in added.output
    twice = run("sftp", "add-key", member, str(tmp_path / "id_ed25519.pub"))
    assert twice.exit_code == 5 and "already registered for member 'acme'" in twice.output

    password = run("sftp", "set-password", member, "--password-stdin", input="a long enough password\n")
    assert password.exit_code == 0 and "credential 2" in password.output
    prompted = run("sftp", "set-password", member, input="another long password\nanother long password\n")
    assert prompted.exit_code == 0, prompted.output

    listed = orjson.loads(run("sftp", "list", "--json").output)
    assert [(c["id"], c["kind"]) for c in listed] == [(1, "publickey"), (3, "password")]
    assert listed[0]["fingerprint"] == key.get_fingerprint("sha256") and listed[0]["comment"] == "ops@acme"
    assert "hash" not in str(listed) and "password\n" not in str(listed)
    everything = orjson.loads(run("sftp", "list", "--all", "--json").output)
    assert [c["id"] for c in everything] == [1, 2, 3] and everything[1]["revoked_at"] is not None
    assert "ops@acme" in run("sftp", "list", member).output

    revoked = run("sftp", "revoke", "1")
    assert revoked.exit_code == 0 and "revoked publickey credential 1 of acme" in revoked.output
    assert [c["id"] for c in orjson.loads(run("sftp", "list", "--json").output)] == [3]


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, 2, "this is a private key"),
        (b"", 2, "no public key found"),
        (b"ssh-ed25519 AAAAnotbase64!!\n", 2, "not an OpenSSH public key"),
        (b"hello world\n", 2, "not an OpenSSH public key"),
        (b"\xff\xfe\x00binary", 2, "is not a text file"),
    ],
)
def test_bad_key_files_are_clear_errors(
    run: Run, member: str, tmp_path: Path, content: bytes | None, code: int, message: str
) -> None:
    private, _key = _public_key(tmp_path)
    path = private if content is None else tmp_path / "given.pub"
    if content is not None:
        path.write_bytes(content)
    result = run("sftp", "add-key", member, str(path))
    assert result.exit_code == code, result.output
    assert result.output.startswith("error: ") and message in result.output and "Traceback" not in result.output


def test_two_keys_in_one_file_are_refused(run: Run, member: str, tmp_path: Path) -> None:
    one = asyncssh.generate_private_key("ssh-ed25519").export_public_key()
    two = asyncssh.generate_private_key("ssh-ed25519").export_public_key()
    (tmp_path / "both.pub").write_bytes(one + two)
    result = run("sftp", "add-key", member, str(tmp_path / "both.pub"))
    assert result.exit_code == 2 and "one public key at a time" in result.output


def test_bad_members_passwords_and_ids_are_clear_errors(run: Run, member: str, tmp_path: Path) -> None:
    _public_key(tmp_path)
    unknown = run("sftp", "add-key", "nobody", str(tmp_path / "id_ed25519.pub"))
    assert unknown.exit_code == 4 and "no member 'nobody'" in unknown.output
    missing = run("sftp", "add-key", member, str(tmp_path / "missing.pub"))
    assert missing.exit_code == 2 and "No such file or directory" in missing.output
    short = run("sftp", "set-password", member, "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    not_a_number = run("sftp", "revoke", "abc")
    assert not_a_number.exit_code == 2 and "not a credential id" in not_a_number.output
    no_such = run("sftp", "revoke", "99")
    assert no_such.exit_code == 4 and "no SFTP credential 99" in no_such.output
    remote = run("--url", "http://127.0.0.1:9", "sftp", "list")
    assert remote.exit_code == 2 and "works on the local store only" in remote.output


def test_host_key_is_made_once_and_shown(run: Run, tmp_path: Path) -> None:
    first = run("sftp", "host-key")
    assert first.exit_code == 0 and first.output.startswith("ssh-ed25519 SHA256:")
    assert stat.S_IMODE((tmp_path / "host-key").stat().st_mode) == 0o600
    assert run("sftp", "host-key").output == first.output
