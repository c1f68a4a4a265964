"""工伤认定 in real Chromium, the office's side: the Hefei recognition officer opens a submitted
case from the queue, accepts it, records an investigation note, decides 认定工伤 with a legal
ground, serves the decision, and opens the decision PDF; provincial staff open the overdue
overview. axe-core finds no serious or critical violation on the queue, the case page (in each
state on the way) and the overview."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.accounts import service as accounts
from portal.demo import demo_identity
from portal.localtime import local_today
from portal.web.hooks import actor_from_session
from tests.browser.pages import ByCss, PortalPage, axe_violations
from tests.recognition.factories import People, submitted_case

pytestmark = pytest.mark.browser


@pytest.fixture
def app_overrides(tmp_path):
    return {"files_dir": str(tmp_path / "files")}


class QueuePage(PortalPage):
    path = "/recognition/office/"

    results = ByCss("#queue-results")


class OfficeCasePage(PortalPage):
    @property
    def stage(self):
        return self.page.locator("#case-clock dt:text-is('当前环节') + dd")

    actions = ByCss("#case-actions")

    def press(self, name: str) -> None:
        self.page.get_by_role("button", name=name).click()


def _demo_case(live_stack, *, days_ago: int) -> str:
    """A case the demo employer filed for 张伟 ``days_ago`` days ago (Beijing date)."""
    database = live_stack.app.extensions["portal.database"]
    actors = {}
    for who in ("worker", "relative", "employer", "employer2", "officer", "province", "clerk-wuhu"):
        with database.write_transaction() as s:
            snapshot = accounts.sign_in(s, demo_identity(who), "127.0.0.1", "browser-test")
        actors[who] = actor_from_session(snapshot, "127.0.0.1", "browser-test")
    people = People(worker=actors["worker"], relative=actors["relative"], employer=actors["employer"],
                    employer2=actors["employer2"], officer=actors["officer"], province=actors["province"],
                    clerk_wuhu=actors["clerk-wuhu"])
    received = local_today() - timedelta(days=days_ago)
    with database.write_transaction() as s:
        return submitted_case(s, people, received_on=received).reference


def test_officer_accepts_investigates_decides_and_serves(page, live_stack, sign_in_as):
    portal = live_stack.portal_url
    reference = _demo_case(live_stack, days_ago=2)
    overdue = _demo_case(live_stack, days_ago=40)
    found: list[str] = []

    sign_in_as(page, "officer")
    page.get_by_role("link", name="工伤认定案件").click()
    queue = QueuePage(page, portal)
    expect(queue.heading).to_have_text("工伤认定案件")
    # overdue first, with its badge
    expect(queue.results.locator("tbody tr").first).to_contain_text(overdue)
    expect(queue.results.locator("tbody tr").first).to_contain_text("已超期")
    found += axe_violations(page, "recognition queue")
    page.get_by_label("法定期限").select_option("overdue")
    page.get_by_role("button", name="查询").click()
    expect(queue.results).to_contain_text(overdue)
    expect(queue.results).not_to_contain_text(reference)
    page.get_by_role("link", name="恢复默认").click()

    queue.results.get_by_role("link", name=reference).click()
    case = OfficeCasePage(page, portal)
    expect(case.heading).to_have_text(f"工伤认定案件 {reference}")
    expect(page.get_by_text("左手食指近节指骨骨折")).to_be_visible()
    expect(case.stage).to_have_text("待审查材料")
    found += axe_violations(page, "case page (submitted)")

    # 受理 (ordinary procedure)
    case.press("受理并出具受理决定书")
    expect(case.stage).to_have_text("已受理，调查核实中")
    expect(case.actions.get_by_role("heading", name="调查核实与认定决定")).to_be_visible()
    found += axe_violations(page, "case page (accepted)")

    # 调查核实
    page.get_by_label("内容").fill("询问了现场班组长，确认事故发生在上午施工期间。")
    case.press("保存记录")
    expect(page.locator("#notes-title")).to_be_visible()
    expect(page.get_by_text("确认事故发生在上午施工期间")).to_be_visible()

    # 认定工伤 with its ground
    page.get_by_label("认定工伤", exact=True).check()
    page.get_by_label("认定依据").select_option("r14_1")
    page.get_by_label("认定的事实和理由").fill("张伟在工作时间和工作场所内搬运钢管时被砸伤左手，有同事证言证实。")
    case.press("作出认定决定")
    expect(case.stage).to_have_text("已作出认定决定，待送达")
    found += axe_violations(page, "case page (decided)")

    case.press("送达认定决定书")
    expect(case.stage).to_have_text("已送达")
    expect(page.locator("#deliveries-title")).to_be_visible()
    expect(page.locator("#case-workspace table").last).to_contain_text("张伟")

    # the decision PDF link works
    link = case.actions.locator("a[href^='/files/']").first
    response = page.request.get(portal + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    case.sign_out()

    sign_in_as(page, "province")
    page.get_by_role("link", name="超期监督").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工伤认定超期监督")
    found += axe_violations(page, "overdue overview")
    page.get_by_role("link", name="合肥市").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("合肥市已超期和即将到期的工伤认定案件")
    expect(page.locator("#city-due")).to_contain_text(overdue)
    found += axe_violations(page, "city due list")
    assert found == []
