"""The audit trail's hash chain, on both databases."""

import threading

import pytest
import sqlalchemy as sa

from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.auth.roles import Actor, Role
from tests.helpers import tamper_with_audit_trail

CLERK = Actor(role=Role.CLERK, account_id=7, display_name="陈静", city_code="340100",
              client_addr="127.0.0.1", request_id="r1")


def _write(database, n, actor=CLERK):
    for i in range(n):
        with database.write_transaction() as sess:
            audit.record(sess, actor, "test.write", object_type="thing", object_id=i, detail={"i": i})


def test_rows_chain_in_order_and_verify(app):
    database = app.extensions["portal.database"]
    _write(database, 5)
    with database.read_session() as sess:
        rows = sess.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        report = audit.verify(sess)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
    assert rows[0].role == "clerk" and rows[0].city_code == "340100" and rows[0].client_addr == "127.0.0.1"
    assert report.ok and report.checked == 5


def test_rows_recorded_in_one_transaction_after_the_head_was_loaded_chain_and_verify(app):
    """``record`` moves the head by an UPDATE of its own (no ORM object): a head this session
    loaded before must not be used stale, by a later record or by the sealer."""
    from portal.audit.models import AuditChainHead

    database = app.extensions["portal.database"]
    _write(database, 1)
    with database.write_transaction() as sess:
        loaded = sess.get(AuditChainHead, audit.HEAD_ID)
        before = loaded.seq
        for i in range(3):
            audit.record(sess, CLERK, "test.write", object_type="thing", object_id=i)
        sess.flush()
        if sess.get_bind().dialect.name == "sqlite":  # sealed in this transaction
            assert sess.get(AuditChainHead, audit.HEAD_ID).seq == before + 3
    with database.read_session() as sess:
        seqs = sess.execute(sa.select(AuditEvent.seq).order_by(AuditEvent.id)).scalars().all()
        report = audit.verify(sess)
    assert report.ok, report.problems
    assert seqs == [1, 2, 3, 4] and report.checked == 4


def test_database_refuses_update_and_delete(app):
    database = app.extensions["portal.database"]
    _write(database, 1)
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with database.write_transaction() as sess:
                sess.execute(sa.text(statement))


@pytest.mark.parametrize("tamper,expected", [
    ("UPDATE audit_event SET actor_label = '别人' WHERE seq = 2", "第 2 条记录内容被改动"),
    ("DELETE FROM audit_event WHERE seq = 2", "第 2 条记录缺失"),
    ("DELETE FROM audit_event WHERE seq = 3", "链头记录为第 3 条"),
    ("UPDATE audit_event SET detail = '{\"i\": 99}' WHERE seq = 1", "第 1 条记录内容被改动"),
])
def test_tampering_is_reported(app, tamper, expected):
    database = app.extensions["portal.database"]
    _write(database, 3)
    tamper_with_audit_trail(database.engine, tamper)
    with database.read_session() as sess:
        report = audit.verify(sess)
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


def test_concurrent_writers_keep_the_chain_intact(app):
    database = app.extensions["portal.database"]
    errors = []

    def worker(k):
        try:
            _write(database, 10, Actor(role=Role.WORKER, account_id=k, display_name=f"w{k}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.read_session() as sess:
        report = audit.verify(sess)
    assert report.ok, report.problems
    assert report.checked == 80


def test_browse_filters(app):
    database = app.extensions["portal.database"]
    _write(database, 3)
    with database.write_transaction() as sess:
        audit.record(sess, Actor(role=Role.CLERK, account_id=8, display_name="周婷", city_code="340200"),
                     "login.success")
    with database.read_session() as sess:
        everything = audit.browse(sess, audit.AuditFilter())
        wuhu = audit.browse(sess, audit.AuditFilter(city_code="340200"))
        logins = audit.browse(sess, audit.AuditFilter(action="login"))
    assert everything.total == 4 and everything.rows[0].seq == 4  # newest first
    assert [r.actor_label for r in wuhu.rows] == ["周婷"]
    assert logins.total == 1


def test_upgrade_checks_and_rekeys_rows_written_before_the_keyed_chain(tmp_path):
    """Rows of the unkeyed SM3 chain are checked, then sealed once under the audit key."""
    import json
    from datetime import datetime, timezone

    from portal import create_app, migrate
    from portal.security.crypto import sm3_hex
    from tests.conftest import settings_for_tests

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "f5d400000004")
    engine = sa.create_engine(url)
    prev = "0" * 64
    with engine.begin() as conn:
        for seq in (1, 2, 3):
            at = datetime(2026, 11, 30, 8, 0, seq, tzinfo=timezone.utc)
            fields = {"actor_account_id": 7, "actor_label": "陈静", "role": "clerk", "city_code": "340100",
                      "action": "test.old", "object_type": None, "object_id": str(seq), "client_addr": None,
                      "request_id": None, "detail": {"i": seq}}
            payload = {"seq": seq, "at": at.isoformat(timespec="microseconds"), **fields, "prev_hash": prev}
            digest = sm3_hex(json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                        separators=(",", ":")).encode("utf-8"))
            conn.execute(sa.text(
                "INSERT INTO audit_event (seq, at, actor_account_id, actor_label, role, city_code, action, "
                "object_type, object_id, client_addr, request_id, detail, prev_hash, hash) VALUES (:seq, :at, "
                ":actor_account_id, :actor_label, :role, :city_code, :action, :object_type, :object_id, "
                ":client_addr, :request_id, :detail, :prev, :hash)"),
                {**fields, "seq": seq, "at": at.replace(tzinfo=None).isoformat(sep=" "),
                 "detail": json.dumps(fields["detail"]), "prev": prev, "hash": digest})
            conn.execute(sa.text("UPDATE audit_chain_head SET seq = :s, hash = :h"), {"s": seq, "h": digest})
            prev = digest
    engine.dispose()
    migrate.upgrade(url)
    app = create_app(settings_for_tests(url, tmp_path))
    try:
        with app.extensions["portal.database"].read_session() as sess:
            rows = sess.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
            report = audit.verify(sess)
        assert report.ok and report.checked == 3, report.problems
        assert {r.key_id for r in rows} == {"dev1"} and rows[2].hash != prev
    finally:
        app.extensions["portal.database"].dispose()


def test_page_shows_rows_not_yet_sealed_newest_first(app, client, login_as, db):
    login_as(client, "provincial")
    _write(app.extensions["portal.database"], 1)
    db.execute(sa.text("INSERT INTO audit_event (at, actor_label, action, detail, key_id, row_mac) "
                       "VALUES (:at, '周婷', 'test.unsealed', '{}', 'dev1', '')"),
               {"at": "2030-01-01 00:00:00"})
    db.commit()
    page = client.get("/audit/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "待封链" in html and html.index("test.unsealed") < html.index("test.write")
