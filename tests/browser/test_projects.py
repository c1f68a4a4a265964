"""按项目参保 in real Chromium: the contractor enrolls a project, pays it at the tax platform's
sandbox, uploads a roster and downloads the site poster; the demo worker 张伟 then checks their
cover. axe-core finds no serious or critical violation on the pages on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portal.localtime import local_today
from tests.browser.pages import PortalPage, axe_violations

pytestmark = pytest.mark.browser

ZHANG_WEI = "340104199003071235"


class NewProjectPage(PortalPage):
    path = "/projects/new"

    def enroll(self, name: str, county: str, price: str, start: str, end: str) -> None:
        self.page.get_by_label("项目名称").fill(name)
        self.page.get_by_label("项目所在县（市、区）行政区划代码").fill(county)
        self.page.get_by_label("工程合同价（元）").fill(price)
        self.page.get_by_label("计划开工日期").fill(start)
        self.page.get_by_label("计划竣工日期").fill(end)
        self.page.get_by_role("button", name="保存并计算保费").click()


class ProjectPage(PortalPage):
    @property
    def status(self):
        return self.page.locator("dt:text-is('状态') + dd")


def _pay_first_bill(page: Page, live_stack, project_url: str) -> None:
    """Pay as a contractor would: 去缴费 on the bill opens the tax platform (the sandbox peer),
    确认缴费 there; the platform reports the payment back by its signed callback."""
    page.locator("#bills-title ~ div table a").first.click()
    bill_url = page.url
    page.get_by_role("button", name="去缴费").click()
    page.wait_for_url(live_stack.tax_url + "/**")
    page.get_by_role("button", name="确认缴费").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("缴费成功")
    page.goto(bill_url)
    expect(page.locator("dt:text-is('状态') + dd")).to_contain_text("已缴费", timeout=15000)
    page.goto(project_url)


def test_contractor_enrolls_pays_uploads_roster_and_worker_checks_cover(page, live_stack, sign_in_as, tmp_path,
                                                                          context):
    found: list[str] = []
    sign_in_as(page, "employer")
    page.get_by_role("link", name="按项目参保").first.click()
    found += axe_violations(page, "project list")
    form = NewProjectPage(page, live_stack.portal_url).open()
    found += axe_violations(page, "new project form")
    today = local_today()
    form.enroll("合肥市滨湖新区安置房项目", "340111", "12345678.90", today.isoformat(),
                today.replace(year=today.year + 2).isoformat())
    expect(page.get_by_text("壹万捌仟伍佰壹拾捌元伍角贰分")).to_be_visible()
    found += axe_violations(page, "project draft")
    page.get_by_role("button", name="提交并开具缴费单").click()
    project_url = page.url
    project = ProjectPage(page, live_stack.portal_url)
    expect(project.status).to_have_text("待缴费")

    # 先参保、后开工: starting before payment is refused with the reason
    page.get_by_label("开工日期").fill(today.isoformat())
    page.get_by_role("button", name="登记开工").click()
    expect(page.get_by_role("alert")).to_contain_text("先参保、后开工")

    page.goto(project_url)
    _pay_first_bill(page, live_stack, project_url)
    expect(project.status).to_have_text("已参保")
    found += axe_violations(page, "covered project")

    # roster upload (CSV, GBK as Excel saves it on Chinese Windows)
    page.get_by_role("link", name="查看花名册").click()
    csv_path = tmp_path / "名册.csv"
    csv_path.write_bytes(("姓名,身份证号码,手机号码,工种,班组,进场日期\n"
                          f"张伟,{ZHANG_WEI},13912345678,钢筋工,钢筋一班,{today.isoformat()}\n").encode("gbk"))
    page.get_by_label("花名册文件（.xlsx 或 .csv）").set_input_files(str(csv_path))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_text("已导入 1 名人员")).to_be_visible()
    expect(page.get_by_role("cell", name="340104********1235")).to_be_visible()
    found += axe_violations(page, "roster")

    page.goto(project_url)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("下载工地公示牌")).click()
    assert download.value.suggested_filename.endswith(".pdf")

    # proof of cover for the housing bureau: download, then verify it as a third party would
    with page.expect_download() as certificate:
        page.get_by_role("button", name="出具项目参保证明（PDF）").click()
    pdf_path = certificate.value.path()
    text = PdfReader(str(pdf_path)).pages[0].extract_text()
    assert "项目参保证明" in text and "合肥市滨湖新区安置房项目" in text
    number = certificate.value.suggested_filename.removesuffix(".pdf")
    code = text.split("校验码：")[1][:16]
    page.goto(f"{live_stack.portal_url}/verify")
    page.get_by_label("证明编号").fill(number)
    page.get_by_label("校验码").fill(code)
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_role("heading", name="核验通过：证明有效")).to_be_visible()
    found += axe_violations(page, "certificate verification")
    page.goto(project_url)

    page.get_by_role("button", name="退出登录").click()
    sign_in_as(page, "worker")
    page.get_by_role("link", name="我的参保情况").first.click()
    expect(page.get_by_text("您已登记在合肥市滨湖新区安置房项目名册，自")).to_be_visible()
    found += axe_violations(page, "worker self-check")
    assert found == []
