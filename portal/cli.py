"""The ``portal`` command: ``portal X`` is ``flask --app portal X``.

Commands (``portal --help``, ``portal X --help``):

- ``portal demo``: everything on one machine from a fresh checkout (embedded SQLite, sandbox
  unified login, in-process job consumer), loopback only.
- ``portal serve``: production WSGI (gunicorn) on ``PORTAL_DATABASE_URL``; ``PORTAL_ENV`` defaults
  to ``production`` so unsafe settings are refused (exit status 2).
- ``portal sandbox``: the sandbox peers alone (the unified-login OIDC provider).
- ``portal worker``: the background-job consumer (Huey), foreground.
- ``portal db upgrade|downgrade|current|revision``: migrations (Alembic).
- ``portal audit verify``, ``portal keygen``, ``portal sessions purge|revoke SUBJECT``, ``portal staff load FILE|disable SUBJECT``.

Exit status: 0 done, 1 the command found a problem (e.g. a broken audit chain), 2 refused
configuration or bad usage.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import signal
import sys
import threading
import tomllib
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, ScriptInfo

from portal.benefits.cli import benefits_group
from portal.clocks.cli import deadline_command
from portal.config import PROJECT_ROOT, ConfigError, load_settings
from portal.outbox.cli import outbox_group

DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


class ConfigRefused(click.ClickException):
    """Configuration refused by ``portal.config.validate``: message only, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"配置错误，拒绝启动 (configuration refused):\n{self.message}", err=True)


def _create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    from portal import create_app

    try:
        return create_app(overrides)
    except ConfigError as exc:
        raise ConfigRefused(str(exc)) from exc


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
    create_app=_create_app,
    help="工伤保险公共服务门户 命令行 (work-injury insurance portal). `portal X` = `flask --app portal X`.",
)


def register_commands(app: Flask) -> None:
    """Also offer the commands under ``flask --app portal``."""
    for command in (demo, serve, sandbox, worker, db_group, audit_group, keygen, keys_group,
                    api_client_group, sessions_group, staff_group, deadline_command, outbox_group,
                    benefits_group):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="portal")
    except ConfigError as exc:  # raised outside a command (e.g. while listing app commands)
        ConfigRefused(str(exc)).show()
        sys.exit(2)


# --- helpers ----------------------------------------------------------------------------------


def _settings():
    return current_app.config["PORTAL_SETTINGS"]


def _database():
    return current_app.extensions["portal.database"]


def redact_url(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def _loopback(value: str) -> str:
    """The demo serves development secrets and demo logins: IPv4 loopback (127.x.x.x) only."""
    try:
        if ipaddress.IPv4Address(value).is_loopback:
            return value
    except ValueError:
        pass
    raise click.BadParameter(f"演示环境只能绑定本机回环地址（如 127.0.0.1），不能是 {value!r}")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_table(header: Iterable[str], rows: Iterable[Iterable[str]], indent: str = "  ") -> str:
    header, rows = list(header), [list(r) for r in rows]
    widths = [max(_width(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [indent + "  ".join(_pad(c, w) for c, w in zip(header, widths, strict=True)).rstrip(),
             indent + "  ".join("-" * w for w in widths)]
    lines += [indent + "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


ACCOUNT_TYPES = {"natural": "个人 natural", "legal": "法人 legal", "staff": "工作人员 staff"}


def demo_accounts_rows() -> list[tuple[str, str, str, str]]:
    """(username, 类型, name, role) of every sandbox demo account, from the two config files."""
    from portal.auth.roles import Role
    from portal.demo import STAFF_FILE, sandbox_accounts
    from portal.regions import city_name

    with STAFF_FILE.open("rb") as fh:
        staff = {entry["subject"]: entry for entry in tomllib.load(fh)["staff"]}
    rows = []
    for account in sandbox_accounts():
        kind = account["account_type"]
        if kind == "natural":
            role = f"{Role.WORKER.label} worker"
        elif kind == "legal":
            role = f"{Role.EMPLOYER.label} employer（{account.get('org_name', '')}）"
        elif account["sub"] in staff:
            entry = staff[account["sub"]]
            where = city_name(entry.get("city_code")) if entry.get("city_code") else "全省"
            role = f"{Role(entry['role']).label} {entry['role']}（{where}）"
        else:
            role = "未授权工作人员：登录将被拒绝 (not authorised: login refused)"
        rows.append((account["username"], ACCOUNT_TYPES.get(kind, kind), account["name"], role))
    return rows


def _tax_sandbox_app(settings, host: str, tax_port: int, portal_url: str):
    """The tax collection platform sandbox (社保费征收), reporting payments to the portal."""
    from adapters.tax_collection.sandbox import create_tax_sandbox_app

    return create_tax_sandbox_app(base_url=f"http://{host}:{tax_port}",
                                  portal_callback_url=f"{portal_url.rstrip('/')}/api/payments/tax-callback",
                                  signing_key=settings.tax_platform_key.encode("utf-8"))


def _service_item_apps(settings) -> dict[str, str]:
    """The portal's registration at the 一网通办 sandbox (办件上报), from its own settings."""
    return {settings.gov_platform_app_id: settings.gov_platform_secret}


def _sandbox_client(settings, portal_url: str) -> dict:
    portal_url = portal_url.rstrip("/")
    return {
        "client_id": settings.oidc_client_id,
        "client_secret": settings.oidc_client_secret,
        "redirect_uris": [f"{portal_url}/auth/callback"],
        "post_logout_redirect_uris": [f"{portal_url}/"],
    }


# --- portal demo ------------------------------------------------------------------------------


@cli.command("demo", with_appcontext=False)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="门户端口 / portal port")
@click.option("--sandbox-port", default=5100, show_default=True, type=click.IntRange(1, 65535),
              help="统一身份认证沙箱端口 / sandbox OIDC provider port")
@click.option("--tax-port", default=5200, show_default=True, type=click.IntRange(1, 65535),
              help="社保费征收平台沙箱端口 / tax collection platform sandbox port")
@click.option("--host", default="127.0.0.1", show_default=True, callback=lambda c, p, v: _loopback(v),
              help="只允许本机回环地址 / loopback only")
@click.option("--instance", "instance_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help=f"演示数据目录 / data directory (default {DEFAULT_INSTANCE})")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16),
              help="后台任务线程数 / job consumer threads")
@click.option("--no-browser-hint", is_flag=True, help="不提示在浏览器中打开 / no 'open in browser' hint")
def demo(port: int, sandbox_port: int, tax_port: int, host: str, instance_dir: Path | None, workers: int,
         no_browser_hint: bool) -> None:
    """演示环境：门户 + 统一身份认证沙箱 + 后台任务，一条命令启动 (all-in-one demo, loopback only).

    Safe to re-run: migrations and demo data are idempotent. Data lives in the instance directory
    (embedded SQLite), never in PORTAL_DATABASE_URL.
    """
    from werkzeug.serving import make_server

    from adapters.gov_platform.sandbox import create_sandbox_app
    from adapters.sandbox_server import serve_in_thread, stop_server
    from portal import migrate
    from portal.demo import load_staff_register
    from portal.tasks import queue

    if port == sandbox_port:
        raise click.BadParameter("门户与沙箱不能使用同一端口", param_hint="--sandbox-port")
    if tax_port in (port, sandbox_port):
        raise click.BadParameter("征收平台沙箱不能与门户或登录沙箱使用同一端口", param_hint="--tax-port")
    instance = (instance_dir or DEFAULT_INSTANCE).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    portal_url = f"http://{host}:{port}"
    issuer = f"http://{host}:{sandbox_port}"
    overrides: dict[str, Any] = {
        "env": "development",
        "database_url": f"sqlite:///{instance / 'portal.db'}",
        "queue_url": f"sqlite:///{instance / 'queue.db'}",
        "queue_immediate": False,
        "oidc_issuer": issuer,
        "oidc_redirect_uri": f"{portal_url}/auth/callback",
        "tax_platform_url": f"http://{host}:{tax_port}",
        "gov_platform_url": issuer,  # 一网通办 is served by the same sandbox process
    }
    if "PORTAL_LOG_FORMAT" not in os.environ:
        overrides["log_format"] = "console"
    app = _create_app(overrides)
    settings = app.config["PORTAL_SETTINGS"]
    database = app.extensions["portal.database"]

    click.echo(f"准备数据库 / migrating {instance / 'portal.db'} …")
    migrate.upgrade(settings.database_url)
    with database.write_transaction() as sess:
        staff_count = load_staff_register(sess)

    sandbox_app = create_sandbox_app(issuer=issuer, clients=[_sandbox_client(settings, portal_url)],
                                     key_dir=instance / "sandbox-keys",
                                     service_item_apps=_service_item_apps(settings),
                                     service_items_file=instance / "gov-platform-items.json")
    try:
        sandbox_server, sandbox_thread = serve_in_thread(sandbox_app, host, sandbox_port)
    except OSError as exc:
        raise click.ClickException(
            f"沙箱端口 {sandbox_port} 无法使用（{exc.strerror}），请用 --sandbox-port 换一个") from exc
    try:
        tax_server, tax_thread = serve_in_thread(_tax_sandbox_app(settings, host, tax_port, portal_url), host, tax_port)
    except OSError as exc:
        stop_server(sandbox_server, sandbox_thread)
        raise click.ClickException(
            f"征收平台沙箱端口 {tax_port} 无法使用（{exc.strerror}），请用 --tax-port 换一个") from exc
    try:
        portal_server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        stop_server(sandbox_server, sandbox_thread)
        stop_server(tax_server, tax_thread)
        raise click.ClickException(f"门户端口 {port} 无法使用（{exc.strerror}），请用 --port 换一个") from exc
    from portal.tasks import outbox as outbox_tasks  # noqa: F401  (registers the outbox job)

    consumer = queue.start_consumer(workers=workers)
    portal_thread = threading.Thread(target=portal_server.serve_forever, kwargs={"poll_interval": 0.2},
                                     name="portal-http", daemon=True)
    portal_thread.start()

    # Ctrl-C (also when started in the background, where SIGINT may be ignored) and SIGTERM end
    # the demo; once stopping, the previous handlers are back, so a second Ctrl-C forces it.
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    _print_demo_banner(portal_url, issuer, instance, staff_count, workers, no_browser_hint,
                       tax_url=settings.tax_platform_url)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        click.echo("\n正在停止 / stopping …")
        portal_server.shutdown()
        portal_thread.join(10)
        queue.stop_consumer(consumer)
        stop_server(sandbox_server, sandbox_thread)
        stop_server(tax_server, tax_thread)
        queue.huey.storage.close()
        database.dispose()
        click.echo("已停止 / stopped.")


def _print_demo_banner(portal_url: str, issuer: str, instance: Path, staff_count: int, workers: int,
                       no_browser_hint: bool, tax_url: str = "") -> None:
    echo = click.echo
    echo("")
    echo("工伤保险公共服务门户 演示环境已启动 (work-injury insurance portal: demo running)")
    echo(f"  门户 Portal:                         {portal_url}/")
    echo(f"  统一身份认证沙箱 Sandbox login (OIDC): {issuer}/")
    echo(f"      discovery: {issuer}/.well-known/openid-configuration")
    echo(f"      一网通办 办件 service items: {issuer}/gov/items （我的办件 {issuer}/gov/my-items）")
    if tax_url:
        echo(f"  社保费征收平台沙箱 Tax payment sandbox: {tax_url}/")
    echo(f"  数据目录 Data:                       {instance}（SQLite；已载入 {staff_count} 条工作人员授权）")
    echo(f"  后台任务 Jobs:                       进程内 {workers} 个线程 / in-process, {workers} threads")
    echo("")
    echo("演示账号（密码均为 demo）/ Demo accounts (password: demo):")
    echo(format_table(("用户名 username", "类型 type", "姓名 name", "角色 role"), demo_accounts_rows()))
    echo("")
    if not no_browser_hint:
        echo(f"请在浏览器中打开 / Open in your browser: {portal_url}/")
    echo("按 Ctrl-C 停止 / Press Ctrl-C to stop.")


# --- portal serve -----------------------------------------------------------------------------


def _default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 8)


@cli.command("serve", with_appcontext=False)
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="地址:端口 / host:port")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="gunicorn 工作进程数 / worker processes (default: 2 × CPU + 1, at most 8)")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="每个进程的线程数 / threads per worker")
def serve(bind: str, workers: int | None, threads: int) -> None:
    """生产环境 WSGI 服务 (gunicorn) on PORTAL_DATABASE_URL; PORTAL_ENV defaults to production."""
    os.environ.setdefault("PORTAL_ENV", "production")
    app = _create_app()
    settings = app.config["PORTAL_SETTINGS"]
    options = {
        "bind": bind,
        "workers": workers or _default_workers(),
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": None,  # the portal logs each request itself, without query strings
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "proc_name": "portal",
        "post_fork": _gunicorn_post_fork,
        # gunicorn ≥ 25 opens a control socket in ~/.gunicorn; nothing of ours uses it, and two
        # portals on one host would fight over the path.
        "control_socket_disable": True,
    }
    click.echo(f"门户启动 / serving on http://{bind} ({settings.env}, database "
               f"{redact_url(settings.database_url)}, {options['workers']} workers × {threads} threads)",
               err=True)
    _run_gunicorn(app, options)


def _gunicorn_post_fork(server, worker) -> None:
    # Connections opened before the fork must not be shared by the children.
    app = server.app.application
    app.extensions["portal.database"].engine.dispose(close=False)


def _run_gunicorn(app: Flask, options: Mapping[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class PortalGunicorn(BaseApplication):
        """gunicorn driven from Python: our options, our already validated app."""

        def __init__(self) -> None:
            self.application = app
            super().__init__()

        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return self.application

    PortalGunicorn().run()


# --- portal sandbox ---------------------------------------------------------------------------


@cli.command("sandbox", with_appcontext=False)
@click.option("--port", default=5100, show_default=True, type=click.IntRange(1, 65535))
@click.option("--portal-url", default="http://127.0.0.1:5000", show_default=True,
              help="门户地址（用于登录回调）/ the portal's base URL (login callback)")
@click.option("--tax-port", default=5200, show_default=True, type=click.IntRange(1, 65535),
              help="社保费征收平台沙箱端口 / tax collection platform sandbox port")
@click.option("--instance", "instance_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help=f"签名密钥所在目录的上级 / keeps sandbox-keys/ here (default {DEFAULT_INSTANCE})")
def sandbox(port: int, portal_url: str, tax_port: int, instance_dir: Path | None) -> None:
    """仅启动沙箱对端（统一身份认证 OIDC，社保费征收平台）/ the sandbox peers alone, foreground."""
    from werkzeug.serving import make_server

    from adapters.gov_platform.sandbox import create_sandbox_app
    from portal.logging_setup import configure_logging

    settings = load_settings()
    if settings.is_production:
        raise ConfigRefused("沙箱仅用于开发和测试，生产环境 (PORTAL_ENV=production) 不能启动")
    configure_logging(settings.log_format, settings.log_level)
    issuer = f"http://127.0.0.1:{port}"
    app = create_sandbox_app(issuer=issuer, clients=[_sandbox_client(settings, portal_url)],
                             key_dir=(instance_dir or DEFAULT_INSTANCE).resolve() / "sandbox-keys",
                             service_item_apps=_service_item_apps(settings),
                             service_items_file=(instance_dir or DEFAULT_INSTANCE).resolve() / "gov-platform-items.json")
    try:
        server = make_server("127.0.0.1", port, app, threaded=True)
    except OSError as exc:
        raise click.ClickException(f"端口 {port} 无法使用（{exc.strerror}）") from exc
    from adapters.sandbox_server import serve_in_thread, stop_server

    try:
        tax_server, tax_thread = serve_in_thread(_tax_sandbox_app(settings, "127.0.0.1", tax_port, portal_url),
                                                 "127.0.0.1", tax_port)
    except OSError as exc:
        server.server_close()
        raise click.ClickException(f"端口 {tax_port} 无法使用（{exc.strerror}）") from exc
    click.echo(f"统一身份认证沙箱 / sandbox OIDC provider: {issuer}/ "
               f"(client {settings.oidc_client_id} → {portal_url.rstrip('/')}/auth/callback)")
    click.echo(f"社保费征收平台沙箱 / tax payment sandbox: http://127.0.0.1:{tax_port}/ "
               f"(callback → {portal_url.rstrip('/')}/api/payments/tax-callback)")
    click.echo("按 Ctrl-C 停止 / Press Ctrl-C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        stop_server(tax_server, tax_thread)


# --- portal worker ----------------------------------------------------------------------------


@cli.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="线程数 / consumer threads")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="是否执行定时任务 / run periodic tasks (run them on one worker only)")
def worker(workers: int, periodic: bool) -> None:
    """后台任务进程 (Huey consumer), foreground. Point PORTAL_QUEUE_URL and PORTAL_DATABASE_URL
    at the same Redis and database as the web servers."""
    from portal.tasks import jobs, outbox, payments, queue  # noqa: F401  (registers the tasks)

    queue.init_app(current_app._get_current_object())  # type: ignore[attr-defined]
    huey = queue.huey
    if huey.immediate:
        raise ConfigRefused("PORTAL_QUEUE_IMMEDIATE 已开启：任务在请求内直接执行，不需要后台任务进程")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"后台任务进程 / worker: queue {huey.backend} {redact_url(huey.queue_url)}, "
               f"database {redact_url(_settings().database_url)}, {workers} threads, "
               f"periodic {'on' if periodic else 'off'}", err=True)
    # SQLite is polled (back off to 2 s when idle); Redis blocks on the queue and answers at once.
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic,
                                    max_delay=2.0 if huey.backend == "sqlite" else 10.0)
    consumer.run()


# --- portal db --------------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """数据库迁移 (Alembic) on the configured database_url."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """升级到 REVISION（默认 head）。"""
    from portal import migrate

    url = _settings().database_url
    migrate.upgrade(url, revision)
    click.echo(f"数据库已升级到 {revision} / upgraded to {revision}: {redact_url(url)}")


@db_group.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """降级到 REVISION（如 -1、base 或版本号）。"""
    from portal import migrate

    url = _settings().database_url
    migrate.downgrade(url, revision)
    click.echo(f"数据库已降级到 {revision} / downgraded to {revision}: {redact_url(url)}")


@db_group.command("current")
def db_current() -> None:
    """显示数据库当前版本 / show the database's revision."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from portal import migrate

    url = _settings().database_url
    heads = set(ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads())
    click.echo(f"数据库 / database: {redact_url(url)}")
    sqlite_file = _database().engine.url.database if url.startswith("sqlite") else None
    if sqlite_file and sqlite_file != ":memory:" and not Path(sqlite_file).exists():
        click.echo("当前版本 / current: 无（数据库文件不存在，请运行 portal db upgrade）")
        return
    with _database().engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if not current:
        click.echo("当前版本 / current: 无（尚未迁移，请运行 portal db upgrade）")
        return
    for rev in sorted(current):
        click.echo(f"当前版本 / current: {rev}{' (head)' if rev in heads else ''}")
    if current != heads:
        click.echo(f"有待执行的迁移 / pending migrations: 最新版本 head {', '.join(sorted(heads))}")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="迁移说明 / migration message")
def db_revision(message: str) -> None:
    """根据模型自动生成迁移 (autogenerate); review the file before committing."""
    from portal import migrate

    migrate.revision(_settings().database_url, message, autogenerate=True)
    click.echo("请人工检查生成的文件：只用 sa 类型（不引用 portal）、写好 downgrade()、"
               "新增 NOT NULL 列要有 server_default。")


# --- portal audit -----------------------------------------------------------------------------


@cli.group("audit")
def audit_group() -> None:
    """审计日志 / audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """校验审计日志哈希链；有问题时逐条列出并以状态 1 退出。"""
    from portal.audit.service import verify

    with _database().read_session() as sess:
        report = verify(sess)
    if report.ok:
        click.echo(f"审计链完整：共 {report.checked} 条 (audit chain intact: {report.checked} rows)")
        return
    for problem in report.problems:
        click.echo(problem)
    click.echo(f"审计链校验失败：共检查 {report.checked} 条，发现 {len(report.problems)} 个问题 "
               f"(audit chain broken)")
    sys.exit(1)


# --- portal keygen ----------------------------------------------------------------------------


@cli.command("keygen", with_appcontext=False)
@click.option("--algorithm", type=click.Choice(["SM4", "AES"], case_sensitive=False), default="SM4",
              show_default=True, help="个人信息加密算法 / personal-data cipher")
def keygen(algorithm: str) -> None:
    """生成生产环境密钥（export 行）/ print fresh production secrets as shell export lines."""
    from portal.security.crypto import new_key_hex

    algorithm = algorithm.upper()
    kid = "k" + datetime.now(timezone.utc).strftime("%Y%m%d")
    lines = [
        "# 门户生产环境密钥 (fresh portal secrets): 存入密钥管理系统，切勿提交到代码库。",
        "# 轮换加密密钥时，把旧的 编号:密钥 保留在 PORTAL_ENCRYPTION_KEYS 中（逗号分隔），旧数据才可读。",
        "# PORTAL_LOOKUP_KEY 一经使用不可更换（盲索引依赖它）。",
        "# PORTAL_OIDC_CLIENT_SECRET: 若省政务服务平台已分配客户端密钥，请改用平台提供的值。",
        f"export PORTAL_SECRET_KEY={secrets.token_urlsafe(48)}",
        f"export PORTAL_ENCRYPTION_ALGORITHM={algorithm}",
        f"export PORTAL_ENCRYPTION_KEYS={kid}:{new_key_hex(algorithm)}",
        f"export PORTAL_ENCRYPTION_ACTIVE_KEY={kid}",
        f"export PORTAL_LOOKUP_KEY={secrets.token_hex(32)}",
        f"export PORTAL_OIDC_CLIENT_SECRET={secrets.token_urlsafe(32)}",
        "# PORTAL_TAX_PLATFORM_KEY: 与税务部门社保费征收平台约定的签名密钥，以双方协商的值为准。",
        f"export PORTAL_TAX_PLATFORM_KEY={secrets.token_urlsafe(32)}",
        "# PORTAL_GOV_PLATFORM_SECRET: 省政务服务平台（一网通办）分配的接口密钥，以平台提供的值为准。",
        f"export PORTAL_GOV_PLATFORM_SECRET={secrets.token_urlsafe(32)}",
    ]
    click.echo("\n".join(lines))


#: who the audit trail names for changes made from the command line on the server
def _operator():
    import getpass

    from portal.auth.roles import Actor

    return Actor(role=None, display_name=f"命令行管理（{getpass.getuser()}）", client_addr="localhost")


@cli.group("keys")
def keys_group() -> None:
    """个人信息加密密钥 / personal-data encryption keys."""


def _as_operator(change, *args, **kwargs):
    """Run ``change(sess, operator, ...)`` in one audited write; domain errors become messages."""
    from portal.errors import DomainError

    try:
        with _database().write_transaction() as sess:
            return change(sess, _operator(), *args, **kwargs)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


@keys_group.command("rotate")
def keys_rotate() -> None:
    """用当前密钥（PORTAL_ENCRYPTION_ACTIVE_KEY）重新加密所有旧密钥加密的个人信息。"""
    from portal.audit import service as audit
    from portal.materials.service import reseal_all_files
    from portal.models import metadata
    from portal.security.fields import keyring
    from portal.security.rotation import reseal_all

    with _database().write_transaction() as sess:
        result = reseal_all(sess, metadata, keyring())
        files = reseal_all_files(sess, Path(_settings().files_dir), keyring())
        audit.record(sess, _operator(), "keys.rotate", detail={
            "active_key": keyring().active, "resealed": result.resealed, "files_resealed": files.resealed})
    click.echo(f"已用密钥 {keyring().active} 重新加密 {result.resealed} 项，{result.already_current} 项无需处理"
               f" / resealed {result.resealed}, {result.already_current} already current")
    click.echo(f"材料文件：重新加密 {files.resealed} 个，{files.already_current} 个无需处理"
               f" / files resealed {files.resealed}, {files.already_current} already current")


@cli.group("api-client")
def api_client_group() -> None:
    """其他部门系统的接口凭证 / credentials of other agencies' systems."""


@api_client_group.command("create")
@click.argument("client_id")
@click.option("--name", required=True, help="调用单位名称，如 合肥市住房和城乡建设局")
@click.option("--scope", "scopes", multiple=True, required=True, help="权限范围，如 project_cover:read")
@click.option("--city", "city_code", default=None, help="所属地市代码；省级调用方不填")
def api_client_create(client_id: str, name: str, scopes: tuple[str, ...], city_code: str | None) -> None:
    """签发接口凭证；密钥只显示这一次。"""
    from portal.api.clients import create_client

    issued = _as_operator(create_client, client_id=client_id, name=name, scopes=list(scopes),
                          city_code=city_code)
    click.echo(f"调用方编号 client id: {issued.client_id}\n密钥 secret（只显示一次 / shown once）: {issued.secret}")


# --- portal sessions / staff ------------------------------------------------------------------


@cli.group("sessions")
def sessions_group() -> None:
    """服务端会话 / server-side sessions."""


@sessions_group.command("purge")
def sessions_purge() -> None:
    """删除已失效的会话（已注销、空闲超时或超过最长时限）。"""
    from portal.auth.sessions import purge_dead_sessions

    with _database().write_transaction() as sess:
        deleted = purge_dead_sessions(sess, _settings().session_idle_minutes)
    click.echo(f"已删除 {deleted} 个失效会话 / purged {deleted} dead sessions")


@sessions_group.command("revoke")
@click.argument("subject")
def sessions_revoke(subject: str) -> None:
    """立即注销某账号（统一身份认证平台标识 SUBJECT）的全部会话。"""
    from portal.accounts.service import revoke_sessions_of

    revoked = _as_operator(revoke_sessions_of, subject)
    click.echo(f"已注销 {revoked} 个会话 / revoked {revoked} sessions of {subject}")


@cli.group("staff")
def staff_group() -> None:
    """工作人员授权 / the staff register."""


@staff_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def staff_load(file: Path) -> None:
    """载入工作人员授权文件（格式同 config/demo_staff.toml），可重复执行。"""
    from portal.demo import load_staff_register
    from portal.errors import DomainError

    try:
        with _database().write_transaction() as sess:
            count = load_staff_register(sess, file)
    except tomllib.TOMLDecodeError as exc:
        raise click.ClickException(f"{file} 不是有效的 TOML：{exc}") from exc
    except KeyError as exc:
        raise click.ClickException(f"{file} 缺少字段 {exc}（每条 [[staff]] 需要 subject、name、role、office）") from exc
    except DomainError as exc:
        raise click.ClickException(f"{file}：{exc.message}") from exc
    click.echo(f"已载入 {count} 条工作人员授权 / loaded {count} staff assignments from {file}")


@staff_group.command("disable")
@click.argument("subject")
def staff_disable(subject: str) -> None:
    """撤销某工作人员的授权并立即注销其会话（调离、离职）。"""
    from portal.accounts.service import deactivate_staff

    revoked = _as_operator(deactivate_staff, subject)
    click.echo(f"已撤销 {subject} 的授权，注销 {revoked} 个会话 / disabled {subject}, revoked {revoked} sessions")


cli.add_command(deadline_command)
cli.add_command(benefits_group)
cli.add_command(outbox_group)


if __name__ == "__main__":
    main()
