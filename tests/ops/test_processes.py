"""`portal worker` in its own process runs what the web process enqueues (shared database and
queue file); `portal sandbox` serves the unified-login sandbox alone. Real subprocesses."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from portal.ops.models import JobRun, JobStatus
from tests.ops.conftest import child_env, csrf_token, free_port, start_sandbox, wait_for
from tests.ops.jobpath import HTMX

PORTAL = [sys.executable, "-m", "portal.cli"]


def _stop(process: subprocess.Popen, sig=signal.SIGINT) -> tuple[str, str]:
    process.send_signal(sig)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"{process.args} did not stop: {stderr}")


def test_worker_process_runs_the_self_check(app, client, login_as):
    settings = app.config["PORTAL_SETTINGS"]
    worker = subprocess.Popen(
        [*PORTAL, "worker", "--workers", "1", "--no-periodic"],
        env=child_env(PORTAL_DATABASE_URL=settings.database_url, PORTAL_QUEUE_URL=settings.queue_url,
                      PORTAL_LOG_LEVEL="WARNING"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    database = app.extensions["portal.database"]
    try:
        login_as(client, "provincial")
        token = csrf_token(client.get("/ops/self-check").text)
        response = client.post("/ops/self-check", data={"csrf_token": token}, headers=HTMX)
        run_id = int(re.search(r'id="job-run-(\d+)"', response.text).group(1))

        def finished():
            if worker.poll() is not None:
                pytest.fail(f"portal worker exited early ({worker.returncode}): {worker.stderr.read()}")
            with database.read_session() as sess:
                run = sess.get(JobRun, run_id)
                return run if not run.is_active else None

        run = wait_for(finished, timeout=30, what="the worker process to run the self-check")
    finally:
        _, stderr = _stop(worker)
    assert run.status is JobStatus.SUCCEEDED, run.error
    assert run.result["worker"]["pid"] == worker.pid != os.getpid()
    assert run.result["database"]["backend"] == database.backend
    assert worker.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr


def test_sandbox_command_serves_discovery(tmp_path):
    port = free_port()
    process, document = start_sandbox(tmp_path, port)
    _stdout, stderr = _stop(process)
    assert document["issuer"] == f"http://127.0.0.1:{port}"
    assert process.returncode == 0, stderr
    assert list((tmp_path / "sandbox-keys").iterdir())


def test_sandbox_refuses_production():
    result = subprocess.run([*PORTAL, "sandbox", "--port", str(free_port()), "--tax-port", str(free_port())],
                            env=child_env(PORTAL_ENV="production"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "沙箱仅用于开发和测试" in result.stderr
