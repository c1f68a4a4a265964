"""System self-check (系统自检) and the job runs behind it — plain Python, no Flask.

A provincial staff member asks for a self-check: a ``JobRun`` row is written with its audit entry
and committed, the task is enqueued, and the worker moves the row to running and finished. The
check itself proves the whole path: the worker reached the database, counted the audit trail and
verified its hash chain.

Several nodes. Huey does not deliver a task again when the worker running it dies, and a message
can be lost (broker restarted, enqueue failed after the commit). So the state of every job that
must not be lost is its ``JobRun`` row, written before the enqueue: a worker holds a running job
under a lease (:func:`start_run`), and :func:`sweep_runs` (the sweeper, every minute) queues
again what a dead worker held and what stayed queued too long, as the outbox does for its
messages. Periodic tasks are enqueued by the one worker holding the scheduler lease
(:func:`hold_scheduler_lease`, :func:`claim_period`). Submission keys (:func:`find_submission`,
:func:`record_submission`) make a retried POST answer again without writing.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import Account, StaffAssignment
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.db import Database, utcnow
from portal.errors import NotFoundError
from portal.ops.models import JobRun, JobStatus, SchedulerLease, SubmissionKey

__all__ = [
    "ENQUEUE_TOPIC", "MAX_PROBLEMS_LISTED", "PERIODIC_LEASE", "SELF_CHECK", "claim_period",
    "enqueue_after_commit", "fail_run", "find_submission",
    "finish_run", "get_run", "hold_scheduler_lease", "mark_not_enqueued", "perform_self_check",
    "purge_submissions", "recent_runs", "record_submission", "renew_run_lease", "request_self_check", "start_run",
    "start_self_check", "submission_hash", "sweep_runs", "worker_identity",
]

SELF_CHECK = "self_check"
#: how many audit-chain problems a result lists (the count is always complete)
MAX_PROBLEMS_LISTED = 20

log = structlog.get_logger("portal.ops")


def request_self_check(sess: Session, actor: Actor) -> JobRun:
    """Create a queued self-check run, audited as ``ops.self_check_requested``."""
    now = utcnow()
    run = JobRun(task=SELF_CHECK, status=JobStatus.QUEUED, requested_by=actor.account_id,
                 requested_at=now, enqueued_at=now, attempts=0)
    sess.add(run)
    sess.flush()
    audit.record(sess, actor, "ops.self_check_requested", object_type="job_run", object_id=run.id)
    return run


def start_self_check(sess: Session, actor: Actor) -> JobRun:
    """Ask for a self-check in the caller's transaction (the request's unit of work): the run, its
    audit entry and an outbox message that hands it to the task queue right after the commit.

    So a retried request (its submission key already recorded) writes no second run, the worker
    always finds the committed row, and a queue that refuses the task (broker down) is tried
    again by the outbox dispatcher; the sweeper re-enqueues a run still queued after
    ``job_requeue_after_seconds`` whatever happened to its message."""
    run = request_self_check(sess, actor)
    enqueue_after_commit(sess, run)
    return run


#: outbox topic: hand a recorded job run to the task queue (``portal.tasks.jobs.enqueue_recorded``)
ENQUEUE_TOPIC = "jobs.enqueue"


def enqueue_after_commit(sess: Session, run: JobRun) -> None:
    """Hand ``run`` to the queue once the caller's transaction commits (outbox, after commit)."""
    from portal.outbox import service as outbox

    outbox.enqueue(sess, topic=ENQUEUE_TOPIC, aggregate=f"job_run:{run.id}", key=f"job_run:{run.id}",
                   payload={"task": run.task, "job_run_id": run.id}, after_commit=True)


def get_run(sess: Session, run_id: int) -> JobRun:
    run = sess.get(JobRun, run_id)
    if run is None:
        raise NotFoundError("未找到该任务记录")
    return run


def recent_runs(sess: Session, task: str = SELF_CHECK, limit: int = 10) -> list[JobRun]:
    return list(sess.execute(
        select(JobRun).where(JobRun.task == task).order_by(JobRun.id.desc()).limit(limit)
    ).scalars())


# --- the worker's side -----------------------------------------------------------------------


def worker_identity() -> str:
    """``host:pid`` of this process: who holds a running job."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def start_run(sess: Session, run_id: int, *, worker: str | None = None, lease_seconds: int = 300) -> JobRun | None:
    """Begin a delivery of the task, held by ``worker`` for ``lease_seconds``; None when the row
    is gone, already finished (a duplicate delivery of a task that has done its work must do
    nothing) or running under another delivery's lease that has not run out (a re-enqueued
    message arriving while the first delivery still works)."""
    run = sess.get(JobRun, run_id, with_for_update=True)
    now = utcnow()
    if run is None or not run.is_active or run.is_held(now):
        return None
    run.start(now, worker=worker or worker_identity(), lease_seconds=lease_seconds)
    sess.flush()
    return run


def renew_run_lease(sess: Session, run_id: int, *, worker: str, lease_seconds: int,
                    now: datetime | None = None) -> bool:
    """The worker still running ``run_id`` extends its lease (a heartbeat), so a task that takes
    longer than one lease is not presumed dead and run again. False when the run is no longer
    this worker's (finished, or the sweeper gave it to another delivery): the worker should stop."""
    now = now or utcnow()
    result = sess.execute(update(JobRun).where(
        JobRun.id == run_id, JobRun.status == JobStatus.RUNNING, JobRun.worker == worker)
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds)))
    return (result.rowcount or 0) == 1


def finish_run(sess: Session, run_id: int, result: dict[str, Any]) -> JobRun:
    run = get_run(sess, run_id)
    run.succeed(utcnow(), result)
    sess.flush()
    return run


def fail_run(sess: Session, run_id: int, error: str, *, will_retry: bool) -> JobRun:
    run = get_run(sess, run_id)
    if will_retry:
        run.requeue(error)
    else:
        run.fail(utcnow(), error)
    sess.flush()
    return run


def mark_not_enqueued(sess: Session, run_id: int, error: str) -> JobRun:
    """The queue refused the task (broker down): the run fails at once instead of hanging."""
    run = get_run(sess, run_id)
    run.fail(utcnow(), error)
    sess.flush()
    return run


def sweep_runs(sess: Session, *, lease_seconds: int, requeue_after_seconds: int,
               now: datetime | None = None) -> list[tuple[str, int]]:
    """The sweeper: ``(task, run id)`` of every run to hand to the queue again, marked queued now.

    - running whose lease ran out: its worker died (Huey does not deliver it again);
    - queued and last enqueued more than ``requeue_after_seconds`` ago: its message was lost.

    A task re-run is safe: :func:`start_run` refuses a run another delivery holds or finished.
    On PostgreSQL the rows are locked ``SKIP LOCKED``, so sweepers on several nodes share them."""
    now = now or utcnow()
    stale = now - timedelta(seconds=requeue_after_seconds)
    query = (select(JobRun)
             .where(or_((JobRun.status == JobStatus.RUNNING) & (JobRun.lease_expires_at < now),
                        (JobRun.status == JobStatus.QUEUED) & (JobRun.enqueued_at < stale),
                        (JobRun.status == JobStatus.QUEUED) & JobRun.enqueued_at.is_(None)
                        & (JobRun.requested_at < stale)))
             .order_by(JobRun.id).limit(500))
    if sess.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    found = []
    for run in sess.execute(query).scalars():
        if run.status is JobStatus.RUNNING:
            log.warning("ops.job_lease_expired", job_run_id=run.id, task=run.task, worker=run.worker)
            run.requeue(f"任务进程 {run.worker or ''} 未在租约内完成，已重新排队")
        run.enqueued_at = now
        found.append((run.task, run.id))
    sess.flush()
    return found


# --- the scheduler lease ---------------------------------------------------------------------

#: the lease of the scheduler that enqueues the periodic tasks
PERIODIC_LEASE = "periodic"


def hold_scheduler_lease(sess: Session, owner: str, *, seconds: int, name: str = PERIODIC_LEASE,
                         now: datetime | None = None) -> bool:
    """Take the lease ``name`` for ``owner`` (or renew it) for ``seconds``; False while another
    owner holds it. One conditional UPDATE decides, so two schedulers never both win."""
    now = now or utcnow()
    expires = now + timedelta(seconds=seconds)
    taken = sess.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, or_(SchedulerLease.owner == owner, SchedulerLease.expires_at < now))
        .values(owner=owner, expires_at=expires)
        .execution_options(synchronize_session=False))
    if taken.rowcount == 1:
        return True
    if sess.execute(select(SchedulerLease.name).where(SchedulerLease.name == name)).first() is not None:
        return False
    try:
        with sess.begin_nested():
            sess.add(SchedulerLease(name=name, owner=owner, expires_at=expires))
        return True
    except IntegrityError:  # another scheduler created it first
        return False


def claim_period(sess: Session, owner: str, period: datetime, *, name: str = PERIODIC_LEASE) -> bool:
    """The holder ``owner`` claims ``period`` (a minute) for enqueueing the periodic tasks: False
    when it does not hold the lease or the period was served already (by it or a holder before)."""
    claimed = sess.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.owner == owner,
               or_(SchedulerLease.period_at.is_(None), SchedulerLease.period_at < period))
        .values(period_at=period)
        .execution_options(synchronize_session=False))
    return claimed.rowcount == 1


# --- submission keys -------------------------------------------------------------------------


def submission_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def find_submission(sess: Session, key: str) -> SubmissionKey | None:
    return sess.get(SubmissionKey, submission_hash(key))


def record_submission(sess: Session, key: str, *, account_id: int | None, path: str, status_code: int,
                      location: str | None) -> SubmissionKey:
    """Record ``key`` in the caller's transaction (with what it wrote). A concurrent submission of
    the same key fails on the primary key (its transaction waits for this one on PostgreSQL)."""
    row = SubmissionKey(key_hash=submission_hash(key), account_id=account_id, path=path[:300],
                        status_code=status_code, location=location[:1000] if location else None,
                        created_at=utcnow())
    sess.add(row)
    sess.flush()
    return row


def purge_submissions(sess: Session, *, older_than_hours: int, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(hours=older_than_hours)
    return sess.execute(delete(SubmissionKey).where(SubmissionKey.created_at < cutoff)
                        .execution_options(synchronize_session=False)).rowcount or 0


def perform_self_check(database: Database) -> dict[str, Any]:
    """Reach the database, verify the audit trail's hash chain, count what is there."""
    started = time.perf_counter()
    with database.read_session() as sess:
        ping = time.perf_counter()
        sess.execute(text("SELECT 1"))
        latency_ms = round((time.perf_counter() - ping) * 1000, 2)
        report = audit.verify(sess)
        accounts = sess.execute(select(func.count()).select_from(Account)).scalar_one()
        staff = sess.execute(select(func.count()).select_from(StaffAssignment)
                             .where(StaffAssignment.active.is_(True))).scalar_one()
    return {
        "ok": report.ok,
        "database": {"backend": database.backend, "latency_ms": latency_ms},
        "audit_events": report.checked,
        "audit_chain_ok": report.ok,
        "audit_problem_count": len(report.problems),
        "audit_problems": report.problems[:MAX_PROBLEMS_LISTED],
        "accounts": accounts,
        "active_staff": staff,
        "worker": {"host": socket.gethostname(), "pid": os.getpid()},
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
