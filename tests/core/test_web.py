"""Cross-cutting web behaviour: headers, CSRF, rate limits, error pages, request logs."""

import json

import pytest

from portal.auth.access import public
from portal.errors import UserInputError


def test_security_headers_and_a_strict_csp(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "style-src 'self'" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert len(response.headers["X-Request-ID"]) >= 8


def test_a_sane_incoming_request_id_is_kept(client):
    assert client.get("/", headers={"X-Request-ID": "abcdef123456"}).headers["X-Request-ID"] == "abcdef123456"
    assert client.get("/", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"] != "<script>"


def test_signed_in_pages_are_not_cached(client, login_as):
    login_as(client, "worker")
    assert client.get("/home/worker").headers["Cache-Control"] == "no-store"


def test_state_changing_requests_need_the_csrf_token(client, login_as, csrf_token):
    login_as(client, "worker")
    refused = client.post("/logout")
    assert refused.status_code == 400
    assert "页面已过期" in refused.get_data(as_text=True)
    # htmx sends the token in a header instead of a form field
    accepted = client.post("/logout", headers={"X-CSRFToken": csrf_token(client)})
    assert accepted.status_code == 303


@pytest.fixture
def app_overrides():
    return {"ratelimit_enabled": True, "ratelimit_login": "2 per minute"}


def test_login_is_rate_limited_with_a_chinese_page(client):
    statuses = [client.get("/login").status_code for _ in range(3)]
    assert statuses[-1] == 429
    page = client.get("/login")
    assert page.status_code == 429 and "操作过于频繁" in page.get_data(as_text=True)


def test_error_pages_are_chinese(app, client, login_as):
    not_found = client.get("/no-such-page")
    assert not_found.status_code == 404 and "页面不存在" in not_found.get_data(as_text=True)
    login_as(client, "worker")
    forbidden = client.get("/audit/")
    assert forbidden.status_code == 403 and "无权访问" in forbidden.get_data(as_text=True)
    assert client.post("/home/").status_code == 405


def test_bugs_become_a_chinese_500_and_input_errors_a_422(app):
    def boom():
        raise RuntimeError("bug")

    def bad_input():
        raise UserInputError("出生日期不能晚于今天")

    app.add_url_rule("/boom", "boom", public(boom))
    app.add_url_rule("/bad-input", "bad_input", public(bad_input))
    client = app.test_client()
    crashed = client.get("/boom")
    assert crashed.status_code == 500 and "系统出错了" in crashed.get_data(as_text=True)
    assert "RuntimeError" not in crashed.get_data(as_text=True)
    rejected = client.get("/bad-input")
    assert rejected.status_code == 422 and "出生日期不能晚于今天" in rejected.get_data(as_text=True)
    as_json = client.get("/bad-input", headers={"Accept": "application/json"})
    assert as_json.json["error"]["code"] == "invalid_input"


def test_api_paths_answer_json_errors_with_a_code(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found" and response.json["error"]["request_id"]


def test_one_json_log_line_per_request_without_personal_data(database_url, tmp_path, capfd):
    from portal import create_app
    from tests.conftest import settings_for_tests

    app = create_app(settings_for_tests(database_url, tmp_path, log_format="json", log_level="INFO"))
    try:
        client = app.test_client()
        capfd.readouterr()
        client.get("/services/search?q=340104199003071235", headers={"X-Request-ID": "req-12345678"})
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        app.extensions["portal.database"].dispose()
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 1
    entry = requests[0]
    assert entry["request_id"] == "req-12345678" and entry["status"] == 200
    assert entry["route"] == "/services/search" and entry["endpoint"] == "public.search"
    assert "340104199003071235" not in json.dumps(lines)  # no query strings in logs
