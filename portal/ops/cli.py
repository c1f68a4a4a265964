"""Running the portal: ``portal demo``, ``portal serve``, ``portal sandbox``, ``portal worker`` and
the migrations, ``portal db upgrade|downgrade|current|revision``."""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from pathlib import Path
from typing import Any, Mapping

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from portal.cli_support import (
    ConfigRefused,
    binding,
    build_app,
    check_ports,
    database,
    format_table,
    redact_url,
    settings,
    stop_signals,
    wait_for,
)
from portal.config import PROJECT_ROOT, load_settings

DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _loopback(value: str) -> str:
    """The demo serves development secrets and demo logins: IPv4 loopback (127.x.x.x) only."""
    try:
        if ipaddress.IPv4Address(value).is_loopback:
            return value
    except ValueError:
        pass
    raise click.BadParameter(f"演示环境只能绑定本机回环地址（如 127.0.0.1），不能是 {value!r}")


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


@click.command("demo")
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
@click.option("--empty", is_flag=True,
              help="不载入示例案件，从空库开始（仍载入工作人员授权）/ no sample cases, start empty")
def demo(port: int, sandbox_port: int, tax_port: int, host: str, instance_dir: Path | None, workers: int,
         no_browser_hint: bool, empty: bool) -> None:
    """演示环境：门户 + 统一身份认证沙箱 + 后台任务，一条命令启动 (all-in-one demo, loopback only).

    Safe to re-run: migrations and demo data are idempotent. The first run on an empty instance
    loads sample units, projects and recognition cases (portal/demo_data.py) unless --empty;
    an instance that already holds any is left as it is. Data lives in the instance directory
    (embedded SQLite), never in PORTAL_DATABASE_URL.
    """
    from adapters.gov_platform.sandbox import create_sandbox_app
    from portal import migrate
    from portal.demo import load_staff_register, sandbox_accounts_file

    if port == sandbox_port:
        raise click.BadParameter("门户与沙箱不能使用同一端口", param_hint="--sandbox-port")
    if tax_port in (port, sandbox_port):
        raise click.BadParameter("征收平台沙箱不能与门户或登录沙箱使用同一端口", param_hint="--tax-port")
    # before migrating and loading anything: a busy port is said at once, in one line
    check_ports(host, {"--port": port, "--sandbox-port": sandbox_port, "--tax-port": tax_port})
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
        "files_dir": str(instance / "files"),  # uploads and issued documents stay with this instance
        # the audit checkpoints belong with this instance's database
        "audit_checkpoint_sink": f"file:{instance / 'audit-checkpoints.jsonl'}",
    }
    if "PORTAL_LOG_FORMAT" not in os.environ:
        overrides["log_format"] = "console"
    # the factory binds the queue to this app and registers the tasks (portal.tasks.queue.init_app)
    app = build_app(overrides)
    demo_settings = app.config["PORTAL_SETTINGS"]
    demo_database = app.extensions["portal.database"]

    click.echo(f"准备数据库 / migrating {instance / 'portal.db'} …")
    migrate.upgrade(demo_settings.database_url)
    with demo_database.write_transaction() as sess:
        staff_count = load_staff_register(sess)
    samples = None if empty else _load_sample_data(app, portal_url)

    sandbox_app = create_sandbox_app(issuer=issuer, clients=[_sandbox_client(demo_settings, portal_url)],
                                     key_dir=instance / "sandbox-keys", accounts_file=sandbox_accounts_file(),
                                     service_item_apps=_service_item_apps(demo_settings),
                                     service_items_file=instance / "gov-platform-items.json")
    with stop_signals() as stop:
        _run_demo(app, host, port, sandbox_port, tax_port, sandbox_app, demo_settings, demo_database, portal_url,
                  stop=stop, workers=workers,
                  banner=lambda: _print_demo_banner(portal_url, issuer, instance, staff_count, workers, no_browser_hint,
                                                    tax_url=demo_settings.tax_platform_url, samples=samples,
                                                    empty=empty))


def _run_demo(app: Flask, host: str, port: int, sandbox_port: int, tax_port: int, sandbox_app, demo_settings,
              demo_database, portal_url: str, *, stop: threading.Event, workers: int, banner) -> None:
    """Start the sandboxes, the jobs and the portal; wait for ``stop``; stop them all."""
    from werkzeug.serving import make_server

    from adapters.sandbox_server import serve_in_thread, stop_server
    from portal.tasks import queue

    with binding(sandbox_port, "--sandbox-port"):
        sandbox_server, sandbox_thread = serve_in_thread(sandbox_app, host, sandbox_port)
    try:
        with binding(tax_port, "--tax-port"):
            tax_server, tax_thread = serve_in_thread(_tax_sandbox_app(demo_settings, host, tax_port, portal_url),
                                                     host, tax_port)
    except click.ClickException:
        stop_server(sandbox_server, sandbox_thread)
        raise
    try:
        with binding(port, "--port"):
            portal_server = make_server(host, port, app, threaded=True)
    except click.ClickException:
        stop_server(sandbox_server, sandbox_thread)
        stop_server(tax_server, tax_thread)
        raise

    consumer = queue.start_consumer(workers=workers)
    portal_thread = threading.Thread(target=portal_server.serve_forever, kwargs={"poll_interval": 0.2},
                                     name="portal-http", daemon=True)
    portal_thread.start()

    banner()
    try:
        # Ctrl-C or SIGTERM (`kill PID`) stops the portal, the jobs and both sandboxes
        wait_for(stop)
    finally:
        click.echo("\n正在停止 / stopping …")
        portal_server.shutdown()
        portal_thread.join(10)
        queue.stop_consumer(consumer)
        stop_server(sandbox_server, sandbox_thread)
        stop_server(tax_server, tax_thread)
        queue.huey.storage.close()
        demo_database.dispose()
        click.echo("已停止 / stopped.")


def _load_sample_data(app: Flask, portal_url: str) -> list[str] | None:
    """The sample cases (portal/demo_data.py), once: lines for the banner, or None when the
    instance already held business data. A failure leaves the instance empty and says why."""
    from portal.demo_data import load_sample_data
    from portal.errors import DomainError

    app_settings = app.config["PORTAL_SETTINGS"]
    click.echo("示例数据 / sample data …（首次载入约需 20–30 秒 / the first load takes 20–30 s）")
    try:
        with app.app_context(), app.extensions["portal.database"].write_transaction() as sess:
            summary = load_sample_data(sess, files_dir=Path(app_settings.files_dir), portal_url=portal_url)
    except DomainError as exc:
        click.echo(f"示例数据未能载入（{exc.message}），演示环境从空库开始 / sample data not loaded", err=True)
        return []
    return summary.lines() if summary else None


def _print_demo_banner(portal_url: str, issuer: str, instance: Path, staff_count: int, workers: int,
                       no_browser_hint: bool, tax_url: str = "", samples: list[str] | None = None,
                       empty: bool = False) -> None:
    from portal.demo import demo_accounts_rows

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
    if empty:
        echo("  示例数据 Sample data:                未载入（--empty）/ none, started empty")
    elif samples is None:
        echo("  示例数据 Sample data:                沿用已有数据 / kept what the instance holds")
    elif samples:
        echo("  示例数据 Sample data:                已载入 / loaded: " + "；".join(samples))
    else:
        echo("  示例数据 Sample data:                未能载入（原因见上）/ not loaded (see above)")
    echo("")
    echo("演示账号（密码均为 demo）/ Demo accounts (password: demo):")
    echo(format_table(("用户名 username", "类型 type", "姓名 name", "角色 role"), demo_accounts_rows()))
    echo("")
    if not no_browser_hint:
        echo(f"请在浏览器中打开 / Open in your browser: {portal_url}/")
    echo("导览见 README.md 开头 / tour: the top of README.md")
    echo("按 Ctrl-C 停止（或 kill 本进程）；门户、后台任务和两个沙箱一起停止 / Ctrl-C stops everything.")


# --- portal serve -----------------------------------------------------------------------------


def _default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def gunicorn_options(bind: str, workers: int | None = None, threads: int = 4, log_level: str = "info") -> dict:
    """The server settings of ``portal serve`` (the HTTP benchmark runs its bare Flask baseline
    under the same ones)."""
    return {
        "bind": bind,
        "workers": workers or _default_workers(),
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": None,  # the portal logs each request itself, without query strings
        "errorlog": "-",
        "loglevel": log_level.lower(),
        # gunicorn ≥ 25 opens a control socket in ~/.gunicorn; nothing of ours uses it, and two
        # portals on one host would fight over the path.
        "control_socket_disable": True,
    }


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="地址:端口 / host:port")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="gunicorn 工作进程数 / worker processes (default: 2 × CPU + 1, at most 8)")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="每个进程的线程数 / threads per worker")
def serve(bind: str, workers: int | None, threads: int) -> None:
    """生产环境 WSGI 服务 (gunicorn) on PORTAL_DATABASE_URL; PORTAL_ENV defaults to production."""
    os.environ.setdefault("PORTAL_ENV", "production")
    app = build_app()
    app_settings = app.config["PORTAL_SETTINGS"]
    options = {**gunicorn_options(bind, workers, threads, app_settings.log_level),
               "proc_name": "portal", "post_fork": _gunicorn_post_fork}
    click.echo(f"门户启动 / serving on http://{bind} ({app_settings.env}, database "
               f"{redact_url(app_settings.database_url)}, {options['workers']} workers × {threads} threads)",
               err=True)
    run_gunicorn(app, options)


def _gunicorn_post_fork(server, worker) -> None:
    # Connections opened before the fork must not be shared by the children.
    app = server.app.application
    app.extensions["portal.database"].engine.dispose(close=False)


def run_gunicorn(app: Flask, options: Mapping[str, Any]) -> None:
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


@click.command("sandbox")
@click.option("--port", default=5100, show_default=True, type=click.IntRange(1, 65535),
              help="统一身份认证沙箱（含一网通办）端口 / unified-login sandbox port")
@click.option("--portal-url", default="http://127.0.0.1:5000", show_default=True,
              help="门户地址（用于登录回调）/ the portal's base URL (login callback)")
@click.option("--tax-port", default=5200, show_default=True, type=click.IntRange(1, 65535),
              help="社保费征收平台沙箱端口 / tax collection platform sandbox port")
@click.option("--instance", "instance_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help=f"签名密钥所在目录的上级 / keeps sandbox-keys/ here (default {DEFAULT_INSTANCE})")
def sandbox(port: int, portal_url: str, tax_port: int, instance_dir: Path | None) -> None:
    """仅启动沙箱对端（统一身份认证 OIDC，社保费征收平台）/ the sandbox peers alone, foreground.

    Ctrl-C or SIGTERM stops both."""
    from adapters.gov_platform.sandbox import create_sandbox_app
    from adapters.sandbox_server import serve_in_thread, stop_server
    from portal.demo import sandbox_accounts_file
    from portal.logging_setup import configure_logging

    env_settings = load_settings()
    if env_settings.is_production:
        raise ConfigRefused("沙箱仅用于开发和测试，生产环境 (PORTAL_ENV=production) 不能启动")
    configure_logging(env_settings.log_format, env_settings.log_level)
    if port == tax_port:
        raise click.BadParameter("征收平台沙箱不能与登录沙箱使用同一端口", param_hint="--tax-port")
    check_ports("127.0.0.1", {"--port": port, "--tax-port": tax_port})
    issuer = f"http://127.0.0.1:{port}"
    instance = (instance_dir or DEFAULT_INSTANCE).resolve()
    app = create_sandbox_app(issuer=issuer, clients=[_sandbox_client(env_settings, portal_url)],
                             key_dir=instance / "sandbox-keys", accounts_file=sandbox_accounts_file(),
                             service_item_apps=_service_item_apps(env_settings),
                             service_items_file=instance / "gov-platform-items.json")
    with stop_signals() as stop:  # a signal during start-up stops cleanly too
        with binding(port, "--port"):
            server, thread = serve_in_thread(app, "127.0.0.1", port)
        try:
            with binding(tax_port, "--tax-port"):
                tax_server, tax_thread = serve_in_thread(
                    _tax_sandbox_app(env_settings, "127.0.0.1", tax_port, portal_url), "127.0.0.1", tax_port)
        except click.ClickException:
            stop_server(server, thread)
            raise
        _serve_sandboxes(env_settings, issuer, port, tax_port, portal_url, stop,
                         ((server, thread), (tax_server, tax_thread)))


def _serve_sandboxes(env_settings, issuer: str, port: int, tax_port: int, portal_url: str,
                     stop: threading.Event, servers) -> None:
    from adapters.sandbox_server import stop_server

    click.echo(f"统一身份认证沙箱 / sandbox OIDC provider: {issuer}/ "
               f"(client {env_settings.oidc_client_id} → {portal_url.rstrip('/')}/auth/callback)")
    click.echo(f"社保费征收平台沙箱 / tax payment sandbox: http://127.0.0.1:{tax_port}/ "
               f"(callback → {portal_url.rstrip('/')}/api/payments/tax-callback)")
    click.echo("按 Ctrl-C 停止（或 kill 本进程）/ Press Ctrl-C to stop.")
    try:
        wait_for(stop)
    finally:
        click.echo("正在停止 / stopping …")
        for server, thread in servers:
            stop_server(server, thread)
        click.echo("已停止 / stopped.")


# --- portal worker ----------------------------------------------------------------------------


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="线程数 / consumer threads")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="参与定时任务调度 / take part in scheduling periodic tasks (one worker at a time "
                   "holds the scheduler lease, so every node may keep this on)")
@with_appcontext
def worker(workers: int, periodic: bool) -> None:
    """后台任务进程 (Huey consumer), foreground. Point PORTAL_QUEUE_URL and PORTAL_DATABASE_URL
    at the same Redis and database as the web servers. Run one per node: periodic tasks are
    enqueued once per minute across all workers (the scheduler lease, portal.tasks.scheduler), and
    the sweeper re-queues jobs a dead worker held."""
    from portal.tasks import queue

    # binds the queue to this app and registers the tasks of portal.tasks.queue.TASK_MODULES
    queue.init_app(current_app._get_current_object())  # type: ignore[attr-defined]
    huey = queue.huey
    if huey.immediate:
        raise ConfigRefused("PORTAL_QUEUE_IMMEDIATE 已开启：任务在请求内直接执行，不需要后台任务进程")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"后台任务进程 / worker: queue {huey.backend} {redact_url(huey.queue_url)}, "
               f"database {redact_url(settings().database_url)}, {workers} threads, "
               f"periodic {'on' if periodic else 'off'}", err=True)
    # SQLite is polled (back off to 2 s when idle); Redis blocks on the queue and answers at once.
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic,
                                    max_delay=2.0 if huey.backend == "sqlite" else 10.0)
    consumer.run()


# --- portal db --------------------------------------------------------------------------------


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """数据库迁移 (Alembic) on the configured database_url."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """升级到 REVISION（默认 head）。"""
    from portal import migrate

    url = migrate.migration_url(settings())
    migrate.upgrade(url, revision)
    click.echo(f"数据库已升级到 {revision} / upgraded to {revision}: {redact_url(url)}")


@db_group.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """降级到 REVISION（如 -1、base 或版本号）。"""
    from portal import migrate

    url = migrate.migration_url(settings())
    migrate.downgrade(url, revision)
    click.echo(f"数据库已降级到 {revision} / downgraded to {revision}: {redact_url(url)}")


@db_group.command("current")
def db_current() -> None:
    """显示数据库当前版本 / show the database's revision."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from portal import migrate

    url = settings().database_url
    heads = set(ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads())
    click.echo(f"数据库 / database: {redact_url(url)}")
    sqlite_file = database().engine.url.database if url.startswith("sqlite") else None
    if sqlite_file and sqlite_file != ":memory:" and not Path(sqlite_file).exists():
        click.echo("当前版本 / current: 无（数据库文件不存在，请运行 portal db upgrade）")
        return
    with database().engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if not current:
        click.echo("当前版本 / current: 无（尚未迁移，请运行 portal db upgrade）")
        return
    for rev in sorted(current):
        click.echo(f"当前版本 / current: {rev}{' (head)' if rev in heads else ''}")
    if current != heads:
        click.echo(f"有待执行的迁移 / pending migrations: 最新版本 head {', '.join(sorted(heads))}")


@db_group.command("grant-runtime")
@click.argument("role")
@click.option("--apply", "apply_now", is_flag=True, help="以迁移角色执行（默认只打印）/ run them as the owner")
def db_grant_runtime(role: str, apply_now: bool) -> None:
    """打印（或执行）授予运行角色 ROLE 的权限：只能读写数据行，不能 TRUNCATE、ALTER、DROP（PostgreSQL）。"""
    import sqlalchemy as sa

    from portal import migrate

    url = migrate.migration_url(settings())
    if not url.startswith("postgresql"):
        raise click.ClickException("运行角色只适用于 PostgreSQL（SQLite 文件的所有者可做任何事，靠检查点防护）")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
            try:
                statements = migrate.grant_runtime_statements(role, schema)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            for statement in statements:
                if apply_now:
                    conn.execute(sa.text(statement))
                click.echo(statement + ";")
    finally:
        engine.dispose()
    if apply_now:
        click.echo(f"-- 已授予 / granted to {role} on {redact_url(url)}", err=True)


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="迁移说明 / migration message")
def db_revision(message: str) -> None:
    """根据模型自动生成迁移 (autogenerate); review the file before committing."""
    from portal import migrate

    migrate.revision(settings().database_url, message, autogenerate=True)
    click.echo("请人工检查生成的文件：只用 sa 类型（不引用 portal）、写好 downgrade()、"
               "新增 NOT NULL 列要有 server_default。")
