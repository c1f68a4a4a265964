"""dev.sh's own checks, run on scratch directories: a half-made .venv is recognised (no
bin/python, a python that does not run, no pip, no portal package) and rebuilt; a busy port is
said in Chinese with the option to change it; the throwaway services a test run started are
stopped when it ends (or, with KEEP_TEST_SERVICES=1, the way to stop them is printed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_SH = ROOT / "dev.sh"


def _env(venv: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    if venv is not None:
        env["PORTAL_VENV"] = str(venv)
    env.update(extra)
    return env


def check_venv(venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(DEV_SH), "check-venv"], env=_env(venv), capture_output=True, text=True, timeout=60)


def sourced(script: str, venv: Path | None = None, **extra: str) -> subprocess.CompletedProcess:
    """Run ``script`` in bash after ``source dev.sh`` (its functions, no command)."""
    return subprocess.run(["bash", "-c", f'source "{DEV_SH}"\n{script}'], env=_env(venv, **extra), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _no_pip_venv(path: Path) -> Path:
    """What a first run as non-root without python3-venv leaves: a venv without pip."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=60)
    return path


def test_whole_environment_passes():
    result = check_venv(ROOT / ".venv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "完好" in result.stdout


def test_missing_environment(tmp_path):
    result = check_venv(tmp_path / "nothing")
    assert result.returncode == 1 and "不存在" in result.stdout


def test_environment_without_python(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)  # e.g. interrupted right after the directory was made
    result = check_venv(venv)
    assert result.returncode == 1 and "缺少 bin/python" in result.stdout


def test_environment_whose_python_does_not_run(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"  # e.g. the Python it was made with was upgraded away
    python.write_text("#!/bin/sh\nexit 127\n")
    python.chmod(0o755)
    result = check_venv(venv)
    assert result.returncode == 1 and "无法运行" in result.stdout


def test_environment_without_pip(tmp_path):
    result = check_venv(_no_pip_venv(tmp_path / "venv"))
    assert result.returncode == 1 and "缺少 pip" in result.stdout


def test_half_made_environment_is_rebuilt(tmp_path):
    venv = _no_pip_venv(tmp_path / "venv")
    leftover = venv / "leftover-of-the-first-run"
    leftover.touch()
    result = sourced("ensure_venv", venv)
    assert result.returncode == 0, result.stderr
    assert "rebuilding the Python environment" in result.stderr and "缺少 pip" in result.stderr
    assert not leftover.exists()
    assert subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--version"], capture_output=True,
                          timeout=60).returncode == 0
    # whole now: a second call leaves it alone
    again = sourced("ensure_venv", venv)
    assert again.returncode == 0 and "rebuilding" not in again.stderr
    # an install interrupted before the portal package went in: the stamp alone does not count
    (venv / ".installed").touch()
    result = check_venv(venv)
    assert result.returncode == 1 and "./dev.sh install" in result.stdout


def test_busy_port_message(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        busy = sourced(f'port_busy {port} && port_busy_message {port} PORTAL_TEST_PG_PORT=N')
    assert busy.returncode == 0
    assert f"端口 {port} 已被占用：请先停止占用该端口的程序，或使用 PORTAL_TEST_PG_PORT=N 指定其他端口" in busy.stderr
    assert sourced(f"port_busy {port}").returncode != 0  # closed again: free


@pytest.fixture
def sleeper(tmp_path):
    """A process standing in for a Redis server started by the test run, with its pid file."""
    process = subprocess.Popen(["sleep", "60"])
    pidfile = tmp_path / "redis.pid"
    pidfile.write_text(f"{process.pid}\n")
    yield process, pidfile
    if process.poll() is None:
        process.kill()
    process.wait()


def test_services_the_run_started_are_stopped(sleeper):
    process, pidfile = sleeper
    result = sourced(f'STARTED_REDIS_PIDFILE="{pidfile}"\nstop_test_services')
    assert result.returncode == 0, result.stderr
    assert process.wait(timeout=10) != 0  # terminated
    assert "stopping the Redis server" in result.stderr


def test_kept_services_say_how_to_stop_them(sleeper):
    process, pidfile = sleeper
    result = sourced(f'STARTED_REDIS_PIDFILE="{pidfile}"\nSTARTED_PG_DATA=/tmp/portal-test-pg-x\nstop_test_services',
                     KEEP_TEST_SERVICES="1")
    assert result.returncode == 0, result.stderr
    assert process.poll() is None  # left running
    assert f"kill $(cat {pidfile})" in result.stderr
    assert "pg_ctl -D /tmp/portal-test-pg-x -m fast stop" in result.stderr
