"""A 20,000-row real-name roster (.xlsx) imported by the portal, as a ratio against a bare baseline.

Portal: ``roster_import.read_upload`` + ``roster.import_workers`` in one write transaction,
committed, into a covered project made through the services (enroll, submit, pay by the payment
callback). Per row it validates the ID number (check digit, birth date), phone, trade, dates and
formula injection, computes two HMAC blind indexes, seals the ID and phone numbers with SM4-GCM,
looks persons up per batch of 500, inserts a person and a roster entry (two rows), and writes one
audit row per file. Baseline: the same file read with openpyxl in read-only mode and its six
columns inserted as text with one DB-API ``executemany`` into a scratch table, committed.

Targets (set before the first run): the portal at most 6x the baseline's time per row, and memory
flat as the file grows — tracemalloc peak of the import at 20,000 rows within 1.5x of the peak at
5,000. The baseline's own reading peak is printed beside it (openpyxl keeps the workbook's shared
strings — every distinct name, ID and phone — in memory, which no importer on top of it avoids).

SQLite: a migrated temporary file. PostgreSQL: ``PORTAL_TEST_POSTGRES_URL`` or a server on
127.0.0.1:5432 (user postgres, database test), in a private schema dropped afterwards; skipped
with a note when none answers.
"""

from __future__ import annotations

import gc
import io
import os
import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from stdnum.cn import ric

from portal import create_app, migrate

ROWS = 20_000
MEMORY_SIZES = (5_000, 10_000, 20_000)
TARGET_RATIO = 6.0
TARGET_FLAT = 1.5
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TRADES = ("钢筋工", "木工", "架子工", "混凝土工", "电工", "焊工", "瓦工", "普工")
HEADER = ("姓名", "身份证号码", "手机号码", "工种", "班组", "进场日期")


# --- the file -------------------------------------------------------------------------------------


def _id_number(i: int) -> str:
    """Distinct valid resident ID numbers: 500 per birth day from 1970-01-01, odd and even sequences."""
    birth = date(1970, 1, 1) + timedelta(days=i // 500)
    body = f"340104{birth:%Y%m%d}{(i % 500) * 2 + 1:03d}"
    return body + ric.calc_check_digit(body + "0")


def roster_xlsx(rows: int, first: int, entry: date) -> bytes:
    """A roster written with openpyxl's write-only mode (ID and phone numbers as text)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(list(HEADER))
    entry_cell = datetime(entry.year, entry.month, entry.day)
    for i in range(first, first + rows):
        sheet.append([f"工人{i:05d}", _id_number(i), f"139{i:08d}", TRADES[i % len(TRADES)],
                      f"第{i % 40 + 1}班组", entry_cell])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the portal -----------------------------------------------------------------------------------


def _employer(app):
    from portal.accounts import service as accounts
    from portal.auth.roles import Actor, Role
    from portal.demo import DEMO_LOGIN_FOR_ROLE, demo_identity, load_staff_register

    with app.app_context(), app.extensions["portal.database"].write_transaction() as sess:
        load_staff_register(sess)
        snap = accounts.sign_in(sess, demo_identity(DEMO_LOGIN_FOR_ROLE["employer"]), "127.0.0.1", "bench")
    return Actor(role=Role(snap["role"]), account_id=snap["account_id"], display_name=snap["display_name"],
                 city_code=snap.get("city_code"), person_id=snap.get("person_id"),
                 organisation_id=snap.get("organisation_id"), office=snap.get("office"))


def _covered_project(app, employer, n: int) -> int:
    """Enrolled, submitted and paid (the platform's callback, as tests/projects/conftest.py does)."""
    from portal.db import utcnow
    from portal.localtime import local_today
    from portal.payments import service as payments
    from portal.payments.models import Bill, BillStatus
    from portal.projects import service as projects

    today = local_today()
    with app.app_context(), app.extensions["portal.database"].write_transaction() as sess:
        project = projects.enroll_project(
            sess, employer, name=f"基准测试项目{n}", county_code="340111", permit_number=None,
            contract_price=Decimal("12345678.90"), installation_cost=None,
            planned_start=today - timedelta(days=30), planned_end=today + timedelta(days=700))
        projects.submit_project(sess, employer, project.id)
        for bill in sess.scalars(sa.select(Bill).where(Bill.subject_type == "project", Bill.subject_id == project.id,
                                                       Bill.status == BillStatus.ISSUED)):
            if bill.payment_reference is None:
                bill.payment_reference = f"BENCH{bill.id:08d}"
                sess.flush()
            payments.record_callback(sess, message_id=uuid.uuid4().hex, reference=bill.payment_reference,
                                     status="paid", amount=bill.amount, paid_at=utcnow(), raw=b"{}")
        return project.id


def _portal_import(app, employer, project_id: int, data: bytes) -> int:
    from portal.projects.service import roster, roster_import

    with app.app_context(), app.extensions["portal.database"].write_transaction() as sess:
        rows = roster_import.read_upload("roster.xlsx", data)
        return roster.import_workers(sess, employer, project_id, rows, max_rows=roster_import.MAX_ROWS).imported


# --- the baseline ---------------------------------------------------------------------------------


def _read_cells(data: bytes):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        next(rows)  # the header
        for cells in rows:
            yield tuple("" if c is None else str(c) for c in cells)
    finally:
        workbook.close()


def _baseline(connect, data: bytes) -> int:
    """openpyxl read-only + one bare DB-API executemany into a six-text-column scratch table."""
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS bench_scratch")
        cur.execute("CREATE TABLE bench_scratch (c1 TEXT, c2 TEXT, c3 TEXT, c4 TEXT, c5 TEXT, c6 TEXT)")
        conn.commit()
        marker = "?" if isinstance(conn, sqlite3.Connection) else "%s"
        start = time.perf_counter()
        cur.executemany(f"INSERT INTO bench_scratch VALUES ({', '.join([marker] * 6)})", _read_cells(data))
        conn.commit()
        elapsed = time.perf_counter() - start
        cur.execute("SELECT count(*) FROM bench_scratch")
        assert cur.fetchone()[0] == ROWS
        cur.execute("DROP TABLE bench_scratch")
        conn.commit()
        return elapsed
    finally:
        conn.close()


def _peak(fn) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- one database -----------------------------------------------------------------------------------


def _run(label: str, url: str, connect, tmp: Path) -> dict:
    from portal.localtime import local_today

    app = create_app({"env": "testing", "database_url": url, "log_level": "ERROR",
                      "ratelimit_enabled": False, "queue_url": f"sqlite:///{tmp / f'queue-{label}.db'}"})
    try:
        employer = _employer(app)
        today = local_today()
        data = roster_xlsx(ROWS, 0, today)
        baseline = min(_baseline(connect, data) for _ in range(2))

        _portal_import(app, employer, _covered_project(app, employer, 0), roster_xlsx(600, 900_000, today))  # warm-up
        project_id = _covered_project(app, employer, 1)
        gc.collect()
        start = time.perf_counter()
        imported = _portal_import(app, employer, project_id, data)
        portal = time.perf_counter() - start
        assert imported == ROWS

        peaks, reads, first = {}, {}, ROWS
        for size in MEMORY_SIZES:
            file = roster_xlsx(size, first, today)
            first += size
            project_id = _covered_project(app, employer, size)
            peaks[size] = _peak(lambda: _portal_import(app, employer, project_id, file))  # noqa: B023
            reads[size] = _peak(lambda: sum(1 for _ in _read_cells(file)))  # noqa: B023
    finally:
        app.extensions["portal.database"].dispose()

    ratio = portal / baseline
    growth = peaks[MEMORY_SIZES[-1]] / peaks[MEMORY_SIZES[0]]
    low, high = MEMORY_SIZES[0], MEMORY_SIZES[-1]
    own_growth = (peaks[high] - reads[high]) / (peaks[low] - reads[low])
    mib = 1024 * 1024
    print(f"roster-import [{label}]: {ROWS:,} rows .xlsx: portal {ROWS / portal:,.0f} rows/s "
          f"({portal:.1f} s), baseline openpyxl+executemany {ROWS / baseline:,.0f} rows/s ({baseline:.2f} s) "
          f"= {ratio:.1f}x baseline (target <= {TARGET_RATIO:.0f}x) {'OK' if ratio <= TARGET_RATIO else 'OVER TARGET'}; "
          f"peak memory " + " / ".join(f"{s // 1000}k {peaks[s] / mib:.1f} MiB" for s in MEMORY_SIZES)
          + f" = {growth:.2f}x from 5k to 20k (target <= {TARGET_FLAT}x) {'OK' if growth <= TARGET_FLAT else 'NOT FLAT'}"
          f" [openpyxl read alone: " + " / ".join(f"{reads[s] / mib:.1f}" for s in MEMORY_SIZES) + " MiB;"
          f" portal net of it: {own_growth:.2f}x]")
    return {"rows": ROWS, "portal_rows_per_s": ROWS / portal, "baseline_rows_per_s": ROWS / baseline,
            "ratio": ratio, "peak_bytes": peaks, "read_peak_bytes": reads, "memory_growth": growth,
            "memory_growth_net_of_openpyxl": own_growth}


def _postgres_base() -> str | None:
    url = os.environ.get("PORTAL_TEST_POSTGRES_URL") or LOCAL_POSTGRES
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        return url
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()


def main() -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(url)
        results["sqlite"] = _run("sqlite", url, lambda: sqlite3.connect(path), Path(tmp))

        base = _postgres_base()
        if base is None:
            print("roster-import [postgresql]: skipped — no server answers (set PORTAL_TEST_POSTGRES_URL "
                  "or run one on 127.0.0.1:5432)")
            return results
        import psycopg

        schema = f"portal_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        pg_url = f"{base}{sep}options=-csearch_path%3D{schema}"
        dsn = sa.engine.make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            migrate.upgrade(pg_url)
            results["postgresql"] = _run("postgresql", pg_url,
                                         lambda: psycopg.connect(dsn, options=f"-c search_path={schema}"), Path(tmp))
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return results
