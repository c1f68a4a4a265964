"""The loopback guard of tests/network_guard.py: what it refuses, that it refuses before any
packet is sent, that it reaches Python child processes, and that loopback keeps working."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest

from tests import network_guard
from tests.network_guard import NetworkGuardError, is_local_address

OUTSIDE = [("10.255.255.1", 80), ("8.8.8.8", 53), ("2001:4860:4860::8888", 53), ("::ffff:8.8.8.8", 53)]


@pytest.fixture
def guard(network_guard_installed, monkeypatch):
    """The session's guard with its real connect/sendto replaced by spies: a refused call must
    never reach them (no packet leaves)."""
    reached: list[tuple[str, object]] = []
    for name in ("connect", "connect_ex", "sendto"):
        real = network_guard_installed.real[name]

        def spy(sock, *args, _name=name, _real=real):
            reached.append((_name, args[-1]))
            return _real(sock, *args)

        monkeypatch.setitem(network_guard_installed.real, name, spy)
    network_guard_installed.reached = reached
    yield network_guard_installed
    network_guard_installed.take_violations()


@pytest.mark.parametrize("host,port", OUTSIDE)
def test_connect_beyond_loopback_is_refused_before_it_happens(guard, host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(NetworkGuardError, match=f"connect to {host}:{port} refused"):
            sock.connect((host, port))
        with pytest.raises(NetworkGuardError):
            sock.connect_ex((host, port))
    assert guard.reached == []
    assert len(guard.take_violations()) == 2


def test_create_connection_and_requests_are_refused(guard):
    import requests

    with pytest.raises(NetworkGuardError, match="10.255.255.1:80"):
        socket.create_connection(("10.255.255.1", 80), timeout=1)
    with pytest.raises(NetworkGuardError, match="8.8.8.8:443"):
        requests.get("https://8.8.8.8/", timeout=1)
    assert guard.reached == []
    assert guard.take_violations()


def test_a_caught_refusal_still_fails_the_test(guard):
    """An adapter that turns the error into "platform unavailable" does not hide it: the
    ``loopback_only`` fixture fails the test from what the guard recorded."""
    try:
        socket.create_connection(("8.8.8.8", 53), timeout=1)
    except Exception:
        pass
    recorded = guard.take_violations()
    assert len(recorded) == 1 and "8.8.8.8:53" in recorded[0]


def test_datagrams_and_name_lookups_beyond_loopback_are_refused(guard):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(NetworkGuardError, match="sendto to 8.8.8.8:53"):
            sock.sendto(b"\0", ("8.8.8.8", 53))
    with pytest.raises(NetworkGuardError, match="name lookup of 'example.com'"):
        socket.getaddrinfo("example.com", 443)
    assert guard.reached == []
    assert len(guard.take_violations()) == 2


def test_loopback_and_unix_sockets_work(guard, tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        accepted = []
        thread = threading.Thread(target=lambda: accepted.append(server.accept()[0].close()))
        thread.start()
        with socket.create_connection(("localhost", port), timeout=5):
            pass
        thread.join(5)
    assert accepted and ("connect", ("127.0.0.1", port)) in guard.reached
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as unix_server, socket.socket(socket.AF_UNIX) as client:
        unix_server.bind(path)
        unix_server.listen()
        client.connect(path)
    assert socket.getaddrinfo("127.0.0.1", 5432) and socket.getaddrinfo("::1", 6379)
    assert guard.take_violations() == []


@pytest.mark.parametrize("host,local", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("localhost", True), ("LOCALHOST.", True), ("0.0.0.0", True), (None, True),
    ("10.255.255.1", False), ("8.8.8.8", False), ("192.168.1.1", False), ("::ffff:8.8.8.8", False),
    ("2001:4860:4860::8888", False), ("example.com", False), ("localhost.example.com", False),
])
def test_what_counts_as_local(host, local):
    assert is_local_address(host) is local


def test_python_child_processes_are_guarded_too(network_guard_installed):
    """A child started with the test's environment (as the ops tests start ``portal``) installs
    the guard from sitecustomize; its refusal is recorded for the test that started it."""
    assert str(network_guard.SITE_DIR) in os.environ["PYTHONPATH"].split(os.pathsep)
    child = subprocess.run(
        [sys.executable, "-c",
         "import socket\n"
         "try:\n    socket.create_connection(('10.255.255.1', 80), timeout=1)\n"
         "except Exception as e:\n    print(type(e).__name__)\n"
         "s = socket.socket(); s.bind(('127.0.0.1', 0)); print('loopback ok')"],
        capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["NetworkGuardError", "loopback", "ok"]
    recorded = network_guard_installed.take_violations()
    assert len(recorded) == 1 and recorded[0].startswith("[child process ")
    assert "10.255.255.1:80" in recorded[0]


def test_install_is_idempotent(network_guard_installed):
    assert network_guard.install() is network_guard_installed is network_guard.current()
    assert socket.socket.connect is not network_guard_installed.real["connect"]
    assert socket.getaddrinfo is not network_guard_installed.real["getaddrinfo"]
