"""Documents rendered by the background worker — plain Python, no Flask.

The web side (:func:`start_render`) writes a queued :class:`DocumentJob` in its own committed
transaction, then enqueues the task, so the worker always finds the row; when the queue refuses
the task the job fails at once instead of staying queued. The worker side (:func:`begin`,
:func:`finish`, :func:`fail`) moves the row through its states; a repeated delivery of finished
work does nothing. A done job's file also serves anyone else who asks for the same document
(:func:`rendered`, by the document key), across nodes; jobs are deleted after
:data:`KEEP_HOURS` (:func:`purge`).

Several nodes. Huey does not deliver a task again when the worker running it dies, and a message
can be lost (broker restarted). A delivery holds its job for :data:`LEASE` (rendering takes
seconds); :func:`sweep` (every minute, with the purge) queues again a job whose lease ran out and
a queued job whose message has waited longer than :data:`REQUEUE_AFTER`, up to
:data:`MAX_ATTEMPTS` deliveries, then fails it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, Callable

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.db import independent_transaction, utcnow
from portal.errors import NotFoundError
from portal.renders.models import DocumentJob, RenderStatus

log = structlog.get_logger("portal.renders")

#: hours a rendered file is kept (and offered again for the same document key)
KEEP_HOURS = 24
#: how long a delivery holds its job; past it the worker is presumed dead
LEASE = timedelta(seconds=120)
#: a queued job whose message is older than this is handed to the queue again
REQUEUE_AFTER = timedelta(seconds=90)
#: deliveries before a job that keeps dying is failed
MAX_ATTEMPTS = 3
NOT_FOUND = "没有找到这个文件，或者它已过期（生成的文件保留 24 小时）"

#: kind → renderer(params) -> bytes, wired by the app factory
_RENDERERS: dict[str, Callable[[dict[str, Any]], bytes]] = {}
#: kind → what people call the document
_TITLES: dict[str, str] = {}


def register_renderer(kind: str, renderer: Callable[[dict[str, Any]], bytes], *, title: str) -> None:
    """Say how documents of ``kind`` are rendered and named (idempotent: tests build many apps)."""
    _RENDERERS[kind] = renderer
    _TITLES[kind] = title


def title_of(kind: str) -> str:
    return _TITLES.get(kind, "PDF 文件")


#: hands a job id to the task queue (``portal.renders.tasks.render_document``), wired by the factory
_enqueue: Callable[[int], object] | None = None


def use_queue(enqueue: Callable[[int], object]) -> None:
    """Say how jobs reach the background worker (the factory passes the Huey task)."""
    global _enqueue
    _enqueue = enqueue


def owner_of(secret: str) -> str:
    """What a job keeps of the requester's session secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _fresh_since() -> datetime:
    return utcnow() - timedelta(hours=KEEP_HOURS)


def rendered(sess: Session, document_key: str) -> bytes | None:
    """The file of a done job for ``document_key`` still kept, whoever asked for it."""
    return sess.execute(
        select(DocumentJob.content).where(DocumentJob.document_key == document_key,
                                          DocumentJob.status == RenderStatus.DONE,
                                          DocumentJob.requested_at >= _fresh_since())
        .order_by(DocumentJob.id.desc()).limit(1)
    ).scalar_one_or_none()


def _own_job(sess: Session, owner: str, document_key: str) -> DocumentJob | None:
    """The requester's job for the same document still queued, running or done (a second click)."""
    return sess.execute(
        select(DocumentJob).where(DocumentJob.owner == owner, DocumentJob.document_key == document_key,
                                  DocumentJob.status != RenderStatus.FAILED,
                                  DocumentJob.requested_at >= _fresh_since())
        .order_by(DocumentJob.id.desc()).limit(1)
    ).scalar_one_or_none()


def start_render(sess: Session, *, kind: str, document_key: str, params: dict[str, Any], owner_secret: str,
                 filename: str, enqueue: Callable[[int], object] | None = None) -> DocumentJob:
    """Ask for a document to be rendered by the worker and return its job (the requester's job
    for the same document when there is one: asking twice renders once)."""
    if kind not in _RENDERERS:
        raise ValueError(f"no renderer for {kind!r}")
    owner = owner_of(owner_secret)
    with independent_transaction(sess) as own:
        job = _own_job(own, owner, document_key)
        if job is not None:
            return job
        now = utcnow()
        job = DocumentJob(token=secrets.token_urlsafe(24), kind=kind, document_key=document_key, owner=owner,
                          params=params, filename=filename, status=RenderStatus.QUEUED, requested_at=now,
                          enqueued_at=now, attempts=0)
        own.add(job)
        own.flush()
    enqueue = enqueue or _enqueue
    if enqueue is None:
        raise RuntimeError("portal.renders: no task queue wired (use_queue)")
    try:
        enqueue(job.id)
    except Exception as exc:
        log.exception("renders.enqueue_failed", document_job_id=job.id)
        with independent_transaction(sess) as own:
            failed = own.get(DocumentJob, job.id)
            if failed is not None and failed.is_active:
                failed.status, failed.finished_at = RenderStatus.FAILED, utcnow()
                failed.error = f"无法加入任务队列 ({type(exc).__name__})"
            job = failed or job
    return job


def get_job(sess: Session, token: str, owner_secret: str | None) -> DocumentJob:
    """The job named ``token`` if the session holding ``owner_secret`` asked for it; anyone else
    gets the same "not found" as for a job that never was."""
    if not owner_secret:
        raise NotFoundError(NOT_FOUND)
    job = sess.execute(select(DocumentJob).where(DocumentJob.token == token)).scalar_one_or_none()
    if (job is None or not secrets.compare_digest(job.owner, owner_of(owner_secret))
            or job.requested_at < _fresh_since()):
        raise NotFoundError(NOT_FOUND)
    return job


# --- the worker's side -----------------------------------------------------------------------


def begin(sess: Session, job_id: int) -> DocumentJob | None:
    """A delivery of the task begins; None when the job is gone, already finished, or held by
    another delivery whose lease has not run out."""
    job = sess.get(DocumentJob, job_id, with_for_update=True)
    now = utcnow()
    if job is None or not job.is_active or job.is_held(now, LEASE):
        return None
    job.start(now)
    sess.flush()
    return job


def render(kind: str, params: dict[str, Any]) -> bytes:
    return _RENDERERS[kind](params)


def finish(sess: Session, job_id: int, content: bytes) -> DocumentJob:
    job = sess.get(DocumentJob, job_id, with_for_update=True)
    if job is None:
        raise NotFoundError(NOT_FOUND)
    job.finish(utcnow(), content)
    sess.flush()
    return job


def fail(sess: Session, job_id: int, error: str, *, will_retry: bool) -> DocumentJob | None:
    job = sess.get(DocumentJob, job_id, with_for_update=True)
    if job is None or not job.is_active:
        return job
    job.fail(utcnow(), error, will_retry=will_retry)
    sess.flush()
    return job


def sweep(sess: Session, *, now: datetime | None = None) -> list[int]:
    """The jobs to hand to the queue again: running past their lease (the worker died) or queued
    with a message older than :data:`REQUEUE_AFTER` (lost). A job already delivered
    :data:`MAX_ATTEMPTS` times fails instead. Marks the returned ones as just enqueued."""
    now = now or utcnow()
    stale = sess.execute(
        select(DocumentJob).where(
            ((DocumentJob.status == RenderStatus.RUNNING) & (DocumentJob.started_at < now - LEASE))
            | ((DocumentJob.status == RenderStatus.QUEUED) & (DocumentJob.enqueued_at < now - REQUEUE_AFTER)))
        .order_by(DocumentJob.id).with_for_update()
    ).scalars().all()
    again = []
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = RenderStatus.FAILED, now
            job.error = f"后台进程中断 {job.attempts} 次，已停止重试"
            continue
        job.status, job.enqueued_at = RenderStatus.QUEUED, now
        again.append(job.id)
    sess.flush()
    return again


def purge(sess: Session, *, now: datetime | None = None) -> int:
    """Delete jobs asked for more than :data:`KEEP_HOURS` ago (their files with them)."""
    cutoff = (now or utcnow()) - timedelta(hours=KEEP_HOURS)
    return sess.execute(delete(DocumentJob).where(DocumentJob.requested_at < cutoff)).rowcount or 0
