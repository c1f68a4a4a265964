"""N portal nodes on one database and one Redis, behind a round-robin proxy, all on loopback.

Each node is a ``portal serve`` (gunicorn) and a ``portal worker`` (Huey consumer) subprocess, as a
province would run one per machine; a :mod:`benchmarks.proxy` subprocess spreads connections over
the nodes' serve processes. Used by ``tests/ops/test_two_nodes.py`` and ``./dev.sh bench http
--nodes N``::

    with cluster(2, database_url=pg_url, queue_url="redis://127.0.0.1:6379/14",
                 ratelimit_url="redis://127.0.0.1:6379/14") as c:
        requests.get(c.url + "/healthz")      # through the proxy
        c.nodes[1].url                         # one node directly
        c.kill(0)                              # SIGKILL node 0's serve and worker
        c.restart(0)

Everything a node must share with the others comes from the same environment: the database,
the queue and rate-limit Redis, the secrets (``PORTAL_SECRET_KEY`` and the other keys: the
development defaults unless ``env`` gives them), one ``files_dir`` and one audit checkpoint file
(a shared directory here; a shared mount or object store in production). The caller's own
``PORTAL_*`` variables are not passed on: ``env`` says what the nodes get.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

ROOT = Path(__file__).resolve().parent.parent
PORTAL = [sys.executable, "-m", "portal.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Node:
    index: int
    port: int
    log_dir: Path
    serve: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    #: where the worker log of the current start begins
    worker_log_offset: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def serve_log(self) -> Path:
        return self.log_dir / f"serve-{self.index}.log"

    @property
    def worker_log(self) -> Path:
        return self.log_dir / f"worker-{self.index}.log"

    @property
    def alive(self) -> bool:
        return self.serve is not None and self.serve.poll() is None


@dataclass
class Cluster:
    """What :func:`cluster` yields: ``url`` (the proxy), ``nodes``, ``kill(i)``, ``restart(i)``."""

    url: str
    nodes: list[Node]
    env: dict[str, str]
    log_dir: Path
    workers_per_node: int
    threads: int
    worker_threads: int
    proxy: subprocess.Popen | None = None
    _stopped: bool = field(default=False, repr=False)

    def kill(self, index: int) -> None:
        """The node dies at once (SIGKILL to its serve and worker process groups, as a power cut
        would): requests in flight fail, the job its worker was running stays 'running' until
        its lease runs out and the sweeper queues it again."""
        node = self.nodes[index]
        for process in (node.serve, node.worker):
            _kill_group(process, signal.SIGKILL)

    def restart(self, index: int, timeout: float = 60.0) -> None:
        """Start node ``index`` again on its port (after :meth:`kill`) and wait until it answers."""
        node = self.nodes[index]
        self.kill(index)
        _start_node(node, self)
        _wait_healthy(node, timeout)
        _wait_worker(node, timeout)

    def worker_logs(self) -> str:
        return "\n".join(n.worker_log.read_text(encoding="utf-8", errors="replace")
                         for n in self.nodes if n.worker_log.exists())

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for node in self.nodes:
            for process in (node.serve, node.worker):
                _kill_group(process, signal.SIGTERM)
        _kill_group(self.proxy, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in [p for n in self.nodes for p in (n.serve, n.worker)] + [self.proxy]:
            if process is None:
                continue
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(process, signal.SIGKILL)
                process.wait()


def node_env(*, database_url: str, queue_url: str, ratelimit_url: str | None, shared_dir: Path,
             env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every node gets (the same for all of them)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    base.update({
        "PYTHONUNBUFFERED": "1",
        "PORTAL_ENV": "development",
        "PORTAL_LOG_LEVEL": "WARNING",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_QUEUE_URL": queue_url,
        "PORTAL_FILES_DIR": str(shared_dir / "files"),
        "PORTAL_AUDIT_CHECKPOINT_SINK": f"file:{shared_dir / 'audit-checkpoints.jsonl'}",
    })
    if ratelimit_url:
        base["PORTAL_RATELIMIT_STORAGE_URL"] = ratelimit_url
    base.update(env or {})
    return base


@contextmanager
def cluster(n: int, *, database_url: str, queue_url: str, ratelimit_url: str | None = None,
            env: Mapping[str, str] | None = None, workers_per_node: int = 1, threads: int = 4,
            worker_threads: int = 2, migrate: bool = True, shared_dir: Path | None = None,
            proxy_port: int | None = None, startup_timeout: float = 90.0) -> Iterator[Cluster]:
    """``n`` nodes (serve + worker each) and a round-robin proxy; see the module docstring.

    ``workers_per_node``/``threads``: gunicorn processes and threads of each serve;
    ``worker_threads``: consumer threads of each worker. ``migrate``: upgrade the database first.
    ``shared_dir``: the nodes' shared files directory (default: a temporary one). ``proxy_port``:
    the proxy's port (default: a free one), for settings that must name it before the nodes start
    (the login callback URL)."""
    if n < 1:
        raise ValueError("n >= 1")
    with tempfile.TemporaryDirectory(prefix="portal-nodes-") as tmp:
        shared = Path(shared_dir) if shared_dir is not None else Path(tmp) / "shared"
        shared.mkdir(parents=True, exist_ok=True)
        log_dir = Path(tmp) / "logs"
        log_dir.mkdir()
        environment = node_env(database_url=database_url, queue_url=queue_url, ratelimit_url=ratelimit_url,
                               shared_dir=shared, env=env)
        if migrate:
            subprocess.run([*PORTAL, "db", "upgrade"], env=environment, cwd=ROOT, check=True,
                           capture_output=True, timeout=300)
        nodes = [Node(index=i, port=free_port(), log_dir=log_dir) for i in range(n)]
        proxy_port = proxy_port or free_port()
        running = Cluster(url=f"http://127.0.0.1:{proxy_port}", nodes=nodes, env=environment, log_dir=log_dir,
                          workers_per_node=workers_per_node, threads=threads, worker_threads=worker_threads)
        try:
            for node in nodes:
                _start_node(node, running)
            running.proxy = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.proxy", "--port", str(proxy_port),
                 *(f"127.0.0.1:{node.port}" for node in nodes)],
                cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                start_new_session=True)
            line = running.proxy.stdout.readline()
            if "listening" not in line:
                raise RuntimeError(f"the proxy did not start: {line}{running.proxy.stdout.read()}")
            for node in nodes:
                _wait_healthy(node, startup_timeout)
                _wait_worker(node, startup_timeout)
            yield running
        finally:
            running.stop()


def _start_node(node: Node, running: Cluster) -> None:
    common = dict(cwd=ROOT, env=running.env, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                  start_new_session=True)
    with node.serve_log.open("a", encoding="utf-8") as log:
        node.serve = subprocess.Popen(
            [*PORTAL, "serve", "--bind", f"127.0.0.1:{node.port}", "--workers", str(running.workers_per_node),
             "--threads", str(running.threads)], stdout=log, **common)
    node.worker_log_offset = node.worker_log.stat().st_size if node.worker_log.exists() else 0
    with node.worker_log.open("a", encoding="utf-8") as log:
        node.worker = subprocess.Popen([*PORTAL, "worker", "--workers", str(running.worker_threads)],
                                       stdout=log, **common)


def _kill_group(process: subprocess.Popen | None, sig: int) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)  # gunicorn's workers and the master alike
    except ProcessLookupError:
        pass
    if sig == signal.SIGKILL:
        process.wait()


def _wait_healthy(node: Node, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if node.serve.poll() is not None:
            raise RuntimeError(f"node {node.index}: portal serve exited ({node.serve.returncode}):\n"
                               + node.serve_log.read_text(encoding="utf-8", errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"{node.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"node {node.index}: /healthz did not answer within {timeout:.0f}s")
        time.sleep(0.1)


def _wait_worker(node: Node, timeout: float) -> None:
    """The worker has built its app and started consuming (it says so on stderr)."""
    deadline = time.monotonic() + timeout
    while True:
        if node.worker.poll() is not None:
            raise RuntimeError(f"node {node.index}: portal worker exited ({node.worker.returncode}):\n"
                               + node.worker_log.read_text(encoding="utf-8", errors="replace")[-3000:])
        text = node.worker_log.read_bytes()[node.worker_log_offset:].decode("utf-8", "replace") \
            if node.worker_log.exists() else ""
        if "后台任务进程 / worker:" in text:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"node {node.index}: portal worker did not start within {timeout:.0f}s")
        time.sleep(0.1)
