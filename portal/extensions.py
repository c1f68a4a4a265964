"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import current_app, g
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from portal.config import Settings
from portal.db import Database


def client_address() -> str:
    """The client's address as seen after the trusted proxies (ProxyFix)."""
    from flask import request

    return request.remote_addr or "unknown"


csrf = CSRFProtect()
limiter = Limiter(key_func=client_address, default_limits=[])
htmx = HTMX()
oauth = OAuth()


def settings() -> Settings:
    return current_app.config["PORTAL_SETTINGS"]


def database() -> Database:
    return current_app.extensions["portal.database"]


def db_session() -> Session:
    """The request's unit of work; committed once by the factory's after-request hook."""
    sess = g.get("_db_session")
    if sess is None:
        sess = g._db_session = database().sessions()
    return sess


def audited_read_transaction():
    """Independent, immediately committed transaction for auditing a read of personal data.

    The audit row must persist even when the response is an error page (a 422 form redisplay
    still shows the masked data). The request's own unit of work is rolled back first: it must
    hold no locks (the audit chain head, SQLite's writer lock) that this transaction would wait
    for. Call it only when the request's own writes are done with or abandoned.
    """
    sess = g.get("_db_session")
    if sess is not None:
        sess.rollback()
    return database().write_transaction()
