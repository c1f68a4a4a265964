"""The worker's task that renders a requested document (registered on the one Huey instance
when the app is built: ``portal worker`` and the web process import it alike)."""

from __future__ import annotations

import time

import structlog

from portal.metrics import JOBS
from portal.renders import service
from portal.tasks.jobs import register_sweeper, task_app
from portal.tasks.queue import huey

log = structlog.get_logger("portal.renders")

RENDER_DOCUMENT = "render_document"


@huey.task(retries=1, retry_delay=2, context=True, name=RENDER_DOCUMENT)
def render_document(document_job_id: int, task=None) -> None:
    """Render one requested document and keep the file on its job row. Idempotent: a delivery
    that finds the job finished (or gone) does nothing."""
    app = task_app()
    database = app.extensions["portal.database"]
    started = time.perf_counter()
    with app.app_context():
        with database.write_transaction() as sess:
            job = service.begin(sess, document_job_id)
            kind, params = (job.kind, dict(job.params)) if job is not None else (None, None)
        if kind is None:
            log.info("job.skipped", task=RENDER_DOCUMENT, document_job_id=document_job_id)
            JOBS.labels(RENDER_DOCUMENT, "skipped").inc()
            return
        try:
            content = service.render(kind, params)
            with database.write_transaction() as sess:
                service.finish(sess, document_job_id, content)
        except Exception as exc:
            will_retry = task is not None and task.retries > 0
            log.exception("job.failed", task=RENDER_DOCUMENT, document_job_id=document_job_id, kind=kind,
                          will_retry=will_retry)
            with database.write_transaction() as sess:
                service.fail(sess, document_job_id, f"{type(exc).__name__}: {exc}", will_retry=will_retry)
            JOBS.labels(RENDER_DOCUMENT, "retried" if will_retry else "failed").inc()
            if will_retry:
                raise
            return
    JOBS.labels(RENDER_DOCUMENT, "succeeded").inc()
    log.info("job.succeeded", task=RENDER_DOCUMENT, document_job_id=document_job_id, kind=kind, bytes=len(content),
             duration_ms=round((time.perf_counter() - started) * 1000, 1))


def sweep_document_jobs(app) -> int:
    """Hand again to the queue the render jobs a dead worker held or whose message was lost, and
    delete jobs older than ``service.KEEP_HOURS``. Idempotent. Run by the one job sweeper
    (``portal.tasks.jobs.sweep_jobs``) on the scheduler lease holder, so once across nodes."""
    database = app.extensions["portal.database"]
    with app.app_context(), database.write_transaction() as sess:
        again = service.sweep(sess)
        deleted = service.purge(sess)
    for job_id in again:
        render_document(job_id)
    if again or deleted:
        log.info("renders.swept", requeued=len(again), deleted=deleted)
    return len(again)


register_sweeper("documents", sweep_document_jobs)
