"""Idempotent delivery under concurrency (both databases): the same dedupe key delivered by
several transactions at once gives one message, the same to every caller, and no error.

PostgreSQL: the second transaction does not see the first one's uncommitted row, inserts, waits
on the unique index, and loses; the savepoint turns that into "return the message already there".
SQLite: writers are serialised (BEGIN IMMEDIATE), so the second finds the row before inserting.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlalchemy import func, select

from portal.inbox import service
from portal.inbox.models import InboxMessage
from tests.inbox.conftest import deliver_to

KEY = "recognition:42:decision:person"
WORKERS = 8


def _rows(database, key: str) -> int:
    with database.read_session() as sess:
        return sess.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.dedupe_key == key))


def _wait_until_blocked(database, started: threading.Event, result: dict, timeout: float = 10.0) -> None:
    """Until the second transaction waits for the first (PostgreSQL: its backend waits for a
    lock, as pg_stat_activity shows; SQLite: it waits in BEGIN IMMEDIATE, which cannot be seen
    from outside, so it is only given time to get there)."""
    assert started.wait(timeout)
    if database.backend != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + timeout
    with database.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                   {"pid": result["pid"]}).scalar_one_or_none()
            conn.rollback()
            if waiting == "Lock":
                return
            time.sleep(0.02)
    raise AssertionError("the second delivery never waited for the first")


def test_second_transaction_waiting_on_the_first_returns_its_message(app, database, people):
    started = threading.Event()
    result: dict = {}

    def second() -> None:
        try:
            with app.app_context(), database.write_transaction() as sess:
                if database.backend == "postgresql":
                    result["pid"] = sess.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
                started.set()
                result["id"] = deliver_to(sess, people.worker, kind="decision", subject="认定工伤决定书",
                                          dedupe_key=KEY).id
        except Exception as exc:  # noqa: BLE001  (reported below; the thread must not die silently)
            result["error"] = exc
        finally:
            started.set()

    thread = threading.Thread(target=second)
    with app.app_context(), database.write_transaction() as first_session:
        first_id = deliver_to(first_session, people.worker, kind="decision", subject="认定工伤决定书",
                              dedupe_key=KEY).id
        thread.start()
        _wait_until_blocked(database, started, result)
        assert "id" not in result and "error" not in result  # it is waiting for the first
    # committed here: the second now finishes
    thread.join(15)
    assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    assert result["id"] == first_id
    assert _rows(database, KEY) == 1


def test_many_simultaneous_deliveries_give_one_message(app, database, people):
    barrier = threading.Barrier(WORKERS)

    def deliver_once(_n: int) -> int:
        barrier.wait(10)
        with app.app_context(), database.write_transaction() as sess:
            return deliver_to(sess, people.employer, kind="notice", subject="受理通知", dedupe_key=KEY).id

    with ThreadPoolExecutor(WORKERS) as pool:
        ids = list(pool.map(deliver_once, range(WORKERS)))
    assert len(set(ids)) == 1
    assert _rows(database, KEY) == 1
    with database.read_session() as sess:
        assert service.delivery_record(sess, dedupe_key=KEY).id == ids[0]
