"""Each demo role signs in through the provincial platform's sandbox in real Chromium, lands on
its own home page (which axe-core checks on the way, see test_accessibility.py for the rest),
and signs out again; signed-in screens show what that role may see and nothing more."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    ROLE_HOMES,
    AuditPage,
    PortalHomePage,
    ProfilePage,
    RoleHomePage,
    axe_violations,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("username", list(ROLE_HOMES))
def test_each_role_signs_in_through_the_sandbox_lands_home_and_signs_out(page, live_stack, username):
    """The role's own home page, named and labelled; axe-core finds nothing serious on it in
    standard or large text (collected, asserted last so the sign-out is checked either way)."""
    home = PortalHomePage(page, live_stack.portal_url).open()
    home.expect_signed_out()

    login = home.start_login()
    expect(page).to_have_url(re.compile("^" + re.escape(live_stack.sandbox_url) + "/authorize\\?"))
    expect(login.heading).to_have_text("统一身份认证登录")
    login.sign_in(username)

    role_home = RoleHomePage(page, live_stack.portal_url, ROLE_HOMES[username]).expect_loaded()
    found = axe_violations(page, f"{username} home [standard]")
    role_home.switch_to_large_text()  # signed in, the switch posts the session's form token
    role_home.expect_loaded()
    found += axe_violations(page, f"{username} home [large]")
    role_home.switch_to_normal_text()

    back_home = role_home.sign_out()
    expect(page).to_have_url(live_stack.portal_url + "/")
    expect(back_home.heading).to_have_text("工伤保险网上服务")
    back_home.expect_signed_out()
    expect(back_home.start_login_button).to_be_visible()
    # signed out at the platform too: 登录 shows the password form instead of signing in silently
    back_home.start_login()

    assert found == [], "serious or critical axe violations:\n" + "\n".join(found)


def test_staff_without_an_assignment_is_refused_in_chinese(page, live_stack, sign_in_as):
    refused = sign_in_as(page, "stranger")
    expect(page).to_have_url(re.compile("^" + re.escape(live_stack.portal_url) + "/auth/callback"))
    expect(refused.main).to_contain_text("尚未获得本系统授权")
    expect(refused.heading).to_have_text("无权访问")
    refused.expect_signed_out()


def test_after_a_refused_login_the_next_login_lets_the_person_choose_an_account(
        page, live_stack, sign_in_as):
    refused = sign_in_as(page, "stranger")
    expect(refused.main).to_contain_text("尚未获得本系统授权")
    refused.nav_login_link.click()
    page.wait_for_url(re.compile(r"/auth/callback\?|/authorize\?"))
    assert page.url.startswith(live_stack.sandbox_url + "/authorize"), page.url


def test_a_wrong_password_stays_on_the_platform_with_a_chinese_message(page, live_stack):
    login = PortalHomePage(page, live_stack.portal_url).open().start_login()
    login.sign_in("worker", "not-the-password")
    expect(login.error).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile("^" + re.escape(live_stack.sandbox_url) + "/authorize\\?"))
    expect(login.username).to_have_value("worker")
    login.sign_in("worker")  # the form still works after the error
    RoleHomePage(page, live_stack.portal_url, ROLE_HOMES["worker"]).expect_loaded()


def test_worker_profile_shows_the_id_number_masked_and_never_in_full(page, live_stack, sign_in_as):
    home = sign_in_as(page, "worker")
    home.nav_link("个人信息").click()
    profile = ProfilePage(page, live_stack.portal_url)
    expect(page).to_have_url(live_stack.portal_url + "/my/profile")
    expect(profile.heading).to_have_text("个人信息")
    expect(profile.value_of("身份证号码")).to_have_text("340104********1235")
    expect(profile.value_of("姓名")).to_have_text("张伟")
    assert "340104199003071235" not in page.content()
    assert "13955100001" not in page.content()  # the phone number is masked as well


def test_provincial_staff_filters_the_audit_log_by_action_and_finds_their_own_login(
        page, live_stack, sign_in_as):
    home = sign_in_as(page, "province")
    home.nav_link("审计日志").click()
    audit = AuditPage(page, live_stack.portal_url)
    expect(audit.heading).to_have_text("审计日志")
    page.evaluate("window.__sameDocument = true")  # gone if the page were loaded anew

    audit.filter_by_action("login")

    expect(page).to_have_url(re.compile(r"/audit/\?(.*&)?action=login(&|$)"))  # hx-push-url
    assert page.evaluate("window.__sameDocument === true"), "the filter reloaded the whole page"
    expect(audit.results.get_by_role("heading", level=2)).to_contain_text("共 1 条")
    own_login = audit.rows.filter(has_text="吴刚").filter(has_text="登录成功")
    expect(own_login).to_have_count(1)
    expect(own_login).to_contain_text("login.success")
    expect(own_login).to_contain_text("省级管理人员")
    for row in audit.rows.all():
        expect(row.locator("td").nth(5)).to_contain_text("login")

    # and a filter that matches nothing says so, still without leaving the page
    audit.filter_by_action("no.such.action")
    expect(audit.results).to_contain_text("没有符合条件的记录")
    assert page.evaluate("window.__sameDocument === true")

