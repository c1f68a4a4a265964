"""The inbox in real Chromium (SQLite, as every browser test): a worker finds the count in the
navigation, switches the filter (htmx swaps the list, the address follows), opens a decision; axe
finds no serious or critical violation on the way, in standard and large text.

The browser fixtures are those of tests/browser (imported here, so this area's tests stay in one
folder); the whole module is skipped with a reason when Debian's chromium is missing.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.accounts import service as accounts
from portal.demo import demo_identity
from portal.inbox import service
from tests.browser.conftest import (  # noqa: F401  (fixtures)
    browser,
    chromium_executable,
    console_messages,
    context,
    live_stack,
    page,
    sandbox_key_dir,
)
from tests.browser.pages import ByCss, ByRole, PortalPage, axe_violations, sign_in_as

pytestmark = pytest.mark.browser


class InboxPage(PortalPage):
    path = "/inbox/"

    results = ByCss("#inbox-results")
    filter = ByRole("navigation", name="筛选消息")

    def filter_link(self, name: str):
        return self.filter.get_by_role("link", name=re.compile(f"^{name}"))

    messages = ByCss(".service-list__item", within="results")

    def choose(self, name: str):
        with self.page.expect_response(lambda r: "/inbox/" in r.url and r.request.headers.get("hx-request") == "true"):
            self.filter_link(name).click()
        return self


def _deliver_to_worker(stack) -> None:
    database = stack.app.extensions["portal.database"]
    with stack.app.app_context(), database.write_transaction() as sess:
        person_id = accounts.sign_in(sess, demo_identity("worker"), "127.0.0.1", "test")["person_id"]
        service.deliver(sess, person_id=person_id, kind="request", subject="请补正工伤认定申请材料",
                        body="请上传劳动关系证明。", link="/inbox/", link_label="去补正", action_required=True,
                        case_reference="RD2026340100000012")
        service.deliver(sess, person_id=person_id, kind="decision", subject="认定工伤决定书",
                        body="经调查核实，你受到的事故伤害属于工伤。\n如不服，可依法申请行政复议或提起行政诉讼。",
                        case_reference="RD2026340100000012", attachment_token="decision-pdf-token")
        service.deliver(sess, person_id=person_id, kind="notice", subject="工伤认定申请已受理",
                        body="已受理。", case_reference="RD2026340100000012")


@pytest.mark.parametrize("size", ["standard", "large"])
def test_worker_reads_the_inbox(page, live_stack, size):  # noqa: F811  (fixtures imported above)
    _deliver_to_worker(live_stack)
    home = sign_in_as(page, live_stack.portal_url, "worker")
    if size == "large":
        home.switch_to_large_text()
    found: list[str] = []

    nav_link = home.nav.get_by_role("link", name=re.compile(r"^收件箱\s*未读 3\s*待办 1$"))
    expect(nav_link).to_be_visible()
    nav_link.click()
    inbox = InboxPage(page, live_stack.portal_url)
    expect(inbox.heading).to_have_text("收件箱")
    expect(inbox.messages).to_have_count(3)
    expect(inbox.messages.first).to_contain_text("请补正工伤认定申请材料")
    expect(inbox.messages.first).to_contain_text("需要您处理")
    expect(inbox.filter_link("全部")).to_have_attribute("aria-current", "page")
    found += axe_violations(page, f"inbox list [{size}]")

    inbox.choose("待办")
    expect(inbox.messages).to_have_count(1)
    expect(inbox.filter_link("待办")).to_have_attribute("aria-current", "page")
    expect(inbox.filter_link("全部")).not_to_have_attribute("aria-current", "page")
    expect(page).to_have_url(re.compile(r"/inbox/\?show=action$"))
    # The pointer still rests on the link just clicked, now the current one: the hovered current
    # link must keep its contrast too (it once lost it to `a:hover`).
    found += axe_violations(page, f"inbox filtered by htmx [{size}]")

    inbox.choose("全部")
    inbox.results.get_by_role("link", name="认定工伤决定书").click()
    expect(inbox.heading).to_have_text("认定工伤决定书")
    expect(page.locator("main")).to_contain_text("首次阅读时间")
    expect(page.get_by_role("link", name="下载附件")).to_have_attribute("href", "/files/decision-pdf-token")
    expect(inbox.nav.get_by_role("link", name=re.compile(r"^收件箱\s*未读 2\s*待办 1$"))).to_have_attribute(
        "aria-current", "true")
    found += axe_violations(page, f"inbox message [{size}]")
    assert found == [], "\n".join(found)
