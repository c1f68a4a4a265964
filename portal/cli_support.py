"""What every area's ``cli.py`` shares: the app, its settings and database, the command-line
operator the audit trail names, refused configuration, and printing (tables, URLs).

Services are imported inside the commands, not at the top of the area modules: ``portal keygen``,
``portal benefits estimate`` and ``portal sandbox`` need no app, and a refused configuration must
still let ``portal --help`` list the commands.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal.config import ConfigError


class ConfigRefused(click.ClickException):
    """Configuration refused by ``portal.config.validate``: message only, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"配置错误，拒绝启动 (configuration refused):\n{self.message}", err=True)


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """``portal.create_app``; a refused configuration ends the command with exit status 2."""
    from portal import create_app

    try:
        return create_app(overrides)
    except ConfigError as exc:
        raise ConfigRefused(str(exc)) from exc


def settings():
    return current_app.config["PORTAL_SETTINGS"]


def database():
    return current_app.extensions["portal.database"]


def operator():
    """Who the audit trail names for changes made from the command line on the server."""
    import getpass

    from portal.auth.roles import Actor

    return Actor(role=None, display_name=f"命令行管理（{getpass.getuser()}）", client_addr="localhost")


def as_operator(change, *args, **kwargs):
    """Run ``change(sess, operator, ...)`` in one audited write; domain errors become messages."""
    from portal.errors import DomainError

    try:
        with database().write_transaction() as sess:
            return change(sess, operator(), *args, **kwargs)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


def subject_command(name: str, change: str, *, help: str, done: str) -> click.Command:
    """``NAME SUBJECT``: ``change(sess, operator, SUBJECT)`` as the operator (:func:`as_operator`),
    then ``done`` printed with ``{subject}`` and ``{count}`` (what ``change`` returned) filled in.

    ``change`` is ``"module:function"``, imported when the command runs."""
    from pkgutil import resolve_name

    @click.command(name, help=help)
    @click.argument("subject")
    @with_appcontext
    def command(subject: str) -> None:
        count = as_operator(resolve_name(change), subject)
        click.echo(done.format(subject=subject, count=count))

    return command


def redact_url(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_table(header: Iterable[str], rows: Iterable[Iterable[str]], indent: str = "  ") -> str:
    """Columns aligned for a terminal, counting a Chinese character as two cells."""
    header, rows = list(header), [list(r) for r in rows]
    widths = [max(_width(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [indent + "  ".join(_pad(c, w) for c, w in zip(header, widths, strict=True)).rstrip(),
             indent + "  ".join("-" * w for w in widths)]
    lines += [indent + "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)

