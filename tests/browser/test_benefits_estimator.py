"""待遇测算 in a real browser: results update in place while typing, field messages appear beside
their fields, the explanation opens, and axe finds nothing serious (standard and large text)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import ByCss, PortalPage, axe_violations

pytestmark = pytest.mark.browser


class EstimatorPage(PortalPage):
    path = "/benefits/estimate"
    results = ByCss("#estimate-results")

    def field(self, label: str):
        return self.page.get_by_label(label, exact=False).first

    def error(self, name: str):
        return self.page.locator(f"#err-{name}")

    def fill_case(self, outcome: str, *, own_wage: str, grade: str | None = None, care: str | None = None,
                  dependants: tuple[str, ...] = ()) -> None:
        """A case of 2024-05-10 on an average wage of 8000, typed as a person would: the own
        wage last, key by key, so the results update while typing."""
        self.page.locator("#date").fill("2024-05-10")
        self.page.get_by_label(outcome).check()
        if grade:
            self.page.locator("#grade").select_option(grade)
        if care:
            self.page.locator("#care_level").select_option(care)
        self.page.locator("#average_monthly_wage").fill("8000")
        for row, relation in enumerate(dependants):
            self.page.locator(f"#dependants-{row}-relation").select_option(relation)
        self.page.locator("#own_monthly_wage").press_sequentially(own_wage)


def test_results_update_while_typing_and_explain_each_amount(page, portal_url, console_messages):
    estimator = EstimatorPage(page, portal_url).open()
    expect(estimator.heading).to_have_text("待遇测算")
    page.evaluate("window.__sameDocument = true")
    estimator.fill_case("致残（已评定或预计的伤残等级）", grade="4", care="partial", own_wage="5432.17")
    expect(estimator.results).to_contain_text("114,075.57")
    expect(estimator.results).to_contain_text("4,074.13")
    expect(estimator.results).to_contain_text("估算，不是待遇核定决定")
    expect(estimator.results).to_contain_text("影响结果最多的因素")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    expect(page.locator("#live-region")).to_contain_text("一次性待遇合计 114,075.57 元")

    why = estimator.results.locator("details").first
    why.locator("summary").click()
    expect(why).to_contain_text("21 个月 × 本人工资 5,432.17 = 114,075.57 元")
    expect(why).to_contain_text("《工伤保险条例》第三十五条")

    # a wrong grade: the message appears beside the field, the results say what to fix
    page.locator("#grade").select_option("2")
    page.locator("#ends_employment").check()
    expect(estimator.error("ends_employment")).to_be_visible()
    expect(estimator.error("ends_employment")).to_contain_text("一至四级伤残职工保留劳动关系")
    expect(estimator.results).to_contain_text("请修改以下内容")
    page.locator("#ends_employment").uncheck()
    expect(estimator.error("ends_employment")).to_be_hidden()
    expect(estimator.results).to_contain_text("135,804.25")  # 25 × 5,432.17, grade 2
    # the 422 of a wrong input is logged by Chromium as a failed resource; nothing else may be
    assert not [m for m in console_messages if m.startswith("error") and "status of 422" not in m]


def test_without_javascript_the_form_submits_and_shows_messages(browser, portal_url):
    ctx = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(portal_url + "/benefits/estimate")
        page.locator("#date").fill("2024-05-10")
        page.locator("#own_monthly_wage").fill("-1")
        page.get_by_role("button", name="计算").click()
        expect(page).to_have_url(re.compile(r"/benefits/estimate\?"))
        expect(page.locator("#err-own_monthly_wage")).to_contain_text("本人月工资应大于零")
        expect(page.locator("#err-outcome")).to_contain_text("请选择伤残或因工死亡")
    finally:
        ctx.close()


@pytest.mark.parametrize("size", ["standard", "large"])
def test_estimator_has_no_serious_axe_violations(page, portal_url, size):
    estimator = EstimatorPage(page, portal_url).open()
    if size == "large":
        estimator.switch_to_large_text()
    found = axe_violations(page, f"estimator empty [{size}]")
    estimator.fill_case("因工死亡", dependants=("spouse", "child"), own_wage="6000")
    expect(estimator.results).to_contain_text("1,036,420.00")
    estimator.results.locator("details").first.locator("summary").click()
    found += axe_violations(page, f"estimator with results [{size}]")
    page.locator("#own_monthly_wage").fill("abc")
    expect(estimator.error("own_monthly_wage")).to_contain_text("格式不正确")
    found += axe_violations(page, f"estimator with errors [{size}]")
    assert found == []
