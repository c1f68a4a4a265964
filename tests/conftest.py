"""Shared fixtures: one suite, two databases (SQLite and PostgreSQL), schema built by Alembic.

PostgreSQL is REQUIRED when ``PORTAL_TEST_POSTGRES_URL`` is set (CI sets it) or when a local
server answers on 127.0.0.1:5432; only when neither holds are the PostgreSQL variants skipped, and
the skip says so. Each test session gets its own PostgreSQL schema; each test starts from empty
tables (SQLite: a fresh copy of a migrated template file; PostgreSQL: TRUNCATE).

Isolation is by cleaning, not by an outer SAVEPOINT: the portal deliberately commits some writes
on their own connections (server-side sessions, audits of reads), and those must be real commits.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app, migrate
from portal.auth.roles import Actor
from portal.auth.session_store import token_id
from tests import network_guard

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KEEP_TABLES = {"alembic_version", "audit_chain_head"}


# --- loopback only (tests/network_guard.py) ------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def network_guard_installed(tmp_path_factory) -> Iterator[network_guard.Guard]:
    """For the whole session: connections, datagrams and name lookups beyond loopback are refused
    before they happen, in this process and in the Python processes tests start; servers bind
    127.0.0.1 on a free port."""
    log_path = str(tmp_path_factory.mktemp("network-guard") / "refused.jsonl")
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", network_guard.LOG_ENV)}
    os.environ.update(network_guard.child_environment(log_path))
    guard = network_guard.install(log_path=log_path)
    try:
        yield guard
    finally:
        network_guard.uninstall()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(autouse=True)
def loopback_only(network_guard_installed) -> Iterator[None]:
    """Fails the test if anything was refused while it ran, even if the code under test caught
    the error (an adapter reporting "platform unavailable" would otherwise pass)."""
    network_guard_installed.take_violations()
    yield
    refused = network_guard_installed.take_violations()
    if refused:
        pytest.fail("reached beyond loopback:\n" + "\n".join(refused), pytrace=False)


# --- PostgreSQL discovery -------------------------------------------------------------------


def _can_connect(url: str) -> bool:
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _postgres_base_url() -> str | None:
    url = os.environ.get("PORTAL_TEST_POSTGRES_URL")
    if url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
        if not _can_connect(url):
            raise pytest.UsageError(f"PORTAL_TEST_POSTGRES_URL is set but PostgreSQL does not answer: {url}")
        return url
    if _port_open("127.0.0.1", 5432) and _can_connect(LOCAL_POSTGRES):
        return LOCAL_POSTGRES
    return None


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A migrated schema of its own on the test server, or None when there is no server."""
    base = _postgres_base_url()
    if base is None:
        yield None
        return
    schema = f"portal_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = _with_search_path(base, schema)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "portal.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template) -> Iterator[str]:
    """Every test that touches the database runs once per backend."""
    if request.param == "sqlite":
        target = tmp_path / "portal.db"
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("postgres_url")
    if url is None:
        pytest.skip("PostgreSQL not available here: set PORTAL_TEST_POSTGRES_URL or run a local server")
    yield url
    _truncate_all(url)


def _truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            # the audit guards (no TRUNCATE, no moving the chain head back) bind the portal, not
            # the test cleaner: as superuser it switches user triggers off for this transaction
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            tables = [t for t in sa.inspect(conn).get_table_names() if t not in KEEP_TABLES]
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            conn.execute(sa.text("UPDATE audit_chain_head SET seq = 0, hash = :h WHERE id = 1"),
                         {"h": "0" * 64})
    finally:
        engine.dispose()


# --- the app ----------------------------------------------------------------------------------


def settings_for_tests(database_url: str, tmp_path: Path, **extra) -> dict:
    return {
        "env": "testing",
        "database_url": database_url,
        "queue_url": f"sqlite:///{tmp_path / 'queue.db'}",
        "log_format": "console",
        "log_level": "WARNING",
        "ratelimit_enabled": False,
        "files_dir": str(tmp_path / "files"),
        # each test app anchors its audit chain in its own file (never the project's instance/)
        "audit_checkpoint_sink": f"file:{tmp_path / 'audit-checkpoints.jsonl'}",
        **extra,
    }


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_overrides) -> Iterator[Flask]:
    application = create_app(settings_for_tests(database_url, tmp_path, **app_overrides))
    yield application
    application.extensions["portal.database"].dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app):
    """A session on the app's database for arranging and checking state in tests."""
    with app.app_context():
        sess = app.extensions["portal.database"].sessions()
        try:
            yield sess
        finally:
            sess.rollback()
            sess.close()


@pytest.fixture
def tx(app):
    """Run ``fn(sess)`` in one committed write transaction inside the app context."""
    database = app.extensions["portal.database"]

    def _run(fn):
        with app.app_context(), database.write_transaction() as sess:
            return fn(sess)

    return _run


@pytest.fixture
def login_as(app) -> Callable[..., dict]:
    """``login_as(client, "worker")``: sign in as a demo identity without the browser dance.

    It runs the same ``accounts.sign_in`` the OIDC callback runs and stores the snapshot in a
    server-side session row; the real OIDC round trip is tested in tests/auth and the browser
    tests. Accepts a role name (worker, employer, clerk, recognition_officer, appraisal_office,
    finance, provincial) or a demo username (e.g. "clerk-wuhu").
    """
    from portal.accounts import service as accounts
    from portal.auth.models import WebSession
    from portal.db import utcnow
    from portal.demo import DEMO_LOGIN_FOR_ROLE, demo_identity, load_staff_register

    def _login(client: FlaskClient, who: str) -> dict:
        username = DEMO_LOGIN_FOR_ROLE.get(who, who)
        database = app.extensions["portal.database"]
        with database.write_transaction() as sess:
            load_staff_register(sess)
            snapshot = accounts.sign_in(sess, demo_identity(username), "127.0.0.1", "test")
            token = secrets.token_urlsafe(32)
            now = utcnow()
            sess.add(WebSession(id=token_id(token), account_id=snapshot["account_id"],
                                role=snapshot["role"], data=snapshot, created_at=now, last_seen_at=now))
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], token)
        return snapshot

    return _login


ALL_ROLE_NAMES = ("worker", "employer", "clerk", "recognition_officer", "appraisal_office",
                  "finance", "provincial")


@pytest.fixture
def csrf_token(app) -> Callable[[FlaskClient], str]:
    """The form token a page would embed for this client's session (Flask-WTF's format)."""
    from itsdangerous import URLSafeTimedSerializer

    def _token(client: FlaskClient) -> str:
        with client.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = sess["csrf_token"] = secrets.token_hex(20)
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    return _token


@pytest.fixture
def live_stack(database_url, tmp_path, app_overrides):
    """Portal + unified-login sandbox + tax collection sandbox on loopback ports, on the
    parametrised database."""
    from tests.live import start_live_stack

    stack = start_live_stack(settings_for_tests(database_url, tmp_path, **app_overrides),
                             key_dir=tmp_path / "sandbox-keys")
    yield stack
    stack.stop()


@pytest.fixture
def sess(db):
    """The session service-level tests pass to services (the same as ``db``)."""
    return db


@pytest.fixture
def actor_for(app) -> Callable[[str], Actor]:
    """``actor_for("employer")``: sign a demo login in (committed, as the OIDC callback would) and
    return its Actor; cached per test. Accepts role names or demo usernames."""
    from portal.accounts import service as accounts
    from portal.demo import DEMO_LOGIN_FOR_ROLE, demo_identity, load_staff_register
    from portal.web.hooks import actor_from_session

    cache: dict = {}

    def _actor(who: str):
        if who not in cache:
            username = DEMO_LOGIN_FOR_ROLE.get(who, who)
            with app.extensions["portal.database"].write_transaction() as s:
                load_staff_register(s)
                snapshot = accounts.sign_in(s, demo_identity(username), "127.0.0.1", "test")
            cache[who] = actor_from_session(snapshot, "127.0.0.1", "test")
        return cache[who]

    return _actor


def sign_in_up_front(actor_for, *who: str):
    """On SQLite a sign-in waits for an open test session's write lock: sign in before it opens."""
    for name in who:
        actor_for(name)
    return actor_for
