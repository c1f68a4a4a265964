"""What every area's ``cli.py`` shares: the app, its settings and database, the command-line
operator the audit trail names, refused configuration, busy ports and stop signals, and printing
(tables, URLs).

Services are imported inside the commands, not at the top of the area modules: ``portal keygen``,
``portal benefits estimate`` and ``portal sandbox`` need no app, and a refused configuration must
still let ``portal --help`` list the commands.
"""

from __future__ import annotations

import errno
import signal
import socket
import threading
import unicodedata
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping
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


# --- ports and stopping: `portal demo`, `portal sandbox` -----------------------------------------


class PortBusy(click.ClickException):
    """A port the command should listen on is taken: say which and how to choose another one,
    in one line, no traceback (exit status 1)."""

    exit_code = 1

    def __init__(self, port: int, option: str, reason: str | None = None) -> None:
        if reason is None:
            message = f"端口 {port} 已被占用：请先停止占用该端口的程序，或使用 {option} 指定其他端口"
        else:
            message = f"端口 {port} 无法使用（{reason}）：请使用 {option} 指定其他端口"
        super().__init__(message)
        self.port, self.option = port, option

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


def port_in_use(host: str, port: int) -> bool:
    """Whether ``host:port`` cannot be bound now. The check binds the way werkzeug's server does
    (SO_REUSEADDR), so a port in TIME_WAIT after a previous run counts as free."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def check_ports(host: str, ports: Mapping[str, int]) -> None:
    """Refuse before anything starts when one of ``{option: port}`` is taken (:class:`PortBusy`)."""
    for option, port in ports.items():
        if port_in_use(host, port):
            raise PortBusy(port, option)


@contextmanager
def binding(port: int, option: str) -> Iterator[None]:
    """Around creating a server: an OSError (taken meanwhile, no permission) becomes :class:`PortBusy`."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortBusy(port, option) from exc
        raise PortBusy(port, option, exc.strerror or str(exc)) from exc


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """Catch Ctrl-C (SIGINT) and SIGTERM from here on: the event is set instead. Enter it before
    starting servers, so a signal during start-up stops them cleanly too. SIGINT is caught also
    when it was ignored (started in the background). On leaving, the previous handlers are back,
    so a second Ctrl-C while stopping forces it."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_for(stop: threading.Event, poll: float = 0.5) -> None:
    """Block until ``stop`` is set (in short waits, so the main thread runs signal handlers)."""
    while not stop.wait(poll):
        pass


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

