"""The self-check end to end, shared by the SQLite-queue and Redis-queue test modules."""

from __future__ import annotations

import re

from portal.ops.models import JobRun, JobStatus
from tests.ops.conftest import csrf_token, wait_for

HTMX = {"HX-Request": "true", "HX-Target": "self-check-latest"}


def self_check_end_to_end(app, client, login_as, queue_backend: str) -> JobRun:
    """Provincial staff press 开始自检; a consumer thread runs the task; the partial stops polling."""
    database = app.extensions["portal.database"]
    login_as(client, "provincial")
    page = client.get("/ops/self-check")
    assert page.status_code == 200

    response = client.post("/ops/self-check", data={"csrf_token": csrf_token(page.text)}, headers=HTMX)
    assert response.status_code == 200
    run_id = int(re.search(r'id="job-run-(\d+)"', response.text).group(1))
    assert 'hx-trigger="every 2s"' in response.text  # queued: the partial polls

    def finished():
        with database.read_session() as sess:
            run = sess.get(JobRun, run_id)
            return run if run is not None and not run.is_active else None

    run = wait_for(finished, timeout=30, what=f"job run {run_id} to finish")
    assert run.status is JobStatus.SUCCEEDED, run.error
    assert run.result["ok"] is True and run.result["audit_chain_ok"] is True
    # sign-in and the request itself were audited before the worker counted
    assert run.result["audit_events"] >= 2
    assert run.result["database"]["backend"] == database.backend
    assert run.result["queue"] == {"backend": queue_backend}
    assert run.result["active_staff"] >= 1
    assert run.attempts == 1 and run.finished_at is not None

    partial = client.get(f"/ops/self-check/runs/{run_id}", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert f'id="job-run-{run_id}"' in partial.text
    assert "hx-trigger" not in partial.text and "hx-get" not in partial.text  # polling stops
    assert 'hx-target="this"' in partial.text and 'hx-swap="outerHTML"' in partial.text
    assert "已完成" in partial.text and "审计日志哈希链完整" in partial.text
    assert "<html" not in partial.text

    page = client.get("/ops/self-check")
    assert f"#{run_id}" in page.text and "正常" in page.text
    return run
