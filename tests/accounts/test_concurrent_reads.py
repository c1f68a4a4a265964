"""8 people reading their personal data at once over real HTTP: every read is audited (a write),
nobody sees "database is locked" or a 500, and the audit chain stays intact. Both databases."""

import secrets
import threading

import requests
from stdnum.cn import ric

from portal.accounts import service as accounts
from portal.accounts.claims import Identity
from portal.accounts.models import AccountKind
from portal.audit import service as audit
from portal.auth.models import WebSession
from portal.auth.session_store import token_id
from portal.db import utcnow

READERS, EACH = 8, 8


def _worker_sessions(app) -> list[str]:
    tokens = []
    with app.extensions["portal.database"].write_transaction() as sess:
        for i in range(READERS):
            body = f"3401041990010{i + 1}{i:03d}"
            identity = Identity(subject=f"reader-{i}", kind=AccountKind.PERSON, name=f"读者{i}",
                                id_number=body + ric.calc_check_digit(body + "0"))
            snapshot = accounts.sign_in(sess, identity, "127.0.0.1", "test")
            token = secrets.token_urlsafe(32)
            sess.add(WebSession(id=token_id(token), account_id=snapshot["account_id"], role="worker",
                                data=snapshot, created_at=utcnow(), last_seen_at=utcnow()))
            tokens.append(token)
    return tokens


def test_concurrent_audited_reads(live_stack):
    tokens = _worker_sessions(live_stack.app)
    statuses: list[int] = []

    def reader(token):
        with requests.Session() as http:
            http.cookies.set("portal_session", token)
            for _ in range(EACH):
                statuses.append(http.get(f"{live_stack.portal_url}/my/profile", timeout=30).status_code)

    threads = [threading.Thread(target=reader, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * (READERS * EACH)
    with live_stack.app.extensions["portal.database"].read_session() as sess:
        report = audit.verify(sess)
        reads = audit.browse(sess, audit.AuditFilter(action="person.read_personal_data")).total
    assert report.ok, report.problems
    assert reads == READERS * EACH
