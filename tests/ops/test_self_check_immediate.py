"""queue_immediate (tests only): the task runs inside the request, after the commit."""

import re

import pytest

from portal.ops.models import JobRun, JobStatus
from tests.ops.conftest import csrf_token
from tests.ops.jobpath import HTMX


@pytest.fixture
def app_overrides():
    return {"queue_immediate": True}


def test_immediate_mode_runs_the_task_inline(app, client, login_as):
    login_as(client, "provincial")
    token = csrf_token(client.get("/ops/self-check").text)
    response = client.post("/ops/self-check", data={"csrf_token": token}, headers=HTMX)
    assert response.status_code == 200
    run_id = int(re.search(r'id="job-run-(\d+)"', response.text).group(1))
    with app.extensions["portal.database"].read_session() as sess:
        run = sess.get(JobRun, run_id)
    assert run.status is JobStatus.SUCCEEDED and run.result["ok"] is True
