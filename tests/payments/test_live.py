"""Payment end to end over real loopback HTTP: portal + tax collection sandbox (both databases)."""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from adapters.sandbox_server import serve_in_thread, stop_server
from adapters.tax_collection import signing
from portal.audit.models import AuditEvent
from portal.auth.roles import Actor, Role
from portal.config import load_defaults
from portal.db import utcnow
from portal.outbox.models import OutboxMessage
from portal.payments import service
from portal.payments.models import Bill, BillStatus, PaymentNotice
from portal.tasks.outbox import dispatch_outbox
from portal.tasks.payments import catch_up_payments
from tests.payments.conftest import draft_project, issue_committed, submit_project

KEY = load_defaults()["tax_platform_key"].encode()
AMOUNT = Decimal("12345.60")
CALLBACK = "/api/payments/tax-callback"


@pytest.fixture
def app_overrides():
    return {"tax_platform_timeout_seconds": 1}


def _issue(stack, organisation_id: int) -> int:
    actor = Actor(role=Role.EMPLOYER, organisation_id=organisation_id, display_name="测试单位")
    return issue_committed(stack.app, actor, amount=AMOUNT)


def _bill(stack, bill_id: int) -> Bill:
    with stack.app.extensions["portal.database"].read_session() as sess:
        bill = sess.get(Bill, bill_id)
        sess.expunge(bill)
        return bill


def _count(stack, model, *where) -> int:
    with stack.app.extensions["portal.database"].read_session() as sess:
        return sess.scalar(select(func.count()).select_from(model).where(*where))


def _actions(stack, bill_id: int) -> list[str]:
    with stack.app.extensions["portal.database"].read_session() as sess:
        return list(sess.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "bill", AuditEvent.object_id == str(bill_id)).order_by(AuditEvent.seq)))


def _pay_in_sandbox(http: requests.Session, stack, bill_id: int):
    """去缴费 on the portal, then 确认缴费 on the sandbox's page, as the browser would."""
    going = http.post(f"{stack.portal_url}/payments/bills/{bill_id}/pay", data={"csrf_token": http.csrf},
                      allow_redirects=False, timeout=10)
    assert going.status_code == 303 and going.headers["Location"].startswith(f"{stack.tax_url}/pay/")
    page = requests.get(going.headers["Location"], timeout=10)
    assert "确认缴费" in page.text
    form = dict(re.findall(r'name="(token|return)" value="([^"]+)"', page.text))
    reference = going.headers["Location"].split("/pay/")[1].split("?")[0]
    done = requests.post(f"{stack.tax_url}/pay/{reference}", data=form, timeout=10)
    assert done.status_code == 200 and "缴费成功" in done.text
    done.back_link = f"{stack.portal_url}/payments/bills/{bill_id}" in done.text  # 返回门户
    order = stack.tax_state.get(reference)
    order.page = done
    return order


def test_reference_issued_demo_pays_signed_callback_marks_paid(live_stack, live_employer):
    stack = live_stack
    bill_id = _issue(stack, live_employer.organisation_id)
    bill = _bill(stack, bill_id)
    assert bill.status is BillStatus.ISSUED and bill.payment_reference in stack.tax_state.orders

    order = _pay_in_sandbox(live_employer, stack, bill_id)
    assert order.page.back_link
    assert order.delivered.wait(10)
    bill = _bill(stack, bill_id)
    assert bill.status is BillStatus.PAID and bill.paid_amount == AMOUNT and bill.paid_at == order.paid_at
    actions = _actions(stack, bill_id)
    assert actions[:4] == ["payments.bill_issued", "payments.reference_issued",
                           "payments.queried", "payments.payment_started"]  # still known? then go
    assert "payments.paid" in actions and "payments.callback_received" in actions
    page = live_employer.get(f"{stack.portal_url}/payments/bills/{bill_id}", timeout=10)
    assert page.status_code == 200 and "已缴费" in page.text
    assert "壹万贰仟叁佰肆拾伍元陆角" in page.text and "12,345.60" in page.text


def test_a_reference_the_platform_forgot_is_renewed_before_the_payer_leaves(live_stack, live_employer):
    """Issue 12 point 6: "pay" never leads to the platform's 404 page."""
    stack = live_stack
    bill_id = _issue(stack, live_employer.organisation_id)
    old = _bill(stack, bill_id).payment_reference
    stack.tax_state.forget(old)
    assert requests.get(f"{stack.tax_url}/pay/{old}", timeout=10).status_code == 404
    order = _pay_in_sandbox(live_employer, stack, bill_id)
    assert order.reference != old
    assert order.delivered.wait(10)
    bill = _bill(stack, bill_id)
    assert bill.status is BillStatus.PAID and bill.payment_reference == order.reference
    assert "payments.reference_renewed" in _actions(stack, bill_id)


def _signed_post(stack, body: bytes, *, key=KEY, now=None, headers=None):
    headers = headers or signing.signed_headers(key, "POST", CALLBACK, body, now=now)
    return requests.post(stack.portal_url + CALLBACK, data=body, timeout=10,
                         headers={**headers, "Content-Type": "application/json"}), headers


def _body(reference: str, message_id="msg-1", amount=AMOUNT) -> bytes:
    return json.dumps({"message_id": message_id, "reference": reference, "status": "paid",
                       "amount": f"{amount:.2f}", "paid_at": "2026-11-23T08:00:00+00:00"}).encode()


def test_callback_refusals_change_nothing_and_duplicates_change_once(live_stack, live_employer):
    stack = live_stack
    bill_id = _issue(stack, live_employer.organisation_id)
    reference = _bill(stack, bill_id).payment_reference
    body = _body(reference)

    def refused(response, status, code):
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code

    refused(_signed_post(stack, body, key=b"forged-key")[0], 401, "bad_signature")
    refused(_signed_post(stack, body, now=time.time() - 600)[0], 401, "stale_timestamp")
    tampered_headers = signing.signed_headers(KEY, "POST", CALLBACK, body)
    refused(_signed_post(stack, _body(reference, amount=Decimal("1.00")), headers=tampered_headers)[0],
            401, "bad_signature")
    refused(_signed_post(stack, _body("34000000000000000000"))[0], 404, "unknown_reference")
    refused(_signed_post(stack, b'{"message_id": 1}')[0], 422, "invalid_payload")
    refused(_signed_post(stack, b"not json")[0], 422, "invalid_payload")
    unsigned = requests.post(stack.portal_url + CALLBACK, data=body, timeout=10)
    refused(unsigned, 401, "bad_signature")
    assert _bill(stack, bill_id).status is BillStatus.ISSUED
    assert _count(stack, PaymentNotice) == 0
    assert _count(stack, AuditEvent, AuditEvent.action == "payments.callback_refused") == 7

    first, headers = _signed_post(stack, body)
    assert first.status_code == 200 and first.json()["status"] == "paid"
    refused(_signed_post(stack, body, headers=headers)[0], 401, "replayed_nonce")  # same nonce again
    again, _ = _signed_post(stack, body)  # same message id, fresh nonce: a platform retry
    assert again.status_code == 200 and again.json() == first.json()
    assert _count(stack, PaymentNotice) == 1
    assert _actions(stack, bill_id).count("payments.paid") == 1


def test_platform_down_when_issuing_then_retry_job_gets_reference(live_stack, live_employer):
    stack = live_stack
    stack.tax_state.api_unavailable = True
    bill_id = _issue(stack, live_employer.organisation_id)
    bill = _bill(stack, bill_id)
    assert bill.status is BillStatus.ISSUED and bill.payment_reference is None
    page = live_employer.get(f"{stack.portal_url}/payments/bills/{bill_id}", timeout=10)
    assert page.status_code == 200 and "待缴费" in page.text and "暂时无法连接" in page.text
    assert ">去缴费</button>" not in page.text

    stack.tax_state.api_unavailable = False
    counts = catch_up_payments(stack.app, older_than_minutes=0)
    assert counts["reference_issued"] == 1
    assert _bill(stack, bill_id).payment_reference in stack.tax_state.orders


def _submitted_project_bill(stack, http) -> tuple[Bill, OutboxMessage]:
    """Submit a project over HTTP; its premium bill, and the outbox message asking for its
    reference, as they are once the response has arrived."""
    project_id = draft_project(stack.app, http.actor)
    submit_project(http, stack.portal_url, project_id)
    with stack.app.extensions["portal.database"].read_session() as sess:
        [bill] = service.bills_for(sess, http.actor, "project", project_id)
        message = sess.scalar(select(OutboxMessage).where(
            OutboxMessage.key == f"{service.REFERENCE_TOPIC}:{bill.id}"))
        sess.expunge_all()
    return bill, message


def test_a_bill_issued_in_a_request_has_its_reference_right_after_the_commit(live_stack, live_employer):
    """No worker runs here: the request edge delivers the outbox message once the unit of work
    that issued the bill has committed, so 去缴费 works on the bill page at once."""
    stack = live_stack
    bill, message = _submitted_project_bill(stack, live_employer)
    assert bill.status is BillStatus.ISSUED and bill.payment_reference in stack.tax_state.orders
    assert message.delivered_at is not None and message.attempts == 1
    page = live_employer.get(f"{stack.portal_url}/payments/bills/{bill.id}", timeout=10)
    assert page.status_code == 200 and ">去缴费</button>" in page.text


def test_platform_down_when_a_request_issues_a_bill_then_a_later_dispatch_delivers_it(live_stack, live_employer):
    stack = live_stack
    stack.tax_state.api_unavailable = True
    bill, message = _submitted_project_bill(stack, live_employer)
    assert bill.status is BillStatus.ISSUED and bill.payment_reference is None
    assert message.delivered_at is None and message.attempts == 1 and message.last_error
    page = live_employer.get(f"{stack.portal_url}/payments/bills/{bill.id}", timeout=10)
    assert "暂时无法连接" in page.text and ">去缴费</button>" not in page.text

    stack.tax_state.api_unavailable = False
    keys = [message.key]
    assert dispatch_outbox(stack.app, keys=keys) == {"delivered": 0, "failed": 0}  # waiting for its retry
    later = utcnow() + timedelta(hours=1)
    assert dispatch_outbox(stack.app, keys=keys, now=later) == {"delivered": 1, "failed": 0}
    assert _bill(stack, bill.id).payment_reference in stack.tax_state.orders
    assert _actions(stack, bill.id).count("payments.reference_issued") == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_platform_slow_at_payment_time_stays_pending_then_catch_up_marks_paid(live_stack, live_employer):
    stack, state = live_stack, live_stack.tax_state
    state.portal_callback_url = f"http://127.0.0.1:{_closed_port()}{CALLBACK}"  # callback lost
    state.callback_attempts = 1
    bill_id = _issue(stack, live_employer.organisation_id)
    order = _pay_in_sandbox(live_employer, stack, bill_id)
    assert order.gave_up.wait(10)
    assert _bill(stack, bill_id).status is BillStatus.PENDING_CONFIRMATION

    state.api_delay_seconds = 2  # longer than the portal's 1 s timeout
    answer = live_employer.post(f"{stack.portal_url}/payments/bills/{bill_id}/refresh",
                           data={"csrf_token": live_employer.csrf}, timeout=10)
    assert answer.status_code == 200 and "待确认" in answer.text
    assert _bill(stack, bill_id).status is BillStatus.PENDING_CONFIRMATION

    state.api_delay_seconds = 0
    assert catch_up_payments(stack.app, older_than_minutes=0)["paid"] == 1
    assert _bill(stack, bill_id).status is BillStatus.PAID
    assert catch_up_payments(stack.app, older_than_minutes=0).get("paid") is None  # idempotent


def test_callback_while_portal_down_is_retried_and_lands(live_stack, live_employer):
    stack, state = live_stack, live_stack.tax_state
    port = _closed_port()
    state.portal_callback_url = f"http://127.0.0.1:{port}{CALLBACK}"
    state.callback_backoff_seconds = 0.3
    bill_id = _issue(stack, live_employer.organisation_id)
    order = _pay_in_sandbox(live_employer, stack, bill_id)
    deadline = time.monotonic() + 10
    while not order.deliveries and time.monotonic() < deadline:
        time.sleep(0.05)
    assert order.deliveries[0].error is not None  # the portal was down
    server, thread = serve_in_thread(stack.app, port=port)  # the portal comes back
    try:
        assert order.delivered.wait(15)
    finally:
        stop_server(server, thread)
    assert _bill(stack, bill_id).status is BillStatus.PAID
    assert len(order.deliveries) >= 2


def test_amount_mismatch_is_flagged(live_stack, live_employer):
    stack = live_stack
    stack.tax_state.paid_amount_offset = Decimal("-0.01")
    bill_id = _issue(stack, live_employer.organisation_id)
    order = _pay_in_sandbox(live_employer, stack, bill_id)
    assert order.delivered.wait(10)
    bill = _bill(stack, bill_id)
    assert bill.status is BillStatus.PENDING_CONFIRMATION and "不符" in bill.problem
    assert bill.paid_amount == AMOUNT - Decimal("0.01")
    assert "payments.amount_mismatch" in _actions(stack, bill_id)
    page = live_employer.get(f"{stack.portal_url}/payments/bills/{bill_id}", timeout=10)
    assert "待人工核对" in page.text
