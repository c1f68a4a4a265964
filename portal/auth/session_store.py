"""Flask session interface keeping sessions in the database (server-side, revocable).

- The cookie carries a random 256-bit token; the table stores its SHA-256.
- A session idle for longer than ``session_idle_minutes`` is dead; activity extends it (the
  timestamp is refreshed at most once a minute so reads stay reads).
- ``session.rotate()`` (at login) revokes the old row and issues a new token: a token planted
  before login is worthless after it (session fixation).
- Rows are written only when the session holds something, so anonymous visitors of public pages
  create nothing.
- The cookie is looked up in the request's own unit of work (``portal.web.unit_of_work``): on
  PostgreSQL the first read of the request's one transaction; on SQLite a GET's look-up ends its
  short read transaction at once (a reader must not turn writer later: ``portal.db.will_write``).
- The database failing (down, a lock timeout) never gives a bare error page: a cookie that cannot
  be looked up yields an empty session carrying ``load_error`` (the request then answers 503,
  ``portal.web.errors``) and nothing is written back; a save that fails raises once and the error
  page's own save writes nothing.
- No token of the unified login is ever stored (an id_token's claims carry the ID number and
  phone in base64url): such keys are dropped on save, and from sessions stored before this rule
  as they are read. A revoked row keeps no data.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import structlog
from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import bindparam, select, update
from werkzeug.datastructures import CallbackDict

from portal.auth.models import WebSession
from portal.auth.sessions import ABSOLUTE_LIFETIME
from portal.db import DATABASE_FAULTS, Database, set_write_intent, utcnow
from portal.web.hooks import SAFE_METHODS

log = structlog.get_logger("portal.session_store")

TOUCH_INTERVAL = timedelta(seconds=60)
#: what a request reads of its session row (built once: every request with a cookie runs it)
_LOOK_UP = select(WebSession.id, WebSession.data, WebSession.created_at, WebSession.last_seen_at,
                  WebSession.revoked_at).where(WebSession.id == bindparam("token_id"))
#: Parts of an OpenID Connect token response: never kept in a session.
NEVER_STORED = frozenset({"id_token", "access_token", "refresh_token", "userinfo", "token"})


def storable(data) -> dict:
    return {key: value for key, value in data.items() if key not in NEVER_STORED}


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, row_id: str | None = None, last_seen: datetime | None = None):
        def on_update(_self):
            _self.modified = True

        super().__init__(initial or {}, on_update)
        self.row_id = row_id
        self.last_seen = last_seen
        self.modified = False
        self.rotate_requested = False
        self.revoke_requested = False
        self.new_token: str | None = None
        # the database failed while reading or saving this session: it is not written back
        self.load_error: Exception | None = None

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.row_id is None

    def rotate(self) -> None:
        """Issue a new session id on the next save (call at login)."""
        self.rotate_requested = True
        self.modified = True

    def revoke(self) -> None:
        """End this session now (logout): the row is revoked and the cookie cleared."""
        self.revoke_requested = True
        self.clear()


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, database: Database, idle_minutes: int) -> None:
        self.database = database
        self.idle = timedelta(minutes=idle_minutes)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return ServerSession()
        sess = self._request_session(request)
        try:
            # a Core row, not an ORM object: the request's own queries never see (nor flush) it
            row = sess.execute(_LOOK_UP, {"token_id": token_id(token)}).first()
            if request.method in SAFE_METHODS and sess.get_bind().dialect.name == "sqlite":
                # a reader must not become a writer mid-transaction on SQLite: a GET that writes
                # (``will_write``) begins its transaction afterwards. Nothing ORM was loaded.
                sess.rollback()
            if row is None or not self.is_alive(row, utcnow()):
                return ServerSession()
            data = storable(row.data)
            loaded = ServerSession(data, row_id=row.id, last_seen=row.last_seen_at)
            loaded.modified = len(data) != len(row.data)  # then rewritten without them
            return loaded
        except DATABASE_FAULTS as exc:
            log.warning("session.load_failed", error=type(exc).__name__)
            try:
                sess.rollback()
            except DATABASE_FAULTS:
                pass
            unreadable = ServerSession()
            unreadable.load_error = exc
            return unreadable

    @staticmethod
    def _request_session(request: Request):
        """The request's unit of work: the look-up is its first read, not a transaction of its
        own (one transaction per request). Its write intent is set first, as the request edge
        would (``portal.web.hooks``): on SQLite a request that will write begins as a writer."""
        from portal.web.unit_of_work import request_session

        set_write_intent(request.method not in SAFE_METHODS)
        return request_session()

    def is_alive(self, row, now: datetime) -> bool:  # a WebSession or a row of its columns
        return (row.revoked_at is None and now - row.last_seen_at <= self.idle
                and now - row.created_at <= ABSOLUTE_LIFETIME)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.load_error is not None:
            return  # the stored session is unknown: keep the cookie, write nothing
        try:
            self._save(app, session, response)
        except DATABASE_FAULTS as exc:
            log.warning("session.save_failed", error=type(exc).__name__)
            session.load_error = exc  # the 503 page that follows saves nothing
            raise

    def _save(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.new and not session and not session.revoke_requested:
            return  # an anonymous visitor with nothing to keep: no row, no cookie, no work
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        now = utcnow()
        if session.revoke_requested or (not session and not session.new and session.modified):
            if session.row_id:
                self._revoke(session.row_id, now)
            response.delete_cookie(name, domain=domain, path=path)
            return
        if not session:
            return  # nothing worth a row
        if session.new or session.rotate_requested:
            token = secrets.token_urlsafe(32)
            with self.database.write_transaction() as sess:
                if session.row_id:
                    sess.execute(update(WebSession).where(WebSession.id == session.row_id)
                                 .values(revoked_at=now, data={}))
                sess.add(WebSession(
                    id=token_id(token), data=storable(session), account_id=session.get("account_id"),
                    role=session.get("role"), created_at=now, last_seen_at=now,
                    client_addr=request.remote_addr,
                    user_agent=(request.user_agent.string or "")[:200] or None,
                ))
            session.row_id = token_id(token)
            response.set_cookie(
                name, token, httponly=True, secure=self.get_cookie_secure(app),
                samesite=self.get_cookie_samesite(app), domain=domain, path=path,
            )
            response.vary.add("Cookie")
            return
        if session.modified:
            with self.database.write_transaction() as sess:
                sess.execute(update(WebSession).where(WebSession.id == session.row_id).values(
                    data=storable(session), account_id=session.get("account_id"),
                    role=session.get("role"), last_seen_at=now))
        elif session.last_seen is None or now - session.last_seen > TOUCH_INTERVAL:
            with self.database.write_transaction() as sess:
                sess.execute(update(WebSession).where(WebSession.id == session.row_id)
                             .values(last_seen_at=now))

    def _revoke(self, row_id: str, now: datetime) -> None:
        with self.database.write_transaction() as sess:
            sess.execute(update(WebSession).where(WebSession.id == row_id)
                         .values(revoked_at=now, data={}))
