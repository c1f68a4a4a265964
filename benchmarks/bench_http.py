"""The portal over HTTP against bare Flask apps under the same server settings (issue 14, point 5).

``./dev.sh bench http [--quick] [--rounds N] [--duration S] [--nodes N]``

Servers (real processes on loopback, each gunicorn ``portal.ops.cli.gunicorn_options``, 2 workers
× 4 threads): ``portal serve`` (production settings, fresh secrets from ``portal keygen``), a bare
Flask hello app and a bare Flask app doing one audited INSERT + COMMIT per request on the same
database (``benchmarks/bare_app.py``). Load: Debian's ``wrk`` (``./dev.sh bench`` installs it), 2
threads, 8 then 32 connections, the targets interleaved round by round; every request carries a
signed-in worker's session cookie (a Lua script hands out 32 sessions in turn; the bare apps
ignore it). Figures are medians over the rounds.

Targets: home page ≥ 0.5× bare hello; the worker's personal-data page (``/my/profile``: decrypt,
mask, audit row) ≥ 0.5× the bare audited insert (its ratio to bare hello printed beside it);
0 errors and no "database is locked" at 32 clients on SQLite; on PostgreSQL, p99 at 32 clients
within 10× the baseline's p99 (home vs hello, personal data vs audited insert).

SQLite always; PostgreSQL in a throwaway schema when ``PORTAL_BENCH_POSTGRES_URL``,
``PORTAL_TEST_POSTGRES_URL`` or a server on 127.0.0.1:5432 answers. ``--nodes N`` (PostgreSQL):
the same two pages through ``benchmarks.nodes.cluster`` (N ``portal serve`` + workers behind a
round-robin proxy) beside one node.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from benchmarks.databases import postgres_base_url, redis_answers, throwaway_schema
from portal.config import PROJECT_ROOT

SESSIONS = 32
WORKERS, THREADS = 2, 4


@dataclass
class Target:
    name: str
    base: str
    path: str
    log: Path | None = None  # the server's stderr, searched for "database is locked"
    signed_in: bool = False  # send a worker's session cookie (else none: an anonymous visitor)


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Figures:
    samples: list[Sample] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(s.rps for s in self.samples)

    @property
    def p50(self) -> float:
        return statistics.median(s.p50_ms for s in self.samples)

    @property
    def p99(self) -> float:
        return statistics.median(s.p99_ms for s in self.samples)

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.samples)


# --- wrk --------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Sample:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return Sample(rps, p50, p99, errors)


def _lua_script(path: Path, cookie_name: str, tokens: list[str]) -> Path:
    """Requests carrying the sessions' cookies in turn; with no tokens, the same script without a
    cookie (so every target costs wrk the same)."""
    quoted = ", ".join(f'"{t}"' for t in tokens)
    header = f'{{["Cookie"] = "{cookie_name}=" .. tokens[(i % #tokens) + 1]}}' if tokens else "{}"
    path.write_text(
        f"local tokens = {{{quoted}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        f"  return wrk.format(nil, nil, {header})\n"
        "end\n")
    return path


def wrk(url: str, clients: int, seconds: float, script: Path) -> Sample:
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "--latency",
         "-s", str(script), url], capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr or result.stdout}")
    return parse_wrk(result.stdout)


# --- servers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra)
    return env


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url}: {log.read_text()[-2000:]}")


@contextmanager
def _server(command: list[str], env: dict[str, str], log: Path, probe_path: str) -> Iterator[str]:
    port = _free_port()
    command = [arg.replace("{port}", str(port)) for arg in command]
    with log.open("w") as log_file:
        process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base + probe_path, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _portal_env(secrets_env: dict[str, str], database_url: str, tmp: Path, label: str) -> dict[str, str]:
    return {**secrets_env, "PORTAL_ENV": "production", "PORTAL_DATABASE_URL": database_url,
            "PORTAL_QUEUE_URL": f"sqlite:///{tmp / f'queue-{label}.db'}",
            "PORTAL_AUDIT_CHECKPOINT_SINK": f"file:{tmp / f'checkpoints-{label}.jsonl'}",
            "PORTAL_FILES_DIR": str(tmp / f"files-{label}")}


def _keygen() -> dict[str, str]:
    output = subprocess.run([sys.executable, "-m", "portal.cli", "keygen"], env=_child_env({}),
                            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    return dict(line[len("export "):].split("=", 1) for line in output.splitlines() if line.startswith("export "))


# --- data -------------------------------------------------------------------------------------


def _seed(database_url: str, secrets_env: dict[str, str], tmp: Path, label: str) -> tuple[str, list[str]]:
    """Migrate, then sign in SESSIONS workers (person records with encrypted personal data) and
    store a session row for each, as the unified login's callback does. Returns the cookie name
    and the tokens."""
    from benchmarks.bench_personal_data_reads import _identity
    from portal import create_app, migrate
    from portal.accounts import service as accounts
    from portal.auth.models import WebSession
    from portal.auth.session_store import token_id
    from portal.db import utcnow

    migrate.upgrade(database_url)
    overrides = {key[len("PORTAL_"):].lower(): value for key, value in secrets_env.items()}
    app = create_app({**overrides, "env": "testing", "database_url": database_url, "log_level": "WARNING",
                      "queue_url": f"sqlite:///{tmp / f'seed-queue-{label}.db'}",
                      "audit_checkpoint_sink": f"file:{tmp / f'checkpoints-{label}.jsonl'}"})
    database = app.extensions["portal.database"]
    tokens = []
    try:
        with database.write_transaction() as sess:
            for i in range(SESSIONS):
                snapshot = accounts.sign_in(sess, _identity(i), "127.0.0.1", "bench")
                token = secrets.token_urlsafe(32)
                sess.add(WebSession(id=token_id(token), account_id=snapshot["account_id"], role="worker",
                                    data=snapshot, created_at=utcnow(), last_seen_at=utcnow()))
                tokens.append(token)
    finally:
        database.dispose()
    return app.config["PORTAL_SETTINGS"].session_cookie_name, tokens


def _check_page(base: str, path: str, cookie: str, expect: str) -> None:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read().decode("utf-8")
        if response.status != 200 or response.url != base + path or expect not in body:
            raise RuntimeError(f"{path} did not answer the signed-in page ({response.status} {response.url})")


# --- one database -----------------------------------------------------------------------------


def _measure(targets: list[Target], clients: int, rounds: int, seconds: float,
             scripts: dict[bool, Path]) -> dict[str, Figures]:
    figures = {t.name: Figures() for t in targets}
    for target in targets:  # warm up: imports, template cache, pools
        wrk(target.base + target.path, clients, 1, scripts[target.signed_in])
    for round_no in range(rounds):
        shift = round_no % len(targets)  # each round starts with another target
        for target in targets[shift:] + targets[:shift]:
            figures[target.name].samples.append(
                wrk(target.base + target.path, clients, seconds, scripts[target.signed_in]))
    return figures


def _locked_in_logs(targets: list[Target]) -> int:
    seen = 0
    for log in {t.log for t in targets if t.log is not None}:
        seen += log.read_text(errors="replace").count("database is locked")
    return seen


def _report(label: str, clients: int, f: dict[str, Figures], locked: int, backend: str) -> bool:
    hello, insert, home, profile = f["bare hello"], f["bare audited insert"], f["home"], f["personal data"]
    home_ratio, profile_ratio = home.rps / hello.rps, profile.rps / insert.rps
    errors = home.errors + profile.errors + hello.errors + insert.errors
    ok = home_ratio >= 0.5 and profile_ratio >= 0.5
    checks = [f"home {home_ratio:.2f}x (>= 0.5)", f"personal data {profile_ratio:.2f}x (>= 0.5)"]
    if clients >= 32 and backend == "sqlite":
        ok = ok and errors == 0 and locked == 0
        checks.append(f"errors {errors}, 'database is locked' {locked} (0)")
    if clients >= 32 and backend == "postgresql":
        home_p99, profile_p99 = home.p99 / hello.p99, profile.p99 / insert.p99
        ok = ok and home_p99 <= 10 and profile_p99 <= 10
        checks.append(f"p99 home {home_p99:.1f}x, personal data {profile_p99:.1f}x (<= 10)")
    print(f"http ({label}, {clients} clients):")
    for name, fig, base in (("bare hello", hello, None), ("home /", home, hello),
                            ("bare audited insert", insert, None), ("personal data /my/profile", profile, insert)):
        ratio = f" = {fig.rps / base.rps:.2f}x {'bare hello' if base is hello else 'audited insert'}" if base else ""
        extra = f", {fig.rps / hello.rps:.2f}x bare hello" if fig is profile or fig is insert else ""
        print(f"  {name:27} {fig.rps:8,.0f} req/s{ratio}{extra}; p50 {fig.p50:6.1f} ms, p99 {fig.p99:7.1f} ms;"
              f" errors {fig.errors}")
    print(f"  targets: {'; '.join(checks)} -> {'OK' if ok else 'MISSED'}")
    return ok


def _run_database(label: str, backend: str, database_url: str, tmp: Path, args, secrets_env) -> dict:
    cookie_name, tokens = _seed(database_url, secrets_env, tmp, label)
    scripts = {True: _lua_script(tmp / "signed-in.lua", cookie_name, tokens),
               False: _lua_script(tmp / "anonymous.lua", cookie_name, [])}
    portal_log, insert_log = tmp / f"portal-{label}.log", tmp / f"bare-insert-{label}.log"
    python = sys.executable
    serve = [python, "-m", "portal.cli", "serve", "--bind", "127.0.0.1:{port}", "--workers", str(WORKERS),
             "--threads", str(THREADS)]

    def bare(kind: str) -> list[str]:
        return [python, "-m", "benchmarks.bare_app", kind, "--bind", "127.0.0.1:{port}", "--workers",
                str(WORKERS), "--threads", str(THREADS), "--database-url", database_url]

    results: dict = {}
    with ExitStack() as stack:
        portal = stack.enter_context(_server(serve, _child_env(_portal_env(secrets_env, database_url, tmp, label)),
                                             portal_log, "/healthz"))
        hello = stack.enter_context(_server(bare("hello"), _child_env({}), tmp / f"bare-hello-{label}.log", "/"))
        insert = stack.enter_context(_server(bare("audited-insert"), _child_env({}), insert_log, "/"))
        _check_page(portal, "/my/profile", f"{cookie_name}={tokens[0]}", "个人信息")
        targets = [Target("bare hello", hello, "/"), Target("home", portal, "/", portal_log),
                   Target("bare audited insert", insert, "/", insert_log, signed_in=True),
                   Target("personal data", portal, "/my/profile", portal_log, signed_in=True)]
        for clients in args.clients:
            before = _locked_in_logs(targets)
            figures = _measure(targets, clients, args.rounds, args.duration, scripts)
            locked = _locked_in_logs(targets) - before
            ok = _report(label, clients, figures, locked, backend)
            results[clients] = {"ok": ok, "locked": locked,
                                **{name: {"rps": f.rps, "p50_ms": f.p50, "p99_ms": f.p99, "errors": f.errors}
                                   for name, f in figures.items()}}
        _check_page(portal, "/my/profile", f"{cookie_name}={tokens[0]}", "个人信息")  # still signed in
        if args.nodes > 1:
            if backend != "postgresql":
                print(f"  --nodes {args.nodes}: needs PostgreSQL (nodes share one database); skipped on {label}")
            else:
                results["nodes"] = _run_nodes(args, database_url, secrets_env, tmp, portal, scripts)
    return results


def _run_nodes(args, database_url: str, secrets_env: dict[str, str], tmp: Path, one_node: str,
               scripts: dict[bool, Path]) -> dict:
    # helper E's: N portal serve + workers behind a round-robin proxy
    from benchmarks.nodes import cluster

    redis_url = (os.environ.get("PORTAL_BENCH_REDIS_URL") or os.environ.get("PORTAL_TEST_REDIS_URL")
                 or ("redis://127.0.0.1:6379/14" if redis_answers("redis://127.0.0.1:6379/14") else None))
    queue_url = redis_url or f"sqlite:///{tmp / 'queue-nodes.db'}"  # one machine: a shared file will do
    env = {k: v for k, v in _portal_env(secrets_env, database_url, tmp, "nodes").items()
           if k not in ("PORTAL_DATABASE_URL", "PORTAL_QUEUE_URL")}
    clients = max(args.clients)
    out: dict = {}
    with cluster(args.nodes, database_url=database_url, queue_url=queue_url, ratelimit_url=redis_url, env=env,
                 workers_per_node=WORKERS, threads=THREADS) as c:
        targets = [Target("home, 1 node", one_node, "/"), Target(f"home, {args.nodes} nodes", c.url, "/"),
                   Target("personal data, 1 node", one_node, "/my/profile", signed_in=True),
                   Target(f"personal data, {args.nodes} nodes", c.url, "/my/profile", signed_in=True)]
        figures = _measure(targets, clients, args.rounds, args.duration, scripts)
    print(f"http (postgresql, {clients} clients, 1 node vs {args.nodes} nodes behind the proxy; the proxy "
          f"(benchmarks/proxy.py) and every node share this machine's cores):")
    for name, fig in figures.items():
        print(f"  {name:27} {fig.rps:8,.0f} req/s; p50 {fig.p50:6.1f} ms, p99 {fig.p99:7.1f} ms; errors {fig.errors}")
        out[name] = {"rps": fig.rps, "p99_ms": fig.p99, "errors": fig.errors}
    return out



def _arguments(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="./dev.sh bench http", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s per target (trying things out)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=int, default=None, help="whole seconds per target per round (default 8)")
    parser.add_argument("--clients", type=lambda s: [int(c) for c in s.split(",")], default=[8, 32],
                        help="connections, comma-separated (default 8,32)")
    parser.add_argument("--nodes", type=int, default=1, help="also compare 1 node with N nodes (PostgreSQL)")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.duration = args.duration or (3 if args.quick else 8)
    return args


def main(argv: list[str] | None = None) -> dict:
    args = _arguments(argv or [])
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run ./dev.sh bench http (as root it installs it), "
                         "or apt-get install wrk")
    print(f"http: gunicorn {WORKERS} workers x {THREADS} threads per server, wrk 2 threads; "
          f"{args.rounds} round(s) x {args.duration:g} s per target; medians. A shared machine makes "
          "these figures noisy: compare ratios of one run.")
    secrets_env = _keygen()
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="portal-bench-http-") as tmp_dir:
        tmp = Path(tmp_dir)
        results["sqlite"] = _run_database("sqlite", "sqlite", f"sqlite:///{tmp / 'bench.db'}", tmp, args,
                                          secrets_env)
        pg_url = None if args.sqlite_only else postgres_base_url()
        if pg_url:
            with throwaway_schema(pg_url) as url:
                results["postgresql"] = _run_database("postgresql", "postgresql", url, tmp, args, secrets_env)
        elif not args.sqlite_only:
            print("http (postgresql): no server (set PORTAL_BENCH_POSTGRES_URL): skipped")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
