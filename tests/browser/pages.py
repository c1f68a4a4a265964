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


class ByRole:
    """A locator found by ARIA role, inside ``within`` (another locator attribute) or the page."""

    def __init__(self, role: str, within: str | None = None, **options) -> None:
        self.role, self.within, self.options = role, within, options

    def __get__(self, screen, owner=None) -> Locator:
        base = getattr(screen, self.within) if self.within else screen.page
        return base.get_by_role(self.role, **self.options)


class ByCss:
    """A locator found by CSS selector, inside ``within`` or the page."""

    def __init__(self, selector: str, within: str | None = None) -> None:
        self.selector, self.within = selector, within

    def __get__(self, screen, owner=None) -> Locator:
        return (getattr(screen, self.within) if self.within else screen.page).locator(self.selector)


class ByLabel:
    """A form field found by its exact label."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __get__(self, screen, owner=None) -> Locator:
        return screen.page.get_by_label(self.label, exact=True)


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
    html = ByCss("html")
    skip_link = ByRole("link", name="跳到主要内容")
    main = ByCss("main#main")
    heading = ByRole("heading", level=1)
    nav = ByRole("navigation", name="主导航")
    nav_login_link = ByRole("link", name="登录", exact=True, within="nav")
    current_user = ByCss(".current-user")
    sign_out_button = ByRole("button", name="退出登录")
    large_text_button = ByRole("button", name="大字模式")
    normal_text_button = ByRole("button", name="标准字号")

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

    start_login_button = ByRole("link", name="登录", exact=True, within="main")
    search_box = ByRole("searchbox", name="查找办事事项")
    results = ByCss("#catalogue-results")
    results_heading = ByRole("heading", level=2, within="results")
    result_links = ByCss(".service-list__name a", within="results")

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
    status_code = ByCss(".status-code")
    message = ByCss(".lead", within="main")


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

    action_field = ByLabel("操作类型")

    @property
    def submit(self) -> Locator:
        return self.page.locator("#audit-filter").get_by_role("button", name="查询")

    results = ByCss("#audit-results")
    rows = ByCss("tbody tr", within="results")

    def filter_by_action(self, action: str):
        self.action_field.fill(action)
        with self.page.expect_response(
                lambda r: "/audit/" in r.url and r.request.headers.get("hx-request") == "true"):
            self.submit.click()
        return self


# --- the provincial platform's (sandbox) login screen -----------------------------------------


class SandboxLoginPage:
    skip_link = ByRole("link", name="跳到主要内容")
    main = ByCss("main#main")
    heading = ByRole("heading", level=1)
    username = ByLabel("用户名")
    password = ByLabel("密码")
    submit = ByRole("button", name="登录", within="form")
    form = ByCss("main form")
    error = ByRole("alert")

    def __init__(self, page: Page):
        self.page = page

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

    stage = ByCss("#case-clock dt:text-is('当前环节') + dd")
    supplement = ByCss("#supplement")
    documents = ByCss("#documents-title + ul")


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
