"""单位参保登记 in real Chromium: the demo employer (USCC 91340100…, Hefei) enrolls its unit, the
Hefei clerk approves it, the employer sees the approval on its timeline and adds an insured
person; provincial staff see the per-city counts. axe-core finds no serious or critical
violation on the pages on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import ByCss, PortalPage, axe_violations
from tests.enrollment.conftest import make_id

pytestmark = pytest.mark.browser


class UnitFormPage(PortalPage):
    path = "/enrollment/unit/edit"

    def fill(self, **values: str) -> None:
        for field, value in values.items():
            self.page.locator(f"#{field}").fill(value)

    def save(self) -> None:
        self.page.get_by_role("button", name="保存").click()


class UnitPage(PortalPage):
    path = "/enrollment/unit"

    @property
    def status(self):
        return self.page.locator("dt:text-is('状态') + dd strong")

    timeline = ByCss("#timeline-title + ol")


class ReviewInboxPage(PortalPage):
    path = "/enrollment/review"

    results = ByCss("#inbox-results")


def _sign_out(page: Page, portal_url: str) -> None:
    PortalPage(page, portal_url).sign_out()


def test_employer_enrolls_clerk_approves_employer_sees_it(page, live_stack, sign_in_as):
    portal = live_stack.portal_url
    found: list[str] = []

    # 1. the employer fills in and submits its enrollment
    sign_in_as(page, "employer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="单位参保").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("单位参保登记")
    found += axe_violations(page, "unit page (not enrolled)")
    page.get_by_role("link", name="开始登记").click()
    form = UnitFormPage(page, portal)
    expect(page.locator("#uscc")).to_have_value("91340100MA2N0A1B5E")
    form.fill(address="合肥市蜀山区长江西路100号", county_code="340104", industry_code="E4710",
              contact_name="王强", contact_phone="1395510")
    form.save()
    expect(page.locator("#contact_phone-error")).to_contain_text("手机号码格式不正确")
    found += axe_violations(page, "unit form with errors")
    form.fill(contact_phone="13955101234")
    form.save()
    unit = UnitPage(page, portal)
    expect(unit.status).to_have_text("草稿（未提交）")
    expect(page.get_by_text("139****1234")).to_be_visible()
    expect(page.locator("dt:text-is('基准费率') + dd")).to_contain_text("1.30%")
    found += axe_violations(page, "unit draft")
    page.get_by_role("button", name="提交审核").click()
    expect(unit.status).to_have_text("待审核")
    _sign_out(page, portal)

    # 2. the Hefei clerk finds it in the inbox and approves it
    sign_in_as(page, "clerk")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="参保审核").click()
    inbox = ReviewInboxPage(page, portal)
    expect(inbox.results).to_contain_text("安徽皖建建设工程有限公司")
    found += axe_violations(page, "clerk inbox")
    page.get_by_label("单位名称或信用代码").fill("皖建")
    with page.expect_response(lambda r: "/enrollment/review" in r.url and r.request.headers.get("hx-request") == "true"):
        page.locator("#inbox-filter").get_by_role("button", name="查询").click()
    expect(inbox.results).to_contain_text("共 1 家单位")
    inbox.results.get_by_role("link", name="安徽皖建建设工程有限公司").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("审核参保登记")
    found += axe_violations(page, "review page")
    expect(page.locator("#risk_class")).to_have_value("6")
    page.locator("#band").select_option("1.0")
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_text("已审核通过")).to_be_visible()
    expect(page.locator("dt:text-is('状态') + dd strong")).to_have_text("已参保")
    _sign_out(page, portal)

    # 3. the employer sees the approval on its timeline and adds a person
    sign_in_as(page, "employer")
    unit.open()
    expect(unit.status).to_have_text("已参保")
    expect(unit.timeline).to_contain_text("审核通过，参保登记生效")
    expect(unit.timeline).to_contain_text("经办人员")
    expect(unit.timeline).not_to_contain_text("陈静")
    found += axe_violations(page, "approved unit")
    page.get_by_role("link", name="增减参保人员").click()
    page.get_by_role("link", name="增加参保人员").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("增加参保人员")
    found += axe_violations(page, "new member form")
    page.locator("#name").fill("李明")
    page.locator("#id_number").fill(make_id(seq=611))
    page.locator("#wage_base").fill("8000")
    page.get_by_role("button", name="增加", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保人员")
    expect(page.get_by_text("8,000.00 × 1.30% × 100% = 104.00")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(make_id(seq=611))
    found += axe_violations(page, "member list")
    page.get_by_role("link", name="批量导入（Excel / CSV）").click()
    found += axe_violations(page, "import page")
    _sign_out(page, portal)

    # 4. provincial staff see Hefei's figures, each a link to its list
    sign_in_as(page, "province")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="各市参保").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("各市参保情况")
    found += axe_violations(page, "province overview")
    page.get_by_role("link", name=re.compile("合肥市已参保单位 1 家")).click()
    expect(page.locator("#inbox-results")).to_contain_text("安徽皖建建设工程有限公司")

    assert found == [], "serious or critical axe violations:\n" + "\n".join(found)
