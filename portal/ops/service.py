"""System self-check (系统自检) and the job runs behind it — plain Python, no Flask.

A provincial staff member asks for a self-check: a ``JobRun`` row is written with its audit entry
and committed, the task is enqueued, and the worker moves the row to running and finished. The
check itself proves the whole path: the worker reached the database, counted the audit trail and
verified its hash chain.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any, Callable

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.accounts.models import Account, StaffAssignment
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.db import Database, independent_transaction, utcnow
from portal.errors import NotFoundError
from portal.ops.models import JobRun, JobStatus

__all__ = [
    "MAX_PROBLEMS_LISTED", "SELF_CHECK", "fail_run", "finish_run", "get_run", "mark_not_enqueued",
    "perform_self_check", "recent_runs", "request_self_check", "start_self_check", "start_run",
]

SELF_CHECK = "self_check"
#: how many audit-chain problems a result lists (the count is always complete)
MAX_PROBLEMS_LISTED = 20

log = structlog.get_logger("portal.ops")


def request_self_check(sess: Session, actor: Actor) -> JobRun:
    """Create a queued self-check run, audited as ``ops.self_check_requested``."""
    run = JobRun(task=SELF_CHECK, status=JobStatus.QUEUED, requested_by=actor.account_id,
                 requested_at=utcnow(), attempts=0)
    sess.add(run)
    sess.flush()
    audit.record(sess, actor, "ops.self_check_requested", object_type="job_run", object_id=run.id)
    return run


def start_self_check(sess: Session, actor: Actor, enqueue: Callable[[int], object]) -> JobRun:
    """Ask for a self-check and hand it to the task queue (``enqueue(run_id)``).

    The worker must find the row, so the run and its audit entry are committed in an independent
    transaction before the task is enqueued. When the queue refuses the task (broker down) the
    run fails at once, in another, instead of staying queued for ever."""
    with independent_transaction(sess) as own:
        run = request_self_check(own, actor)
    try:
        enqueue(run.id)
    except Exception as exc:
        log.exception("ops.enqueue_failed", job_run_id=run.id)
        with independent_transaction(sess) as own:
            run = mark_not_enqueued(own, run.id, f"无法加入任务队列 ({type(exc).__name__})")
    return run


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


def start_run(sess: Session, run_id: int) -> JobRun | None:
    """Begin a delivery of the task; None when the row is gone or already finished (a duplicate
    delivery of a task that has done its work must do nothing)."""
    run = sess.get(JobRun, run_id, with_for_update=True)
    if run is None or not run.is_active:
        return None
    run.start(utcnow())
    sess.flush()
    return run


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
