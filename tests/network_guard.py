"""A test may talk to loopback only: every outbound connection, datagram and name lookup of the
test process (and of the Python processes it starts) is checked before it happens.

Installed for the whole session by ``tests/conftest.py``; a test during which anything reached
for another address fails, also when the code under test caught the error (an adapter turning it
into "platform unavailable" would otherwise hide it). The check runs *before* the real call, so
no packet leaves the machine.

Allowed: 127.0.0.0/8, ::1 (and ::ffff:127.x), the unspecified address (Linux connects it to the
local host), Unix sockets and other non-IP families. PostgreSQL (127.0.0.1:5432) and Redis
(127.0.0.1:6379) are on loopback, so they need no exception. Name lookups are allowed for
``localhost`` and literal addresses only: resolving any other name may itself ask a DNS server.

Servers a test starts must take a free port: a bind of the test process to a fixed port fails
unless the OS handed that port out to an earlier bind to port 0 in the same process (the
``free_port()`` pattern, for a server started in a subprocess).

Child processes: the guard adds ``tests/network_guard_site`` to ``PYTHONPATH``, whose
``sitecustomize`` installs the same checks in every Python process a test starts (``portal
demo``, ``portal serve``, the consumer...). A child records what it was refused in the file named
by ``TEST_NETWORK_GUARD_LOG``, and the test that started it fails. Not covered: native code
(libpq, Chromium), which the browser fixtures confine by their own launch flags.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

#: names the child-process hook reads (not PORTAL_*: the ops tests strip those from children)
LOG_ENV = "TEST_NETWORK_GUARD_LOG"
SITE_DIR = Path(__file__).resolve().parent / "network_guard_site"
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class NetworkGuardError(RuntimeError):
    """A test reached beyond loopback (raised before any packet is sent)."""


def is_local_address(host: object) -> bool:
    """Loopback, the unspecified address, or ``localhost``: what a test may talk to."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost") or name == "":
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _is_unspecified(host: object) -> bool:
    """0.0.0.0, :: or "" (INADDR_ANY): every interface, so reachable from the network."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str) or host.strip() == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_unspecified
    except ValueError:
        return False


def _is_literal(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).split("%", 1)[0])
        return True
    except ValueError:
        return False


@dataclass
class Guard:
    """The installed checks and what they refused. ``real`` holds the unwrapped functions (a test
    swaps one for a spy to prove the guard never calls it for a refused address)."""

    check_fixed_ports: bool = True
    log_path: str | None = None
    violations: list[str] = field(default_factory=list)
    real: dict = field(default_factory=dict)
    #: ports the OS gave to binds on port 0 (servers started later on them are on a free port)
    handed_out_ports: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- bookkeeping ---------------------------------------------------------------------------

    def refuse(self, what: str) -> NetworkGuardError:
        message = (f"network guard: {what}. Tests may only talk to loopback (127.0.0.0/8, ::1, "
                   "Unix sockets); start a sandbox peer on 127.0.0.1 instead (tests/live.py).")
        with self._lock:
            self.violations.append(message)
        if self.log_path:
            try:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"pid": os.getpid(), "message": message}, ensure_ascii=False) + "\n")
            except OSError:
                pass
        return NetworkGuardError(message)

    def take_violations(self) -> list[str]:
        """What was refused since the last call, in this process and in child processes."""
        with self._lock:
            found, self.violations = self.violations, []
        if self.log_path and os.path.exists(self.log_path):
            with open(self.log_path, "r+", encoding="utf-8") as log:
                lines = log.read().splitlines()
                log.seek(0)
                log.truncate()
            own = os.getpid()
            for line in lines:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("pid") != own:
                    found.append(f"[child process {entry.get('pid')}] {entry.get('message')}")
        return found

    # --- the checks ----------------------------------------------------------------------------

    def check_destination(self, sock_family: int, address: object, action: str) -> None:
        if sock_family not in (socket.AF_INET, socket.AF_INET6):
            return  # Unix sockets, netlink...: never leave the machine
        host, port = (address[0], address[1]) if isinstance(address, tuple) and len(address) >= 2 else (address, None)
        if not is_local_address(host):
            raise self.refuse(f"{action} to {host}:{port} refused")

    def check_bind(self, sock: socket.socket, address: object) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return
        host, port = address[0], address[1]
        if not is_local_address(host) or _is_unspecified(host):
            raise self.refuse(f"bind to {host or '0.0.0.0'}:{port} refused: a test server listens "
                              "on 127.0.0.1 only")
        if self.check_fixed_ports and port and port not in self.handed_out_ports:
            raise self.refuse(f"bind to the fixed port {port} refused: a test server takes a free "
                              "port (port 0, or free_port() for a subprocess)")

    def check_lookup(self, host: object) -> None:
        if not is_local_address(host) and not _is_literal(host):
            raise self.refuse(f"name lookup of {host!r} refused (it may ask a DNS server)")


_guard: Guard | None = None


def current() -> Guard | None:
    return _guard


def install(*, check_fixed_ports: bool = True, log_path: str | None = None) -> Guard:
    """Wrap the socket module's connect/connect_ex/sendto/sendmsg/bind and getaddrinfo."""
    global _guard
    if _guard is not None:
        return _guard
    guard = Guard(check_fixed_ports=check_fixed_ports, log_path=log_path)
    cls = socket.socket
    guard.real = {name: getattr(cls, name) for name in ("connect", "connect_ex", "sendto", "sendmsg", "bind")}
    guard.real["getaddrinfo"] = socket.getaddrinfo

    def connect(self, address):
        guard.check_destination(self.family, address, "connect")
        return guard.real["connect"](self, address)

    def connect_ex(self, address):
        guard.check_destination(self.family, address, "connect")
        return guard.real["connect_ex"](self, address)

    def sendto(self, data, *args):
        guard.check_destination(self.family, args[-1], "sendto")
        return guard.real["sendto"](self, data, *args)

    def sendmsg(self, buffers, ancdata=(), flags=0, address=None):
        if address is not None:
            guard.check_destination(self.family, address, "sendmsg")
            return guard.real["sendmsg"](self, buffers, ancdata, flags, address)
        return guard.real["sendmsg"](self, buffers, ancdata, flags)

    def bind(self, address):
        guard.check_bind(self, address)
        result = guard.real["bind"](self, address)
        if (self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
                and address[1] == 0):
            guard.handed_out_ports.add(self.getsockname()[1])
        return result

    def getaddrinfo(host, *args, **kwargs):
        guard.check_lookup(host)
        return guard.real["getaddrinfo"](host, *args, **kwargs)

    cls.connect, cls.connect_ex, cls.sendto, cls.sendmsg, cls.bind = connect, connect_ex, sendto, sendmsg, bind
    socket.getaddrinfo = getaddrinfo
    _guard = guard
    return guard


def uninstall() -> None:
    global _guard
    if _guard is None:
        return
    for name in ("connect", "connect_ex", "sendto", "sendmsg", "bind"):
        setattr(socket.socket, name, _guard.real[name])
    socket.getaddrinfo = _guard.real["getaddrinfo"]
    _guard = None


def child_environment(log_path: str) -> dict[str, str]:
    """The variables that make every Python child install the guard (merged into os.environ)."""
    path = os.environ.get("PYTHONPATH", "")
    parts = [str(SITE_DIR)] + [p for p in path.split(os.pathsep) if p and p != str(SITE_DIR)]
    return {"PYTHONPATH": os.pathsep.join(parts), LOG_ENV: log_path}
