"""The built-in SFTP server, with the real OpenSSH ``sftp`` client (batch mode) and asyncssh's client.

The server runs in the test's event loop on a free port; the OpenSSH client runs as a subprocess.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from ringfence.clock import FixedClock
from ringfence.files.credentials import SftpCredentials
from ringfence.files.manifest import FileSet
from ringfence.files.sftp import load_host_key, start_sftp_server
from ringfence.files.snapshots import Snapshots
from ringfence.registry.models import Member
from ringfence.runtime import Runtime
from tests.files.helpers import report_some

PASSWORD = "correct horse battery staple"


@pytest.fixture
def sftp_binary() -> str:
    found = shutil.which("sftp")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "the OpenSSH sftp client is missing, and CI requires the SFTP tests (apt-get install openssh-client)"
            )
        pytest.skip("the OpenSSH sftp client is not installed")
    return found


@dataclass
class Served:
    port: int
    full: FileSet
    credentials: SftpCredentials
    drop: Path


@pytest.fixture
async def served(runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member) -> AsyncIterator[Served]:
    report_some(runtime, clock, [carrier])
    full, _new = snapshots.write_full()
    acceptor = await start_sftp_server(runtime, host="127.0.0.1", port=0)
    try:
        yield Served(acceptor.get_port(), full, SftpCredentials(runtime.engine, runtime.clock), snapshots.drop.root)
    finally:
        acceptor.close()
        await acceptor.wait_closed()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The sftp client's own directory (what it downloads lands here)."""
    path = tmp_path / "client"
    path.mkdir()
    return path


def key_pair(directory: Path, name: str) -> tuple[Path, str]:
    """A new Ed25519 key pair: the private key file (mode 0600, as ssh wants it) and the public key line."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"{name}@test")
    path = directory / name
    path.write_bytes(key.export_private_key())
    path.chmod(0o600)
    return path, key.export_public_key().decode()


async def run_sftp(binary: str, port: int, key: Path, user: str, commands: str, workdir: Path) -> tuple[int, str]:
    """Run OpenSSH ``sftp`` in batch mode; its exit code and everything it printed."""
    process = await asyncio.create_subprocess_exec(
        binary,
        "-b",
        "-",
        "-P",
        str(port),
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        "-i",
        str(key),
        f"{user}@127.0.0.1",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=workdir,
    )
    output, _ = await asyncio.wait_for(process.communicate(commands.encode()), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


def snapshot_of(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


async def test_a_member_downloads_with_its_key(
    served: Served, carrier: Member, sftp_binary: str, workdir: Path
) -> None:
    key, public = key_pair(workdir, "carrier_key")
    served.credentials.add_key(carrier, public)
    names = "\n".join(f"get {name}" for name in served.full.names())
    code, output = await run_sftp(sftp_binary, served.port, key, carrier.name, f"ls -1\n{names}\n", workdir)
    assert code == 0, output
    lines = output.splitlines()
    start = lines.index("sftp> ls -1") + 1
    listed = lines[start : next(i for i in range(start, len(lines)) if lines[i].startswith("sftp>"))]
    assert [line.strip() for line in listed] == sorted(served.full.names())  # no .lock, nothing hidden
    for entry in served.full.files:
        assert hashlib.sha256((workdir / entry.name).read_bytes()).hexdigest() == entry.sha256
    assert (workdir / served.full.manifest).read_bytes() == (served.drop / served.full.manifest).read_bytes()


@pytest.mark.parametrize(
    "command",
    [
        "put {local}",
        "put {local} {name}",
        "rm {name}",
        "mkdir incoming",
        "rename {name} other.csv.gz",
        "chmod 666 {name}",
        "ln -s {name} link.csv.gz",
        "rmdir /",
    ],
)
async def test_the_folder_is_read_only(
    served: Served, carrier: Member, sftp_binary: str, workdir: Path, command: str
) -> None:
    key, public = key_pair(workdir, "carrier_key")
    served.credentials.add_key(carrier, public)
    local = workdir / "upload.csv.gz"
    local.write_bytes(b"not from ringfence")
    before = snapshot_of(served.drop)
    line = command.format(local=local.name, name=served.full.files[0].name)
    code, output = await run_sftp(sftp_binary, served.port, key, carrier.name, f"pwd\n{line}\n", workdir)
    assert code != 0, output
    assert "Remote working directory: /" in output, output  # logged in: the refusal is the command's
    refusal = output.split(f"sftp> {line}", 1)[1]
    assert "Permission denied" in refusal, output
    assert snapshot_of(served.drop) == before


@pytest.mark.parametrize(
    "command",
    ["get /etc/passwd", "get ../../../../etc/passwd", "get ../ringfence.db", "get .lock", "cd /etc", "ls /etc"],
)
async def test_nothing_outside_the_drop_folder_is_reachable(
    served: Served, carrier: Member, sftp_binary: str, workdir: Path, command: str
) -> None:
    key, public = key_pair(workdir, "carrier_key")
    served.credentials.add_key(carrier, public)
    code, output = await run_sftp(sftp_binary, served.port, key, carrier.name, f"pwd\n{command}\n", workdir)
    assert code != 0, output
    assert "Remote working directory: /" in output, output  # logged in: the refusal is the command's
    assert "root:" not in output
    assert not (workdir / "passwd").exists() and not (workdir / "ringfence.db").exists()


async def test_cd_up_stays_in_the_drop_folder(served: Served, carrier: Member, sftp_binary: str, workdir: Path) -> None:
    key, public = key_pair(workdir, "carrier_key")
    served.credentials.add_key(carrier, public)
    code, output = await run_sftp(sftp_binary, served.port, key, carrier.name, "cd ../..\npwd\nls -1\n", workdir)
    assert code == 0, output
    assert "Remote working directory: /" in output
    assert served.full.manifest in output


async def test_wrong_unknown_and_revoked_keys_are_refused(
    served: Served,
    carrier: Member,
    bank: Member,
    sftp_binary: str,
    workdir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good, public = key_pair(workdir, "carrier_key")
    stranger, _public = key_pair(workdir, "stranger_key")
    added = served.credentials.add_key(carrier, public)
    with caplog.at_level(logging.WARNING, logger="ringfence.sftp"):
        code, output = await run_sftp(sftp_binary, served.port, stranger, carrier.name, "ls\n", workdir)
        assert code != 0 and "Permission denied" in output, output
        code, output = await run_sftp(sftp_binary, served.port, good, bank.name, "ls\n", workdir)  # another member
        assert code != 0 and "Permission denied" in output, output
        code, output = await run_sftp(sftp_binary, served.port, good, "nobody", "ls\n", workdir)
        assert code != 0 and "Permission denied" in output, output

        code, output = await run_sftp(sftp_binary, served.port, good, carrier.name, "ls\n", workdir)
        assert code == 0, output
        served.credentials.revoke(added.id)
        code, output = await run_sftp(sftp_binary, served.port, good, carrier.name, "ls\n", workdir)
        assert code != 0 and "Permission denied" in output, output
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any(f"user {carrier.name!r}" in m and "127.0.0.1" in m for m in refusals)
    assert any("user 'nobody'" in m for m in refusals)


async def _connect(port: int, user: str, password: str) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1",
        port,
        username=user,
        password=password,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        preferred_auth="password",
        config=None,
    )


async def test_a_member_downloads_with_its_password(served: Served, carrier: Member) -> None:
    served.credentials.set_password(carrier, PASSWORD)
    async with await _connect(served.port, carrier.name, PASSWORD) as conn, conn.start_sftp_client() as sftp:
        assert sorted(await sftp.listdir("/")) == sorted([".", "..", *served.full.names()])
        for entry in served.full.files:
            async with sftp.open(entry.name, "rb") as remote:
                data = await remote.read()
            assert hashlib.sha256(data).hexdigest() == entry.sha256
        attrs = await sftp.stat(served.full.files[0].name)
        assert attrs.size == served.full.files[0].bytes and stat.S_IMODE(attrs.permissions or 0) == 0o444
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.open("new.csv.gz", "wb")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.open(served.full.files[0].name, "ab")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.remove(served.full.files[0].name)
        with pytest.raises(asyncssh.SFTPNoSuchFile):
            await sftp.open("../../etc/passwd", "rb")


async def test_wrong_old_and_revoked_passwords_are_refused(served: Served, carrier: Member) -> None:
    first = served.credentials.set_password(carrier, PASSWORD)
    with pytest.raises(asyncssh.PermissionDenied):
        await _connect(served.port, carrier.name, PASSWORD + "!")
    with pytest.raises(asyncssh.PermissionDenied):
        await _connect(served.port, "nobody", PASSWORD)

    second = served.credentials.set_password(carrier, PASSWORD + " two")  # the first stops working
    assert served.credentials.get(first.id).revoked_ms is not None
    with pytest.raises(asyncssh.PermissionDenied):
        await _connect(served.port, carrier.name, PASSWORD)
    async with await _connect(served.port, carrier.name, PASSWORD + " two"):
        pass
    served.credentials.revoke(second.id)
    with pytest.raises(asyncssh.PermissionDenied):
        await _connect(served.port, carrier.name, PASSWORD + " two")


async def test_no_shell_no_exec_no_forwarding(served: Served, carrier: Member) -> None:
    served.credentials.set_password(carrier, PASSWORD)
    async with await _connect(served.port, carrier.name, PASSWORD) as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.run("id")
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_process()  # a shell
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", served.port)  # local port forwarding
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)
        async with conn.start_sftp_client() as sftp:  # and the connection still serves SFTP
            assert served.full.manifest in await sftp.listdir("/")


async def test_the_host_key_is_generated_once_and_kept_private(runtime: Runtime, served: Served) -> None:
    path = Path(runtime.settings.sftp_host_key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_host_key(path)
    assert load_host_key(path).get_fingerprint() == key.get_fingerprint()
    credentials = served.credentials
    member = runtime.members.get("north-telecom")
    credentials.set_password(member, PASSWORD)
    async with await _connect(served.port, member.name, PASSWORD) as conn:
        server_key = conn.get_server_host_key()
        assert server_key is not None and server_key.get_fingerprint() == key.get_fingerprint()


def test_a_damaged_host_key_is_a_clear_error(tmp_path: Path) -> None:
    from ringfence.errors import InvalidInput

    broken = tmp_path / "host-key"
    broken.write_text("not a key")
    with pytest.raises(InvalidInput) as caught:
        load_host_key(broken)
    assert caught.value.code == "invalid_host_key" and str(broken) in caught.value.message
