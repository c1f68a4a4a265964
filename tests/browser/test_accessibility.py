"""Accessibility in real Chromium: axe-core on the public pages, the login flow and the signed-in
pages (in standard and large text), and the keyboard path through the site. Every role's home
page is checked by axe in its sign-in journey (test_login_roles.py), in both text sizes.

Every axe violation is printed for the record (run with ``-s`` to see them); only those of impact
"serious" or "critical" fail a test. Each test collects all its pages' findings before failing,
so one report shows everything.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    ROLE_HOMES,
    AuditPage,
    ErrorPage,
    PortalHomePage,
    ProfilePage,
    RoleHomePage,
    SandboxLoginPage,
    SearchPage,
    ServicePage,
    axe_violations,
)

pytestmark = pytest.mark.browser

TEXT_SIZES = ("standard", "large")
LARGE = re.compile(r"\btext-large\b")


@pytest.mark.parametrize("size", TEXT_SIZES)
def test_public_pages_and_the_login_flow_have_no_serious_axe_violations(page, live_stack, size):
    portal = live_stack.portal_url
    found: list[str] = []

    def check(where: str) -> None:
        if size == "large":
            expect(page.locator("html")).to_have_class(LARGE)
        found.extend(axe_violations(page, f"{where} [{size}]"))

    home = PortalHomePage(page, portal).open()
    if size == "large":
        home.switch_to_large_text()  # the way a visitor sets it: a cookie for the portal
    check("home")

    service = ServicePage(page, portal, "injury-recognition").open()
    expect(service.heading).to_have_text("工伤认定申请")
    check("service detail")

    search = SearchPage(page, portal).open_query("认定")
    expect(search.result_links.first).to_be_visible()
    check("search with results")

    search.open_query("没有这个事项")
    expect(search.results).to_contain_text("没有找到")
    check("search without results")

    search.open()
    search.search_box.press_sequentially("鉴定")  # the list as htmx swapped it in
    expect(search.results_heading).to_contain_text("“鉴定”")
    check("search after an htmx update")

    page.goto(portal + "/no-such-page")
    expect(ErrorPage(page, portal).status_code).to_have_text("404")
    check("error page 404")

    # The platform's pages have no large-text mode (the portal's cookie is not theirs): in large
    # mode they would be the very same pages again, so they are checked once.
    if size == "standard":
        login = PortalHomePage(page, portal).open().start_login()
        check("sandbox login page")

        login.sign_in("worker", "wrong-password")
        expect(login.error).to_contain_text("用户名或密码错误")
        check("sandbox login page after a wrong password")

        login.sign_in("", "")
        expect(page.locator("#username-error")).to_be_visible()
        check("sandbox login page with empty fields")

    assert found == [], "serious or critical axe violations:\n" + "\n".join(found)


@pytest.mark.parametrize("username", ["worker", "province"])
def test_signed_in_pages_have_no_serious_axe_violations(page, live_stack, sign_in_as, username):
    """The worker's profile (also with form errors) and the provincial audit log (also after an
    htmx filter). Every role's home page is checked in its sign-in journey, test_login_roles.py."""
    portal = live_stack.portal_url
    found: list[str] = []
    role_home = sign_in_as(page, username)
    for size in TEXT_SIZES:
        if size == "large":
            role_home.switch_to_large_text()
        if username == "worker":
            profile = ProfilePage(page, portal).open()
            expect(profile.value_of("身份证号码")).to_have_text("340104********1235")
            found += axe_violations(page, f"worker profile [{size}]")
            # the bank-account form after an empty submission: error summary and field errors
            page.get_by_role("button", name="保存账户").click()
            expect(page.locator("[data-error-summary]")).to_be_focused()
            found += axe_violations(page, f"worker profile with form errors [{size}]")
        else:
            audit = AuditPage(page, portal).open()
            expect(audit.rows.first).to_be_visible()
            found += axe_violations(page, f"audit log [{size}]")
            audit.filter_by_action("login")
            expect(audit.rows.first).to_contain_text("login")
            found += axe_violations(page, f"audit log filtered with htmx [{size}]")
        role_home.open()
    assert found == [], "serious or critical axe violations:\n" + "\n".join(found)


# --- keyboard ---------------------------------------------------------------------------------


def _tab_to(page, locator, limit: int = 25) -> None:
    """Press Tab until ``locator`` has focus (at most ``limit`` times)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{locator} was not reached with {limit} presses of Tab")


@pytest.mark.parametrize("where", ["portal home", "service detail", "sandbox login"])
def test_first_tab_reaches_the_skip_link_and_enter_moves_focus_into_main(page, live_stack, where):
    portal = live_stack.portal_url
    if where == "portal home":
        target = PortalHomePage(page, portal).open()
    elif where == "service detail":
        target = ServicePage(page, portal).open()
    else:
        target = PortalHomePage(page, portal).open().start_login()
        page.reload()  # a fresh page load of the platform's form

    page.keyboard.press("Tab")
    expect(target.skip_link).to_be_focused()
    expect(target.skip_link).to_be_visible()  # visible when focused, not only to screen readers
    page.keyboard.press("Enter")
    expect(target.main).to_be_focused()
    assert page.url.endswith("#main")
    page.keyboard.press("Tab")  # the next stop is inside main, not back in the header
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_the_whole_login_can_be_done_with_the_keyboard(page, live_stack):
    portal = live_stack.portal_url
    home = PortalHomePage(page, portal).open()

    _tab_to(page, home.nav_login_link)
    page.keyboard.press("Enter")

    login = SandboxLoginPage(page)
    expect(login.username).to_be_visible()
    _tab_to(page, login.username)
    page.keyboard.type("worker")
    page.keyboard.press("Tab")
    expect(login.password).to_be_focused()
    page.keyboard.type("demo")
    page.keyboard.press("Enter")

    role_home = RoleHomePage(page, portal, ROLE_HOMES["worker"]).expect_loaded()

    _tab_to(page, role_home.sign_out_button)
    page.keyboard.press("Enter")
    expect(page).to_have_url(portal + "/")
    PortalHomePage(page, portal).expect_signed_out()


def test_large_text_can_be_switched_with_the_keyboard(page, live_stack):
    home = PortalHomePage(page, live_stack.portal_url).open()
    _tab_to(page, home.large_text_button)
    page.keyboard.press("Enter")
    expect(home.html).to_have_class(LARGE)
    _tab_to(page, home.normal_text_button)
    page.keyboard.press("Enter")
    expect(home.html).not_to_have_class(LARGE)
