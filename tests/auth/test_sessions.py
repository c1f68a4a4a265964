"""Server-side sessions: idle expiry, revocation, no rows for anonymous visitors."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import WebSession
from portal.auth.sessions import purge_dead_sessions, revoke_account_sessions
from portal.db import utcnow


def _signed_in(client) -> bool:
    response = client.get("/home/")
    return not (response.status_code == 303 and response.headers["Location"].startswith("/login"))


def _sessions(app):
    with app.extensions["portal.database"].read_session() as sess:
        return sess.execute(sa.select(WebSession)).scalars().all()


def test_signed_in_until_idle_for_more_than_30_minutes(app, client, login_as):
    login_as(client, "worker")
    assert _signed_in(client)
    with app.extensions["portal.database"].write_transaction() as sess:
        sess.execute(sa.update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=29)))
    assert _signed_in(client)  # and this visit renews the idle timer
    renewed = _sessions(app)[0].last_seen_at
    assert utcnow() - renewed < timedelta(minutes=1)
    with app.extensions["portal.database"].write_transaction() as sess:
        sess.execute(sa.update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert not _signed_in(client)


def test_revoked_sessions_stop_working_at_once(app, client, login_as):
    snapshot = login_as(client, "clerk")
    assert _signed_in(client)
    with app.extensions["portal.database"].write_transaction() as sess:
        assert revoke_account_sessions(sess, snapshot["account_id"]) == 1
    assert not _signed_in(client)
    assert [row.data for row in _sessions(app)] == [{}]  # a revoked row keeps nothing


def test_a_session_stored_with_platform_tokens_loses_them_on_its_next_request(app, client, login_as):
    snapshot = login_as(client, "worker")
    legacy = {**snapshot, "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJucC0wMDAxIn0.c2ln",
              "access_token": "opaque-access", "refresh_token": "opaque-refresh",
              "userinfo": {"id_card_number": "340104199003071235"}}
    with app.extensions["portal.database"].write_transaction() as sess:
        sess.execute(sa.update(WebSession).values(data=legacy))
    assert _signed_in(client)
    (row,) = _sessions(app)
    assert row.data == snapshot and row.revoked_at is None  # still signed in, tokens gone


def test_cookie_holds_a_token_the_table_holds_only_its_hash(app, client, login_as):
    login_as(client, "worker")
    token = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    ids = [row.id for row in _sessions(app)]
    assert token not in ids and len(ids[0]) == 64


def test_anonymous_public_visits_create_no_session_rows(app, client):
    client.get("/")
    client.get("/healthz")
    assert _sessions(app) == []


def test_purge_removes_dead_sessions_only(app, client, login_as):
    login_as(client, "worker")
    login_as(app.test_client(), "clerk")
    with app.extensions["portal.database"].write_transaction() as sess:
        first = sess.execute(sa.select(WebSession).order_by(WebSession.created_at)).scalars().first()
        first.last_seen_at = utcnow() - timedelta(hours=1)
    with app.extensions["portal.database"].write_transaction() as sess:
        assert purge_dead_sessions(sess, 30) == 1
    assert len(_sessions(app)) == 1


def test_disabling_staff_ends_their_sessions_and_refuses_the_next_login(app, client, login_as):
    from portal.accounts import service as accounts
    from portal.demo import demo_identity

    login_as(client, "clerk")
    assert _signed_in(client)
    result = app.test_cli_runner().invoke(args=["staff", "disable", "st-0001"])
    assert result.exit_code == 0, result.output
    assert "注销 1 个会话" in result.output
    assert not _signed_in(client)
    with pytest.raises(accounts.SignInRefused, match="尚未获得本系统授权"):
        with app.extensions["portal.database"].write_transaction() as sess:
            accounts.sign_in(sess, demo_identity("clerk"), None, None)
    with app.extensions["portal.database"].read_session() as sess:
        actions = sess.execute(sa.text("SELECT action FROM audit_event ORDER BY seq")).scalars().all()
    assert "staff.deactivate" in actions


def test_revoke_command_ends_an_accounts_sessions(app, client, login_as):
    login_as(client, "worker")
    result = app.test_cli_runner().invoke(args=["sessions", "revoke", "np-0001"])
    assert result.exit_code == 0 and "已注销 1 个会话" in result.output
    assert not _signed_in(client)
    unknown = app.test_cli_runner().invoke(args=["sessions", "revoke", "nobody"])
    assert unknown.exit_code != 0 and "没有平台标识为 nobody 的账号" in unknown.output
