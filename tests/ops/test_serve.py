"""`portal serve` (gunicorn) refuses unsafe production settings with exit status 2 and the Chinese
reason, and serves when they are safe. Real subprocesses: the refusal happens at start-up."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from portal import migrate
from tests.ops.conftest import child_env, free_port, wait_for

PORTAL = [sys.executable, "-m", "portal.cli"]


def _secrets() -> dict[str, str]:
    output = subprocess.run([*PORTAL, "keygen"], env=child_env(), capture_output=True, text=True,
                            check=True, timeout=60).stdout
    return dict(line[len("export "):].split("=", 1) for line in output.splitlines()
                if line.startswith("export "))


def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PORTAL, "serve", "--bind", f"127.0.0.1:{free_port()}", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def _data_env(tmp_path) -> dict[str, str]:
    return {"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
            "PORTAL_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}"}


def test_serve_defaults_to_production_and_refuses_development_secrets(tmp_path):
    result = _serve(child_env(**_data_env(tmp_path)))  # PORTAL_ENV unset
    assert result.returncode == 2
    assert "生产环境配置不安全，拒绝启动" in result.stderr
    for name in ("PORTAL_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS", "PORTAL_LOOKUP_KEY", "PORTAL_OIDC_CLIENT_SECRET",
                 "PORTAL_TAX_PLATFORM_KEY", "PORTAL_GOV_PLATFORM_SECRET"):
        assert f"{name} 仍为开发默认值" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_insecure_transport_even_with_fresh_secrets(tmp_path):
    env = child_env(PORTAL_ENV="production", AUTHLIB_INSECURE_TRANSPORT="1", **_secrets(), **_data_env(tmp_path))
    result = _serve(env)
    assert result.returncode == 2
    assert "AUTHLIB_INSECURE_TRANSPORT 已设置：生产环境必须通过 HTTPS 登录" in result.stderr
    assert "仍为开发默认值" not in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_safe_settings_answers_and_stops_on_sigterm(tmp_path):
    data = _data_env(tmp_path)
    migrate.upgrade(data["PORTAL_DATABASE_URL"])
    port = free_port()
    env = child_env(PORTAL_ENV="production", PORTAL_LOG_LEVEL="WARNING", **_secrets(), **data)
    process = subprocess.Popen([*PORTAL, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def healthy():
            if process.poll() is not None:
                pytest.fail(f"portal serve exited early ({process.returncode}): {process.stderr.read()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    return response.status == 200 and response.headers["Strict-Transport-Security"]
            except OSError:
                return None

        assert wait_for(healthy, timeout=30, what="portal serve to answer /healthz")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, process.stderr.read()
