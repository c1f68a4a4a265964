"""Every server a test starts binds a free port on loopback: the thread helpers ask the OS for
port 0, subprocess servers get a port from ``free_port()``, and no test or benchmark names a
fixed port for a server (checked in the sources, since a child process cannot tell a fixed port
from one the parent picked)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import requests

from adapters.sandbox_server import serve_built_in_thread, serve_in_thread, stop_server
from tests import network_guard
from tests.ops.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_thread_servers_take_a_free_loopback_port_each():
    first, first_thread = serve_in_thread(_hello)
    second, second_thread, second_url = serve_built_in_thread(lambda base: _hello)
    try:
        assert first.server_address[0] == "127.0.0.1" and first.server_port > 0
        assert second_url == f"http://127.0.0.1:{second.server_port}"
        assert first.server_port != second.server_port
        for port in (first.server_port, second.server_port):
            assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "hello"
    finally:
        stop_server(first, first_thread)
        stop_server(second, second_thread)


def test_the_thread_helpers_default_to_port_zero():
    import inspect

    for helper in (serve_in_thread, serve_built_in_thread):
        assert inspect.signature(helper).parameters["port"].default == 0
        assert inspect.signature(helper).parameters["host"].default == "127.0.0.1"


def test_free_port_is_an_os_chosen_port_that_a_server_can_then_bind():
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    port = free_port()
    assert low <= port <= high  # the kernel's ephemeral range: chosen by the OS, not typed
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))  # the guard allows it: the OS handed this port out
        server.listen()
        assert server.getsockname() == ("127.0.0.1", port)


def test_a_fixed_port_in_the_test_process_is_refused(network_guard_installed):
    with socket.socket() as sock:
        taken = _port_nobody_handed_out(network_guard_installed)
        with pytest.raises(network_guard.NetworkGuardError, match=f"fixed port {taken}"):
            sock.bind(("127.0.0.1", taken))
    assert network_guard_installed.take_violations()  # consumed: this test expected it


def test_listening_on_every_interface_is_refused(network_guard_installed):
    for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET, ""), (socket.AF_INET6, "::")):
        with socket.socket(family) as sock:
            with pytest.raises(network_guard.NetworkGuardError, match="127.0.0.1 only"):
                sock.bind((host, 0))
    assert len(network_guard_installed.take_violations()) == 3


def _port_nobody_handed_out(guard) -> int:
    return next(p for p in (5000, 5100, 8000, 8080, 5999) if p not in guard.handed_out_ports)


#: a server started on a port typed in the source: bind/make_server/serve_* with a number,
#: a --port/--sandbox-port/--tax-port option or a --bind host:port with a literal number
FIXED_PORT_PATTERNS = [
    re.compile(r"\.bind\(\(\s*['\"][^'\"]*['\"]\s*,\s*[1-9]\d*\s*\)\)"),
    re.compile(r"\b(make_server|serve_in_thread|serve_built_in_thread|run_simple)\([^)]*?,\s*[1-9]\d{1,4}\s*[,)]"),
    re.compile(r"\b(make_server|serve_in_thread|serve_built_in_thread|run_simple)\([^)]*\bport\s*=\s*[1-9]"),
    re.compile(r"['\"]--(\w+-)?port['\"]\s*,\s*['\"]\d+['\"]"),
    re.compile(r"--(\w+-)?port[ =]\d+"),
    re.compile(r"['\"]--bind['\"]\s*,\s*['\"][^'\"]*:\d+['\"]"),
]


def _sources() -> list[Path]:
    found = [p for p in (ROOT / "tests").rglob("*.py") if p.resolve() != Path(__file__).resolve()]
    return found + sorted((ROOT / "benchmarks").rglob("*.py"))


def test_no_test_or_benchmark_starts_a_server_on_a_fixed_port():
    offenders = []
    for path in _sources():
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if any(p.search(line) for p in FIXED_PORT_PATTERNS):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "servers on fixed ports (use port 0 or free_port()):\n" + "\n".join(offenders)


@pytest.mark.parametrize("line", [
    'sock.bind(("127.0.0.1", 5000))',
    "make_server('127.0.0.1', 8000, app)",
    "serve_in_thread(app, port=5100)",
    '[*PORTAL, "demo", "--port", "5000"]',
    '"--sandbox-port", "5001"',
    '[*PORTAL, "serve", "--bind", "127.0.0.1:8000"]',
    "portal demo --port 5000",
])
def test_the_source_check_recognises_a_fixed_port(line):
    assert any(p.search(line) for p in FIXED_PORT_PATTERNS)


@pytest.mark.parametrize("line", [
    'sock.bind(("127.0.0.1", 0))',
    '"--port", str(port), "--sandbox-port", str(sandbox_port)',
    'subprocess.run([*PORTAL, "serve", "--bind", f"127.0.0.1:{free_port()}", *args])',
    'create_sandbox_app(issuer="http://127.0.0.1:5100", clients=[PORTAL])',  # a URL, no server
])
def test_the_source_check_leaves_free_ports_and_plain_urls_alone(line):
    assert not any(p.search(line) for p in FIXED_PORT_PATTERNS)
