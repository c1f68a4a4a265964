"""Unified login end to end over real HTTP: portal <-> provincial platform sandbox (OIDC).

``requests`` plays the browser: it follows the redirects of the code flow, fills the sandbox's
login form, and carries both sites' cookies.
"""

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import sqlalchemy as sa
import structlog.testing

from portal import create_app
from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.auth.models import WebSession
from portal.auth.session_store import token_id
from portal.demo import load_staff_register
from tests.auth.flow import HIDDEN, ID_NUMBER, PHONE, leaks
from tests.auth.flow import sign_in as _sign_in
from tests.conftest import settings_for_tests


def _load_staff(stack):
    with stack.app.extensions["portal.database"].write_transaction() as sess:
        load_staff_register(sess)


def _actions(stack):
    with stack.app.extensions["portal.database"].read_session() as sess:
        return sess.execute(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()


def test_worker_signs_in_lands_where_they_wanted_and_signs_out(live_stack):
    http = requests.Session()
    landed = _sign_in(http, live_stack, "worker", "/my/profile")
    assert landed.status_code == 200 and landed.url == f"{live_stack.portal_url}/my/profile"
    assert "340104********1235" in landed.text and "340104199003071235" not in landed.text
    assert "139****0001" in landed.text  # the phone came with the platform's phone scope
    token = http.cookies.get("portal_session")
    with live_stack.app.extensions["portal.database"].read_session() as sess:
        rows = sess.execute(sa.select(WebSession)).scalars().all()
    live = [r for r in rows if r.revoked_at is None]
    assert [r.id for r in live] == [token_id(token)]
    assert live[0].role == "worker"
    # the pre-login session (which held the OAuth state) was revoked: the id rotated at login
    assert any(r.revoked_at is not None for r in rows)

    logout_token = HIDDEN.search(landed.text).group(1)
    out = http.post(f"{live_stack.portal_url}/logout", data={"csrf_token": logout_token}, timeout=10)
    assert out.url.rstrip("/") == live_stack.portal_url  # back on the portal's home, via the platform
    assert any(r.url.startswith(live_stack.sandbox_url + "/logout") for r in out.history)
    again = http.get(f"{live_stack.portal_url}/my/profile", timeout=10)
    assert again.url.startswith(live_stack.sandbox_url + "/authorize")  # signed out at both ends
    actions = _actions(live_stack)
    assert actions[:3] == ["login.success", "person.write_personal_data", "person.read_personal_data"]
    assert "logout" in actions
    with live_stack.app.extensions["portal.database"].read_session() as sess:
        assert audit.verify(sess).ok


def _session_row(stack, http) -> WebSession:
    with stack.app.extensions["portal.database"].read_session() as sess:
        return sess.get(WebSession, token_id(http.cookies.get("portal_session")))


def _logout(stack, http, page):
    """POST /logout from a signed-in page; the portal's answer, not followed."""
    return http.post(f"{stack.portal_url}/logout", data={"csrf_token": HIDDEN.search(page.text).group(1)},
                     allow_redirects=False, timeout=10)


def test_the_session_keeps_no_token_only_an_opaque_platform_session_id(live_stack):
    http = requests.Session()
    _sign_in(http, live_stack, "worker")
    data = _session_row(live_stack, http).data
    assert not {"id_token", "access_token", "refresh_token", "userinfo"} & set(data)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", data["platform_sid"])  # the id_token's sid claim
    stored = json.dumps(data)
    assert "eyJ" not in stored  # no JWT (base64url of '{"') of any kind
    assert leaks(stored, ID_NUMBER, PHONE) == []


def test_logout_url_names_the_portal_and_an_opaque_hint_and_ends_the_platform_session(live_stack):
    http = requests.Session()
    page = _sign_in(http, live_stack, "worker", "/my/profile")
    row = _session_row(live_stack, http)
    response = _logout(live_stack, http, page)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(live_stack.sandbox_url + "/logout?")
    query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    assert query == {"client_id": "wanggong-portal", "post_logout_redirect_uri": live_stack.portal_url + "/",
                     "logout_hint": row.data["platform_sid"]}
    assert leaks(location, ID_NUMBER, PHONE) == [] and "eyJ" not in location
    with live_stack.app.extensions["portal.database"].read_session() as sess:
        assert sess.get(WebSession, row.id).data == {}  # revoked, and keeps nothing
    back = http.get(location, timeout=10)  # straight back: the hint named the platform session
    assert back.url == live_stack.portal_url + "/"
    assert not any("确认退出" in r.text for r in [back, *back.history])
    again = http.get(f"{live_stack.portal_url}/my/profile", timeout=10)
    assert again.url.startswith(live_stack.sandbox_url + "/authorize")  # signed out at both ends
    assert "统一身份认证登录" in again.text


def test_without_a_platform_session_id_the_platform_asks_and_still_returns(live_stack):
    http = requests.Session()
    page = _sign_in(http, live_stack, "worker")
    row = _session_row(live_stack, http)
    data = {k: v for k, v in row.data.items() if k != "platform_sid"}  # a platform issuing no sid
    with live_stack.app.extensions["portal.database"].write_transaction() as sess:
        sess.execute(sa.update(WebSession).where(WebSession.id == row.id).values(data=data))
    location = _logout(live_stack, http, page).headers["Location"]
    assert set(parse_qs(urlparse(location).query)) == {"client_id", "post_logout_redirect_uri"}
    confirm = http.get(location, timeout=10)
    assert confirm.url.startswith(live_stack.sandbox_url + "/logout") and "确认退出" in confirm.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', confirm.text))
    back = http.post(live_stack.sandbox_url + "/logout", data=fields, timeout=10)
    assert back.url == live_stack.portal_url + "/"
    again = http.get(f"{live_stack.portal_url}/my/profile", timeout=10)
    assert "统一身份认证登录" in again.text  # the platform asks for the password again


@pytest.mark.parametrize("app_overrides", [{"log_level": "INFO"}])
def test_nothing_of_the_token_response_reaches_the_logs(live_stack):
    http = requests.Session()
    with structlog.testing.capture_logs() as logs:
        page = _sign_in(http, live_stack, "worker", "/my/profile")
        http.get(_logout(live_stack, http, page).headers["Location"], timeout=10)
    assert any(line.get("event") == "request" for line in logs)  # the log lines were captured
    text = repr(logs)
    assert "eyJ" not in text and leaks(text, ID_NUMBER, PHONE) == []


def test_each_kind_of_account_gets_its_role(live_stack):
    _load_staff(live_stack)
    for username, role, city in [("employer", "employer", None), ("clerk", "clerk", "340100"),
                                 ("clerk-wuhu", "clerk", "340200"), ("province", "provincial", None)]:
        http = requests.Session()
        _sign_in(http, live_stack, username)
        with live_stack.app.extensions["portal.database"].read_session() as sess:
            row = sess.get(WebSession, token_id(http.cookies.get("portal_session")))
        assert (row.role, row.data.get("city_code")) == (role, city), username


def test_staff_without_an_assignment_is_refused_and_audited(live_stack):
    _load_staff(live_stack)
    response = _sign_in(requests.Session(), live_stack, "stranger")
    assert response.status_code == 403
    assert "尚未获得本系统授权" in response.text
    assert _actions(live_stack) == ["login.failure"]


def test_a_forged_callback_is_refused_and_audited(live_stack):
    http = requests.Session()
    http.get(f"{live_stack.portal_url}/login", timeout=10)  # a real state exists in the session
    response = http.get(f"{live_stack.portal_url}/auth/callback",
                        params={"code": "forged", "state": "not-the-state"}, timeout=10)
    assert response.status_code == 400
    assert "登录未成功" in response.text
    assert _actions(live_stack) == ["login.failure"]


def test_platform_down_gives_a_chinese_page_not_a_500(database_url, tmp_path):
    # port 9 (discard) on loopback: nothing listens, the connection is refused at once
    app = create_app(settings_for_tests(database_url, tmp_path, oidc_issuer="http://127.0.0.1:9"))
    try:
        response = app.test_client().get("/login")
    finally:
        app.extensions["portal.database"].dispose()
    assert response.status_code == 503
    assert "统一身份认证平台暂时无法访问" in response.get_data(as_text=True)
