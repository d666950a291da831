"""The ``ringfence`` command: thin over the library (parse options, call a service, render the answer).

Every command works on the local database (``--database-url``), or with ``--url`` and ``--key`` against a running
server over HTTP. Errors are caught once, here: ``error: <message>`` on stderr and the error's exit code, never a
traceback (click's own usage errors keep exit code 2).
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from ringfence import __version__
from ringfence.errors import RingfenceError

from . import (
    admin,
    alerts,
    allowlists,
    cdrs,
    changes,
    disputes,
    files,
    hotlists,
    listings,
    members,
    reassigned,
    reports,
    serve,
    simulate,
    transfer,
    webhooks,
)
from .output import echo_error
from .state import State

__all__ = ["RingfenceGroup", "main"]


class RingfenceGroup(click.Group):
    """A click group that turns ringfence's errors into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RingfenceError as err:
            echo_error(err)
            ctx.exit(err.exit_code)
        except SQLAlchemyError as err:
            echo_error(f"database: {getattr(err, 'orig', None) or err}".splitlines()[0])
            ctx.exit(1)


@click.group(cls=RingfenceGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120})
@click.option(
    "--database-url",
    envvar="RINGFENCE_DATABASE_URL",
    show_envvar=True,
    metavar="URL",
    help="SQLAlchemy URL of the local store (sqlite:///file.db or postgresql+psycopg://...).",
)
@click.option(
    "--region",
    envvar="RINGFENCE_DEFAULT_REGION",
    show_envvar=True,
    metavar="CC",
    help="Region for numbers in national format (ISO 3166 alpha-2, e.g. GB).",
)
@click.option(
    "--url",
    envvar="RINGFENCE_URL",
    show_envvar=True,
    metavar="URL",
    help="Work against the ringfence server at URL instead of the local database.",
)
@click.option("--key", envvar="RINGFENCE_KEY", show_envvar=True, metavar="KEY", help="API key for --url.")
@click.version_option(__version__, "--version", prog_name="ringfence")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, region: str | None, url: str | None, key: str | None) -> None:
    """ringfence: the consortium fraud-number registry."""
    state = State(database_url=database_url, region=region, url=url, key=key)
    ctx.obj = state
    ctx.call_on_close(state.close)


for _module in (
    serve,
    reports,
    transfer,
    changes,
    members,
    admin,
    files,
    webhooks,
    disputes,
    reassigned,
    allowlists,
    listings,
    hotlists,
    simulate,
    cdrs,
    alerts,
):
    for _command in _module.COMMANDS:
        main.add_command(_command)
