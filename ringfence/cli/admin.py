"""``settings`` and ``migrate``: how this installation is configured, and bringing its schema up to date."""

from __future__ import annotations

import click
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from ringfence.config import SETTINGS, settings_markdown
from ringfence.store import open_store

from .output import table
from .state import State, pass_state

__all__ = ["COMMANDS", "migrate", "settings"]


def _shown(value: object) -> str:
    return "(unset)" if value is None else str(value)


@click.command()
@click.option("--markdown", is_flag=True, help="Print the settings reference (docs/settings.md) instead.")
@pass_state
def settings(state: State, markdown: bool) -> None:
    """The settings in effect: each one's environment variable, value and default."""
    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    current = state.settings
    rows = []
    for setting in SETTINGS:
        value = getattr(current, setting.name)
        if setting.name == "database_url":
            value = make_url(value).render_as_string(hide_password=True)
        rows.append((setting.env, _shown(value), _shown(setting.default)))
    table(("variable", "value", "default"), rows)


@click.command()
@pass_state
def migrate(state: State) -> None:
    """Create or upgrade the database schema to the newest revision (safe to repeat)."""
    url = state.settings.database_url
    engine = open_store(url)
    try:
        with engine.connect() as conn:
            heads = sorted(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    click.echo(f"{make_url(url).render_as_string(hide_password=True)}: schema at revision {', '.join(heads)}")


COMMANDS = (settings, migrate)
