"""Fixtures of the ops tests: free ports, a deadline poller, Redis discovery, a real consumer."""

from __future__ import annotations

import os
import re
import socket
import time
from typing import Callable, Iterator, TypeVar

import pytest

from benchmarks.databases import redis_answers
from portal.tasks import queue

T = TypeVar("T")

REDIS_ENV = "PORTAL_TEST_REDIS_URL"
#: database 15 of the local server, so a developer's own queue (database 0) is left alone
LOCAL_REDIS = "redis://127.0.0.1:6379/15"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(probe: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for the RedisHuey tests. Required when PORTAL_TEST_REDIS_URL is set (CI has Redis);
    otherwise the local server on 127.0.0.1:6379 if it answers, else the tests are skipped."""
    url = os.environ.get(REDIS_ENV)
    if url:
        if not redis_answers(url):
            raise pytest.UsageError(f"{REDIS_ENV} is set but Redis does not answer: {url}")
        return url
    if redis_answers(LOCAL_REDIS):
        return LOCAL_REDIS
    pytest.skip("Redis not available on 127.0.0.1:6379: set PORTAL_TEST_REDIS_URL or run a local "
                "redis server (CI has Redis, so these tests run there)")


@pytest.fixture
def consumer(app) -> Iterator:
    """A real Huey consumer on threads of the test process, on the queue the app configured."""
    assert queue.bound_app() is app
    running = queue.start_consumer(workers=2, periodic=False)
    try:
        yield running
    finally:
        queue.stop_consumer(running)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a `portal` subprocess: no PORTAL_* or insecure-transport leftovers."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PORTAL_") and k != "AUTHLIB_INSECURE_TRANSPORT"}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def start_sandbox(tmp_path, port: int, *, tax_port: int | None = None, portal_url: str = "http://127.0.0.1:5999"):
    """``portal sandbox`` as a subprocess on ``port``, waited on until its discovery document
    answers; returns ``(process, document)``. The caller stops the process."""
    import json
    import subprocess
    import sys
    import urllib.request

    process = subprocess.Popen([sys.executable, "-m", "portal.cli", "sandbox", "--port", str(port),
                                "--tax-port", str(tax_port or free_port()), "--instance", str(tmp_path),
                                "--portal-url", portal_url],
                               env=child_env(PORTAL_LOG_LEVEL="WARNING"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def discovery():
        if process.poll() is not None:
            pytest.fail(f"portal sandbox exited early: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/openid-configuration",
                                        timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    try:
        return process, wait_for(discovery, what="the sandbox discovery document")
    except BaseException:
        process.kill()
        process.communicate()
        raise
