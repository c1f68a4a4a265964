"""Query budgets and query plans for the staff lists and case pages (issue 14, points 2 and 4).

A page's budget is the number of SQL statements one request of it may run, whatever the amount of
data: a list that loads each row's children one by one (N+1) breaks its budget as data grows.

    with count_queries(app) as counted:
        client.get("/recognition/office/cases")
    assert counted.total <= 12, counted.report()

or, shorter, ``assert_within_budget(app, client.get, "/recognition/office/cases", budget=12)``.

Plans: :func:`plan_of` explains a statement on the session's database (SQLite ``EXPLAIN QUERY
PLAN``, PostgreSQL ``EXPLAIN``) and :func:`scans_table` tells whether it reads a whole table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

#: statements every request may run that are not the page's own work (transaction control)
_BOOKKEEPING = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET )", re.IGNORECASE)


@dataclass
class CountedQueries:
    statements: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """The statements, one per line, for an assertion message."""
        return "\n".join(f"{i + 1:3}. {s[:160]}" for i, s in enumerate(self.statements))


def engine_of(app: Flask) -> Engine:
    return app.extensions["portal.database"].engine


@contextmanager
def count_queries(app_or_engine: Flask | Engine) -> Iterator[CountedQueries]:
    """Count the SQL statements run on the app's engine inside the block (transaction control
    statements are not counted)."""
    engine = engine_of(app_or_engine) if isinstance(app_or_engine, Flask) else app_or_engine
    counted = CountedQueries()

    def _before(conn, cursor, statement, parameters, context, executemany):
        if not _BOOKKEEPING.match(statement):
            counted.statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", _before)


def assert_within_budget(app: Flask, request: Callable, *args, budget: int, status: int = 200, **kwargs):
    """Run ``request(*args, **kwargs)`` (a test client method) and assert its status and that it
    ran at most ``budget`` statements. Returns the response."""
    with count_queries(app) as counted:
        response = request(*args, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert counted.total <= budget, f"{counted.total} queries > budget {budget}:\n{counted.report()}"
    return response


def plan_of(sess: Session, statement: Executable) -> str:
    """The database's plan for ``statement`` with its parameters bound, as one text.

    On PostgreSQL sequential scans are discouraged for this transaction (``enable_seqscan``):
    a test table of a few rows is read whole whatever its indexes, so the plan shows whether an
    index *can* serve the query, which is what a plan test asks."""
    bind = sess.get_bind()
    compiled = statement.compile(bind, compile_kwargs={"render_postcompile": True})
    prefix = "EXPLAIN QUERY PLAN " if bind.dialect.name == "sqlite" else "EXPLAIN "
    if bind.dialect.name == "postgresql":
        sess.execute(text("SET LOCAL enable_seqscan = off"))
    # the statement as the driver receives it: its own paramstyle (SQLite's "?" is positional)
    # and each value through its type's bind processor (enums, dates), as SQLAlchemy sends them
    processors = compiled._bind_processors
    values = {k: processors[k](v) if k in processors else v for k, v in compiled.params.items()}
    params = tuple(values[k] for k in compiled.positiontup or ()) if compiled.positional else values
    rows = sess.connection().exec_driver_sql(prefix + compiled.string, params).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def scans_table(plan: str, table: str) -> bool:
    """Whether the plan reads every row of ``table`` (no index narrows it)."""
    sqlite = re.search(rf"\bSCAN {re.escape(table)}\b(?! USING (COVERING )?INDEX)", plan)
    postgres = re.search(rf"Seq Scan on {re.escape(table)}\b", plan)
    return bool(sqlite or postgres)
