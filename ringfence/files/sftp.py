"""The built-in SFTP server: each member downloads the drop folder over SSH, read-only.

* **Who.** The SSH user name is the member's name; it logs in with one of its public keys or its password
  (:mod:`ringfence.files.credentials`, managed with ``ringfence sftp ...``). Every refusal is logged with the user
  name, the peer address and the method (never the password).
* **What.** One directory, ``/``: the files of the complete sets of the drop folder, as ``GET /v1/files`` lists
  them. Paths are resolved by :meth:`DropFolder.resolve` (plain names only, no symbolic links). Every write,
  rename, remove, mkdir, link or attribute change is refused with "permission denied".
* **Nothing else.** No shell, no exec (no scp), no port or agent forwarding, no pty: the SSH connection carries the
  SFTP subsystem and that is all.

The host key is read from ``sftp_host_key``; when the file is missing an Ed25519 key is generated there (mode 0600)
and its fingerprint logged, for members to check on their first connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import posixpath
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import asyncssh

from ringfence.daemons import Daemon
from ringfence.errors import InvalidInput, NotFound
from ringfence.files.credentials import SftpCredentials
from ringfence.files.drop import DropFile, DropFolder

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["DAEMON", "DropSftpServer", "load_host_key", "start_sftp_server"]

log = logging.getLogger("ringfence.sftp")

_WRITE_FLAGS = asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC | asyncssh.FXF_EXCL
_WRITE_ACCESS = asyncssh.ACE4_WRITE_DATA | asyncssh.ACE4_APPEND_DATA | asyncssh.ACE4_WRITE_ATTRIBUTES
_OWNER = "ringfence"


def load_host_key(path: str | os.PathLike[str]) -> asyncssh.SSHKey:
    """The server's private host key at ``path``; a new Ed25519 key is written there (mode 0600) if it is missing."""
    where = Path(path)
    if not where.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment="ringfence sftp host key")
        where.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile: use that one
            return load_host_key(where)
        with os.fdopen(fd, "wb") as out:
            out.write(key.export_private_key())
        log.warning("sftp: generated host key %s (%s)", where, key.get_fingerprint("sha256"))
        return key
    try:
        mode = where.stat().st_mode
        key = asyncssh.read_private_key(where)
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise InvalidInput(
            f"cannot use {where} as the SFTP host key: {exc} (remove it to have a new key generated)",
            code="invalid_host_key",
        ) from None
    if mode & 0o077:
        log.warning("sftp: host key %s is readable by others (mode %o); it should be 0600", where, mode & 0o777)
    return key


# --- authentication ---------------------------------------------------------------------------------------------
class _SshServer(asyncssh.SSHServer):
    """One SSH connection: public key or password authentication against the member's SFTP credentials."""

    def __init__(self, credentials: SftpCredentials) -> None:
        self._credentials = credentials
        self._peer = "?"
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername")
        self._peer = f"{peer[0]}:{peer[1]}" if peer else "?"

    def begin_auth(self, username: str) -> bool:
        return True  # every login authenticates

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        fingerprint = key.get_fingerprint("sha256")
        member = await asyncio.to_thread(self._credentials.login_with_key, username, fingerprint)
        if member is None:
            log.warning("sftp: public key %s refused for user %r from %s", fingerprint, username, self._peer)
        return member is not None

    async def validate_password(self, username: str, password: str) -> bool:
        member = await asyncio.to_thread(self._credentials.login_with_password, username, password)
        if member is None:
            log.warning("sftp: password refused for user %r from %s", username, self._peer)
        return member is not None

    def auth_completed(self) -> None:
        user = self._conn.get_extra_info("username") if self._conn is not None else "?"
        log.info("sftp: %r logged in from %s", user, self._peer)


# --- the read-only file system ----------------------------------------------------------------------------------
def _read_only() -> asyncssh.SFTPError:
    return asyncssh.SFTPPermissionDenied("the drop folder is read-only")


class DropSftpServer(asyncssh.SFTPServer):
    """The drop folder as one read-only directory ``/``."""

    def __init__(self, chan: asyncssh.SSHServerChannel[Any], drop: DropFolder) -> None:
        super().__init__(chan)
        self._drop = drop

    # paths -------------------------------------------------------------------------------------------------------
    @staticmethod
    def _virtual(path: bytes) -> bytes:
        """The client's path made absolute and normal: ``/`` or ``/<name>`` (or deeper, which never exists)."""
        return b"/" + posixpath.normpath(posixpath.join(b"/", path)).lstrip(b"/")

    def _name(self, path: bytes) -> str | None:
        """The drop file name ``path`` means; None for the root directory."""
        virtual = self._virtual(path)
        if virtual == b"/":
            return None
        inner = virtual[1:]
        if b"/" in inner:
            raise asyncssh.SFTPNoSuchFile("no such file")
        try:
            return inner.decode("utf-8")
        except UnicodeDecodeError:
            raise asyncssh.SFTPNoSuchFile("no such file") from None

    def _file_now(self, path: bytes) -> DropFile:
        name = self._name(path)
        if name is None:
            raise asyncssh.SFTPFailure("this is a directory")
        try:
            return self._drop.resolve(name)
        except NotFound:
            raise asyncssh.SFTPNoSuchFile("no such file") from None

    async def _file(self, path: bytes) -> DropFile:
        """The drop file ``path`` names, resolved in a worker thread (it reads the manifests): the event loop also
        serves the HTTP API."""
        return await asyncio.to_thread(self._file_now, path)

    def map_path(self, path: bytes) -> bytes:
        """Local path of the root or of a file that may be read; anything else does not exist. (The methods below
        do not call it; it keeps any method asyncssh adds later inside the drop folder.)"""
        name = self._name(path)
        target = self._drop.root if name is None else self._file_now(path).path
        return os.fsencode(target)

    def reverse_map_path(self, path: bytes) -> bytes:
        root = os.fsencode(self._drop.root)
        if path == root:
            return b"/"
        if path.startswith(root + b"/"):
            return path[len(root) :]
        raise asyncssh.SFTPNoSuchFile("no such file")

    def realpath(self, path: bytes) -> bytes:
        return self._virtual(path)

    # reading -----------------------------------------------------------------------------------------------------
    def _root_attrs(self) -> asyncssh.SFTPAttrs:
        attrs = asyncssh.SFTPAttrs.from_local(os.stat(self._drop.ensure()))
        attrs.permissions = stat.S_IFDIR | 0o555
        return attrs

    @staticmethod
    def _file_attrs(info: os.stat_result) -> asyncssh.SFTPAttrs:
        attrs = asyncssh.SFTPAttrs.from_local(info)
        attrs.permissions = stat.S_IFREG | 0o444
        return attrs

    async def stat(self, path: bytes) -> asyncssh.SFTPAttrs:
        if self._name(path) is None:
            return self._root_attrs()
        return self._file_attrs((await self._file(path)).stat)

    async def lstat(self, path: bytes) -> asyncssh.SFTPAttrs:
        return await self.stat(path)

    def fstat(self, file_obj: object) -> asyncssh.SFTPAttrs:
        return self._file_attrs(os.fstat(cast(BinaryIO, file_obj).fileno()))

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        if self._name(path) is not None:
            await self._file(path)  # no such file, or:
            raise asyncssh.SFTPNotADirectory("not a directory")
        root = self._root_attrs()
        yield asyncssh.SFTPName(b".", attrs=root)
        yield asyncssh.SFTPName(b"..", attrs=root)
        for found in await asyncio.to_thread(self._drop.files):
            yield asyncssh.SFTPName(found.name.encode(), attrs=self._file_attrs(found.stat))

    def format_user(self, uid: int | None) -> str:
        return _OWNER

    def format_group(self, gid: int | None) -> str:
        return _OWNER

    async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & _WRITE_FLAGS:
            raise _read_only()
        return await asyncio.to_thread(self._open, path)

    async def open56(self, path: bytes, desired_access: int, flags: int, attrs: asyncssh.SFTPAttrs) -> object:
        disposition = flags & asyncssh.FXF_ACCESS_DISPOSITION
        if desired_access & _WRITE_ACCESS or disposition != asyncssh.FXF_OPEN_EXISTING:
            raise _read_only()
        return await asyncio.to_thread(self._open, path)

    def _open(self, path: bytes) -> object:
        found = self._file_now(path)
        try:
            return open(found.path, "rb")  # closed by asyncssh through close()
        except FileNotFoundError:  # removed by retention since it was resolved
            raise asyncssh.SFTPNoSuchFile("no such file") from None

    async def readlink(self, path: bytes) -> bytes:
        await self.stat(path)
        raise asyncssh.SFTPInvalidParameter("not a symbolic link")

    # every change is refused ---------------------------------------------------------------------------------------
    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        raise _read_only()

    def setstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise _read_only()

    def lsetstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise _read_only()

    def fsetstat(self, file_obj: object, attrs: asyncssh.SFTPAttrs) -> None:
        raise _read_only()

    def remove(self, path: bytes) -> None:
        raise _read_only()

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise _read_only()

    def rmdir(self, path: bytes) -> None:
        raise _read_only()

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise _read_only()

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise _read_only()

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise _read_only()

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise _read_only()


# --- serving ----------------------------------------------------------------------------------------------------
async def start_sftp_server(
    runtime: Runtime, *, host: str | None = None, port: int | None = None
) -> asyncssh.SSHAcceptor:
    """Listen for SFTP on ``host``:``port`` (default: the settings; port 0 picks a free one, see ``get_port()``)."""
    settings = runtime.settings
    drop = DropFolder(settings.drop_dir)
    drop.ensure()
    host_key = load_host_key(settings.sftp_host_key)
    credentials = SftpCredentials(runtime.engine, runtime.clock)
    listen_host = settings.sftp_host if host is None else host
    listen_port = settings.sftp_port if port is None else port

    def sftp_factory(chan: asyncssh.SSHServerChannel[Any]) -> asyncssh.SFTPServer:
        return DropSftpServer(chan, drop)

    try:
        acceptor = await asyncssh.create_server(
            lambda: _SshServer(credentials),
            listen_host,
            listen_port,
            server_host_keys=[host_key],
            sftp_factory=sftp_factory,
            allow_scp=False,
            allow_pty=False,
            agent_forwarding=False,
            x11_forwarding=False,
            login_timeout=60,
            keepalive_interval=60,
        )
    except OSError as exc:
        raise InvalidInput(
            f"the SFTP server cannot listen on {listen_host}:{listen_port}: {exc.strerror or exc}",
            code="sftp_listen_failed",
        ) from None
    log.info(
        "sftp: serving %s read-only on %s:%d (host key %s)",
        drop.root,
        listen_host,
        acceptor.get_port(),
        host_key.get_fingerprint("sha256"),
    )
    return acceptor


async def _serve(runtime: Runtime) -> None:
    acceptor = await start_sftp_server(runtime)
    try:
        await acceptor.wait_closed()
    finally:
        acceptor.close()
        with contextlib.suppress(Exception):
            await acceptor.wait_closed()


DAEMON = Daemon("sftp", _serve, lambda runtime: runtime.settings.sftp_port != 0)
