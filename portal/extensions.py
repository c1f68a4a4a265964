"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from flask import current_app
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


def settings() -> Settings:
    return current_app.config["PORTAL_SETTINGS"]


def database() -> Database:
    return current_app.extensions["portal.database"]


def db_session() -> Session:
    """The request's unit of work; committed once at the edge (``portal.web.unit_of_work``)."""
    from portal.web.unit_of_work import request_session

    return request_session()
