"""The ``portal`` command: ``portal X`` is ``flask --app portal X``.

Commands (``portal --help``, ``portal X --help``), each in its area's ``cli.py``:

- ``portal demo``: everything on one machine from a fresh checkout (embedded SQLite, sandbox
  unified login, in-process job consumer), loopback only.
- ``portal serve``: production WSGI (gunicorn) on ``PORTAL_DATABASE_URL``; ``PORTAL_ENV`` defaults
  to ``production`` so unsafe settings are refused (exit status 2).
- ``portal sandbox``: the sandbox peers alone (the unified-login OIDC provider).
- ``portal worker``: the background-job consumer (Huey), foreground.
- ``portal db upgrade|downgrade|current|revision``: migrations (Alembic).
- ``portal audit verify``, ``portal keygen``, ``portal keys rotate``, ``portal api-client create``,
  ``portal sessions purge|revoke SUBJECT``, ``portal staff load FILE|disable SUBJECT``.
- ``portal deadline``, ``portal benefits estimate``, ``portal outbox dispatch|status``.

Exit status: 0 done, 1 the command found a problem (e.g. a broken audit chain), 2 refused
configuration or bad usage.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, ScriptInfo

from portal.accounts.cli import staff_group
from portal.api.cli import api_client_group
from portal.audit.cli import audit_group
from portal.auth.cli import sessions_group
from portal.benefits.cli import benefits_group
from portal.cli_support import ConfigRefused, build_app
from portal.clocks.cli import deadline_command
from portal.config import ConfigError
from portal.ops.cli import db_group, demo, sandbox, serve, worker
from portal.outbox.cli import outbox_group
from portal.security.cli import keygen, keys_group

#: Every command, area by area: ``portal X`` and ``flask --app portal X`` offer these.
COMMANDS: tuple[click.Command, ...] = (
    demo, serve, sandbox, worker, db_group,  # ops: running the portal, migrations
    audit_group,                             # audit
    keygen, keys_group,                      # security
    api_client_group,                        # api
    sessions_group,                          # auth
    staff_group,                             # accounts
    deadline_command,                        # clocks
    outbox_group,                            # outbox
    benefits_group,                          # benefits
)


class PortalGroup(FlaskGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # `portal --help` under a refused configuration: say so in one line, no traceback.
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigRefused as exc:
            click.echo(f"（配置有误，以下仅列出内置命令 / configuration refused: "
                       f"{exc.message.splitlines()[0]}）", err=True)
            self._load_plugin_commands()
            return sorted(AppGroup.list_commands(self, ctx))
        return super().list_commands(ctx)


cli = PortalGroup(
    create_app=build_app,
    commands=COMMANDS,
    help="工伤保险公共服务门户 命令行 (work-injury insurance portal). `portal X` = `flask --app portal X`.",
)


def register_commands(app: Flask) -> None:
    """Also offer the commands under ``flask --app portal``."""
    for command in COMMANDS:
        if command.name not in app.cli.commands:
            app.cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="portal")
    except ConfigError as exc:  # raised outside a command (e.g. while listing app commands)
        ConfigRefused(str(exc)).show()
        sys.exit(2)


if __name__ == "__main__":
    main()
