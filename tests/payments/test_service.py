"""Bills and payment status, with a recording fake platform (both databases)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from adapters.tax_collection.errors import TaxPlatformError
from portal.audit.models import AuditEvent
from portal.auth.roles import Actor, Role
from portal.db import utcnow
from portal.errors import ConflictError, NotFoundError
from portal.outbox.models import OutboxMessage
from portal.payments import service
from portal.payments.models import Bill, BillStatus, PaymentNotice
from tests.payments.conftest import PAID_AT, SUBJECT, deliver_references

AMOUNT = Decimal("1500.00")


def _issue_uncommitted(db, employer, subject_id=7, amount=AMOUNT) -> Bill:
    return service.issue_bill(db, employer, subject_type=SUBJECT, subject_id=subject_id,
                              organisation_id=employer.organisation_id, city_code="340100", amount=amount,
                              purpose=service.PURPOSE_PROJECT_PREMIUM)


def _issue(db, employer, platform, amount=AMOUNT) -> Bill:
    """Issue and commit, then deliver the reference request as the request edge would."""
    bill = _issue_uncommitted(db, employer, amount=amount)
    db.commit()
    deliver_references(platform)
    _reload(db, bill)
    return bill


def _reload(db, bill) -> None:
    """See what other transactions committed (SQLite keeps a read transaction's snapshot)."""
    db.rollback()
    db.refresh(bill)


def _reference_request(db, bill) -> OutboxMessage | None:
    return db.scalar(select(OutboxMessage).where(OutboxMessage.key == f"{service.REFERENCE_TOPIC}:{bill.id}")
                     .execution_options(populate_existing=True))


def _callback(db, bill, message_id="m1", amount=AMOUNT) -> Bill:
    body = json.dumps({"message_id": message_id, "amount": str(amount)}).encode()
    result = service.record_callback(db, message_id=message_id, reference=bill.payment_reference, status="paid",
                                     amount=amount, paid_at=PAID_AT, raw=body)
    db.commit()
    return result


def _actions(db, bill) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "bill",
                                                            AuditEvent.object_id == str(bill.id))
                           .order_by(AuditEvent.seq)))


def test_issue_bill_gets_reference_and_is_audited(db, employer, platform):
    bill = _issue(db, employer, platform)
    assert bill.number.startswith("GS") and len(bill.number) == 16
    assert bill.status is BillStatus.ISSUED and bill.payment_reference == f"REF{bill.number}"
    assert platform.calls == [("issue", bill.number, AMOUNT)]
    assert _actions(db, bill) == ["payments.bill_issued", "payments.reference_issued"]


def test_platform_down_leaves_bill_issued_without_reference_then_catch_up_gets_it(db, employer, platform):
    platform.down = True
    bill = _issue(db, employer, platform)
    assert bill.status is BillStatus.ISSUED and bill.payment_reference is None
    assert "暂时无法连接" in service.status_message(bill)
    assert bill.id in service.due_for_catch_up(db, older_than_minutes=0)
    platform.down = False
    assert service.catch_up_bill(db, bill.id, platform=platform) is service.RefreshOutcome.REFERENCE_ISSUED
    db.commit()
    assert bill.payment_reference and bill.status is BillStatus.ISSUED


def test_callback_marks_paid_once_and_duplicate_changes_nothing(db, employer, platform, paid_calls):
    bill = _issue(db, employer, platform)
    assert _callback(db, bill).status is BillStatus.PAID
    assert bill.paid_at == PAID_AT and bill.paid_amount == AMOUNT and paid_calls == [bill.id]
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    assert _callback(db, bill) is bill  # same message id
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert paid_calls == [bill.id]
    assert db.scalar(select(func.count()).select_from(PaymentNotice)) == 1
    assert "payments.paid" in _actions(db, bill)


def test_amount_mismatch_is_flagged_not_paid(db, employer, platform, paid_calls):
    bill = _issue(db, employer, platform)
    _callback(db, bill, amount=Decimal("1400.00"))
    assert bill.status is BillStatus.PENDING_CONFIRMATION and bill.problem and "不符" in bill.problem
    assert paid_calls == [] and "payments.amount_mismatch" in _actions(db, bill)


def test_unknown_reference_is_not_found(db, employer, platform):
    with pytest.raises(NotFoundError) as info:
        service.record_callback(db, message_id="mx", reference="nope", status="paid", amount=AMOUNT,
                                paid_at=PAID_AT, raw=b"{}")
    assert info.value.code == "unknown_reference"


def test_query_unknown_keeps_pending_then_paid(db, employer, platform, paid_calls):
    bill = _issue(db, employer, platform)
    service.start_payment(db, employer, bill.id, platform=platform)
    db.commit()
    assert bill.status is BillStatus.PENDING_CONFIRMATION
    platform.down = True
    assert service.refresh_from_platform(db, bill, platform=platform) is service.RefreshOutcome.UNKNOWN
    assert bill.status is BillStatus.PENDING_CONFIRMATION
    platform.down = False
    assert service.refresh_from_platform(db, bill, platform=platform) is service.RefreshOutcome.NOT_PAID
    platform.paid[bill.payment_reference] = (AMOUNT, PAID_AT)
    assert service.refresh_from_platform(db, bill, platform=platform) is service.RefreshOutcome.PAID
    db.commit()
    assert bill.status is BillStatus.PAID and paid_calls == [bill.id]
    assert service.refresh_from_platform(db, bill, platform=platform) is service.RefreshOutcome.ALREADY_FINAL


def test_a_forgotten_reference_is_renewed_when_asked_and_the_bill_waits_for_payment_again(
        db, employer, platform, paid_calls):
    """Issue 12 point 6: the platform answers 缴款码不存在 for the bill's reference."""
    bill = _issue(db, employer, platform)
    service.start_payment(db, employer, bill.id, platform=platform)
    db.commit()
    old = bill.payment_reference
    platform.forgotten.add(old)
    outcome = service.refresh_from_platform(db, bill, platform=platform)
    db.commit()
    assert outcome is service.RefreshOutcome.REFERENCE_RENEWED
    assert bill.status is BillStatus.ISSUED and bill.payment_reference not in (None, old)
    assert "payments.reference_renewed" in _actions(db, bill)
    platform.paid[bill.payment_reference] = (AMOUNT, PAID_AT)
    assert service.refresh_from_platform(db, bill, platform=platform) is service.RefreshOutcome.PAID


def test_pay_checks_the_reference_first_and_never_leaves_for_a_forgotten_one(db, employer, platform):
    bill = _issue(db, employer, platform)
    old = bill.payment_reference
    platform.forgotten.add(old)
    _, instead = service.start_payment(db, employer, bill.id, platform=platform)
    db.commit()
    assert instead is None and bill.status is BillStatus.PENDING_CONFIRMATION
    assert bill.payment_reference not in (None, old)
    assert ("query", old) in platform.calls


def test_a_forgotten_reference_the_platform_cannot_renew_yet_is_cleared_and_asked_again(
        db, employer, platform):
    bill = _issue(db, employer, platform)
    platform.forgotten.add(bill.payment_reference)

    def unreachable(**_):
        raise TaxPlatformError("down", code="unreachable")

    issue = platform.issue_reference
    platform.issue_reference = unreachable
    _, instead = service.start_payment(db, employer, bill.id, platform=platform)
    db.commit()
    assert instead is service.RefreshOutcome.NO_REFERENCE
    assert bill.status is BillStatus.ISSUED and bill.payment_reference is None
    assert service.due_for_catch_up(db, older_than_minutes=0) == [bill.id]
    platform.issue_reference = issue
    assert service.catch_up_bill(db, bill.id, platform=platform) is service.RefreshOutcome.REFERENCE_ISSUED
    db.commit()
    assert bill.payment_reference is not None


def test_scope_and_cancel(db, employer, platform):
    bill = _issue(db, employer, platform)
    other = Actor(role=Role.EMPLOYER, organisation_id=employer.organisation_id + 1000)
    wuhu = Actor(role=Role.CLERK, city_code="340200")
    hefei = Actor(role=Role.CLERK, city_code="340100")
    for outsider in (other, wuhu, Actor(role=Role.WORKER, person_id=1)):
        with pytest.raises(NotFoundError):
            service.get_bill(db, outsider, bill.id)
        assert service.bills_for(db, outsider, SUBJECT, 7) == []
    assert service.get_bill(db, hefei, bill.id) is bill
    assert service.bills_for(db, employer, SUBJECT, 7) == [bill]
    assert service.list_bills(db, employer).total == 1 and service.list_bills(db, wuhu).total == 0
    service.cancel_bill(db, hefei, bill, reason="重新开具")
    assert bill.status is BillStatus.CANCELLED
    with pytest.raises(ConflictError):
        service.start_payment(db, employer, bill.id, platform=platform)


STEPS = st.lists(st.sampled_from(["callback", "duplicate", "query"]), min_size=0, max_size=6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, position=st.integers(min_value=0, max_value=6))
def test_any_sequence_ends_as_the_single_callback(db, employer, platform, paid_calls, steps, position):
    """callback, duplicate callbacks and queries in any order = one callback."""
    reference_bill = _issue(db, employer, platform)
    _callback(db, reference_bill, message_id=f"ref-{reference_bill.id}")

    bill = _issue(db, employer, platform)
    platform.paid[bill.payment_reference] = (AMOUNT, PAID_AT)
    paid_calls.clear()
    for step in [*steps[:position], "callback", *steps[position:]]:
        if step in ("callback", "duplicate"):
            _callback(db, bill, message_id=f"msg-{bill.id}")
        else:
            service.refresh_from_platform(db, bill, platform=platform)
            db.commit()
    final = lambda b: (b.status, b.paid_at, b.paid_amount, b.problem)
    assert final(bill) == final(reference_bill)
    assert paid_calls == [bill.id]
    assert _actions(db, bill).count("payments.paid") == 1


def test_reference_is_asked_for_through_the_outbox_only_after_the_issuing_transaction_commits(
        db, employer, platform):
    bill = _issue_uncommitted(db, employer)
    assert platform.calls == [] and bill.payment_reference is None
    assert "正在获取缴款码" in service.status_message(bill)
    message = _reference_request(db, bill)
    assert message.topic == service.REFERENCE_TOPIC and message.aggregate == f"bill:{bill.id}"
    assert message.data == {"bill_id": bill.id}
    db.commit()
    assert platform.calls == []  # a commit alone calls nobody: the request edge dispatches
    assert deliver_references(platform) == {"delivered": 1, "failed": 0}
    assert platform.calls == [("issue", bill.number, AMOUNT)]
    _reload(db, bill)
    assert bill.payment_reference == f"REF{bill.number}" and bill.last_checked_at is not None
    assert _reference_request(db, bill).delivered_at is not None

    rolled_back = _issue_uncommitted(db, employer, subject_id=8)
    number, rolled_back_id = rolled_back.number, rolled_back.id
    db.rollback()
    assert deliver_references(platform) == {"delivered": 0, "failed": 0}
    assert ("issue", number, AMOUNT) not in platform.calls
    assert db.scalar(select(OutboxMessage).where(OutboxMessage.aggregate == f"bill:{rolled_back_id}")) is None


def test_platform_down_keeps_the_reference_request_pending_and_a_later_dispatch_delivers_it(
        db, employer, platform):
    platform.down = True
    bill = _issue(db, employer, platform)
    assert bill.payment_reference is None and "暂时无法连接" in service.status_message(bill)
    message = _reference_request(db, bill)
    assert message.delivered_at is None and message.attempts == 1
    assert message.last_error.startswith("no_reference")
    assert deliver_references(platform) == {"delivered": 0, "failed": 0}  # backing off

    platform.down = False
    later = utcnow() + timedelta(hours=1)
    assert deliver_references(platform, now=later) == {"delivered": 1, "failed": 0}
    _reload(db, bill)
    assert bill.payment_reference == f"REF{bill.number}" and bill.status is BillStatus.ISSUED
    assert _reference_request(db, bill).delivered_at is not None
    assert _actions(db, bill).count("payments.reference_issued") == 1


def test_a_reference_request_for_a_bill_that_has_one_asks_nothing(db, employer, platform):
    platform.down = True
    bill = _issue(db, employer, platform)
    platform.down = False
    assert service.catch_up_bill(db, bill.id, platform=platform) is service.RefreshOutcome.REFERENCE_ISSUED
    db.commit()
    platform.calls.clear()
    assert deliver_references(platform, now=utcnow() + timedelta(hours=1)) == {"delivered": 1, "failed": 0}
    assert platform.calls == []


def test_no_global_session_listener_asks_for_references():
    """Post-commit calls go through the outbox only (issue 11): no SQLAlchemy session event
    listener anywhere in the portal."""
    portal = Path(__file__).resolve().parents[2] / "portal"
    offenders = [str(path) for path in portal.rglob("*.py")
                 if "listens_for(Session" in path.read_text(encoding="utf-8")]
    assert offenders == []


def test_an_answer_is_applied_to_the_bill_as_it_is_now(db, employer, platform, paid_calls):
    """The bill may change while the platform answers: a callback marks it paid, so the older
    answer "not paid" or "unknown" must not undo that, and "paid" must not pay twice."""
    bill = _issue(db, employer, platform)
    question = service.question_for(db, bill)
    assert question.kind is service.QuestionKind.PAYMENT
    unpaid = service.ask_platform(question, platform)
    platform.down = True
    unknown = service.ask_platform(question, platform)
    assert unknown.error == "timeout"
    platform.down = False
    platform.paid[bill.payment_reference] = (AMOUNT, PAID_AT)
    paid = service.ask_platform(question, platform)
    db.rollback()

    _callback(db, bill)  # lands while the platform was answering
    for answer in (unpaid, unknown, paid):
        assert service.apply_answer(db, employer, question, answer) is service.RefreshOutcome.ALREADY_FINAL
        db.commit()
    assert bill.status is BillStatus.PAID and paid_calls == [bill.id]
    assert _actions(db, bill).count("payments.paid") == 1


def test_reference_answer_is_idempotent(db, employer, platform):
    platform.down = True
    bill = _issue(db, employer, platform)
    platform.down = False
    question = service.question_for(db, bill)
    assert question.kind is service.QuestionKind.REFERENCE and question.payer == "安徽测试建设集团有限公司"
    answer = service.ask_platform(question, platform)
    db.rollback()
    for _ in range(2):  # e.g. the catch-up job and the 查询缴费结果 button at once
        assert service.apply_answer(db, employer, question, answer) is service.RefreshOutcome.REFERENCE_ISSUED
        db.commit()
    assert bill.payment_reference == answer.reference
    assert _actions(db, bill).count("payments.reference_issued") == 1


def test_asking_refuses_a_unit_of_work_with_unsaved_changes(db, employer, platform):
    bill = _issue(db, employer, platform)
    bill.problem = "未保存的修改"
    with pytest.raises(RuntimeError):
        service.refresh_from_platform(db, bill, platform=platform)
