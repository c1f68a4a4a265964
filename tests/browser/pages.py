"""Page objects: one class per screen, holding its locators and what a person does there.

Tests speak in terms of these ("start_login", "sign_in", "sign_out") and assert with Playwright's
``expect()``, which waits; nothing here sleeps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

DEMO_PASSWORD = "demo"
#: axe-core impacts that fail a test; "minor" and "moderate" are printed for the record only
BLOCKING_IMPACTS = ("serious", "critical")


# --- the demo roles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleHome:
    """What a demo login should land on: its home page and how the page names the person."""

    username: str
    path: str
    heading: str
    display_name: str  #: the person (or, for employers, the organisation) in the header
    role_label: str
    role_term: str  #: the <dt> of the summary row that shows the role
    city: str | None = None  #: city staff: the one city they work for


ROLE_HOMES = {
    "worker": RoleHome("worker", "/home/worker", "我的首页", "张伟", "个人", "身份"),
    "employer": RoleHome("employer", "/home/employer", "单位首页", "安徽皖建建设工程有限公司", "用人单位", "身份"),
    "clerk": RoleHome("clerk", "/home/staff", "工作台", "陈静", "经办人员", "岗位", "合肥市"),
    "officer": RoleHome("officer", "/home/staff", "工作台", "刘洋", "工伤认定人员", "岗位", "合肥市"),
    "appraisal": RoleHome("appraisal", "/home/staff", "工作台", "赵敏", "劳动能力鉴定办公室", "岗位", "合肥市"),
    "finance": RoleHome("finance", "/home/staff", "工作台", "孙磊", "财务人员", "岗位", "合肥市"),
    "province": RoleHome("province", "/home/province", "工作台", "吴刚", "省级管理人员", "岗位"),
}


# --- portal screens ---------------------------------------------------------------------------


class PortalPage:
    """What every portal page has: skip link, header (user, sign-out, text size), nav, main."""

    path = "/"

    def __init__(self, page: Page, portal_url: str):
        self.page = page
        self.portal_url = portal_url.rstrip("/")

    def open(self, path: str | None = None):
        self.page.goto(self.portal_url + (path or self.path))
        return self

    # header and nav
    @property
    def html(self) -> Locator:
        return self.page.locator("html")

    @property
    def skip_link(self) -> Locator:
        return self.page.get_by_role("link", name="跳到主要内容")

    @property
    def main(self) -> Locator:
        return self.page.locator("main#main")

    @property
    def heading(self) -> Locator:
        return self.page.get_by_role("heading", level=1)

    @property
    def nav(self) -> Locator:
        return self.page.get_by_role("navigation", name="主导航")

    @property
    def nav_login_link(self) -> Locator:
        return self.nav.get_by_role("link", name="登录", exact=True)

    @property
    def current_user(self) -> Locator:
        return self.page.locator(".current-user")

    @property
    def sign_out_button(self) -> Locator:
        return self.page.get_by_role("button", name="退出登录")

    @property
    def large_text_button(self) -> Locator:
        return self.page.get_by_role("button", name="大字模式")

    @property
    def normal_text_button(self) -> Locator:
        return self.page.get_by_role("button", name="标准字号")

    def nav_link(self, name: str) -> Locator:
        return self.nav.get_by_role("link", name=name, exact=True)

    def switch_to_large_text(self):
        self.large_text_button.click()
        expect(self.html).to_have_class(re.compile(r"\btext-large\b"))
        return self

    def switch_to_normal_text(self):
        self.normal_text_button.click()
        expect(self.html).not_to_have_class(re.compile(r"\btext-large\b"))
        return self

    def sign_out(self) -> PortalHomePage:
        """退出登录: the portal ends its session, the platform ends its own and sends us back."""
        self.sign_out_button.click()
        self.page.wait_for_url(self.portal_url + "/")
        return PortalHomePage(self.page, self.portal_url)

    def expect_signed_out(self):
        expect(self.nav_login_link).to_be_visible()
        expect(self.sign_out_button).to_have_count(0)
        expect(self.current_user).to_have_count(0)
        return self


class PortalHomePage(PortalPage):
    path = "/"

    @property
    def start_login_button(self) -> Locator:
        return self.main.get_by_role("link", name="登录", exact=True)

    @property
    def search_box(self) -> Locator:
        return self.page.get_by_role("searchbox", name="查找办事事项")

    @property
    def results(self) -> Locator:
        return self.page.locator("#catalogue-results")

    @property
    def results_heading(self) -> Locator:
        return self.results.get_by_role("heading", level=2)

    @property
    def result_links(self) -> Locator:
        return self.results.locator(".service-list__name a")

    def start_login(self) -> SandboxLoginPage:
        """Click 登录 in the page (the nav has the same link); the platform's form opens."""
        self.start_login_button.click()
        login = SandboxLoginPage(self.page)
        expect(login.username).to_be_visible()
        return login


class SearchPage(PortalHomePage):
    path = "/services/search"

    def open_query(self, query: str):
        self.page.goto(f"{self.portal_url}{self.path}?q={query}")
        return self


class ServicePage(PortalPage):
    def __init__(self, page: Page, portal_url: str, code: str = "injury-recognition"):
        super().__init__(page, portal_url)
        self.path = f"/services/{code}"


class ErrorPage(PortalPage):
    @property
    def status_code(self) -> Locator:
        return self.page.locator(".status-code")

    @property
    def message(self) -> Locator:
        return self.main.locator(".lead")


class RoleHomePage(PortalPage):
    def __init__(self, page: Page, portal_url: str, expected: RoleHome):
        super().__init__(page, portal_url)
        self.expected = expected
        self.path = expected.path

    def summary_value(self, term: str) -> Locator:
        return self.main.locator(".summary-list__row").filter(
            has=self.page.locator("dt", has_text=re.compile(f"^{term}$"))).locator("dd")

    def expect_loaded(self):
        """On this role's own home page, with the person and the role named in the page."""
        role = self.expected
        expect(self.page).to_have_url(self.portal_url + role.path)
        expect(self.heading).to_have_text(role.heading)
        expect(self.page).to_have_title(re.compile(f"^{role.heading} - "))
        expect(self.current_user).to_contain_text(role.display_name)
        expect(self.current_user).to_contain_text(f"（{role.role_label}）")
        expect(self.summary_value(role.role_term)).to_contain_text(role.role_label)
        if role.city:
            expect(self.summary_value("所属地市")).to_have_text(role.city)
        expect(self.sign_out_button).to_be_visible()
        expect(self.nav_login_link).to_have_count(0)
        return self


class ProfilePage(PortalPage):
    path = "/my/profile"

    def value_of(self, term: str) -> Locator:
        return self.main.locator(".summary-list__row").filter(
            has=self.page.locator("dt", has_text=re.compile(f"^{term}$"))).locator("dd")


class AuditPage(PortalPage):
    path = "/audit/"

    @property
    def action_field(self) -> Locator:
        return self.page.get_by_label("操作类型", exact=True)

    @property
    def submit(self) -> Locator:
        return self.page.locator("#audit-filter").get_by_role("button", name="查询")

    @property
    def results(self) -> Locator:
        return self.page.locator("#audit-results")

    @property
    def rows(self) -> Locator:
        return self.results.locator("tbody tr")

    def filter_by_action(self, action: str):
        self.action_field.fill(action)
        with self.page.expect_response(
                lambda r: "/audit/" in r.url and r.request.headers.get("hx-request") == "true"):
            self.submit.click()
        return self


# --- the provincial platform's (sandbox) login screen -----------------------------------------


class SandboxLoginPage:
    def __init__(self, page: Page):
        self.page = page

    @property
    def skip_link(self) -> Locator:
        return self.page.get_by_role("link", name="跳到主要内容")

    @property
    def main(self) -> Locator:
        return self.page.locator("main#main")

    @property
    def heading(self) -> Locator:
        return self.page.get_by_role("heading", level=1)

    @property
    def username(self) -> Locator:
        return self.page.get_by_label("用户名", exact=True)

    @property
    def password(self) -> Locator:
        return self.page.get_by_label("密码", exact=True)

    @property
    def submit(self) -> Locator:
        return self.page.locator("main form").get_by_role("button", name="登录")

    @property
    def error(self) -> Locator:
        return self.page.get_by_role("alert")

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.username.fill(username)
        self.password.fill(password)
        self.submit.click()


def sign_in_as(page: Page, portal_url: str, username: str, password: str = DEMO_PASSWORD) -> PortalPage:
    """The whole unified-login round trip in the browser, from the portal's home page.

    Returns the role's home page object (already checked) for a demo role, or the plain page
    the portal answered with for any other login (e.g. the refusal page for ``stranger``).
    """
    portal_url = portal_url.rstrip("/")
    login = PortalHomePage(page, portal_url).open().start_login()
    login.sign_in(username, password)
    page.wait_for_url(re.compile("^" + re.escape(portal_url) + r"/(home|auth)/"))
    if username in ROLE_HOMES:
        return RoleHomePage(page, portal_url, ROLE_HOMES[username]).expect_loaded()
    return PortalPage(page, portal_url)


# --- work-injury recognition, applicant side (工伤认定申请) ------------------------------------


class RecognitionTaskListPage(PortalPage):
    """填写工伤认定申请: the task list of a draft."""

    def step(self, title: str) -> Locator:
        return self.main.get_by_role("link", name=title, exact=True)

    def status_of(self, key: str) -> Locator:
        return self.page.locator(f"#step-{key}-status")


class RecognitionMaterialsPage(PortalPage):
    """申请材料: one upload slot per kind of material."""

    def slots(self) -> Locator:
        return self.page.locator("section[id^='slot-']")

    def upload(self, kind: str, path) -> None:
        slot = self.page.locator(f"#slot-{kind}")
        slot.locator("input[type=file]").set_input_files(str(path))
        slot.get_by_role("button", name="上传").click()
        expect(self.page.locator(f"#slot-{kind}").get_by_text("已上传", exact=True)).to_be_visible()


class RecognitionCasePage(PortalPage):
    """工伤认定 <reference>: the case as the parties see it."""

    @property
    def stage(self) -> Locator:
        return self.page.locator("#case-clock dt:text-is('当前环节') + dd")

    @property
    def supplement(self) -> Locator:
        return self.page.locator("#supplement")

    @property
    def documents(self) -> Locator:
        return self.page.locator("#documents-title + ul")


# --- accessibility ----------------------------------------------------------------------------

_AXE = Axe()


def axe_violations(page: Page, where: str) -> list[str]:
    """Run axe-core in the page; print every violation, return the serious and critical ones."""
    results = _AXE.run(page)
    blocking = []
    for violation in results.response["violations"]:
        targets = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"]]
        line = (f"[axe] {where}: {violation['id']} ({violation['impact']}) "
                f"{violation['help']} -> {targets[:5]}")
        print(line)
        if violation["impact"] in BLOCKING_IMPACTS:
            blocking.append(line)
    if not results.response["violations"]:
        print(f"[axe] {where}: no violations")
    return blocking
