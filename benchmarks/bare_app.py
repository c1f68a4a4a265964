"""The HTTP benchmark's baselines: bare Flask apps under the same gunicorn settings as
``portal serve`` (``portal.ops.cli.gunicorn_options``).

- ``hello``: returns a short text; what the server and Flask cost by themselves.
- ``audited-insert``: one short write transaction per request on the portal's database (the
  engine settings of ``portal.db``: WAL and busy timeout on SQLite, ``BEGIN IMMEDIATE``; lock and
  statement timeouts on PostgreSQL): INSERT one row into a table of its own, COMMIT. The floor any
  audited read of personal data pays, whatever the portal does around it.

Run by ``benchmarks.bench_http`` as ``python -m benchmarks.bare_app KIND --bind HOST:PORT
--workers N --threads N [--database-url URL]``.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask

TABLE = "bench_bare_audit"


def hello_app() -> Flask:
    app = Flask("bare_hello")

    @app.get("/")
    def hello():
        return "Hello, World!"

    return app


def audited_insert_app(database_url: str) -> Flask:
    from portal.db import Database

    app = Flask("bare_audited_insert")
    database = Database(database_url)
    metadata = sa.MetaData()
    table = sa.Table(
        TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    metadata.create_all(database.engine)
    app.extensions["portal.database"] = database  # disposed after the fork, as the portal's is

    @app.get("/")
    def audited():
        with database.write_transaction() as sess:
            sess.execute(table.insert().values(at=datetime.now(timezone.utc), actor="bench",
                                               action="person.read_personal_data",
                                               detail=json.dumps({"fields": ["id_number"]})))
        return "ok"

    return app


def _post_fork(server, worker) -> None:
    database = server.app.application.extensions.get("portal.database")
    if database is not None:
        database.engine.dispose(close=False)


def main(argv: list[str] | None = None) -> None:
    from portal.ops.cli import gunicorn_options, run_gunicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("hello", "audited-insert"))
    parser.add_argument("--bind", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    app = hello_app() if args.kind == "hello" else audited_insert_app(args.database_url)
    run_gunicorn(app, {**gunicorn_options(args.bind, args.workers, args.threads, "warning"),
                       "proc_name": f"bare-{args.kind}", "post_fork": _post_fork})


if __name__ == "__main__":
    main()
