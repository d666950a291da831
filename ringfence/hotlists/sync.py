"""Auto-sync of hotlists: watch a folder for new files, poll a URL for new content; each becomes a new version.

- **Folder** (a list's ``sync_folder``): every regular file that appears (not hidden, not ``*.tmp``/``*.part``,
  not a symbolic link) is imported once for its name and content (SHA-256): a file copied in again unchanged is
  not a new version, a file rewritten with new content is. A file is read only once its size and modification time
  held still between two looks, so one being written is not imported half way. Files are taken oldest first.
- **URL** (a list's ``sync_url``): fetched every ``sync_every_s`` seconds with a timeout, conditionally
  (``If-None-Match``/``If-Modified-Since`` when the server gave validators); content whose SHA-256 equals the
  newest version's is not imported again.

Both checks are repeated under the hotlists' write lock (:meth:`HotlistService.sync_file`), so several nodes syncing
the same source never make two versions of one file. A file or download that publishes nothing (``no_valid_numbers``)
or is otherwise refused is logged once and left until its content changes; the list keeps its current version.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Final

import httpx

from ringfence.errors import RingfenceError
from ringfence.hotlists.models import Hotlist, ImportOutcome
from ringfence.hotlists.service import HotlistService

__all__ = ["SKIPPED_SUFFIXES", "SYNC_TIMEOUT_S", "Syncer"]

log = logging.getLogger("ringfence.hotlists")

#: The longest a download may take, in seconds (shorter for lists polled more often than that).
SYNC_TIMEOUT_S: Final = 30.0
#: Files of a watched folder that are still being written by convention, or are editors' leftovers.
SKIPPED_SUFFIXES: Final = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")


@dataclass(slots=True)
class _Poll:
    """What this node knows of one list's URL: when to fetch it next and the validators of the last answer."""

    url: str
    due: float = 0.0
    etag: str | None = None
    modified: str | None = None
    refused: str | None = None  # the SHA-256 of content that was refused: not tried again


@dataclass(slots=True)
class Syncer:
    """One node's auto-sync of every list with a folder or a URL; :meth:`run_once` is one pass over them."""

    service: HotlistService
    max_bytes: int
    timeout_s: float = SYNC_TIMEOUT_S
    _looked: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)  # at the previous look
    _handled: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)  # imported, skipped or refused
    _polls: dict[int, _Poll] = field(default_factory=dict)

    async def run_once(self, client: httpx.AsyncClient) -> list[ImportOutcome]:
        """Look at every folder and fetch every URL that is due; the versions made."""
        hotlists = await asyncio.to_thread(self.service.lists)
        made: list[ImportOutcome] = []
        for hotlist in hotlists:
            if hotlist.sync_folder:
                made += await asyncio.to_thread(self.scan_folder, hotlist)
        now = time.monotonic()
        due = [h for h in hotlists if h.sync_url and self._poll_of(h).due <= now]
        for outcome in await asyncio.gather(*(self.poll_url(h, client) for h in due)):
            if outcome is not None:
                made.append(outcome)
        return made

    # --- folders ------------------------------------------------------------------------------------------------
    def scan_folder(self, hotlist: Hotlist) -> list[ImportOutcome]:
        """Import the files of the list's folder that are new and settled; the versions made."""
        folder = hotlist.sync_folder
        assert folder is not None
        try:
            found = sorted(self._files(folder), key=lambda f: (f[2][1], f[0]))
        except OSError as exc:
            log.warning("hotlist %s: cannot read the folder %s: %s", hotlist.name, folder, exc)
            return []
        made: list[ImportOutcome] = []
        for name, path, shape in found:
            key = (hotlist.id, name)
            if self._handled.get(key) == shape:
                continue
            if self._looked.get(key) != shape:  # new or still changing: look again next time
                self._looked[key] = shape
                continue
            self._handled[key] = shape
            outcome = self._import_file(hotlist, name, path, shape[0])
            if outcome is not None:
                made.append(outcome)
        return made

    @staticmethod
    def _files(folder: str) -> list[tuple[str, str, tuple[int, int]]]:
        files = []
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name.endswith(SKIPPED_SUFFIXES):
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat(follow_symlinks=False)
                files.append((entry.name, entry.path, (stat.st_size, stat.st_mtime_ns)))
        return files

    def _import_file(self, hotlist: Hotlist, name: str, path: str, size: int) -> ImportOutcome | None:
        if size > self.max_bytes:
            log.warning(
                "hotlist %s: %s is %d bytes, over the %d allowed; skipped", hotlist.name, name, size, self.max_bytes
            )
            return None
        try:
            with open(path, "rb") as stream:
                data = stream.read(self.max_bytes + 1)
        except OSError as exc:
            log.warning("hotlist %s: cannot read %s: %s", hotlist.name, name, exc)
            self._handled.pop((hotlist.id, name), None)
            return None
        try:
            return self.service.sync_file(hotlist.name, data, source=name, once_per_source=True)
        except RingfenceError as exc:
            log.warning("hotlist %s: %s refused, the list keeps its version: %s", hotlist.name, name, exc.message)
            return None

    # --- URLs ---------------------------------------------------------------------------------------------------
    def _poll_of(self, hotlist: Hotlist) -> _Poll:
        assert hotlist.sync_url is not None
        poll = self._polls.get(hotlist.id)
        if poll is None or poll.url != hotlist.sync_url:  # new, or the list was pointed elsewhere
            poll = self._polls[hotlist.id] = _Poll(hotlist.sync_url)
        return poll

    async def poll_url(self, hotlist: Hotlist, client: httpx.AsyncClient) -> ImportOutcome | None:
        """Fetch the list's URL now and import what it serves when that is new."""
        poll = self._poll_of(hotlist)
        poll.due = time.monotonic() + hotlist.sync_every_s
        headers = {}
        if poll.etag:
            headers["If-None-Match"] = poll.etag
        if poll.modified:
            headers["If-Modified-Since"] = poll.modified
        timeout = min(self.timeout_s, float(hotlist.sync_every_s))
        try:
            data = await asyncio.wait_for(self._fetch(client, poll, headers, timeout), timeout)
        except (httpx.HTTPError, TimeoutError, _Refused) as exc:
            log.warning("hotlist %s: fetching %s failed: %s", hotlist.name, poll.url, exc or type(exc).__name__)
            return None
        if data is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if digest == poll.refused:
            return None
        try:
            return await asyncio.to_thread(
                self.service.sync_file, hotlist.name, data, source=poll.url, once_per_source=False
            )
        except RingfenceError as exc:
            poll.refused = digest
            log.warning("hotlist %s: %s refused, the list keeps its version: %s", hotlist.name, poll.url, exc.message)
            return None

    async def _fetch(
        self, client: httpx.AsyncClient, poll: _Poll, headers: dict[str, str], timeout: float
    ) -> bytes | None:
        """The body (None: not modified), read up to ``max_bytes``."""
        async with client.stream("GET", poll.url, headers=headers, timeout=timeout) as response:
            if response.status_code == 304:
                return None
            if response.status_code != 200:
                raise _Refused(f"HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():  # a .gz file stays gzip (the reader inflates it); a server's
                # own transfer compression is undone, so the same list hashes the same however it was sent
                size += len(chunk)
                if size > self.max_bytes:
                    raise _Refused(f"the content is over {self.max_bytes} bytes")
                chunks.append(chunk)
            poll.etag = response.headers.get("etag")
            poll.modified = response.headers.get("last-modified")
            return b"".join(chunks)


class _Refused(Exception):
    """A download that is not a list: an error status, or too large."""
