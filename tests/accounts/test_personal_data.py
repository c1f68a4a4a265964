"""Personal data is encrypted at rest, masked on screen, and every read and write is audited."""

from pathlib import Path

import requests
import sqlalchemy as sa

from portal.accounts import service as accounts
from portal.accounts.models import Person
from portal.audit.models import AuditEvent
from portal.auth.models import WebSession
from portal.demo import demo_identity
from tests.auth.flow import BANK, HIDDEN, ID_NUMBER, PHONE, personal_numbers, sign_in
from tests.query_budget import count_queries


def _raw_dump(engine) -> str:
    """Everything the database holds, as text, the way someone with a copy of it would see it:
    every column of every table (sessions, audit, outbox, jobs included), and on SQLite the file's
    bytes too (free pages keep what was deleted)."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        raw_conn = engine.raw_connection()
        try:
            raw_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            lines = "\n".join(raw_conn.iterdump())
        finally:
            raw_conn.close()
        raw = path.read_bytes().decode("utf-8", "replace")
        return lines + raw
    chunks = []
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            rows = conn.execute(sa.text(f'SELECT CAST(t.* AS text) FROM "{table}" t')).scalars()
            chunks.extend(rows)
    return "\n".join(chunks)


def test_raw_database_holds_no_plaintext_personal_numbers(app, client, login_as, csrf_token):
    login_as(client, "worker")
    response = client.post("/my/bank-account", data={"bank_name": "中国工商银行合肥分行",
                                                     "account_number": BANK,
                                                     "csrf_token": csrf_token(client)})
    assert response.status_code == 303
    database = app.extensions["portal.database"]
    with database.read_session() as sess:
        person = sess.execute(sa.select(Person)).scalar_one()
        assert (person.id_number, person.phone, person.bank_account) == (ID_NUMBER, PHONE, BANK)
    dump = _raw_dump(database.engine)
    assert "中国工商银行合肥分行" in dump  # the dump really contains the data
    _assert_no_personal_numbers(dump)


def _assert_no_personal_numbers(dump: str) -> None:
    """Not in clear, nor base64 or base64url at any alignment (a JWT's claims, a JSON blob)."""
    for secret in personal_numbers() | {BANK[-10:], ID_NUMBER[6:14]}:
        assert secret not in dump, secret


def test_a_real_unified_login_leaves_no_personal_numbers_in_any_column(live_stack):
    """Sign-in through the platform (the id_token's claims carry the ID number and phone), a bank
    account, sign-out: nothing in the database holds the numbers in any encoding."""
    http = requests.Session()
    page = sign_in(http, live_stack, "worker", "/my/profile")
    token = HIDDEN.search(page.text).group(1)
    saved = http.post(f"{live_stack.portal_url}/my/bank-account", allow_redirects=False, timeout=10,
                      data={"bank_name": "中国工商银行合肥分行", "account_number": BANK, "csrf_token": token})
    assert saved.status_code == 303
    database = live_stack.app.extensions["portal.database"]
    with database.read_session() as sess:
        (live,) = sess.execute(sa.select(WebSession).where(WebSession.revoked_at.is_(None))).scalars()
        assert "id_token" not in live.data
        sid = live.data["platform_sid"]
    dump = _raw_dump(database.engine)
    assert sid in dump and "中国工商银行合肥分行" in dump  # session rows and personal data were read
    _assert_no_personal_numbers(dump)
    http.post(f"{live_stack.portal_url}/logout", data={"csrf_token": token}, timeout=10)
    _assert_no_personal_numbers(_raw_dump(database.engine))


def test_profile_shows_masked_numbers_and_audits_the_read(app, client, login_as):
    snapshot = login_as(client, "worker")
    page = client.get("/my/profile")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "340104********1235" in html and "139****0001" in html
    assert ID_NUMBER not in html and PHONE not in html
    with app.extensions["portal.database"].read_session() as sess:
        reads = sess.execute(sa.select(AuditEvent).where(
            AuditEvent.action == "person.read_personal_data")).scalars().all()
    assert len(reads) == 1
    assert reads[0].actor_account_id == snapshot["account_id"]
    assert reads[0].object_id == str(snapshot["person_id"])
    assert reads[0].detail == {"fields": ["id_number", "phone"]}


def test_the_audited_read_keeps_its_write_transaction_to_the_audit_row(app, client, login_as):
    """The person is read and masked before the audit's write transaction begins; on SQLite that
    transaction holds the database's one writer lock, so it holds only the chain head's read, the
    INSERT and the head's UPDATE. The page stays within its query budget on both databases."""
    login_as(client, "worker")
    client.get("/my/profile")  # the first page after sign-in stores the session's CSRF secret
    engine = app.extensions["portal.database"].engine
    sqlite = engine.dialect.name == "sqlite"
    seen: list[str] = []

    def _before(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:60])

    sa.event.listen(engine, "before_cursor_execute", _before)
    try:
        with count_queries(app) as counted:
            assert client.get("/my/profile").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", _before)
    person_read = next(i for i, s in enumerate(seen) if s.startswith("SELECT person."))
    insert = next(i for i, s in enumerate(seen) if s.startswith("INSERT INTO audit_event"))
    assert person_read < insert
    if sqlite:
        begin = max(i for i, s in enumerate(seen[:insert]) if s.startswith("BEGIN"))
        assert seen[begin] == "BEGIN IMMEDIATE" and begin > person_read, seen
        following = seen[begin + 1:]
        until_next = next((i for i, s in enumerate(following) if s.startswith("BEGIN")), len(following))
        assert [s.split()[0] for s in following[:until_next]] == ["SELECT", "INSERT", "UPDATE"], seen
    # session, person, the audit row (and its sealing on PostgreSQL), the inbox badges
    assert counted.total <= (6 if sqlite else 9), counted.report()


def test_bad_bank_account_gets_a_field_message_and_the_read_is_still_audited(app, client, login_as, csrf_token):
    login_as(client, "worker")
    response = client.post("/my/bank-account", data={"bank_name": "建设银行", "account_number": "12AB",
                                                     "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert "银行账号应为12至30位数字" in response.get_data(as_text=True)
    with app.extensions["portal.database"].read_session() as sess:
        actions = sess.execute(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
        person = sess.execute(sa.select(Person)).scalar_one()
    assert person.bank_account is None
    assert actions[-1] == "person.read_personal_data"
    assert "person.write_personal_data" in actions  # the sign-in wrote ID and phone


def test_write_is_audited_with_field_names_only(app, client, login_as, csrf_token):
    login_as(client, "worker")
    client.post("/my/bank-account", data={"bank_name": "农业银行", "account_number": BANK,
                                        "csrf_token": csrf_token(client)})
    with app.extensions["portal.database"].read_session() as sess:
        event = sess.execute(sa.select(AuditEvent).where(AuditEvent.action == "person.write_personal_data")
                             .order_by(AuditEvent.seq.desc())).scalars().first()
    assert event.detail == {"fields": ["bank_account", "bank_name"]}


def test_lookup_by_id_number_uses_the_blind_index(app, db):
    with app.extensions["portal.database"].write_transaction() as sess:
        accounts.sign_in(sess, demo_identity("worker"), None, None)
    found = accounts.find_person_by_id_number(db, " 340104199003071235 ")
    assert found is not None and found.name == "张伟"
    assert accounts.find_person_by_id_number(db, "11010519491231002X") is None
