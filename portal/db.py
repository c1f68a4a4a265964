"""Database engine, declarative base and session handling (SQLAlchemy 2).

SQLite (embedded default) runs in WAL mode with a busy timeout (the lock timeout setting).
pysqlite's own implicit transactions are switched off so we emit BEGIN ourselves: ``BEGIN
IMMEDIATE`` when the unit of work will write (unsafe HTTP methods, :func:`write_transaction`),
plain ``BEGIN`` otherwise. A reader therefore never has to upgrade to a writer mid-transaction,
which is where SQLite raises "database is locked" without waiting.

Requests get one session, committed once at the edge (``portal.web.unit_of_work``). A service
that writes on a read-only request says so with :func:`will_write`; a short write that must
persist whatever becomes of the caller's unit of work (the audit of a read of personal data, of a
refused callback) is an :func:`independent_transaction`, opened by the service that needs it.

No request waits for the database without bound: PostgreSQL connections get a
``statement_timeout`` and a ``lock_timeout`` (settings ``db_statement_timeout_ms`` and
``db_lock_timeout_ms``), SQLite waits for a lock at most ``db_lock_timeout_ms``. The failures this
gives, and a database that does not answer, are :func:`database_fault` (the pages answer 503).
There is no ping on every checkout (``pool_pre_ping``: a round trip per transaction): the first
statement that finds its connection dropped (a restart) fails, that request answers 503, and
SQLAlchemy invalidates the whole pool, so the next requests connect afresh and a database that
comes back is used again without restarting the portal.
"""

from __future__ import annotations

import contextvars
import enum
import hashlib
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterator

from sqlalchemy import DateTime, Enum, MetaData, Numeric, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEFAULT_STATEMENT_TIMEOUT_MS = 15_000
DEFAULT_LOCK_TIMEOUT_MS = 5_000
PG_CONNECT_TIMEOUT_SECONDS = 5

# Errors meaning "the database cannot serve this request now" (down, unreachable, a lock or
# statement timeout), as opposed to a bug: answered 503, never 500.
DATABASE_FAULTS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                   sa_exc.TimeoutError)
# PostgreSQL SQLSTATEs of a timeout: 55P03 lock_not_available, 57014 query_canceled.
_PG_TIMEOUT_STATES = frozenset({"55P03", "57014"})

_begin_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("begin_immediate", default=False)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored and returned as timezone-aware UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime passed to a UTC column")
        value = value.astimezone(timezone.utc)
        # SQLite has no time zone type: store naive UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Numeric(14, 2)}


def enum_column(cls: type[enum.Enum], length: int = 20) -> Enum:
    """A status or kind column stored by the members' codes (a VARCHAR with a CHECK-free
    non-native enum), the same on SQLite and PostgreSQL."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def database_fault(exc: BaseException | None) -> str | None:
    """``"database_busy"`` (a lock or statement timeout), ``"database_unavailable"`` (down,
    unreachable, a file that cannot be opened) or None when ``exc`` is no database fault."""
    if not isinstance(exc, DATABASE_FAULTS):
        return None
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _PG_TIMEOUT_STATES:
        return "database_busy"
    if "database is locked" in str(orig or exc):  # SQLite's busy timeout ran out
        return "database_busy"
    return "database_unavailable"


def make_engine(url: str, *, statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
                lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS, **kwargs) -> Engine:
    kwargs.setdefault("hide_parameters", True)  # error logs never carry SQL parameters (free text, IDs)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": lock_timeout_ms / 1000,
                                                  "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine, lock_timeout_ms)
        return engine
    # A PostgreSQL host that drops packets must not hang requests (or /healthz) forever.
    engine = create_engine(url, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS}, **kwargs)
    _configure_postgresql(engine, statement_timeout_ms, lock_timeout_ms)
    return engine


def _configure_postgresql(engine: Engine, statement_timeout_ms: int, lock_timeout_ms: int) -> None:
    # SET on connect rather than libpq ``options``: a URL's own options (a search_path) stay.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")
            cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        dbapi_connection.commit()  # a session-level SET is undone by a rollback of its transaction


def _configure_sqlite(engine: Engine, lock_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")


def set_write_intent(value: bool) -> None:
    """Declare whether the current unit of work will write (SQLite: BEGIN IMMEDIATE).

    The request edge sets it from the HTTP method; services use :func:`will_write`."""
    _begin_immediate.set(value)


def will_write(sess: Session) -> None:
    """A service that writes during a read-only request (an audited download, a message marked
    read, a sign-in) says so before its first query: on SQLite the transaction then starts as a
    writer (``BEGIN IMMEDIATE``) instead of upgrading later, which fails at once ("database is
    locked") when another writer got there first. A transaction ``sess`` has already begun is
    left as it is (it may hold flushed writes); the intent applies from its next one."""
    _begin_immediate.set(True)


def serialise(sess: Session, name: str) -> None:
    """Let one transaction at a time past this point for ``name`` (e.g. numbering the projects
    of one city and year), until it ends. PostgreSQL: a transaction-scoped advisory lock keyed
    by ``name``; SQLite: nothing to do, a write transaction is the only writer already."""
    if sess.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    sess.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@contextmanager
def independent_transaction(sess: Session) -> Iterator[Session]:
    """A short write transaction beside ``sess``'s own, committed on exit whatever becomes of
    ``sess`` (for the audit of a read of personal data, which must persist even when the page
    answers 422, or of a refused callback, whose own unit of work rolls back).

    ``sess``'s transaction is ended first: it must hold no lock (the audit chain head, SQLite's
    only writer lock) this one would wait for. So open it before changing anything in ``sess``,
    or after its changes are abandoned: objects ``sess`` loaded are expired by that rollback, and
    touching one inside the block would start ``sess`` again as a writer beside this one (SQLite:
    "database is locked") — read what you need from them first. Objects loaded inside stay usable
    after the commit."""
    if sess.in_transaction():
        sess.rollback()
    token = _begin_immediate.set(True)
    try:
        with Session(sess.get_bind(), expire_on_commit=False) as own, own.begin():
            yield own
    finally:
        _begin_immediate.reset(token)


class Database:
    """One engine and its session factory; the app keeps one in ``app.extensions``."""

    def __init__(self, url: str, *, statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
                 lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, statement_timeout_ms=statement_timeout_ms,
                                  lock_timeout_ms=lock_timeout_ms, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write_transaction(self) -> Iterator[Session]:
        """A short independent write transaction, committed on exit."""
        token = _begin_immediate.set(True)
        try:
            with self.sessions() as sess, sess.begin():
                yield sess
        finally:
            _begin_immediate.reset(token)

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        token = _begin_immediate.set(False)
        try:
            with self.sessions() as sess:
                yield sess
        finally:
            _begin_immediate.reset(token)

    def dispose(self) -> None:
        self.engine.dispose()
