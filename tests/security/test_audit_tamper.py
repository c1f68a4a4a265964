"""Issue 12 point 1: an audit trail that survives someone holding the database.

The attacks of the probe, replayed: TRUNCATE and deleting the chain head (refused by
PostgreSQL), the same with the guards lifted by an administrator (caught against the checkpoint
outside the database), cutting the last rows and moving the head back, deleting a middle row and
recomputing the rest without the key. Plus: writers do not queue behind one lock held through a
commit (PostgreSQL), checkpoints are signed (a forged one is reported), the syslog sink sends
them over UDP, and the portal runs under a role that cannot TRUNCATE, ALTER or DROP.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.audit import service as audit
from portal.audit.keys import AuditKeys
from portal.audit.models import AuditEvent
from portal.auth.roles import Actor, Role
from portal.cli import cli
from tests.conftest import settings_for_tests
from tests.helpers import tamper_with_audit_trail

CLERK = Actor(role=Role.CLERK, account_id=7, display_name="陈静", city_code="340100",
              client_addr="127.0.0.1", request_id="r1")
GENESIS = "0" * 64


def _write(database, n):
    for i in range(n):
        with database.write_transaction() as sess:
            audit.record(sess, CLERK, "person.read_personal_data", object_type="person", object_id=i)


def _verify(app):
    return app.test_cli_runner().invoke(cli, ["audit", "verify"], catch_exceptions=False)


def _checkpoint(app):
    result = app.test_cli_runner().invoke(cli, ["audit", "checkpoint"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


# --- the database refuses ---------------------------------------------------------------------


@pytest.mark.parametrize("statement,refusal", [
    ("DELETE FROM audit_chain_head", "cannot be deleted"),
    ("UPDATE audit_chain_head SET seq = 1", "only moves forward"),
    (f"UPDATE audit_chain_head SET hash = '{'1' * 64}'", "only moves forward"),
    ("UPDATE audit_event SET seq = NULL, prev_hash = NULL, hash = NULL WHERE seq = 3", "append-only"),
    ("DELETE FROM audit_event WHERE seq = 3", "append-only"),
])
def test_database_refuses_deleting_or_moving_back_the_head(app, statement, refusal):
    database = app.extensions["portal.database"]
    _write(database, 3)
    with pytest.raises(sa.exc.DBAPIError, match=refusal):
        with database.write_transaction() as sess:
            sess.execute(sa.text(statement))


@pytest.mark.parametrize("statement", ["TRUNCATE audit_event", "TRUNCATE audit_chain_head",
                                       "TRUNCATE audit_event, audit_chain_head"])
def test_postgresql_refuses_truncate(postgres_url, tmp_path, statement):
    if postgres_url is None:
        pytest.skip("PostgreSQL not available here: set PORTAL_TEST_POSTGRES_URL or run a local server")
    from tests.conftest import _truncate_all

    app = create_app(settings_for_tests(postgres_url, tmp_path))
    database = app.extensions["portal.database"]
    try:
        _write(database, 2)
        with pytest.raises(sa.exc.DBAPIError, match="cannot be truncated"):
            with database.write_transaction() as sess:
                sess.execute(sa.text(statement))
        with database.read_session() as sess:
            assert audit.verify(sess).checked == 2
    finally:
        database.dispose()
        _truncate_all(postgres_url)


# --- an administrator lifts the guards: the checkpoint and the key catch it ---------------------


def test_erased_trail_fails_against_the_checkpoint(app):
    database = app.extensions["portal.database"]
    _write(database, 3)
    _checkpoint(app)
    tamper_with_audit_trail(database.engine,
                            f"DELETE FROM audit_event; UPDATE audit_chain_head SET seq = 0, hash = '{GENESIS}'")
    result = _verify(app)
    assert result.exit_code == 1
    assert "审计链比检查点短" in result.output and "trail shorter than its last checkpoint" in result.output
    assert "审计链校验失败" in result.output


def test_cut_tail_with_the_head_moved_back_fails(app):
    database = app.extensions["portal.database"]
    _write(database, 5)
    _checkpoint(app)
    with database.read_session() as sess:
        third = sess.execute(sa.select(AuditEvent.hash).where(AuditEvent.seq == 3)).scalar_one()
    tamper_with_audit_trail(database.engine, "DELETE FROM audit_event WHERE seq > 3; "
                            f"UPDATE audit_chain_head SET seq = 3, hash = '{third}'")
    result = _verify(app)
    assert result.exit_code == 1
    assert "记录到第 5 条，数据库中只到第 3 条" in result.output


@pytest.mark.parametrize("attacker_key", [None, b"\x01" * 32], ids=["unkeyed", "wrong-key"])
def test_middle_row_deleted_and_rest_recomputed_without_the_key_fails(app, attacker_key):
    """No checkpoint yet: the keyed chain alone must catch a recomputed chain."""
    from portal.security.crypto import sm3_hex

    database = app.extensions["portal.database"]
    _write(database, 4)
    with database.read_session() as sess:
        rows = sess.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    forged = AuditKeys({"dev1": attacker_key}, "dev1") if attacker_key else None
    statements, prev = ["DELETE FROM audit_event WHERE seq = 2"], rows[0].hash
    for new_seq, row in enumerate(rows[2:], 2):
        if forged:
            digest = audit.link_hash(forged, "dev1", row.row_mac, prev, new_seq)
        else:
            digest = sm3_hex(f"{row.row_mac}|{prev}|{new_seq}".encode())
        statements.append(f"UPDATE audit_event SET seq = {new_seq}, prev_hash = '{prev}', hash = '{digest}' "
                          f"WHERE id = {row.id}")
        prev = digest
    statements.append(f"UPDATE audit_chain_head SET seq = 3, hash = '{prev}'")
    tamper_with_audit_trail(database.engine, "; ".join(statements))
    with database.read_session() as sess:
        report = audit.verify(sess)
    assert not report.ok
    assert any("第 2 条记录内容被改动" in p for p in report.problems), report.problems
    assert any("第 3 条记录内容被改动" in p for p in report.problems), report.problems


def test_forged_or_edited_checkpoints_are_reported(app, tmp_path):
    database = app.extensions["portal.database"]
    _write(database, 2)
    _checkpoint(app)
    sink = tmp_path / "audit-checkpoints.jsonl"
    genuine = json.loads(sink.read_text(encoding="utf-8").splitlines()[0])
    edited = {**genuine, "seq": 1}  # an insider "lowers" the anchor
    unknown = {**genuine, "key_id": "nope"}
    with sink.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(edited) + "\n" + json.dumps(unknown) + "\n")
    result = _verify(app)
    assert result.exit_code == 1
    assert "检查点签名无效" in result.output and "forged or edited checkpoint" in result.output
    assert "密钥编号 nope 未配置" in result.output


def test_verify_of_an_intact_trail_keeps_its_output(app):
    _write(app.extensions["portal.database"], 3)
    _checkpoint(app)
    result = _verify(app)
    assert result.exit_code == 0
    assert result.output.strip() == "审计链完整：共 3 条 (audit chain intact: 3 rows)"


# --- the syslog sink --------------------------------------------------------------------------


@pytest.fixture
def syslog_server():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


@pytest.fixture
def app_overrides(request, tmp_path):
    if "syslog_server" not in request.fixturenames:
        return {}
    port = request.getfixturevalue("syslog_server").getsockname()[1]
    return {"audit_checkpoint_sink": f"file:{tmp_path / 'audit-checkpoints.jsonl'},syslog://127.0.0.1:{port}"}


def test_checkpoints_also_go_to_syslog_and_verify_reads_the_collected_file(app, syslog_server, tmp_path):
    database = app.extensions["portal.database"]
    _write(database, 2)
    _checkpoint(app)
    datagram = syslog_server.recv(65535).decode("utf-8")
    assert datagram.startswith("<110>1 ") and " portal-audit " in datagram and '"seq":2' in datagram
    collected = tmp_path / "loghost.log"
    collected.write_text(datagram + "\n", encoding="utf-8")
    (tmp_path / "audit-checkpoints.jsonl").unlink()  # the node's own file is gone too
    tamper_with_audit_trail(database.engine,
                            f"DELETE FROM audit_event; UPDATE audit_chain_head SET seq = 0, hash = '{GENESIS}'")
    assert _verify(app).exit_code == 0  # nothing left to compare with on the node...
    result = app.test_cli_runner().invoke(cli, ["audit", "verify", "--checkpoints", str(collected)])
    assert result.exit_code == 1 and "审计链比检查点短" in result.output  # ...but the log server has it


# --- the periodic job -------------------------------------------------------------------------


def test_periodic_job_seals_and_checkpoints_at_most_every_interval(app, tmp_path, monkeypatch):
    database = app.extensions["portal.database"]
    _write(database, 2)
    monkeypatch.setattr(audit, "_last_checkpoint", None)
    with database.read_session() as sess:
        first = audit.checkpoint_if_due(sess)
        again = audit.checkpoint_if_due(sess)  # within the interval: no second checkpoint
    assert first["checkpoints"] == 1 and again["checkpoints"] == 0
    monkeypatch.setattr(audit, "_last_checkpoint", time.monotonic() - 300)
    with database.read_session() as sess:
        assert audit.checkpoint_if_due(sess)["checkpoints"] == 1
    lines = (tmp_path / "audit-checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [2, 2]


# --- concurrency (PostgreSQL) -----------------------------------------------------------------


def test_writers_do_not_wait_for_an_uncommitted_audit_row(app):
    """One transaction records a row and stays open; another records and commits meanwhile,
    without waiting (on PostgreSQL the old design queued it behind the head's row lock until
    lock_timeout). SQLite has one writer whatever we do: there the second waits its turn."""
    database = app.extensions["portal.database"]
    if database.backend != "postgresql":
        _write(database, 2)  # the same calls work on SQLite, one writer after the other
        with database.read_session() as sess:
            assert audit.verify(sess).ok
        return
    with database.write_transaction() as held:
        audit.record(held, CLERK, "test.held")
        started = time.perf_counter()
        done = threading.Event()
        thread = threading.Thread(target=lambda: (_write(database, 1), done.set()))
        thread.start()
        assert done.wait(3), "a second writer waited for the first one's commit"
        thread.join()
        elapsed = time.perf_counter() - started
    assert elapsed < 3
    with database.read_session() as sess:
        report = audit.verify(sess)
    assert report.ok and report.checked == 2, report.problems


# --- a runtime role that cannot TRUNCATE, ALTER or DROP (PostgreSQL) ----------------------------


def test_runtime_role_records_and_verifies_but_cannot_truncate_alter_or_drop(postgres_url, tmp_path):
    if postgres_url is None:
        pytest.skip("PostgreSQL not available here: set PORTAL_TEST_POSTGRES_URL or run a local server")
    from portal.migrate import grant_runtime_statements
    from tests.conftest import _truncate_all

    role = f"portal_rt_{uuid.uuid4().hex[:8]}"
    owner = sa.create_engine(postgres_url)
    with owner.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    with owner.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        for statement in grant_runtime_statements(role, schema):
            conn.execute(sa.text(statement))
    url = sa.make_url(postgres_url).set(username=role, password=None).render_as_string(hide_password=False)
    app = create_app(settings_for_tests(url, tmp_path))
    database = app.extensions["portal.database"]
    try:
        _write(database, 3)
        with database.read_session() as sess:
            report = audit.verify(sess)
        assert report.ok and report.checked == 3, report.problems
        for statement in ("TRUNCATE audit_event", "TRUNCATE account", "ALTER TABLE audit_event DISABLE TRIGGER ALL",
                          "ALTER TABLE audit_chain_head DROP CONSTRAINT pk_audit_chain_head",
                          "DROP TABLE audit_event", "DROP TRIGGER audit_event_no_update ON audit_event"):
            with pytest.raises(sa.exc.DBAPIError, match="permission denied|must be owner|cannot be truncated"):
                with database.write_transaction() as sess:
                    sess.execute(sa.text(statement))
    finally:
        database.dispose()
        _truncate_all(postgres_url)
        with owner.begin() as conn:
            conn.execute(sa.text(f'DROP OWNED BY {role}'))
            conn.execute(sa.text(f'DROP ROLE {role}'))
        owner.dispose()


def test_the_huey_job_is_registered_and_writes_checkpoints(app, tmp_path, monkeypatch):
    from portal.tasks import jobs

    _write(app.extensions["portal.database"], 1)
    monkeypatch.setattr(audit, "_last_checkpoint", None)
    assert jobs.audit_checkpoint.call_local() == {"sealed": 0, "checkpoints": 1}
    assert jobs.audit_checkpoint.s().validate_datetime  # a periodic task (every minute)
    assert '"seq":1' in (tmp_path / "audit-checkpoints.jsonl").read_text(encoding="utf-8")
