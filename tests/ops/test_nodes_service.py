"""What lets several nodes share one database (both DBs): the scheduler lease (one scheduler at a
time, taken over when its holder dies, each minute served once), the sweeper (a run a dead worker
held or whose message was lost is queued again, and a re-run does not run twice), and submission
keys (the same form POST twice writes once and answers the same)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from portal.auth.roles import Actor, Role
from portal.db import utcnow
from portal.ops import service as ops
from portal.ops.models import JobRun, JobStatus, SchedulerLease, SubmissionKey
from portal.projects.models import Project
from portal.tasks import jobs
from portal.tasks.scheduler import SchedulerGate, period_of
from tests.ops.conftest import wait_for

PROVINCIAL = Actor(role=Role.PROVINCIAL, account_id=None, display_name="吴刚",
                   client_addr="127.0.0.1", request_id="req-nodes-1")
T0 = datetime(2026, 12, 3, 10, 0, 5, tzinfo=timezone.utc)


def _lease(database, owner, now, seconds=10):
    with database.write_transaction() as sess:
        return ops.hold_scheduler_lease(sess, owner, now=now, seconds=seconds)


def _claim(database, owner, period):
    with database.write_transaction() as sess:
        return ops.claim_period(sess, owner, period)


def test_one_scheduler_holds_the_lease_until_it_stops_renewing(app):
    database = app.extensions["portal.database"]
    assert _lease(database, "node-a", T0) is True
    assert _lease(database, "node-b", T0 + timedelta(seconds=1)) is False
    assert _lease(database, "node-a", T0 + timedelta(seconds=8)) is True       # renewed to T0+18
    assert _lease(database, "node-b", T0 + timedelta(seconds=15)) is False
    # node-a died: its lease runs out and node-b's next tick takes over; node-a cannot come back
    assert _lease(database, "node-b", T0 + timedelta(seconds=19)) is True
    assert _lease(database, "node-a", T0 + timedelta(seconds=20)) is False
    with database.read_session() as sess:
        assert sess.execute(sa.select(SchedulerLease.owner)).scalars().all() == ["node-b"]


def test_each_minute_is_claimed_once_even_across_a_takeover(app):
    database = app.extensions["portal.database"]
    minute = period_of(T0)
    assert _lease(database, "node-a", T0)
    assert _claim(database, "node-a", minute) is True
    assert _claim(database, "node-a", minute) is False            # a second tick in the same minute
    assert _claim(database, "node-b", minute) is False            # not the holder
    assert _lease(database, "node-b", T0 + timedelta(seconds=30))  # node-a's lease ran out
    assert _claim(database, "node-b", minute) is False            # the minute was served already
    assert _claim(database, "node-b", minute + timedelta(minutes=1)) is True


def test_the_gate_lets_one_of_two_schedulers_enqueue_the_periodic_tasks(app):
    first, second = SchedulerGate(app, owner="w1"), SchedulerGate(app, owner="w2")
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # Huey's naive UTC timestamp
    assert [first(now), second(now)] == [True, False]
    assert [first(now), second(now)] == [False, False]        # the same minute again
    assert first.holding and not second.holding


def _queued_run(database, **values) -> int:
    with database.write_transaction() as sess:
        run = ops.request_self_check(sess, PROVINCIAL)
        for name, value in values.items():
            setattr(run, name, value)
        return run.id


def test_the_sweeper_requeues_what_a_dead_worker_held_and_lost_messages(app):
    database = app.extensions["portal.database"]
    now = utcnow()
    dead = _queued_run(database, status=JobStatus.RUNNING, worker="gone:1", attempts=1,
                       lease_expires_at=now - timedelta(seconds=1))
    alive = _queued_run(database, status=JobStatus.RUNNING, worker="busy:2", attempts=1,
                        lease_expires_at=now + timedelta(seconds=300))
    lost = _queued_run(database, enqueued_at=now - timedelta(seconds=700))
    fresh = _queued_run(database)
    with database.write_transaction() as sess:
        found = ops.sweep_runs(sess, lease_seconds=300, requeue_after_seconds=600, now=now)
    assert sorted(found) == sorted([("self_check", dead), ("self_check", lost)])
    with database.read_session() as sess:
        runs = {r.id: r for r in sess.execute(sa.select(JobRun)).scalars()}
    assert runs[dead].status is JobStatus.QUEUED and runs[dead].worker is None
    assert "重新排队" in runs[dead].error
    assert runs[alive].status is JobStatus.RUNNING and runs[fresh].status is JobStatus.QUEUED
    # a message of a run another worker still holds does nothing (no second run at once)
    jobs.run_self_check.call_local(alive)
    with database.read_session() as sess:
        assert sess.get(JobRun, alive).status is JobStatus.RUNNING
    # the sweep job hands the lost ones to the queue (immediate in tests): they run, once
    counts = jobs.sweep_jobs(app)
    assert counts["requeued"] == 0  # already marked enqueued by the sweep above
    jobs.run_self_check.call_local(dead)
    jobs.run_self_check.call_local(dead)
    with database.read_session() as sess:
        done = sess.get(JobRun, dead)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2 and done.lease_expires_at is None


def test_sweep_job_hands_a_run_whose_worker_died_to_a_live_worker(app, consumer):
    database = app.extensions["portal.database"]
    run_id = _queued_run(database, status=JobStatus.RUNNING, worker="gone:1", attempts=1,
                         lease_expires_at=utcnow() - timedelta(seconds=5))
    assert jobs.sweep_jobs(app)["requeued"] == 1

    def finished():
        with database.read_session() as sess:
            run = sess.get(JobRun, run_id)
            return run if run.status is JobStatus.SUCCEEDED else None

    run = wait_for(finished, timeout=20, what="the swept run to finish on the consumer")
    assert run.attempts == 2 and run.result["ok"] is True


# --- submission keys: the same POST twice ------------------------------------------------------


FORM = {"name": "合肥市滨湖新区安置房项目", "county_code": "340111", "contract_price": "12,345,678.90",
        "installation_cost": "", "permit_number": "", "planned_start": "2026-01-01",
        "planned_end": "2027-12-31"}


def _key(html: str) -> str:
    match = re.search(r'name="submission_key" value="([^"]+)"', html)
    assert match, "the form has no submission key"
    return match.group(1)


def _projects(database) -> int:
    with database.read_session() as sess:
        return sess.execute(sa.select(sa.func.count()).select_from(Project)).scalar_one()


def test_the_same_form_post_twice_writes_once_and_answers_the_same(app, client, login_as, csrf_token):
    database = app.extensions["portal.database"]
    login_as(client, "employer")
    page = client.get("/projects/new").get_data(as_text=True)
    key = _key(page)
    assert _key(client.get("/projects/new").get_data(as_text=True)) != key  # fresh per rendering
    data = {"csrf_token": csrf_token(client), "submission_key": key, **FORM}
    first = client.post("/projects/new", data=data)
    again = client.post("/projects/new", data=data)
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _projects(database) == 1
    # a new key (the form rendered again) is a new submission
    client.post("/projects/new", data={**data, "submission_key": _key(page.replace(key, "x" * 24))})
    assert _projects(database) == 2
    with database.read_session() as sess:
        row = sess.execute(sa.select(SubmissionKey).where(SubmissionKey.key_hash == ops.submission_hash(key))
                           ).scalar_one()
    assert row.status_code == 303 and row.path == "/projects/new" and key not in row.key_hash


def test_a_refused_form_records_no_key_and_another_account_cannot_replay(app, client, login_as, csrf_token):
    database = app.extensions["portal.database"]
    login_as(client, "employer")
    key = "k" * 24
    refused = client.post("/projects/new", data={"csrf_token": csrf_token(client), "submission_key": key,
                                                  **FORM, "name": ""})
    assert refused.status_code == 422
    with database.read_session() as sess:
        assert sess.execute(sa.select(sa.func.count()).select_from(SubmissionKey)).scalar_one() == 0
    done = client.post("/projects/new", data={"csrf_token": csrf_token(client), "submission_key": key, **FORM})
    assert done.status_code == 303 and _projects(database) == 1
    other = app.test_client()
    login_as(other, "employer2")
    stolen = other.post("/projects/new", data={"csrf_token": csrf_token(other), "submission_key": key, **FORM})
    assert stolen.status_code == 409 and "页面已过期" in stolen.get_data(as_text=True)
    assert _projects(database) == 1


def test_old_submission_keys_are_purged(app):
    database = app.extensions["portal.database"]
    with database.write_transaction() as sess:
        ops.record_submission(sess, "a" * 24, account_id=None, path="/x", status_code=303, location="/y")
    with database.write_transaction() as sess:
        assert ops.purge_submissions(sess, older_than_hours=48) == 0
        assert ops.purge_submissions(sess, older_than_hours=48, now=utcnow() + timedelta(hours=49)) == 1


def test_an_area_with_its_own_job_table_sweeps_with_the_rest(app, monkeypatch):
    seen = []
    monkeypatch.setitem(jobs._SWEEPERS, "documents", lambda a: seen.append(a) or 2)
    monkeypatch.setitem(jobs._SWEEPERS, "broken", lambda a: 1 / 0)
    counts = jobs.sweep_jobs(app)
    assert seen == [app] and counts["requeued_documents"] == 2 and "requeued_broken" not in counts


def test_every_post_form_carries_a_submission_key():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    missing = []
    for path in sorted(root.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>", text, re.I):
            body = text[match.end():text.find("</form>", match.end())]
            if "submission_field()" not in body:
                missing.append(f"{path.relative_to(root)}: {match.group(0)[:80]}")
    assert not missing, "POST forms without {{ submission_field() }}:\n" + "\n".join(missing)
