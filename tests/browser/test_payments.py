"""缴费 in real Chromium: the employer opens a bill, 去缴费 takes it to the tax collection
platform's sandbox, 确认缴费 there, and back on the portal the bill turns 已缴费 by itself once
the platform's (asynchronous, here deliberately late) signed callback has landed. axe-core finds
no serious or critical violation on the bill page and on the platform's pay page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.auth.roles import Actor, Role
from portal.payments import service
from tests.browser.pages import ROLE_HOMES, ByCss, ByRole, PortalPage, axe_violations
from tests.payments.conftest import issue_committed

pytestmark = pytest.mark.browser

SUBJECT = "browser_test"
PAID: list[int] = []
service.register_paid_handler(SUBJECT, lambda sess, bill: PAID.append(bill.id))


class BillPage(PortalPage):
    """缴费单 page of the portal."""

    @property
    def status(self):
        return self.page.locator("dt:text-is('状态') + dd")

    message = ByCss("#bill-status-message")

    def go_pay(self) -> None:
        self.page.get_by_role("button", name="去缴费").click()


class TaxPayPage:
    """The tax collection platform's pay page (the sandbox peer)."""

    def __init__(self, page: Page):
        self.page = page

    heading = ByRole("heading", level=1)

    def confirm(self) -> None:
        self.page.get_by_role("button", name="确认缴费").click()

    def back_to_portal(self) -> None:
        self.page.get_by_role("link", name="返回工伤保险公共服务门户").click()


def _issue_bill_for_demo_employer(live_stack, amount: Decimal) -> int:
    """A bill of the demo employer, its reference asked for as a request would (after the commit)."""
    app = live_stack.app
    with app.extensions["portal.database"].read_session() as sess:
        organisation_id = sess.scalar(select(Organisation.id).where(
            Organisation.name == ROLE_HOMES["employer"].display_name))
    actor = Actor(role=Role.EMPLOYER, organisation_id=organisation_id, display_name="浏览器测试")
    return issue_committed(app, actor, amount=amount, subject_type=SUBJECT)


def test_employer_pays_a_bill_at_the_tax_platform_and_sees_it_paid(page, live_stack, sign_in_as):
    PAID.clear()
    found: list[str] = []
    sign_in_as(page, "employer")  # the employer's organisation exists from here on
    bill_id = _issue_bill_for_demo_employer(live_stack, Decimal("1234.56"))
    # the platform reports the payment a little later than the payer comes back
    live_stack.tax_state.callback_delay_seconds = 2

    bill = BillPage(page, live_stack.portal_url).open(f"/payments/bills/{bill_id}")
    expect(bill.heading).to_contain_text("缴费单 GS")
    expect(bill.status).to_have_text("待缴费")
    expect(page.get_by_text("壹仟贰佰叁拾肆元伍角陆分")).to_be_visible()
    found += axe_violations(page, "bill to pay")
    bill.go_pay()

    page.wait_for_url(live_stack.tax_url + "/pay/**")
    pay = TaxPayPage(page)
    expect(pay.heading).to_have_text("确认缴费")
    expect(page.get_by_role("cell", name="¥1,234.56 元")).to_be_visible()
    found += axe_violations(page, "tax platform pay page")
    pay.confirm()
    expect(pay.heading).to_have_text("缴费成功")
    found += axe_violations(page, "tax platform paid page")
    pay.back_to_portal()

    page.wait_for_url(f"{live_stack.portal_url}/payments/bills/{bill_id}")
    # back before the callback: 待确认, and the page keeps itself up to date
    expect(bill.status).to_have_text("待确认")
    expect(bill.message).to_contain_text("正在等待社保费征收平台确认")
    expect(bill.status).to_have_text("已缴费", timeout=15_000)
    expect(bill.message).to_contain_text("已缴费，征收平台已确认")
    expect(page.get_by_role("button", name="去缴费")).to_have_count(0)
    found += axe_violations(page, "paid bill")
    assert PAID == [bill_id]
    assert found == []
