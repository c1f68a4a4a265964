"""A job that works longer than its lease keeps it (both DBs): the sweeper leaves it alone while
its worker renews, takes it back once the worker stops, and a worker whose run was given away
notices instead of renewing someone else's lease."""

from __future__ import annotations

import time
from datetime import timedelta

from portal.db import utcnow
from portal.ops import service as ops
from portal.ops.models import JobRun
from portal.tasks.leases import LeaseKeeper
from tests.ops.test_nodes_service import _queued_run

LEASE = 1  #: seconds: the keeper renews every third of it


def _start(database, run_id: int) -> None:
    with database.write_transaction() as sess:
        assert ops.start_run(sess, run_id, lease_seconds=LEASE) is not None


def _swept(database, *, later: float = 0.0) -> list[tuple[str, int]]:
    with database.write_transaction() as sess:
        return ops.sweep_runs(sess, lease_seconds=LEASE, requeue_after_seconds=3600,
                              now=utcnow() + timedelta(seconds=later))


def test_a_run_longer_than_its_lease_is_not_run_twice(app):
    database = app.extensions["portal.database"]
    run_id = _queued_run(database)
    _start(database, run_id)
    with LeaseKeeper(database, run_id, LEASE) as keeper:
        time.sleep(LEASE * 1.6)  # the task works past its first lease
        assert _swept(database) == []  # renewed: still held
    assert keeper.renewals >= 2 and not keeper.lost
    # the worker stopped renewing (it died): past the lease the sweeper queues the run again
    assert _swept(database, later=LEASE + 0.5) == [("self_check", run_id)]


def test_a_worker_whose_run_was_given_away_stops_renewing(app):
    database = app.extensions["portal.database"]
    run_id = _queued_run(database)
    _start(database, run_id)
    with database.write_transaction() as sess:  # another delivery took it over
        sess.get(JobRun, run_id).worker = "other-node:1"
    with LeaseKeeper(database, run_id, LEASE) as keeper:
        time.sleep(LEASE * 0.6)
    assert keeper.lost and keeper.renewals == 0
    with database.read_session() as sess:
        assert sess.get(JobRun, run_id).worker == "other-node:1"
