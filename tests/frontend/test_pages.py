"""Public pages, role home pages, the profile page and the audit browser, as HTML.

Every full page is checked for the things a screen reader and the CSP rely on: lang, one <h1>,
a <title> starting with it, unique ids, landmarks, nonce on every script, no inline styles.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from portal.public.service import catalogue
from portal.web.filters import local_time, role_label
from portal.web.hooks import LARGE_TEXT_COOKIE
from tests.helpers import PageParser, parse

HX_RESULTS = {"HX-Request": "true", "HX-Target": "catalogue-results"}


def check_page(response) -> PageParser:
    """Assert the page-wide rules and return the parsed page."""
    html = response.get_data(as_text=True)
    assert html.lstrip().lower().startswith("<!doctype html>")
    page = parse(html)
    assert page.find("html")[0].get("lang") == "zh-CN"
    assert len(page.h1) == 1, page.h1
    h1 = " ".join(page.h1[0].split())
    assert page.title.strip().startswith(h1), (page.title, h1)
    assert page.title.strip().endswith("安徽省工伤保险公共服务门户")
    ids = [attrs["id"] for _, attrs in page.tags if "id" in attrs]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for landmark in ("header", "nav", "main", "footer"):
        assert page.find(landmark), landmark
    assert page.find("main")[0].get("id") == "main"
    assert any(a.get("href") == "#main" for a in page.find("a"))  # skip link
    assert not page.find("style")
    assert not any("style" in attrs for _, attrs in page.tags)
    assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = page.find("script")
    assert scripts and all(s.get("nonce") == nonce and s.get("src") for s in scripts)
    assert any(s["src"].endswith("/vendor/htmx-2.0.11/htmx.min.js") for s in scripts)
    for field in page.find("input") + page.find("select"):
        if field.get("type") not in ("hidden", "submit") and field.get("id"):
            assert any(label.get("for") == field["id"] for label in page.find("label")), field
    return page


def _html(response) -> str:
    return response.get_data(as_text=True)


def _nav_links(page: PageParser) -> dict[str, dict]:
    return {a["href"]: a for a in page.find("a") if "site-nav__link" in a.get("class", "")}


# --- public home and catalogue ------------------------------------------------------------------


def test_home_explains_the_portal_and_lists_the_catalogue(client):
    response = client.get("/")
    assert response.status_code == 200
    page = check_page(response)
    html = _html(response)
    assert "2024年1月1日" in html and "省级统筹" in html and "统收统支" in html
    assert any(a.get("href") == "/login" and "button" in a.get("class", "") for a in page.find("a"))
    for item in catalogue().items:
        assert f'href="/services/{item.code}"' in html
    assert 'id="catalogue-results"' in html
    search = next(i for i in page.find("input") if i.get("name") == "q")
    assert search["hx-get"] == "/services/search"
    assert search["hx-trigger"] == "input changed delay:300ms, search"
    assert search["hx-target"] == "#catalogue-results"
    form = next(f for f in page.find("form") if f.get("action") == "/services/search")
    assert form.get("method") == "get"  # works without JavaScript


def test_anonymous_navigation_offers_the_guide_and_login(client):
    page = check_page(client.get("/"))
    links = _nav_links(page)
    assert set(links) == {"/services/search", "/login"}
    html_forms = [f.get("action") for f in page.find("form")]
    assert "/logout" not in html_forms
    assert "/preferences/text-size" in html_forms
    # no server session for anonymous visitors, hence no CSRF token on the page
    assert not any(i.get("name") == "csrf_token" for i in page.find("input"))
    assert "hx-headers" not in page.find("body")[0]


def test_htmx_config_keeps_the_csp_strict(client):
    page = check_page(client.get("/"))
    meta = next(m for m in page.find("meta") if m.get("name") == "htmx-config")
    assert '"includeIndicatorStyles": false' in meta["content"]
    assert '"allowEval": false' in meta["content"]
    assert '{"code":"422","swap":true}' in meta["content"]


@pytest.mark.parametrize("code", [item.code for item in catalogue().items])
def test_every_service_item_has_a_detail_page(client, login_as, code):
    """Staff see the 待核实 badge on each unconfirmed section (the public reads one plain sentence
    instead: tests/frontend/test_plain_language.py) and the catalogue's text as written."""
    item = catalogue().get(code)
    login_as(client, "provincial")
    response = client.get(f"/services/{code}")
    assert response.status_code == 200
    page = check_page(response)
    html = _html(response)
    assert page.h1[0].strip() == item.name
    for heading in ("申请人", "申请材料", "办理时限", "办理结果", "法律依据"):
        assert f">{heading}" in html
    for material in item.materials:
        assert material in html
    for citation in item.legal_basis:
        assert citation in html
    for section in item.unconfirmed:
        heading = re.search(rf'<h2 id="section-{section.replace("_", "-")}">(.*?)</h2>', html, re.S)
        assert heading and "待核实" in heading.group(1), section
    if item.confidence == "C":
        assert "badge--unconfirmed" not in html


def test_detail_marks_the_guide_as_the_current_section(client):
    page = check_page(client.get("/services/injury-recognition"))
    assert _nav_links(page)["/services/search"].get("aria-current") == "true"


def test_unknown_service_is_a_chinese_404(client):
    response = client.get("/services/no-such-item")
    assert response.status_code == 404
    page = check_page(response)
    assert page.h1[0].strip() == "页面不存在"
    assert "404" in _html(response)
    assert any(a.get("href") == "/" for a in page.find("a") if "button" in a.get("class", ""))


def test_search_without_javascript_returns_the_full_page(client):
    response = client.get("/services/search", query_string={"q": "花名册"})
    assert response.status_code == 200
    page = check_page(response)
    html = _html(response)
    assert "参保人员增减（实名制花名册）" in html
    assert "单位参保登记" not in html.split('id="catalogue-results"')[1].split("</section>")[0]
    assert _nav_links(page)["/services/search"].get("aria-current") == "page"
    assert "HX-Request" in response.headers.get("Vary", "")


def test_search_for_htmx_returns_only_the_result_list(client):
    response = client.get("/services/search", query_string={"q": "鉴定"}, headers=HX_RESULTS)
    assert response.status_code == 200
    html = _html(response).strip()
    assert html.startswith('<section id="catalogue-results"')
    assert "<html" not in html and "<h1" not in html
    assert "劳动能力鉴定" in html


def test_history_restore_gets_the_full_page(client):
    response = client.get("/services/search", query_string={"q": "鉴定"},
                          headers={**HX_RESULTS, "HX-History-Restore-Request": "true"})
    check_page(response)


def test_search_with_no_match_says_so(client):
    response = client.get("/services/search", query_string={"q": "量子计算机"}, headers=HX_RESULTS)
    html = _html(response)
    assert "没有找到与“量子计算机”相关的办事事项" in html
    assert 'href="/services/search"' in html  # a way back to the full list


def test_search_escapes_the_query(client):
    response = client.get("/services/search", query_string={"q": "<script>x</script>"})
    assert "<script>x</script>" not in _html(response)
    check_page(response)


@pytest.mark.parametrize("app_overrides", [{"ratelimit_enabled": True, "ratelimit_public_lookup": "2 per minute"}])
def test_search_is_rate_limited(client):
    statuses = [client.get("/services/search", query_string={"q": "认定"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert "操作过于频繁" in _html(client.get("/services/search"))


# --- large-text mode ----------------------------------------------------------------------------


def _cookie_header(response) -> str:
    return next(v for k, v in response.headers.items() if k == "Set-Cookie" and LARGE_TEXT_COOKIE in v)


def test_large_text_mode_is_switched_on_and_off(client):
    response = client.post("/preferences/text-size", data={"size": "large", "next": "/services/search?q=unit"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/services/search?q=unit"
    cookie = _cookie_header(response)
    assert f"{LARGE_TEXT_COOKIE}=large" in cookie
    for attribute in ("Max-Age=31536000", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    page = check_page(client.get("/"))
    assert page.find("html")[0]["class"] == "text-large"
    assert any(b.get("value") == "normal" for b in page.find("button"))

    response = client.post("/preferences/text-size", data={"size": "normal"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Max-Age=0" in _cookie_header(response) or "Expires=Thu, 01 Jan 1970" in _cookie_header(response)
    page = check_page(client.get("/"))
    assert page.find("html")[0].get("class", "") == ""
    assert any(b.get("value") == "large" for b in page.find("button"))


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "/\t/evil.example", "relative/path", ""])
def test_text_size_redirects_only_to_same_site_paths(client, target):
    response = client.post("/preferences/text-size", data={"size": "large", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_invalid_text_size_is_a_422_in_chinese(client):
    response = client.post("/preferences/text-size", data={"size": "huge"})
    assert response.status_code == 422
    check_page(response)
    assert "字号设置无效" in _html(response)
    assert LARGE_TEXT_COOKIE not in response.headers.get("Set-Cookie", "")


def test_text_size_refuses_cross_site_posts(client):
    response = client.post("/preferences/text-size", data={"size": "large"},
                           headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    assert LARGE_TEXT_COOKIE not in response.headers.get("Set-Cookie", "")


def test_signed_in_text_size_needs_the_form_token(client, login_as, csrf_token):
    login_as(client, "worker")
    assert client.post("/preferences/text-size", data={"size": "large"}).status_code == 400
    response = client.post("/preferences/text-size", data={"size": "large", "csrf_token": csrf_token(client)})
    assert response.status_code == 303


def test_anonymous_public_visits_write_no_session(app, client):
    from portal.auth.models import WebSession

    client.get("/")
    client.get("/services/search", query_string={"q": "认定"})
    client.get("/services/injury-recognition")
    client.post("/preferences/text-size", data={"size": "large"})
    with app.extensions["portal.database"].read_session() as sess:
        assert sess.execute(sa.select(sa.func.count()).select_from(WebSession)).scalar_one() == 0


# --- role home pages ----------------------------------------------------------------------------


ROLE_HOMES = [
    ("worker", "/home/worker", "我的首页", ["张伟", "个人"]),
    ("employer", "/home/employer", "单位首页", ["安徽皖建建设工程有限公司", "用人单位"]),
    ("clerk", "/home/staff", "工作台", ["陈静", "经办人员", "合肥市社会保险经办机构", "合肥市"]),
    ("recognition_officer", "/home/staff", "工作台", ["刘洋", "工伤认定人员", "合肥市"]),
    ("appraisal_office", "/home/staff", "工作台", ["赵敏", "劳动能力鉴定办公室", "合肥市"]),
    ("finance", "/home/staff", "工作台", ["孙磊", "财务人员", "合肥市"]),
    ("provincial", "/home/province", "工作台", ["吴刚", "省级管理人员", "安徽省社会保险经办机构"]),
]


@pytest.mark.parametrize("role, path, heading, facts", ROLE_HOMES)
def test_each_role_lands_on_its_own_home(client, login_as, role, path, heading, facts):
    login_as(client, role)
    response = client.get("/home/")
    assert response.status_code == 303 and response.headers["Location"] == path
    response = client.get(path)
    assert response.status_code == 200
    page = check_page(response)
    assert page.h1[0].strip() == heading
    html = _html(response)
    for fact in facts:
        assert fact in html, fact
    assert "即将开放的服务" in html
    # signed in: the logout form with its token, and the token for htmx
    logout = next(f for f in page.find("form") if f.get("action") == "/logout")
    assert logout.get("method") == "post"
    assert any(i.get("name") == "csrf_token" and i.get("value") for i in page.find("input"))
    assert "X-CSRFToken" in page.find("body")[0].get("hx-headers", "")
    assert _nav_links(page)[path].get("aria-current") == "page"


def test_worker_home_links_the_profile_and_lists_later_services_as_text(client, login_as):
    login_as(client, "worker")
    page = check_page(client.get("/home/worker"))
    hrefs = [a.get("href") for a in page.find("a")]
    assert "/my/profile" in hrefs
    assert set(_nav_links(page)) == {"/home/worker", "/inbox/", "/my/profile", "/services/search"}
    html = _html(client.get("/home/worker"))
    upcoming = html.split('id="upcoming-title"')[1].split("</section>")[0]
    assert "劳动能力鉴定申请" in upcoming and "待遇发放记录查询" in upcoming
    assert "工伤认定申请与进度查询" not in upcoming  # live since issue 5
    assert upcoming.count("<a ") == 1  # only the link to 办事指南


def test_provincial_home_links_the_audit_log(client, login_as):
    login_as(client, "provincial")
    page = check_page(client.get("/home/province"))
    assert "/audit/" in [a.get("href") for a in page.find("a")]
    assert set(_nav_links(page)) == {"/home/province", "/enrollment/province", "/staff/name-mismatches",
                                     "/audit/", "/ops/self-check", "/services/search"}


@pytest.mark.parametrize("role, forbidden", [
    ("worker", "/home/employer"), ("worker", "/home/staff"), ("employer", "/home/worker"),
    ("clerk", "/home/province"), ("provincial", "/home/staff"), ("finance", "/home/worker"),
])
def test_a_role_cannot_open_another_roles_home(client, login_as, role, forbidden):
    login_as(client, role)
    response = client.get(forbidden)
    assert response.status_code == 403
    assert "无权访问" in _html(response)


@pytest.mark.parametrize("path", ["/home/", "/home/worker", "/home/employer", "/home/staff", "/home/province"])
def test_role_homes_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


def test_every_frontend_view_declares_an_access_policy(app):
    from portal.auth.access import PUBLIC, policy_of

    mine = {"public.home", "public.search", "public.service", "public.set_text_size",
            "home.index", "home.worker", "home.employer", "home.staff", "home.province"}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert mine <= endpoints
    for endpoint in mine:
        assert policy_of(app.view_functions[endpoint]) is not None, endpoint
    for endpoint in mine:
        policy = policy_of(app.view_functions[endpoint])
        assert (policy is PUBLIC) == endpoint.startswith("public."), endpoint


# --- 个人信息 ------------------------------------------------------------------------------------


def test_profile_shows_masked_numbers_and_the_account_form(client, login_as):
    login_as(client, "worker")
    response = client.get("/my/profile")
    page = check_page(response)
    html = _html(response)
    assert "340104********1235" in html and "139****0001" in html
    assert "尚未设置" in html
    assert "加密保存" in html and "审计日志" in html
    form = next(f for f in page.find("form") if f.get("action") == "/my/bank-account")
    assert form.get("method") == "post"
    assert any(i.get("name") == "account_number" for i in page.find("input"))
    assert _nav_links(page)["/my/profile"].get("aria-current") == "page"


@pytest.mark.parametrize("data, field, message", [
    ({"bank_name": "", "account_number": "6222021234567890123"}, "bank_name", "请填写开户银行"),
    ({"bank_name": "建设银行", "account_number": "12AB"}, "account_number", "银行账号应为12至30位数字"),
])
def test_profile_errors_sit_next_to_the_field(client, login_as, csrf_token, data, field, message):
    login_as(client, "worker")
    response = client.post("/my/bank-account", data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    page = check_page(response)
    html = _html(response)
    element = next(i for i in page.find("input") if i.get("name") == field)
    assert element.get("aria-invalid") == "true"
    assert f"{field}-error" in element.get("aria-describedby", "").split()
    assert f"{field}-hint" in element.get("aria-describedby", "").split()
    error = html.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert message in error
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    assert "错误提示" in summary and f'href="#{field}"' in summary and message in summary
    assert "340104********1235" in html  # the masked data is still shown


def test_saved_account_is_shown_masked(client, login_as, csrf_token):
    login_as(client, "worker")
    response = client.post("/my/bank-account", data={"bank_name": "中国农业银行", "account_number": "6222021234567890123",
                                                     "csrf_token": csrf_token(client)})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    html = _html(page)
    assert "待遇发放账户已保存" in html and 'role="status"' in html
    assert "6222021234567890123" not in html and "中国农业银行" in html


# --- 审计日志 ------------------------------------------------------------------------------------


def _record_events(app, count: int, **kwargs):
    from portal.audit import service
    from portal.auth.roles import Actor, Role

    actor = Actor(role=Role.CLERK, account_id=900, display_name="测试经办", city_code="340200",
                  client_addr="10.1.2.3", request_id="test")
    with app.extensions["portal.database"].write_transaction() as sess:
        for n in range(count):
            service.record(sess, actor, kwargs.get("action", "person.read_personal_data"),
                           object_type="person", object_id=n)


def test_audit_browser_shows_the_trail_in_beijing_time(app, client, login_as):
    _record_events(app, 1)
    login_as(client, "provincial")
    response = client.get("/audit/")
    assert response.status_code == 200
    page = check_page(response)
    html = _html(response)
    from portal.audit.models import AuditEvent
    with app.extensions["portal.database"].read_session() as sess:
        event = sess.execute(sa.select(AuditEvent).where(AuditEvent.actor_account_id == 900)).scalar_one()
    assert local_time(event.at) in html
    assert event.hash[:12] in html and event.hash not in html
    for text in ("测试经办", "经办人员", "芜湖市", "10.1.2.3", "查看个人信息", "person.read_personal_data"):
        assert text in html, text
    form = next(f for f in page.find("form") if f.get("id") == "audit-filter")
    assert form["method"] == "get" and form["action"] == "/audit/"
    assert form["hx-get"] == "/audit/" and form["hx-target"] == "#audit-results"
    assert form["hx-push-url"] == "true"
    assert _nav_links(page)["/audit/"].get("aria-current") == "page"


def test_audit_results_partial_for_htmx(app, client, login_as):
    _record_events(app, 1)
    login_as(client, "provincial")
    response = client.get("/audit/", query_string={"city_code": "340200"},
                          headers={"HX-Request": "true", "HX-Target": "audit-results"})
    html = _html(response).strip()
    assert html.startswith('<section id="audit-results"')
    assert "<html" not in html and "测试经办" in html


def test_audit_pagination_keeps_the_filters(app, client, login_as):
    _record_events(app, 60)
    login_as(client, "provincial")
    response = client.get("/audit/", query_string={"city_code": "340200", "action": "person.read"})
    html = _html(response)
    check_page(response)
    links = re.findall(r'href="(/audit/\?[^"]*page=2[^"]*)"', html)
    assert links
    for link in links:
        assert "city_code=340200" in link and "action=person.read" in link
    second = client.get(links[0].replace("&amp;", "&"))
    assert second.status_code == 200 and 'aria-current="page"' in _html(second)


def test_invalid_audit_filters_get_an_error_summary(client, login_as):
    login_as(client, "provincial")
    response = client.get("/audit/", query_string={"date_from": "2026-12-01", "date_to": "2026-01-01"})
    assert response.status_code == 422
    check_page(response)
    html = _html(response)
    assert "错误提示" in html and 'href="#date_to"' in html and "截止日期不能早于起始日期" in html
    htmx = client.get("/audit/", query_string={"date_from": "2026-12-01", "date_to": "2026-01-01"},
                      headers={"HX-Request": "true", "HX-Target": "audit-results"})
    assert htmx.status_code == 422
    results = _html(htmx).split('<section id="audit-results"')[1]
    assert "截止日期不能早于起始日期" in results  # what hx-select swaps in


def test_audit_browser_is_for_provincial_staff_only(client, login_as):
    login_as(client, "clerk")
    assert client.get("/audit/").status_code == 403


# --- filters -------------------------------------------------------------------------------------


def test_local_time_is_beijing_time():
    assert local_time(datetime(2024, 1, 1, 16, 0, tzinfo=timezone.utc)) == "2024-01-02 00:00:00"
    assert local_time(datetime(2024, 1, 1, 16, 0)) == "2024-01-02 00:00:00"  # naive = UTC
    assert local_time(None) == "—"


def test_role_label_filter():
    assert role_label("provincial") == "省级管理人员"
    assert role_label(None) == "未登录"
    assert role_label("robot") == "robot"
