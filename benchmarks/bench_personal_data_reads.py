"""8 concurrent readers of the personal-data page, on the embedded SQLite default and, when
``PORTAL_BENCH_POSTGRES_URL`` names a server (e.g. ``postgresql://postgres@127.0.0.1:5432/test``),
on PostgreSQL too (in a throwaway schema, dropped afterwards).

Every such read decrypts three fields and appends an audit row (a write), so on SQLite it competes
for the single writer; on PostgreSQL the readers must not queue behind one row lock held through
a commit. Baseline: the same 8 readers on the worker's home page, which reads the session only.
Targets: zero errors (no "database is locked", no 500), and audited reads at no less than 1/10 of
the baseline throughput.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from pathlib import Path

import requests
from stdnum.cn import ric

from adapters.sandbox_server import serve_in_thread
from benchmarks.databases import throwaway_schema
from portal import create_app, migrate
from portal.accounts import service as accounts
from portal.accounts.claims import Identity
from portal.accounts.models import AccountKind
from portal.auth.models import WebSession
from portal.auth.session_store import token_id
from portal.db import utcnow

READERS = 8
REQUESTS_EACH = 60


def _identity(i: int) -> Identity:
    body = f"340104199001{i % 28 + 1:02d}{i:03d}"
    return Identity(subject=f"bench-{i}", kind=AccountKind.PERSON, name=f"测试{i}",
                    id_number=body + ric.calc_check_digit(body + "0"), phone=f"1395510{i:04d}")


def _sessions(app) -> list[str]:
    tokens = []
    with app.extensions["portal.database"].write_transaction() as sess:
        for i in range(READERS):
            snapshot = accounts.sign_in(sess, _identity(i), "127.0.0.1", "bench")
            token = secrets.token_urlsafe(32)
            sess.add(WebSession(id=token_id(token), account_id=snapshot["account_id"], role="worker",
                                data=snapshot, created_at=utcnow(), last_seen_at=utcnow()))
            tokens.append(token)
    return tokens


def _hammer(base: str, path: str, tokens: list[str]) -> tuple[float, int, int]:
    errors, done = [], []

    def reader(token: str) -> None:
        with requests.Session() as http:
            http.cookies.set("portal_session", token)
            for _ in range(REQUESTS_EACH):
                response = http.get(base + path, timeout=30)
                if response.status_code != 200:
                    errors.append(response.status_code)
                done.append(1)

    threads = [threading.Thread(target=reader, args=(t,)) for t in tokens]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return len(done) / elapsed, len(errors), len(done)


def _run(url: str, tmp: str, label: str) -> dict:
    migrate.upgrade(url)
    app = create_app({"env": "testing", "database_url": url, "log_level": "WARNING",
                      "ratelimit_enabled": False, "queue_url": f"sqlite:///{Path(tmp) / f'q-{label}.db'}",
                      "audit_checkpoint_sink": f"file:{Path(tmp) / f'checkpoints-{label}.jsonl'}"})
    tokens = _sessions(app)
    server, _thread = serve_in_thread(app, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        _hammer(base, "/home/worker", tokens[:1])  # warm up
        home_rate, home_errors, _ = _hammer(base, "/home/worker", tokens)
        read_rate, read_errors, total = _hammer(base, "/my/profile", tokens)
    finally:
        server.shutdown()
        app.extensions["portal.database"].dispose()
    ratio = read_rate / home_rate
    ok = read_errors == 0 and home_errors == 0 and ratio >= 0.1
    print(f"personal-data-reads ({label}): {READERS} readers x {REQUESTS_EACH}: audited profile reads "
          f"{read_rate:,.0f}/s vs home page baseline {home_rate:,.0f}/s = {ratio:.2f}x baseline, "
          f"errors {read_errors}+{home_errors} of {2 * total} (targets: 0 errors, >= 0.10x) "
          f"{'OK' if ok else 'MISSED'}")
    return {"read_rate": read_rate, "home_rate": home_rate, "ratio": ratio, "errors": read_errors + home_errors}


def _postgres(base_url: str, tmp: str) -> dict:
    with throwaway_schema(base_url) as url:
        return _run(url, tmp, "postgresql")


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result = _run(f"sqlite:///{Path(tmp) / 'bench.db'}", tmp, "sqlite")
        pg_url = os.environ.get("PORTAL_BENCH_POSTGRES_URL") or os.environ.get("PORTAL_TEST_POSTGRES_URL")
        if pg_url:
            result["postgresql"] = _postgres(pg_url, tmp)
    return result
