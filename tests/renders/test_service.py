"""The job of a background-rendered document: states, repeated deliveries, who may read it,
how long it is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import utcnow
from portal.errors import NotFoundError
from portal.renders import service
from portal.renders.models import DocumentJob, IllegalRenderTransition, RenderStatus


@pytest.fixture
def echo():
    service.register_renderer("tests.echo", lambda params: b"%PDF-1.7 " + params["text"].encode(), title="测试")
    yield "tests.echo"
    service._RENDERERS.pop("tests.echo", None)


def _job(sess, kind, key="a" * 64, owner="owner-secret") -> DocumentJob:
    queued = []
    job = service.start_render(sess, kind=kind, document_key=key, params={"text": "hi"}, owner_secret=owner,
                               filename="t.pdf", enqueue=queued.append)
    assert queued == [job.id]
    return sess.get(DocumentJob, job.id)


def test_a_job_goes_queued_running_done_and_a_second_delivery_does_nothing(sess, echo):
    job = _job(sess, echo)
    assert job.status is RenderStatus.QUEUED and job.owner == service.owner_of("owner-secret")
    assert job.owner != "owner-secret" and len(job.token) >= 32
    running = service.begin(sess, job.id)
    assert running.status is RenderStatus.RUNNING and running.attempts == 1
    service.finish(sess, job.id, service.render(echo, running.params))
    assert job.status is RenderStatus.DONE and job.content == b"%PDF-1.7 hi" and job.finished_at is not None
    assert service.begin(sess, job.id) is None  # Huey delivered it again: nothing happens
    with pytest.raises(IllegalRenderTransition):
        job.start(utcnow())
    assert service.rendered(sess, "a" * 64) == b"%PDF-1.7 hi"
    assert service.rendered(sess, "b" * 64) is None


def test_the_same_requester_asking_again_gets_the_same_job_others_their_own(sess, echo):
    first = _job(sess, echo)
    queued = []
    again = service.start_render(sess, kind=echo, document_key="a" * 64, params={"text": "hi"},
                                 owner_secret="owner-secret", filename="t.pdf", enqueue=queued.append)
    assert again.id == first.id and queued == []  # not enqueued twice
    other = _job(sess, echo, owner="someone-else")
    assert other.id != first.id


def test_only_the_owner_reads_a_job(sess, echo):
    job = _job(sess, echo)
    assert service.get_job(sess, job.token, "owner-secret").id == job.id
    for secret in (None, "", "someone-else"):
        with pytest.raises(NotFoundError):
            service.get_job(sess, job.token, secret)
    with pytest.raises(NotFoundError):
        service.get_job(sess, "no-such-token-at-all-xxxx", "owner-secret")


def test_a_queue_that_refuses_the_task_fails_the_job_at_once(sess, echo):
    def refuse(job_id):
        raise ConnectionError("broker down")

    job = service.start_render(sess, kind=echo, document_key="c" * 64, params={"text": "hi"},
                               owner_secret="owner-secret", filename="t.pdf", enqueue=refuse)
    stored = sess.execute(select(DocumentJob).where(DocumentJob.id == job.id)).scalar_one()
    assert stored.status is RenderStatus.FAILED and "ConnectionError" in stored.error


def test_old_jobs_are_purged_with_their_files(sess, echo):
    old, new = _job(sess, echo, key="d" * 64), _job(sess, echo, key="e" * 64)
    sess.get(DocumentJob, old.id).requested_at = utcnow() - timedelta(hours=service.KEEP_HOURS + 1)
    sess.flush()
    with pytest.raises(NotFoundError):  # expired: no longer offered
        service.get_job(sess, old.token, "owner-secret")
    assert service.purge(sess) == 1
    assert sess.get(DocumentJob, new.id) is not None
    assert sess.execute(select(DocumentJob).where(DocumentJob.id == old.id)).scalar_one_or_none() is None


def test_an_unknown_kind_is_refused(sess):
    with pytest.raises(ValueError):
        service.start_render(sess, kind="no.such.kind", document_key="f" * 64, params={}, owner_secret="s",
                             filename="t.pdf", enqueue=lambda job_id: None)


def test_a_job_whose_worker_died_or_whose_message_was_lost_is_queued_again(sess, echo):
    died, lost, fine = _job(sess, echo, key="g" * 64), _job(sess, echo, key="h" * 64), _job(sess, echo, key="i" * 64)
    now = utcnow()
    assert service.begin(sess, died.id) is not None and service.begin(sess, fine.id) is not None
    # a second delivery while the first still holds the job does nothing
    assert service.begin(sess, died.id) is None
    died.started_at = now - service.LEASE - timedelta(seconds=1)  # its worker died mid-render
    lost.enqueued_at = now - service.REQUEUE_AFTER - timedelta(seconds=1)  # its message never came
    sess.flush()
    assert service.sweep(sess, now=now) == [died.id, lost.id]
    assert died.status is RenderStatus.QUEUED and lost.enqueued_at == now and fine.status is RenderStatus.RUNNING
    assert service.sweep(sess, now=now) == []  # just handed again: not twice
    assert service.begin(sess, died.id).attempts == 2
    # a job that keeps killing its worker fails after MAX_ATTEMPTS deliveries
    died.attempts = service.MAX_ATTEMPTS
    died.started_at = now - service.LEASE - timedelta(seconds=1)
    sess.flush()
    assert service.sweep(sess, now=now) == []
    assert died.status is RenderStatus.FAILED and "中断" in died.error


def test_the_one_job_sweeper_also_hands_lost_document_jobs_again(app, sess, tx, echo):
    """Document jobs are swept by ``sweep_jobs`` (the scheduler lease holder's sweeper), not by a
    periodic task of their own."""
    from portal.renders import tasks as render_tasks
    from portal.tasks import jobs

    handed = []
    original = render_tasks.render_document
    render_tasks.render_document = handed.append  # the sweeper's hand-over, recorded
    try:
        lost_id = _job(sess, echo, key="j" * 64).id  # committed by start_render's own transaction

        def message_lost(own):
            own.get(DocumentJob, lost_id).enqueued_at = utcnow() - service.REQUEUE_AFTER - timedelta(seconds=1)

        tx(message_lost)
        counts = jobs.sweep_jobs(app)
    finally:
        render_tasks.render_document = original
    assert counts["requeued_documents"] == 1 and handed == [lost_id]
