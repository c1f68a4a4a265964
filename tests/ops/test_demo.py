"""`portal demo` from a fresh instance directory, twice: it starts, the portal and the sandbox
answer, Ctrl-C stops it cleanly, and the second run adds no duplicates."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tomllib
import urllib.request

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from portal import migrate
from portal.demo import STAFF_FILE
from tests.ops.conftest import child_env, free_port, wait_for


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except OSError:
        return None


def _run_demo_once(instance, *extra: str) -> str:
    port, sandbox_port, tax_port = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "demo", "--port", str(port), "--sandbox-port", str(sandbox_port),
         "--tax-port", str(tax_port), "--instance", str(instance), "--no-browser-hint", "--workers", "1", *extra],
        env=child_env(PORTAL_LOG_LEVEL="WARNING"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def answers(url):
            def probe():
                if process.poll() is not None:
                    pytest.fail(f"portal demo exited early ({process.returncode}): {process.stderr.read()}")
                return _get(url)
            return probe

        status, health = wait_for(answers(f"http://127.0.0.1:{port}/healthz"), timeout=120,
                                  what="the demo portal (the first run loads the sample data)")
        assert status == 200 and health["status"] == "ok" and health["database"]["backend"] == "sqlite"
        status, discovery = wait_for(answers(f"http://127.0.0.1:{sandbox_port}/.well-known/openid-configuration"),
                                     what="the sandbox discovery document")
        assert status == 200 and discovery["issuer"] == f"http://127.0.0.1:{sandbox_port}"
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            pytest.fail(f"portal demo did not stop on Ctrl-C: {stderr}")
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert f"http://127.0.0.1:{port}/" in stdout and f"http://127.0.0.1:{sandbox_port}/" in stdout
    assert "已停止" in stdout
    return stdout


def test_demo_starts_answers_and_can_be_rerun(tmp_path):
    instance = tmp_path / "instance"
    first = _run_demo_once(instance)
    for expected in ("密码均为 demo", "province", "省级管理人员", "stranger", "未授权工作人员", "已载入",
                     "工伤认定案件 11 件"):
        assert expected in first
    second = _run_demo_once(instance)
    assert "stranger" in second and "沿用已有数据" in second

    url = f"sqlite:///{instance / 'portal.db'}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            staff = conn.execute(sa.text("SELECT subject FROM staff_assignment")).scalars().all()
            cases = conn.execute(sa.text("SELECT count(*) FROM recognition_case")).scalar_one()
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    with STAFF_FILE.open("rb") as fh:
        expected_staff = sorted(entry["subject"] for entry in tomllib.load(fh)["staff"])
    assert sorted(staff) == expected_staff  # loaded twice, no duplicates
    assert cases == 11  # the sample cases, once
    assert list((instance / "files").iterdir())  # their files stay with the instance
    assert version == ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()
    keys = list((instance / "sandbox-keys").iterdir())
    assert keys  # the sandbox keeps its signing key across runs


def test_demo_empty_starts_without_sample_cases(tmp_path):
    instance = tmp_path / "instance"
    output = _run_demo_once(instance, "--empty")
    assert "未载入（--empty）" in output
    engine = sa.create_engine(f"sqlite:///{instance / 'portal.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM recognition_case")).scalar_one() == 0
            assert conn.execute(sa.text("SELECT count(*) FROM staff_assignment")).scalar_one() > 0
    finally:
        engine.dispose()
