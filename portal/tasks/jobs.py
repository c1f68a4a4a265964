"""The background tasks. Huey may deliver a task more than once (retries, a worker killed
mid-task), so every task is idempotent: it acts on row ids, checks the row's state first, and
a repeated delivery of finished work changes nothing.

Huey does not deliver a task again when the worker running it dies. A task that must not be lost
is therefore a *recorded* task (:func:`recorded`): its state is a ``JobRun`` row written before
the enqueue, its worker holds it under a lease, and the sweeper (:func:`sweep_jobs`)
hands again to the queue what a dead worker held or what stayed queued too long; it runs on the
worker holding the scheduler lease, every scheduler tick.

Outcomes are counted in ``portal_jobs_total{task, outcome}`` (succeeded, failed, retried,
skipped). Each worker process has its own counters; the in-process consumer of ``portal demo``
shares the web process's ``/metrics``.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import structlog
from flask import Flask
from huey import crontab

from portal.metrics import JOBS
from portal.ops import service as ops
from portal.tasks.leases import LeaseKeeper
from portal.tasks.queue import bound_app, huey

log = structlog.get_logger("portal.tasks")

PURGE_SESSIONS = "purge_sessions"
SELF_CHECK_RETRIES = 2

_app_lock = threading.Lock()


def task_app() -> Flask:
    """The app whose database the tasks use.

    In the web process, ``portal worker`` and ``portal demo`` that is the app which configured the
    queue (see ``portal.tasks.queue.init_app``). A bare ``huey_consumer portal.tasks.jobs.huey``
    has none yet: one app is built from the environment, once per process, and cached (building
    it binds it).
    """
    app = bound_app()
    if app is not None:
        return app
    with _app_lock:
        app = bound_app()
        if app is None:
            from portal import create_app

            app = create_app()
        return app


#: task name (``JobRun.task``) → the Huey task that runs it with the run's id
_RECORDED: dict[str, Callable] = {}


def recorded(name: str, task):
    """Declare ``task`` (a Huey task taking a ``JobRun`` id) as the runner of ``JobRun.task ==
    name``, so the sweeper can hand a lost run to it again. Returns ``task``."""
    _RECORDED[name] = task
    return task


def recorded_tasks() -> dict[str, Callable]:
    return dict(_RECORDED)


#: other job tables' sweepers: name → ``fn(app) -> runs queued again`` (e.g. rendered documents)
_SWEEPERS: dict[str, Callable[[Flask], int]] = {}


def register_sweeper(name: str, fn: Callable[[Flask], int]) -> None:
    """Have :func:`sweep_jobs` also call ``fn(app)``: an area whose jobs live in a table of its
    own re-queues there what a dead worker held (idempotent; replaces an earlier registration)."""
    _SWEEPERS[name] = fn


def enqueue_recorded(payload: dict) -> dict:
    """Outbox handler of ``ops.ENQUEUE_TOPIC``: hand a committed run to the queue (registered in
    ``portal._wire_areas``). Raises while the broker refuses, so the outbox tries again."""
    task = _RECORDED.get(payload["task"])
    if task is None:
        raise LookupError(f"no recorded task {payload['task']!r}")
    task(int(payload["job_run_id"]))
    return {"enqueued": True}


def _lease_seconds(app: Flask) -> int:
    return int(app.config["PORTAL_SETTINGS"].job_lease_seconds)


@huey.task(retries=SELF_CHECK_RETRIES, retry_delay=2, context=True, name="self_check")
def run_self_check(job_run_id: int, task=None) -> None:
    """系统自检: verify the audit chain in the shared database and record the result."""
    app = task_app()
    database = app.extensions["portal.database"]
    started = time.perf_counter()
    with app.app_context():
        with database.write_transaction() as sess:
            run = ops.start_run(sess, job_run_id, lease_seconds=_lease_seconds(app))
            attempt = run.attempts if run is not None else None
        if run is None:
            log.info("job.skipped", task=ops.SELF_CHECK, job_run_id=job_run_id,
                     reason="missing or already finished")
            JOBS.labels(ops.SELF_CHECK, "skipped").inc()
            return
        try:
            with LeaseKeeper(database, job_run_id, _lease_seconds(app)):
                result = ops.perform_self_check(database)
            result["queue"] = {"backend": huey.backend}
            result["attempt"] = attempt
            result["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            with database.write_transaction() as sess:
                ops.finish_run(sess, job_run_id, result)
        except Exception as exc:
            will_retry = task is not None and task.retries > 0
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job.failed", task=ops.SELF_CHECK, job_run_id=job_run_id, will_retry=will_retry)
            with database.write_transaction() as sess:
                ops.fail_run(sess, job_run_id, error, will_retry=will_retry)
            JOBS.labels(ops.SELF_CHECK, "retried" if will_retry else "failed").inc()
            if will_retry:
                raise  # Huey schedules the retry
            return
    JOBS.labels(ops.SELF_CHECK, "succeeded").inc()
    log.info("job.succeeded", task=ops.SELF_CHECK, job_run_id=job_run_id,
             audit_chain_ok=result["audit_chain_ok"], duration_ms=result["duration_ms"])


@huey.periodic_task(crontab(minute="*/10"), retries=1, retry_delay=30, name=PURGE_SESSIONS)
def purge_sessions() -> int:
    """Delete dead server-side sessions (revoked, idle or past their lifetime). Idempotent."""
    from portal.auth.sessions import purge_dead_sessions

    app = task_app()
    database = app.extensions["portal.database"]
    try:
        with app.app_context(), database.write_transaction() as sess:
            deleted = purge_dead_sessions(sess, app.config["PORTAL_SETTINGS"].session_idle_minutes)
    except Exception:
        JOBS.labels(PURGE_SESSIONS, "failed").inc()
        raise
    JOBS.labels(PURGE_SESSIONS, "succeeded").inc()
    log.info("job.succeeded", task=PURGE_SESSIONS, deleted=deleted)
    return deleted


recorded(ops.SELF_CHECK, run_self_check)

SWEEP = "sweep_jobs"


def sweep_jobs(app: Flask | None = None) -> dict[str, int]:
    """The sweeper, run by the scheduler lease holder on each tick (``portal.tasks.scheduler``),
    so on exactly one worker, every ``scheduler_tick_seconds``. One sweep: queue again the recorded runs a dead worker held or whose message was lost
    (``ops.sweep_runs``), and purge old submission keys. Enqueued after the commit."""
    app = app or task_app()
    settings = app.config["PORTAL_SETTINGS"]
    database = app.extensions["portal.database"]
    with app.app_context():
        with database.write_transaction() as sess:
            found = ops.sweep_runs(sess, lease_seconds=int(settings.job_lease_seconds),
                                   requeue_after_seconds=int(settings.job_requeue_after_seconds))
            purged = ops.purge_submissions(sess, older_than_hours=int(settings.submission_key_hours))
    requeued = unknown = 0
    for name, run_id in found:
        task = _RECORDED.get(name)
        if task is None:
            unknown += 1
            log.warning("job.sweep_unknown_task", task=name, job_run_id=run_id)
            continue
        task(run_id)
        requeued += 1
    counts = {"requeued": requeued, "unknown_task": unknown, "submission_keys_purged": purged}
    for name, sweeper in _SWEEPERS.items():
        try:
            counts[f"requeued_{name}"] = int(sweeper(app))
        except Exception:
            log.exception("job.sweeper_failed", sweeper=name)
    return counts



AUDIT_CHECKPOINT = "audit_checkpoint"


@huey.periodic_task(crontab(minute="*"), retries=0, name=AUDIT_CHECKPOINT)
def audit_checkpoint() -> dict[str, int]:
    """Seal audit rows left unsealed and, at most every ``audit_checkpoint_interval_s``, anchor
    the chain head in the checkpoint sinks outside the database. Idempotent."""
    from portal.audit import service as audit

    app = task_app()
    database = app.extensions["portal.database"]

    def job() -> dict[str, int]:
        with app.app_context(), database.read_session() as sess:
            return audit.checkpoint_if_due(sess)

    return run_periodic(AUDIT_CHECKPOINT, job)


def run_periodic(name: str, job: Callable[[], dict[str, int]]) -> dict[str, int]:
    """Run one periodic job's body: count its outcome as ``name`` and log what it did (its counts)."""
    try:
        counts = job()
    except Exception:
        JOBS.labels(name, "failed").inc()
        raise
    JOBS.labels(name, "succeeded").inc()
    log.info("job.succeeded", task=name, **counts)
    return counts
