"""The servers a benchmark (or a multi-node test) runs on: which PostgreSQL, a throwaway schema
dropped afterwards, whether a Redis answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def with_driver(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://`` (psycopg 3); other URLs as they are."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def postgres_base_url() -> str | None:
    """``PORTAL_BENCH_POSTGRES_URL``, else ``PORTAL_TEST_POSTGRES_URL``, else the local server if it
    answers; None when there is none."""
    url = os.environ.get("PORTAL_BENCH_POSTGRES_URL") or os.environ.get("PORTAL_TEST_POSTGRES_URL")
    if url:
        return with_driver(url)
    engine = sa.create_engine(LOCAL_POSTGRES, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return LOCAL_POSTGRES
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()


@contextmanager
def throwaway_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on ``base_url``'s database for one run; yields the URL whose connections
    use it, and drops it with everything in it afterwards."""
    base_url = with_driver(base_url)
    schema = f"portal_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
