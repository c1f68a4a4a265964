"""Keeping a job run's lease while its task works (租约续期).

A recorded run (``portal.ops.models.JobRun``) is held under a lease of ``job_lease_seconds``; past
it the sweeper presumes the worker dead and queues the run again. A task that may work longer than
one lease keeps it with :class:`LeaseKeeper`: a thread renews the lease every third of its length
in a short transaction of its own, and stops when the task ends (or the run is no longer this
worker's, which it logs: the task's own finish then fails loudly rather than double-recording).
"""

from __future__ import annotations

import threading

import structlog

from portal.ops import service as ops

log = structlog.get_logger(__name__)


class LeaseKeeper:
    """``with LeaseKeeper(database, run_id, lease_seconds): work()`` renews the run's lease while
    ``work`` runs."""

    def __init__(self, database, run_id: int, lease_seconds: int, *, worker: str | None = None) -> None:
        self.database = database
        self.run_id = run_id
        self.lease_seconds = lease_seconds
        self.worker = worker or ops.worker_identity()
        self.interval = max(lease_seconds / 3, 0.05)
        self.renewals = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{run_id}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.database.write_transaction() as sess:
                    held = ops.renew_run_lease(sess, self.run_id, worker=self.worker,
                                               lease_seconds=self.lease_seconds)
            except Exception:  # a database hiccup: try again next time, the lease has slack left
                log.exception("job.lease_renew_failed", job_run_id=self.run_id)
                continue
            if not held:
                self.lost = True
                log.warning("job.lease_lost", job_run_id=self.run_id, worker=self.worker)
                return
            self.renewals += 1
