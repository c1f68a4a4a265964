"""工伤认定, the applicant's side in real Chromium: the worker files a case through the task list
with real file uploads and gets the reference number and the receipt; the worker supplies the
material an officer asked for; the employer reads the served decision (and never the injury).
axe-core finds no serious or critical violation on the pages on the way."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from portal.accounts import service as accounts
from portal.clocks.calendar import WorkCalendar
from portal.demo import demo_identity
from portal.localtime import local_today
from portal.recognition import service as recognition
from portal.web.hooks import actor_from_session
from tests.browser.pages import (
    RecognitionCasePage,
    RecognitionMaterialsPage,
    RecognitionTaskListPage,
    axe_violations,
)
from tests.materials import samples
from tests.recognition.filing_fixtures import INJURY, fill_draft

pytestmark = pytest.mark.browser


def _actor(sess, username: str):
    return actor_from_session(accounts.sign_in(sess, demo_identity(username), "127.0.0.1", "test"),
                              "127.0.0.1", "test")


def _filed_case(live_stack, *, supplement: bool = False, served: bool = False) -> tuple[int, str]:
    """A worker's case filed through the services (and, as asked, the officer's steps)."""
    app = live_stack.app
    files_dir = app.config["PORTAL_SETTINGS"].files_dir
    today = local_today()
    with app.extensions["portal.database"].write_transaction() as sess:
        worker, officer = _actor(sess, "worker"), _actor(sess, "officer")
        case = fill_draft(sess, worker, files_dir=files_dir, today=today)
        recognition.submit(sess, worker, case.id, today=today, now=datetime.now(timezone.utc), files_dir=files_dir,
                           case_url=f"{live_stack.portal_url}/recognition/cases/{case.id}", calendar=WorkCalendar())
        if supplement:
            recognition.request_supplement(sess, officer, case.id, files_dir=files_dir, on=today, items=[
                recognition.SupplementRequest("labour_relation", "请提供近三个月的工资发放记录"),
                recognition.SupplementRequest("other", "请提供事故现场证人证言")])
        if served:
            recognition.accept_case(sess, officer, case.id, files_dir=files_dir, on=today)
            recognition.decide_case(sess, officer, case.id, outcome="recognised", ground_code="r14_1",
                                    reasoning="经调查核实，该职工在工作时间和工作场所内因工作原因受到事故伤害。",
                                    files_dir=files_dir, on=today)
            recognition.serve_case(sess, officer, case.id, on=today)
        return case.id, case.reference


def test_a_worker_files_a_case_through_the_task_list(page, live_stack, sign_in_as, tmp_path):
    portal = live_stack.portal_url
    found: list[str] = []
    png, pdf = tmp_path / "身份证.png", tmp_path / "劳动合同.pdf"
    png.write_bytes(samples.png())
    pdf.write_bytes(samples.pdf())

    sign_in_as(page, "worker")
    page.get_by_role("link", name="申请工伤认定").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申请工伤认定")
    page.get_by_label("本人申请（我是受伤害的职工）").check()
    page.get_by_role("button", name="开始填写").click()
    tasks = RecognitionTaskListPage(page, portal)
    expect(tasks.heading).to_have_text("填写工伤认定申请")
    expect(tasks.status_of("worker")).to_have_text("已完成")
    expect(tasks.status_of("employer")).to_have_text("未开始")
    found += axe_violations(page, "recognition task list")

    tasks.step("用人单位").click()
    page.get_by_label("统一社会信用代码").fill("91340100MA2N0A1B5E")
    page.get_by_label("用人单位名称").fill("安徽皖建建设工程有限公司")
    page.get_by_label("用人单位所在县（区）行政区划代码").fill("340104")
    page.get_by_role("button", name="保存并继续").click()
    expect(tasks.status_of("employer")).to_have_text("已完成")

    tasks.step("事故伤害或职业病情况").click()
    page.get_by_label("事故伤害", exact=True).check()
    page.get_by_label("事故伤害发生日期（职业病：诊断或鉴定日期）").fill("2099-01-01")
    page.get_by_label("地点").fill("合肥市蜀山区某工地3号楼")
    page.get_by_label("经过").fill("在脚手架上搬运钢管时被滑落的钢管砸伤右手。")
    page.get_by_label("受伤部位及诊断（或职业病名称）").fill(INJURY)
    page.get_by_role("button", name="保存并继续").click()
    expect(page.locator("#event_date-error")).to_contain_text("日期不能晚于今天")
    found += axe_violations(page, "recognition event step with errors")
    page.get_by_label("事故伤害发生日期（职业病：诊断或鉴定日期）").fill(local_today().isoformat())
    page.get_by_role("button", name="保存并继续").click()
    expect(tasks.status_of("event")).to_have_text("已完成")

    tasks.step("申请材料").click()
    materials = RecognitionMaterialsPage(page, portal)
    expect(materials.heading).to_have_text("申请材料")
    materials.upload("labour_relation", pdf)
    materials.upload("medical_certificate", png)
    materials.upload("id_card", png)
    found += axe_violations(page, "recognition materials step")
    page.get_by_role("link", name="完成，返回申请").click()
    expect(tasks.status_of("materials")).to_have_text("已完成")

    page.get_by_role("link", name="核对并提交").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("核对并提交")
    expect(page.get_by_text("340104********1235")).to_be_visible()
    expect(page.get_by_text("职工或者其近亲属应当自事故伤害发生之日起1年内提出工伤认定申请", exact=False)).to_be_visible()
    found += axe_violations(page, "recognition check your answers")
    page.get_by_role("button", name="提交申请").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("申请已提交")
    reference = page.locator("#reference")
    expect(reference).to_have_text(re.compile(r"^RD-340100-\d{4}-\d{6}$"))
    found += axe_violations(page, "recognition submitted")
    receipt_href = page.get_by_role("link", name="下载申请回执（PDF）").get_attribute("href")
    response = page.request.get(portal + receipt_href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    page.get_by_role("link", name="查看案件办理进度").click()
    case = RecognitionCasePage(page, portal)
    expect(case.stage).to_have_text("待审查材料")
    expect(page.get_by_text(INJURY)).to_be_visible()
    found += axe_violations(page, "recognition case page (worker)")
    assert found == []


def test_a_worker_supplies_the_material_the_officer_asked_for(page, live_stack, sign_in_as, tmp_path):
    portal = live_stack.portal_url
    case_id, reference = _filed_case(live_stack, supplement=True)
    pdf = tmp_path / "工资发放记录.pdf"
    pdf.write_bytes(samples.pdf())
    found: list[str] = []

    sign_in_as(page, "worker")
    case = RecognitionCasePage(page, portal).open(f"/recognition/cases/{case_id}")
    expect(case.heading).to_have_text(f"工伤认定 {reference}")
    expect(case.stage).to_have_text("待补正材料")
    expect(case.supplement).to_contain_text("请提供近三个月的工资发放记录")
    expect(page.get_by_role("button", name="提交补正材料")).to_be_disabled()
    found += axe_violations(page, "recognition case awaiting supplement")
    for n, label in enumerate(("与用人单位存在劳动关系", "其他")):
        item = case.supplement.locator("ol > li").nth(n)
        item.locator("input[type=file]").set_input_files(str(pdf))
        item.locator("button[type=submit]").click()
        expect(case.supplement.locator("ol > li").nth(n)).to_contain_text("已上传")
    page.get_by_role("button", name="提交补正材料").click()
    expect(case.stage).to_have_text("待审查材料")
    expect(page.get_by_text("补正材料已提交")).to_be_visible()
    expect(page.locator("#timeline-title + ol")).to_contain_text("补正材料")
    found += axe_violations(page, "recognition case after supplement")
    assert found == []


def test_an_employer_reads_the_served_decision_without_medical_details(page, live_stack, sign_in_as):
    portal = live_stack.portal_url
    case_id, reference = _filed_case(live_stack, served=True)
    found: list[str] = []

    sign_in_as(page, "employer")
    page.goto(f"{portal}/recognition/")
    page.get_by_role("link", name=reference).click()
    case = RecognitionCasePage(page, portal)
    expect(case.heading).to_have_text(f"工伤认定 {reference}")
    expect(page.get_by_role("heading", name="认定结论：认定工伤")).to_be_visible()
    expect(case.stage).to_have_text("已送达")
    decision = case.documents.get_by_role("link").first
    expect(case.documents).to_contain_text("认定工伤决定书")
    expect(page.get_by_text(INJURY)).to_have_count(0)
    found += axe_violations(page, "recognition case page (employer, served)")
    response = page.request.get(portal + decision.get_attribute("href"))
    assert response.status == 200 and response.body().startswith(b"%PDF")
    assert io.BytesIO(response.body()).getbuffer().nbytes > 1000
    assert found == []
