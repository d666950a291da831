"""What every command shares: the global options, the settings they make, and the runtime or remote client, opened
on first use and closed when the command ends."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from ringfence.config import SETTINGS, Settings
from ringfence.errors import InvalidInput
from ringfence.registry.members import Principal
from ringfence.registry.models import Member, Role
from ringfence.runtime import Runtime

from .remote import Remote

__all__ = ["State", "pass_state"]


def _parse_region(raw: str) -> str | None:
    setting = next(s for s in SETTINGS if s.name == "default_region")
    try:
        value: str | None = setting.parse(raw)
    except ValueError as exc:
        raise InvalidInput(
            f"--region {raw!r} is not valid: {exc}", code="invalid_setting", details={"setting": "region", "value": raw}
        ) from None
    return value


@dataclass
class State:
    """The global options of one invocation and the resources opened for it."""

    database_url: str | None = None
    region: str | None = None
    url: str | None = None
    key: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _runtime: Runtime | None = field(default=None, repr=False)
    _remote: Remote | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """Defaults, then ``RINGFENCE_*`` variables, then the command line."""
        if self._settings is None:
            region = None if self.region is None else _parse_region(self.region)
            self._settings = Settings.from_env(database_url=self.database_url, default_region=region)
        return self._settings

    @property
    def remote(self) -> Remote | None:
        """The client of the server named by ``--url``, or None when commands work on the local store."""
        if self.url is None:
            return None
        if self._remote is None:
            self._remote = Remote(self.url, self.key)
        return self._remote

    def runtime(self, *, load_index: bool = False) -> Runtime:
        """The local runtime (opened, and migrated, on first use); ``load_index`` when the command looks numbers up."""
        if self._runtime is None:
            self._runtime = Runtime.open(self.settings, load_index=load_index)
        elif load_index and len(self._runtime.registry.index) == 0:
            self._runtime.registry.load_index()
        return self._runtime

    def reporter(self, name: str | None) -> Member:
        """The local member a command acts for (``--member``); it must be allowed to report."""
        if not name:
            raise click.UsageError("--member NAME is required when working on the local database")
        member = self.runtime().members.get(name)
        Principal(member, "cli").require(Role.REPORTER)
        return member

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        if self._remote is not None:
            self._remote.close()
            self._remote = None


pass_state = click.make_pass_decorator(State)
