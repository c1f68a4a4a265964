"""Payments under concurrency, over real loopback HTTP against the live stack (both databases).

- Nobody waits for the tax platform inside a write transaction: while the platform takes its
  time to answer (the sandbox is told to delay), another writer (an audit row, the most
  frequent write of all) gets through at once. Checked for every path that calls the platform:
  issuing a bill's reference when a project is submitted, 去缴费 of a bill without a reference,
  查询缴费结果, and the catch-up job.
- The same callback delivered several times at the same moment changes the bill once and
  answers every delivery alike; the same signed request (same nonce) sent several times at once
  is accepted once and refused as a replay otherwise. Never a 500.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from adapters.tax_collection import signing
from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.auth.roles import Actor
from portal.config import load_defaults
from portal.payments import service
from portal.payments.models import Bill, BillStatus, PaymentNotice
from portal.tasks.payments import catch_up_payments
from tests.payments.conftest import draft_project, issue_committed, submit_project

KEY = load_defaults()["tax_platform_key"].encode()
AMOUNT = Decimal("2345.60")
CALLBACK = "/api/payments/tax-callback"
#: how long the sandbox takes to answer; the portal's timeout is longer, so it does answer
PLATFORM_DELAY = 2.0
#: an unrelated writer must be done well before the platform answers
WRITER_BUDGET = 1.0
CONCURRENT = 8


@pytest.fixture
def app_overrides():
    return {"tax_platform_timeout_seconds": 5}


def _database(stack):
    return stack.app.extensions["portal.database"]


def _issue(stack, actor: Actor) -> int:
    return issue_committed(stack.app, actor, amount=AMOUNT)


def _bill(stack, bill_id: int) -> Bill:
    with _database(stack).read_session() as sess:
        bill = sess.get(Bill, bill_id)
        sess.expunge(bill)
        return bill


def _count(stack, model, *where) -> int:
    with _database(stack).read_session() as sess:
        return sess.scalar(select(func.count()).select_from(model).where(*where))


def _timed_audit_write(stack) -> float:
    """Seconds one unrelated audit write takes (it needs SQLite's writer lock, and on
    PostgreSQL the audit chain head)."""
    started = time.monotonic()
    with _database(stack).write_transaction() as sess:
        audit.record(sess, Actor(role=None, display_name="并发写入测试"), "test.concurrent_write",
                     object_type="test", object_id="1")
    return time.monotonic() - started


# --- the actions that wait for the platform ------------------------------------------------------


def _submit_project(stack, live_employer):
    """The contractor submits a project: the premium bill is issued, its reference requested."""
    project_id = draft_project(stack.app, live_employer.actor, name="合肥市并发测试项目")

    def act():
        submit_project(live_employer, stack.portal_url, project_id)

    def check():
        with _database(stack).read_session() as sess:
            bills = service.bills_for(sess, live_employer.actor, "project", project_id)
        assert len(bills) == 1 and bills[0].status is BillStatus.ISSUED
        assert bills[0].payment_reference in stack.tax_state.orders

    return act, check


def _pay_without_reference(stack, live_employer):
    stack.tax_state.api_unavailable = True
    bill_id = _issue(stack, live_employer.actor)
    assert _bill(stack, bill_id).payment_reference is None
    stack.tax_state.api_unavailable = False

    def act():
        answer = live_employer.post(f"{stack.portal_url}/payments/bills/{bill_id}/pay", data={"csrf_token": live_employer.csrf},
                           allow_redirects=False, timeout=20)
        assert answer.status_code == 303 and answer.headers["Location"].startswith(stack.tax_url), answer.text

    def check():
        bill = _bill(stack, bill_id)
        assert bill.status is BillStatus.PENDING_CONFIRMATION and bill.payment_reference in stack.tax_state.orders

    return act, check


def _refresh(stack, live_employer):
    bill_id = _issue(stack, live_employer.actor)
    assert _bill(stack, bill_id).payment_reference

    def act():
        answer = live_employer.post(f"{stack.portal_url}/payments/bills/{bill_id}/refresh",
                           data={"csrf_token": live_employer.csrf}, timeout=20)
        assert answer.status_code == 200 and "尚未收到这张缴费单的缴费" in answer.text

    def check():
        assert _bill(stack, bill_id).last_checked_at is not None

    return act, check


def _catch_up(stack, live_employer):
    stack.tax_state.api_unavailable = True
    bill_id = _issue(stack, live_employer.actor)
    stack.tax_state.api_unavailable = False

    def act():
        assert catch_up_payments(stack.app, older_than_minutes=0)["reference_issued"] == 1

    def check():
        assert _bill(stack, bill_id).payment_reference in stack.tax_state.orders

    return act, check


@pytest.mark.parametrize("arrange", [_submit_project, _pay_without_reference, _refresh, _catch_up],
                         ids=["submit-project", "pay-without-reference", "refresh", "catch-up-job"])
def test_a_slow_platform_blocks_no_other_writer(live_stack, live_employer, arrange):
    stack, state = live_stack, live_stack.tax_state
    act, check = arrange(stack, live_employer)
    failures: list[BaseException] = []

    def run():
        try:
            act()
        except BaseException as exc:  # noqa: BLE001  (reported below, in the test's own thread)
            failures.append(exc)

    state.api_delay_seconds = PLATFORM_DELAY
    state.api_request_arrived.clear()
    worker = threading.Thread(target=run)
    started = time.monotonic()
    worker.start()
    assert state.api_request_arrived.wait(10), "the action never called the platform"
    elapsed = _timed_audit_write(stack)
    platform_still_answering = worker.is_alive()
    worker.join(20)
    assert not failures, failures
    assert elapsed < WRITER_BUDGET, f"another writer waited {elapsed:.2f}s for the tax platform"
    assert platform_still_answering, "the platform answered before the writer was done: nothing was measured"
    assert time.monotonic() - started >= PLATFORM_DELAY  # the action did wait for the platform
    check()


# --- the same callback at the same moment ----------------------------------------------------------


def _body(reference: str, message_id: str) -> bytes:
    return json.dumps({"message_id": message_id, "reference": reference, "status": "paid",
                       "amount": f"{AMOUNT:.2f}", "paid_at": "2026-11-23T08:00:00+00:00"}).encode()


def _fire_at_once(stack, body: bytes, headers_for) -> list[requests.Response]:
    barrier = threading.Barrier(CONCURRENT)

    def post(index: int) -> requests.Response:
        headers = {**headers_for(index), "Content-Type": "application/json"}
        barrier.wait(10)
        return requests.post(stack.portal_url + CALLBACK, data=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(post, range(CONCURRENT)))


def _bill_actions(stack, bill_id: int) -> list[str]:
    with _database(stack).read_session() as sess:
        return list(sess.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "bill", AuditEvent.object_id == str(bill_id))))


def test_the_same_message_delivered_at_once_changes_the_bill_once(live_stack, live_employer):
    stack = live_stack
    bill_id = _issue(stack, live_employer.actor)
    body = _body(_bill(stack, bill_id).payment_reference, "same-moment-1")
    # a platform retry: same message id, fresh timestamp, nonce and signature
    answers = _fire_at_once(stack, body, lambda _: signing.signed_headers(KEY, "POST", CALLBACK, body))
    assert [a.status_code for a in answers] == [200] * CONCURRENT, [a.text for a in answers]
    assert {a.text for a in answers} == {answers[0].text}
    assert answers[0].json()["status"] == "paid"
    assert _bill(stack, bill_id).status is BillStatus.PAID
    assert _count(stack, PaymentNotice) == 1
    actions = _bill_actions(stack, bill_id)
    assert actions.count("payments.paid") == 1 and actions.count("payments.callback_received") == 1


def test_the_same_signed_request_sent_at_once_is_accepted_once(live_stack, live_employer):
    stack = live_stack
    bill_id = _issue(stack, live_employer.actor)
    body = _body(_bill(stack, bill_id).payment_reference, "same-moment-2")
    headers = signing.signed_headers(KEY, "POST", CALLBACK, body)  # one nonce for all
    answers = _fire_at_once(stack, body, lambda _: headers)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [401] * (CONCURRENT - 1), [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 401} == {"replayed_nonce"}
    assert _bill(stack, bill_id).status is BillStatus.PAID
    assert _count(stack, PaymentNotice) == 1
    assert _bill_actions(stack, bill_id).count("payments.paid") == 1
