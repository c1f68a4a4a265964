"""The request path's shortcuts (issue 14, points 2 and 5): the public home page is rendered once
per process for anonymous visitors, with a fresh CSP nonce each time; the session cookie is looked
up in the request's own transaction; the session row is not rewritten on every request."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import WebSession
from portal.db import utcnow
from portal.web.hooks import LARGE_TEXT_COOKIE

NONCE = re.compile(r'nonce="([^"]+)"')


def _nonces(response) -> set[str]:
    return set(NONCE.findall(response.get_data(as_text=True)))


def test_anonymous_home_page_is_rendered_once_and_gets_a_fresh_nonce_each_time(app, client):
    first, second = client.get("/"), client.get("/")
    assert first.status_code == second.status_code == 200
    assert len(app.extensions["portal.page_cache"]) == 1
    (nonce_1,), (nonce_2,) = _nonces(first), _nonces(second)
    assert nonce_1 != nonce_2
    for response, nonce in ((first, nonce_1), (second, nonce_2)):
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
        assert "portal-nonce-" not in response.get_data(as_text=True)
    assert (first.get_data(as_text=True).replace(nonce_1, "N")
            == second.get_data(as_text=True).replace(nonce_2, "N"))
    assert "Set-Cookie" not in first.headers  # anonymous visitors still create no session


@pytest.mark.parametrize("app_overrides", [{"ratelimit_enabled": True, "ratelimit_storage_url": "memory://"}])
def test_an_anonymous_home_page_runs_no_sql_and_skips_the_limiter(app, client):
    """No cookie: no session look-up, no transaction, no query; the limiter's hooks have nothing
    to do on a view without a limit (``portal.web.limits``), and a page kept from before is served
    with the security headers and a fresh request id all the same."""
    from flask import request

    from tests.query_budget import count_queries

    assert client.get("/").status_code == 200  # rendered and kept
    begun = _transactions(app)
    with client, count_queries(app) as counted:  # ``with client``: the request stays inspectable
        response = client.get("/", headers={"X-Request-ID": "bench-0001"})
        assert request.environ.get("_portal_limiter_skipped") is True
    assert response.status_code == 200 and counted.total == 0 and begun == []
    assert response.headers["X-Request-ID"] == "bench-0001"
    assert response.headers["X-Frame-Options"] == "DENY" and "Cache-Control" not in response.headers
    assert "Set-Cookie" not in response.headers
    with client:
        assert client.get("/login").headers.get("X-RateLimit-Limit")  # a limited view is checked
        assert request.environ.get("_portal_limiter_skipped") is None


def test_large_text_and_signed_in_visitors_get_their_own_page(app, client, login_as):
    normal = client.get("/").get_data(as_text=True)
    client.set_cookie(LARGE_TEXT_COOKIE, "large")
    large = client.get("/").get_data(as_text=True)
    assert 'class="text-large"' in large and 'class="text-large"' not in normal
    login_as(client, "worker")
    signed_in = client.get("/").get_data(as_text=True)
    assert "进入我的首页" in signed_in and "进入我的首页" not in large
    assert "退出登录" in signed_in
    assert len(app.extensions["portal.page_cache"]) == 2  # the signed-in page is not kept
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    client.delete_cookie(LARGE_TEXT_COOKIE)
    again = client.get("/").get_data(as_text=True)
    assert "进入我的首页" not in again and "退出登录" not in again


def _transactions(app):
    begun: list[int] = []
    sa.event.listen(app.extensions["portal.database"].engine, "begin", lambda conn: begun.append(1))
    return begun


def test_a_signed_in_read_is_one_transaction(app, client, login_as):
    """PostgreSQL: the session look-up is the first read of the request's one transaction.
    SQLite: a GET's look-up ends its read transaction at once (a reader must not turn writer:
    ``will_write``), the page's reads are the second. No activity stamp within a minute."""
    login_as(client, "worker")
    assert client.get("/home/worker").status_code == 200
    begun = _transactions(app)
    assert client.get("/home/worker").status_code == 200
    expected = 2 if app.extensions["portal.database"].backend == "sqlite" else 1
    assert len(begun) == expected


def test_a_get_that_writes_waits_for_another_writer_instead_of_failing(app, client, login_as, tx):
    """Opening an inbox message writes on a GET (``will_write``). The session look-up must not
    leave the request's transaction begun as a reader: on SQLite it would have to upgrade while
    another writer holds the lock, and fail at once ("database is locked") instead of waiting."""
    import threading
    import time

    from portal.inbox import service as inbox

    snapshot = login_as(client, "worker")
    person_id = tx(lambda sess: _person_of(sess, snapshot["account_id"]))
    message_id = tx(lambda sess: inbox.deliver(sess, person_id=person_id, kind="notice", subject="通知",
                                               body="正文").id)
    holding = threading.Event()

    def hold_the_writer_lock(sess):
        sess.execute(sa.update(WebSession).values(user_agent="held"))
        holding.set()
        time.sleep(0.5)

    holder = threading.Thread(target=tx, args=(hold_the_writer_lock,))
    holder.start()
    try:
        assert holding.wait(10)
        response = client.get(f"/inbox/{message_id}")
    finally:
        holder.join()
    assert response.status_code == 200


def _person_of(sess, account_id: int) -> int:
    from portal.accounts.models import Account

    return sess.get(Account, account_id).person_id


def test_the_session_row_is_stamped_at_most_once_a_minute(app, client, login_as, tx):
    login_as(client, "worker")
    stamps = []

    def last_seen(sess):
        return sess.execute(sa.select(WebSession.last_seen_at)).scalar_one()

    for _ in range(3):
        assert client.get("/home/worker").status_code == 200
        stamps.append(tx(last_seen))
    assert stamps[0] == stamps[1] == stamps[2]
    tx(lambda sess: sess.execute(sa.update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=2))))
    assert client.get("/home/worker").status_code == 200
    assert tx(last_seen) > utcnow() - timedelta(seconds=30)


def test_a_revoked_session_is_refused_on_the_next_request(app, client, login_as, tx):
    """Looking the session up inside the request's transaction still sees a revocation
    committed before the request began."""
    login_as(client, "worker")
    assert client.get("/my/profile").status_code == 200
    tx(lambda sess: sess.execute(sa.update(WebSession).values(revoked_at=utcnow(), data={})))
    response = client.get("/my/profile")
    assert response.status_code == 303 and "/login" in response.headers["Location"]
