"""A bill's statuses (``BILL_STATES``) and the one place a bill becomes 已缴费."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from portal.auth.roles import Actor
from portal.db import utcnow
from portal.money import yuan
from portal.payments.models import Bill, BillAction, BillStatus
from portal.states import StateMachine

S, A = BillStatus, BillAction

#: issued (待缴费) → pending_confirmation (待确认) → paid (已缴费), or issued → cancelled (已作废).
#: Issuing creates the bill (audited as ``payments.bill_issued``), so the machine starts at
#: 待缴费. An answer that is missing, slow or unreadable never makes a bill paid or failed: it
#: waits in 待确认. The two flags keep the status and ask a person to look (``Bill.problem``).
#: A reference the platform has forgotten sends the bill back to 待缴费 with a new one.
BILL_STATES: StateMachine[BillStatus, BillAction] = StateMachine(
    name="payments",
    object_type="bill",
    transitions={
        (S.ISSUED, A.START_PAYMENT): S.PENDING_CONFIRMATION,
        (S.ISSUED, A.AWAIT_CONFIRMATION): S.PENDING_CONFIRMATION,
        (S.ISSUED, A.PAY): S.PAID,
        (S.PENDING_CONFIRMATION, A.PAY): S.PAID,
        (S.ISSUED, A.FLAG_AMOUNT_MISMATCH): S.PENDING_CONFIRMATION,
        (S.PENDING_CONFIRMATION, A.FLAG_AMOUNT_MISMATCH): S.PENDING_CONFIRMATION,
        (S.ISSUED, A.RENEW_REFERENCE): S.ISSUED,
        (S.PENDING_CONFIRMATION, A.RENEW_REFERENCE): S.ISSUED,
        (S.ISSUED, A.CANCEL): S.CANCELLED,
        (S.CANCELLED, A.FLAG_PAID_AFTER_CANCEL): S.CANCELLED,
    },
    starts_at=frozenset({S.ISSUED}),
)

#: Who acts when the platform reports a payment (audit trail, subject areas' timelines).
PLATFORM_ACTOR = Actor(role=None, display_name="社保费征收平台")

PaidHandler = Callable[[Session, Bill], None]
_paid_handlers: dict[str, list[PaidHandler]] = {}


def register_paid_handler(subject_type: str, fn: PaidHandler) -> None:
    """Call ``fn(sess, bill)`` in the transaction that marks a bill of ``subject_type`` paid."""
    handlers = _paid_handlers.setdefault(subject_type, [])
    if fn not in handlers:
        handlers.append(fn)


def move(sess: Session, actor: Actor, bill: Bill, action: BillAction, **detail: Any) -> None:
    """Change the bill's status through ``BILL_STATES`` (audited as ``payments.<action>``)."""
    BILL_STATES.apply(sess, actor, bill, action, detail={"number": bill.number, **detail})
    bill.updated_at = utcnow()


def apply_paid(sess: Session, actor: Actor, bill: Bill, *, amount: Decimal, paid_at: datetime,
               source: str) -> str:
    """The platform says the bill was paid (``source``: callback or query). Returns what that
    did: paid, already_paid, amount_mismatch or bill_cancelled. Idempotent."""
    if bill.status is BillStatus.PAID:
        return "already_paid"
    if bill.status is BillStatus.CANCELLED:
        if bill.problem is None:
            bill.problem = f"已作废的缴费单收到缴费 {yuan(amount)} 元，待人工核对退费"
            bill.paid_amount, bill.paid_at = amount, paid_at
            move(sess, actor, bill, BillAction.FLAG_PAID_AFTER_CANCEL, amount=str(amount), source=source)
        return "bill_cancelled"
    if amount != bill.amount:
        if bill.paid_amount != amount or bill.problem is None:
            bill.paid_amount, bill.paid_at = amount, paid_at
            bill.problem = f"实缴金额 {yuan(amount)} 元与应缴金额 {yuan(bill.amount)} 元不符，待人工核对"
            move(sess, actor, bill, BillAction.FLAG_AMOUNT_MISMATCH, billed=str(bill.amount), paid=str(amount),
                 source=source)
        return "amount_mismatch"
    bill.paid_amount, bill.paid_at, bill.problem = amount, paid_at, None
    move(sess, actor, bill, BillAction.PAY, amount=str(amount), source=source)
    for handler in _paid_handlers.get(bill.subject_type, ()):
        handler(sess, bill)
    sess.flush()
    return "paid"
