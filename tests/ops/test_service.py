"""The self-check job run: requested with an audit entry, moved through its states by the task,
and idempotent when Huey delivers it again."""

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.auth.models import WebSession
from portal.auth.roles import Actor, Role
from portal.db import utcnow
from portal.metrics import REGISTRY
from portal.ops import service
from portal.ops.models import IllegalJobTransition, JobRun, JobStatus
from portal.tasks import jobs

PROVINCIAL = Actor(role=Role.PROVINCIAL, account_id=None, display_name="吴刚",
                   client_addr="127.0.0.1", request_id="req-ops-1")


def _request(database) -> int:
    with database.write_transaction() as sess:
        return service.request_self_check(sess, PROVINCIAL).id


def _run(database, run_id) -> JobRun:
    with database.read_session() as sess:
        return sess.get(JobRun, run_id)


def _jobs(outcome: str, task: str = "self_check") -> float:
    return REGISTRY.get_sample_value("portal_jobs_total", {"task": task, "outcome": outcome}) or 0.0


def test_request_creates_a_queued_run_and_audits_it(app):
    database = app.extensions["portal.database"]
    run_id = _request(database)
    run = _run(database, run_id)
    assert run.status is JobStatus.QUEUED and run.task == "self_check" and run.attempts == 0
    assert run.requested_at is not None and run.finished_at is None
    with database.read_session() as sess:
        event = sess.execute(sa.select(AuditEvent).where(AuditEvent.action == "ops.self_check_requested")
                             ).scalar_one()
    assert event.object_type == "job_run" and event.object_id == str(run_id)
    assert event.role == "provincial" and event.request_id == "req-ops-1"


def test_task_records_the_result_and_a_second_delivery_changes_nothing(app):
    database = app.extensions["portal.database"]
    run_id = _request(database)
    before = _jobs("succeeded"), _jobs("skipped")
    jobs.run_self_check.call_local(run_id)
    done = _run(database, run_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 1
    assert done.result["ok"] is True and done.result["audit_chain_ok"] is True
    assert done.result["audit_events"] == 1  # the request's own audit entry
    assert done.result["database"]["backend"] == database.backend
    assert done.result["queue"] == {"backend": "sqlite"}
    assert done.result["duration_ms"] >= 0 and done.finished_at >= done.started_at

    jobs.run_self_check.call_local(run_id)  # Huey redelivers: nothing happens
    again = _run(database, run_id)
    assert (again.status, again.attempts, again.finished_at, again.result) == (
        done.status, done.attempts, done.finished_at, done.result)
    assert (_jobs("succeeded"), _jobs("skipped")) == (before[0] + 1, before[1] + 1)


def test_task_for_a_missing_run_does_nothing(app):
    jobs.run_self_check.call_local(987654)


def test_failure_is_retried_then_recorded(app, monkeypatch):
    database = app.extensions["portal.database"]
    run_id = _request(database)

    def broken(_database):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(service, "perform_self_check", broken)
    with pytest.raises(RuntimeError):
        jobs.run_self_check.call_local(run_id, task=SimpleNamespace(retries=1))
    retrying = _run(database, run_id)
    assert retrying.status is JobStatus.QUEUED and "磁盘已满" in retrying.error

    jobs.run_self_check.call_local(run_id, task=SimpleNamespace(retries=0))
    failed = _run(database, run_id)
    assert failed.status is JobStatus.FAILED and failed.attempts == 2
    assert failed.error == "RuntimeError: 磁盘已满" and failed.finished_at is not None


def test_a_broken_audit_chain_is_a_finding_not_a_crash(app):
    from tests.helpers import tamper_with_audit_trail

    database = app.extensions["portal.database"]
    _request(database)
    run_id = _request(database)
    tamper_with_audit_trail(database.engine, "UPDATE audit_event SET actor_label = '别人' WHERE seq = 1")
    jobs.run_self_check.call_local(run_id)
    run = _run(database, run_id)
    assert run.status is JobStatus.SUCCEEDED
    assert run.result["ok"] is False and run.result["audit_problem_count"] >= 1
    assert any("第 1 条记录内容被改动" in p for p in run.result["audit_problems"])


def test_illegal_transitions_are_refused():
    run = JobRun(id=1, task="self_check", status=JobStatus.QUEUED, attempts=0)
    with pytest.raises(IllegalJobTransition):
        run.succeed(utcnow(), {})
    run.start(utcnow())
    run.succeed(utcnow(), {"ok": True})
    for move in (lambda: run.start(utcnow()), lambda: run.fail(utcnow(), "x"), lambda: run.requeue("x")):
        with pytest.raises(IllegalJobTransition):
            move()


def test_periodic_purge_deletes_dead_sessions_only(app):
    database = app.extensions["portal.database"]
    now = utcnow()
    from datetime import timedelta

    with database.write_transaction() as sess:
        sess.add(WebSession(id="a" * 64, data={}, created_at=now, last_seen_at=now))
        sess.add(WebSession(id="b" * 64, data={}, created_at=now - timedelta(hours=1),
                            last_seen_at=now - timedelta(minutes=45)))
        sess.add(WebSession(id="c" * 64, data={}, created_at=now, last_seen_at=now, revoked_at=now))
    before = _jobs("succeeded", "purge_sessions")
    assert jobs.purge_sessions.call_local() == 2
    assert jobs.purge_sessions.call_local() == 0  # idempotent
    with database.read_session() as sess:
        assert sess.execute(sa.select(WebSession.id)).scalars().all() == ["a" * 64]
    assert _jobs("succeeded", "purge_sessions") == before + 2


def test_purge_is_scheduled_every_ten_minutes():
    from datetime import datetime

    validate = jobs.purge_sessions.s().validate_datetime
    assert validate(datetime(2026, 11, 23, 10, 20))
    assert not validate(datetime(2026, 11, 23, 10, 21))
