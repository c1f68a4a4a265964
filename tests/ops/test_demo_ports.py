"""Busy ports and stop signals of `portal demo` and `portal sandbox`: a taken port is said in
Chinese with the option that changes it (exit 1, no traceback, nothing started or migrated), and
`portal sandbox` stops on SIGTERM and SIGINT like the demo and releases its ports. Real
subprocesses on free loopback ports."""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
import sys
import time

import click
import pytest

from portal.cli_support import PortBusy, binding, check_ports, port_in_use
from tests.ops.conftest import child_env, free_port, start_sandbox

PORTAL = [sys.executable, "-m", "portal.cli"]


@pytest.fixture
def taken_port():
    """A loopback port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_port_in_use_sees_a_listening_socket(taken_port):
    assert port_in_use("127.0.0.1", taken_port)
    assert not port_in_use("127.0.0.1", free_port())


def test_check_ports_names_the_option_to_change():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(PortBusy) as caught:
            check_ports("127.0.0.1", {"--port": free_port(), "--tax-port": port})
    assert caught.value.message == f"端口 {port} 已被占用：请先停止占用该端口的程序，或使用 --tax-port 指定其他端口"
    assert caught.value.exit_code == 1


def test_binding_turns_os_errors_into_messages():
    with pytest.raises(PortBusy, match="已被占用"):
        with binding(5000, "--port"):
            raise OSError(errno.EADDRINUSE, "Address already in use")
    with pytest.raises(PortBusy, match=r"端口 80 无法使用（Permission denied）：请使用 --port 指定其他端口"):
        with binding(80, "--port"):
            raise OSError(errno.EACCES, "Permission denied")
    assert issubclass(PortBusy, click.ClickException)


@pytest.mark.parametrize("option", ["--port", "--sandbox-port", "--tax-port"])
def test_demo_on_a_busy_port_says_so(tmp_path, taken_port, option):
    ports = {"--port": free_port(), "--sandbox-port": free_port(), "--tax-port": free_port()}
    ports[option] = taken_port
    args = [str(a) for pair in ports.items() for a in pair]
    result = subprocess.run([*PORTAL, "demo", *args, "--instance", str(tmp_path / "instance"), "--no-browser-hint"],
                            env=child_env(PORTAL_LOG_LEVEL="WARNING"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert f"端口 {taken_port} 已被占用：请先停止占用该端口的程序，或使用 {option} 指定其他端口" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "instance" / "portal.db").exists()  # refused before migrating anything


@pytest.mark.parametrize("option", ["--port", "--tax-port"])
def test_sandbox_on_a_busy_port_says_so(tmp_path, taken_port, option):
    ports = {"--port": free_port(), "--tax-port": free_port()}
    ports[option] = taken_port
    args = [str(a) for pair in ports.items() for a in pair]
    result = subprocess.run([*PORTAL, "sandbox", *args, "--instance", str(tmp_path)],
                            env=child_env(PORTAL_LOG_LEVEL="WARNING"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"端口 {taken_port} 已被占用：请先停止占用该端口的程序，或使用 {option} 指定其他端口" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sandbox_stops_on_signal_and_frees_its_ports(tmp_path, sig):
    port, tax_port = free_port(), free_port()
    process, _document = start_sandbox(tmp_path, port, tax_port=tax_port,
                                       portal_url=f"http://127.0.0.1:{free_port()}")
    try:
        for line in process.stdout:  # both servers are bound once it says how to stop
            if "Ctrl-C" in line:
                break
        assert port_in_use("127.0.0.1", port) and port_in_use("127.0.0.1", tax_port)
        started = time.monotonic()
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=10)
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "已停止" in stdout
    assert not port_in_use("127.0.0.1", port) and not port_in_use("127.0.0.1", tax_port)
