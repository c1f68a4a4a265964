"""The 系统自检 page and its job path end to end on the embedded queue (SqliteHuey, not immediate)."""

import re
from datetime import timedelta

import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.ops.models import JobRun, JobStatus
from portal.outbox.models import OutboxMessage
from portal.tasks import jobs
from portal.tasks.outbox import dispatch_outbox
from tests.ops.conftest import csrf_token
from tests.ops.jobpath import HTMX, self_check_end_to_end


def test_self_check_end_to_end_with_sqlite_queue(app, client, login_as, consumer):
    assert app.extensions["portal.queue"].backend == "sqlite"
    self_check_end_to_end(app, client, login_as, queue_backend="sqlite")


def test_page_without_runs(client, login_as):
    login_as(client, "provincial")
    page = client.get("/ops/self-check")
    assert page.status_code == 200
    assert page.text.count("<h1") == 1 and "<h1>系统自检</h1>" in page.text
    assert "<title>系统自检" in page.text
    assert "尚未进行过自检" in page.text
    assert 'name="csrf_token"' in page.text


def test_post_without_javascript_redirects_to_the_page(app, client, login_as):
    login_as(client, "provincial")
    token = csrf_token(client.get("/ops/self-check").text)
    response = client.post("/ops/self-check", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/ops/self-check")
    page = client.get("/ops/self-check")
    assert "排队中" in page.text and 'hx-trigger="every 2s"' in page.text  # nobody consumes here
    with app.extensions["portal.database"].read_session() as sess:
        assert sess.execute(sa.select(sa.func.count()).select_from(JobRun)).scalar_one() == 1
        assert sess.execute(sa.select(AuditEvent.action).where(
            AuditEvent.action == "ops.self_check_requested")).scalar_one()


def test_post_needs_the_csrf_token(client, login_as):
    login_as(client, "provincial")
    assert client.post("/ops/self-check", headers=HTMX).status_code == 400


def test_only_provincial_staff(app, client, login_as):
    app.config["WTF_CSRF_ENABLED"] = False  # about roles: CSRF is checked before the policy
    login_as(client, "clerk")
    assert client.get("/ops/self-check").status_code == 403
    assert client.post("/ops/self-check").status_code == 403


def test_queue_down_leaves_the_run_queued_and_the_outbox_hands_it_over_later(app, client, login_as,
                                                                            monkeypatch):
    """The run commits with the request; the queue is asked right after the commit (outbox). A
    broker that refuses leaves the run queued and the message pending: the outbox tries again (and
    the sweeper would re-enqueue the run), so nothing is lost and nothing fails for good."""
    def refuse(*args, **kwargs):
        raise ConnectionError("queue unreachable")

    monkeypatch.setitem(jobs._RECORDED, "self_check", refuse)
    login_as(client, "provincial")
    token = csrf_token(client.get("/ops/self-check").text)
    response = client.post("/ops/self-check", data={"csrf_token": token}, headers=HTMX)
    assert response.status_code == 200 and "排队中" in response.text and "hx-trigger" in response.text
    run_id = int(re.search(r'id="job-run-(\d+)"', response.text).group(1))
    database = app.extensions["portal.database"]
    with database.read_session() as sess:
        assert sess.get(JobRun, run_id).status is JobStatus.QUEUED
        message = sess.execute(sa.select(OutboxMessage).where(OutboxMessage.key == f"job_run:{run_id}")).scalar_one()
        assert message.delivered_at is None and "ConnectionError" in (message.last_error or "")
    assert app.extensions["portal.queue"].pending() == []

    monkeypatch.undo()  # the broker is back: the next outbox run enqueues it
    dispatch_outbox(app, now=utcnow() + timedelta(hours=2))
    pending = app.extensions["portal.queue"].pending()
    assert [(t.name, t.args) for t in pending] == [("self_check", (run_id,))]


def test_status_of_an_unknown_run_is_404(client, login_as):
    login_as(client, "provincial")
    assert client.get("/ops/self-check/runs/999999", headers={"HX-Request": "true"}).status_code == 404
