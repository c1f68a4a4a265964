"""One scheduler across nodes: only the worker holding the scheduler lease enqueues the periodic
tasks, once per minute across all of them.

Every ``portal worker`` runs Huey's scheduler, which wakes every ``scheduler_tick_seconds`` and asks
:meth:`PortalHuey.read_periodic` which periodic tasks are due. The answer goes through
:class:`SchedulerGate`: in one short write transaction the worker takes or renews the lease (a
``scheduler_lease`` row, ``scheduler_lease_seconds`` long; see ``portal.ops.service``) and claims
the current minute. Only the holder that claims the minute enqueues; every other worker's scheduler
enqueues nothing. When the holder dies its lease runs out and the next worker's tick takes it
over; a minute already served by the dead holder is not served again. The holder also runs the
sweeper each tick (``portal.tasks.jobs.sweep_jobs``): jobs a dead worker held are queued again.

If the database cannot be reached, nothing is enqueued (the periodic tasks all catch up on their
next run).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import structlog

from portal.db import utcnow

if TYPE_CHECKING:
    from flask import Flask

log = structlog.get_logger("portal.tasks")


def period_of(timestamp: datetime) -> datetime:
    """The minute ``timestamp`` (Huey's naive UTC, or aware) falls in, as aware UTC."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    return timestamp.astimezone(timezone.utc).replace(second=0, microsecond=0)


class SchedulerGate:
    """``gate(timestamp) -> bool``: may this worker enqueue the periodic tasks due at
    ``timestamp``? Holds the lease for ``app``'s database under a name unique to this process."""

    def __init__(self, app: "Flask", owner: str | None = None) -> None:
        from portal.ops import service as ops

        self.app = app
        self.owner = owner or f"{ops.worker_identity()}:{secrets.token_hex(3)}"
        self.holding = False

    def __call__(self, timestamp: datetime) -> bool:
        from portal.ops import service as ops

        settings = self.app.config["PORTAL_SETTINGS"]
        database = self.app.extensions["portal.database"]
        try:
            with self.app.app_context(), database.write_transaction() as sess:
                held = ops.hold_scheduler_lease(sess, self.owner, now=utcnow(),
                                                seconds=int(settings.scheduler_lease_seconds))
                claimed = held and ops.claim_period(sess, self.owner, period_of(timestamp))
        except Exception:
            log.exception("scheduler.lease_failed", owner=self.owner)
            self.holding = False
            return False
        if held != self.holding:
            log.info("scheduler.lease_taken" if held else "scheduler.lease_lost", owner=self.owner)
            self.holding = held
        if claimed:
            log.info("scheduler.period_claimed", owner=self.owner, period=period_of(timestamp).isoformat())
        if held:
            self._sweep()
        return claimed

    def _sweep(self) -> None:
        from portal.tasks.jobs import SWEEP, run_periodic, sweep_jobs

        try:
            counts = run_periodic(SWEEP, lambda: sweep_jobs(self.app))
        except Exception:
            log.exception("scheduler.sweep_failed", owner=self.owner)
            return
        if counts.get("requeued"):
            log.warning("scheduler.swept", owner=self.owner, **counts)
