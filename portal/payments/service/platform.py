"""The exchange with the tax collection platform, in three steps (see "Waiting for the platform"
in the package docstring): 去缴费, 查询缴费结果, the reference after issuing, the catch-up job."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.tax_collection.codes import PaymentState
from adapters.tax_collection.errors import TaxPlatformError
from portal.accounts.models import Organisation
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.db import Database, utcnow
from portal.errors import PeerUnavailable
from portal.outbox.service import DeliveryFailed
from portal.payments.models import Bill, BillAction, BillStatus
from portal.payments.service.bills import check_payable, get_bill
from portal.payments.service.lifecycle import PLATFORM_ACTOR, apply_paid, move

log = structlog.get_logger("portal.payments")


class PaymentPlatform(Protocol):
    """What the service needs from the tax collection platform; the adapter's
    ``adapters.tax_collection.client.TaxPlatformClient`` fits, and tests pass a recording fake.
    Both methods raise ``TaxPlatformError`` when there is no usable answer (outcome unknown)."""

    def issue_reference(self, *, bill_number: str, amount: Decimal, payer: str,
                        purpose: str, city_code: str) -> str: ...

    def query_payment(self, reference: str) -> Any:
        """An object with ``state`` (``PaymentState``), ``amount`` and ``paid_at``."""
        ...


_platform_provider: Callable[[], PaymentPlatform | None] | None = None


def set_platform_provider(provider: Callable[[], PaymentPlatform | None]) -> None:
    """Where services find the platform client when the caller passes none (``create_app``
    wires the client of the app in context)."""
    global _platform_provider
    _platform_provider = provider


def _platform(platform: PaymentPlatform | None) -> PaymentPlatform | None:
    if platform is not None:
        return platform
    return _platform_provider() if _platform_provider is not None else None


class RefreshOutcome(enum.StrEnum):
    PAID = "paid"  #: the platform confirms the payment (bill now paid)
    ALREADY_FINAL = "already_final"  #: paid or cancelled before; nothing asked
    NOT_PAID = "not_paid"  #: the platform has no payment yet
    UNKNOWN = "unknown"  #: no usable answer, or the platform does not know the reference
    AMOUNT_MISMATCH = "amount_mismatch"  #: paid, but not the billed amount: needs a person
    REFERENCE_ISSUED = "reference_issued"  #: the bill had no reference; it has one now
    NO_REFERENCE = "no_reference"  #: still no reference (platform unreachable)
    #: the platform no longer knew the reference: the bill has a new one (or asks again later)
    REFERENCE_RENEWED = "reference_renewed"


class QuestionKind(enum.StrEnum):
    REFERENCE = "reference"  #: 申请缴款码
    PAYMENT = "payment"  #: 查询缴费结果


@dataclass(frozen=True)
class PlatformQuestion:
    """What to ask the platform about one bill: plain values, read in a short read."""

    bill_id: int
    kind: QuestionKind
    #: 缴费单号, 应缴金额, 费用项目 and 参保地, as the platform files the bill
    bill_number: str
    amount: Decimal
    purpose: str
    city_code: str
    #: 缴费单位 (a REFERENCE question: "" otherwise), 缴款码 (a PAYMENT question: None otherwise)
    payer: str
    reference: str | None


@dataclass(frozen=True)
class PlatformAnswer:
    """The platform's answer, or ``error`` (its code) when there was no usable answer."""

    #: for a REFERENCE question; for a PAYMENT question whose reference the platform no longer
    #: knows, the new reference it issued in the same exchange (None if it gave none)
    reference: str | None = None
    payment: Any = None  #: for a PAYMENT question: ``state``, ``amount``, ``paid_at``
    error: str | None = None


# --- the three steps ------------------------------------------------------------------------------


def question_for(sess: Session, bill: Bill) -> PlatformQuestion | None:
    """Step 1: what to ask about ``bill``; None when its outcome is final (nothing to ask)."""
    if bill.status in (BillStatus.PAID, BillStatus.CANCELLED) and bill.problem is None:
        return None
    if bill.payment_reference is None and bill.status is BillStatus.CANCELLED:
        return None
    # The payer's name goes with a PAYMENT question too: a forgotten reference is renewed at once.
    with sess.no_autoflush:  # unsaved changes must reach _end_read's check, not be flushed here
        payer = sess.scalar(select(Organisation.name).where(Organisation.id == bill.organisation_id)) or ""
    asked = dict(bill_id=bill.id, bill_number=bill.number, amount=bill.amount, purpose=bill.purpose,
                 city_code=bill.city_code, payer=payer)
    if bill.payment_reference is not None:
        return PlatformQuestion(kind=QuestionKind.PAYMENT, reference=bill.payment_reference, **asked)
    return PlatformQuestion(kind=QuestionKind.REFERENCE, reference=None, **asked)


def ask_platform(question: PlatformQuestion, platform: PaymentPlatform | None = None) -> PlatformAnswer:
    """Step 2: the call, made with no database transaction open. Never raises for the platform."""
    platform = _platform(platform)
    if platform is None:
        log.warning("payments.no_platform", bill_id=question.bill_id)
        return PlatformAnswer(error="no_platform")
    try:
        if question.kind is QuestionKind.REFERENCE:
            return PlatformAnswer(reference=_issue(platform, question))
        payment = platform.query_payment(question.reference)
    except TaxPlatformError as exc:
        log.warning("payments.platform_no_answer", bill_id=question.bill_id, kind=question.kind.value,
                    code=exc.code)
        return PlatformAnswer(error=exc.code)
    if getattr(payment, "state", None) != PaymentState.NOT_FOUND:
        return PlatformAnswer(payment=payment)
    # The platform no longer knows the reference (expired or purged): ask for a new one now, so
    # the payer is never sent to a pay page that does not exist.
    try:
        renewed = _issue(platform, question)
    except TaxPlatformError as exc:
        log.warning("payments.reference_not_renewed", bill_id=question.bill_id, code=exc.code)
        renewed = None
    return PlatformAnswer(payment=payment, reference=renewed if renewed != question.reference else None)


def _issue(platform: PaymentPlatform, question: PlatformQuestion) -> str:
    return platform.issue_reference(bill_number=question.bill_number, amount=question.amount,
                                    payer=question.payer, purpose=question.purpose,
                                    city_code=question.city_code)


def apply_answer(sess: Session, actor: Actor, question: PlatformQuestion,
                 answer: PlatformAnswer) -> RefreshOutcome | None:
    """Step 3: a short write. Re-reads the bill under lock (it may have changed since step 1)
    and applies the answer idempotently. None when the bill no longer exists."""
    bill = sess.get(Bill, question.bill_id, with_for_update=True, populate_existing=True)
    if bill is None:
        return None
    bill.last_checked_at = utcnow()
    if question.kind is QuestionKind.REFERENCE:
        result = _apply_reference(sess, actor, bill, answer.reference)
    else:
        result = _apply_payment(sess, actor, bill, answer.payment, renewed=answer.reference)
        audit.record(sess, actor, "payments.queried", object_type="bill", object_id=bill.id,
                     city_code=bill.city_code, detail={"number": bill.number, "outcome": result.value})
    sess.flush()
    return result


def _apply_reference(sess: Session, actor: Actor, bill: Bill, reference: str | None) -> RefreshOutcome:
    if reference is None:
        return RefreshOutcome.REFERENCE_ISSUED if bill.payment_reference else RefreshOutcome.NO_REFERENCE
    if bill.payment_reference is None:
        bill.payment_reference = reference
        audit.record(sess, actor, "payments.reference_issued", object_type="bill", object_id=bill.id,
                     city_code=bill.city_code, detail={"number": bill.number, "reference": reference})
    elif bill.payment_reference != reference:  # the platform promises one reference per bill number
        log.warning("payments.reference_differs", bill_id=bill.id)
    return RefreshOutcome.REFERENCE_ISSUED


def _apply_payment(sess: Session, actor: Actor, bill: Bill, payment: Any, *,
                   renewed: str | None = None) -> RefreshOutcome:
    state = getattr(payment, "state", None)
    if state == PaymentState.NOT_FOUND:
        return _renew_reference(sess, actor, bill, renewed)
    if state == PaymentState.PAID:
        outcome = apply_paid(sess, actor, bill, amount=payment.amount, paid_at=payment.paid_at, source="query")
        return {"paid": RefreshOutcome.PAID, "amount_mismatch": RefreshOutcome.AMOUNT_MISMATCH}.get(
            outcome, RefreshOutcome.ALREADY_FINAL)
    if bill.status in (BillStatus.PAID, BillStatus.CANCELLED) and bill.problem is None:
        return RefreshOutcome.ALREADY_FINAL  # final meanwhile (e.g. a callback): the answer is stale
    if state == PaymentState.UNPAID:
        return RefreshOutcome.NOT_PAID
    if bill.status is BillStatus.ISSUED:
        move(sess, actor, bill, BillAction.AWAIT_CONFIRMATION, source="query")
    return RefreshOutcome.UNKNOWN


def _renew_reference(sess: Session, actor: Actor, bill: Bill, renewed: str | None) -> RefreshOutcome:
    """The platform answered that it does not know the bill's reference. Nothing can have been
    paid with it, so the bill goes back to 待缴费 with the new reference (or with none: the
    catch-up job and the pay button ask again). A final bill is left as it is."""
    if bill.status in (BillStatus.PAID, BillStatus.CANCELLED):
        return RefreshOutcome.ALREADY_FINAL
    if bill.payment_reference is None or bill.payment_reference == renewed:
        return RefreshOutcome.REFERENCE_ISSUED if bill.payment_reference else RefreshOutcome.NO_REFERENCE
    forgotten, bill.payment_reference = bill.payment_reference, renewed
    move(sess, actor, bill, BillAction.RENEW_REFERENCE, forgotten=forgotten, reference=renewed)
    return RefreshOutcome.REFERENCE_RENEWED


# --- the three steps in the caller's unit of work (the buttons) -----------------------------------


def _end_read(sess: Session) -> None:
    """End step 1's transaction, so that no lock (SQLite's writer lock, taken by BEGIN IMMEDIATE
    in a unit of work that will write) is held while the platform answers. Step 1 only read: a
    rollback loses nothing; changes not yet flushed would be lost, so they are refused.

    Step 3 then begins a new transaction in ``sess``; the buttons are POST requests, whose units
    of work begin as writers already (``portal.web.hooks``), so no ``will_write`` is needed."""
    if sess.new or sess.dirty or sess.deleted:
        raise RuntimeError("ask the platform before changing anything else in this unit of work")
    sess.rollback()


def refresh_from_platform(sess: Session, bill: Bill, *, actor: Actor | None = None,
                          platform: PaymentPlatform | None = None) -> RefreshOutcome:
    """查询缴费结果: ask the platform about the bill. Paid → 已缴费; no usable answer or an
    unknown reference → 待确认 (never "failed"); a definite "not paid yet" leaves it as it is.
    A bill without a reference asks for one instead. The three steps in ``sess``: its
    transaction so far must have only read."""
    actor = actor or PLATFORM_ACTOR
    platform = _platform(platform)
    question = question_for(sess, bill)
    if question is None:
        return RefreshOutcome.ALREADY_FINAL
    _end_read(sess)
    answer = ask_platform(question, platform)
    outcome = apply_answer(sess, actor, question, answer)
    return outcome if outcome is not None else RefreshOutcome.ALREADY_FINAL


def refresh_bill(sess: Session, actor: Actor, bill_id: int, *,
                 platform: PaymentPlatform | None = None) -> tuple[Bill, RefreshOutcome]:
    """The 查询缴费结果 button: scope check, then :func:`refresh_from_platform`."""
    bill = get_bill(sess, actor, bill_id)
    outcome = refresh_from_platform(sess, bill, actor=actor, platform=platform)
    return get_bill(sess, actor, bill_id), outcome


def start_payment(sess: Session, actor: Actor, bill_id: int, *,
                  platform: PaymentPlatform | None = None) -> tuple[Bill, RefreshOutcome | None]:
    """去缴费: the payer leaves for the platform. From now on the outcome is unknown until the
    platform reports it, so the bill is 待确认. Returns the bill and None when the payer may go
    to the platform's pay page, or the outcome to tell them instead (paid meanwhile; the
    platform had forgotten the reference and gave no new one yet).

    The platform is asked first, without holding a transaction: for a reference when the bill has
    none, otherwise whether it still knows the reference (a forgotten one is renewed in the same
    exchange), so the payer is never sent to a pay page that does not exist. Call this before
    writing anything else in ``sess``."""
    bill = get_bill(sess, actor, bill_id)
    check_payable(actor, bill)
    question = question_for(sess, bill)
    outcome = None
    if question is not None:
        platform = _platform(platform)
        _end_read(sess)
        answer = ask_platform(question, platform)
        if answer.error is None or question.kind is QuestionKind.REFERENCE:
            outcome = apply_answer(sess, actor, question, answer)
        bill = get_bill(sess, actor, bill_id)
    if bill.status in (BillStatus.PAID, BillStatus.CANCELLED):
        return bill, outcome or RefreshOutcome.ALREADY_FINAL
    if bill.payment_reference is None:
        if outcome is RefreshOutcome.REFERENCE_RENEWED:
            return bill, RefreshOutcome.NO_REFERENCE  # kept: 待缴费 without a reference, asked again
        raise PeerUnavailable("社保费征收平台暂时无法连接，尚未取得缴款码，请稍后再试")
    if bill.status is BillStatus.ISSUED:
        move(sess, actor, bill, BillAction.START_PAYMENT)
    sess.flush()
    return bill, None


# --- the three steps in transactions of their own (the outbox, the catch-up job) ------------------


def exchange(database: Database, bill_id: int, *, only: QuestionKind | None = None,
             platform: PaymentPlatform | None = None) -> RefreshOutcome | None:
    """Ask the platform about one bill as the platform actor: a short read, the call with no
    transaction open, a short write. ``only``: ask nothing unless it is that kind of question
    (the reference of a bill that has one already is not asked for again). Idempotent; None
    when the bill does not exist."""
    with database.read_session() as sess:
        bill = sess.get(Bill, bill_id)
        if bill is None:
            return None
        question = question_for(sess, bill)
    if question is None or (only is not None and question.kind is not only):
        return RefreshOutcome.ALREADY_FINAL
    answer = ask_platform(question, platform)
    with database.write_transaction() as sess:
        return apply_answer(sess, PLATFORM_ACTOR, question, answer)


def deliver_reference(database: Database, payload: dict[str, Any], *,
                      platform: PaymentPlatform | None = None) -> dict[str, Any]:
    """The outbox's delivery of ``REFERENCE_TOPIC`` (``{"bill_id": …}``): ask for the bill's
    缴款码. Raises ``DeliveryFailed`` while the platform gives none, so the outbox tries again."""
    outcome = exchange(database, int(payload["bill_id"]), only=QuestionKind.REFERENCE, platform=platform)
    if outcome is RefreshOutcome.NO_REFERENCE:
        raise DeliveryFailed("社保费征收平台暂时无法连接，尚未取得缴款码", code="no_reference")
    return {"outcome": outcome.value if outcome is not None else "missing"}


def due_for_catch_up(sess: Session, *, older_than_minutes: int, limit: int = 50) -> list[int]:
    """Ids of bills to ask about: 待确认 not asked for N minutes, or still without a reference."""
    cutoff = utcnow() - timedelta(minutes=older_than_minutes)
    stale = or_(Bill.last_checked_at.is_(None), Bill.last_checked_at <= cutoff)
    query = select(Bill.id).where(stale, or_(
        Bill.status == BillStatus.PENDING_CONFIRMATION,
        (Bill.status == BillStatus.ISSUED) & Bill.payment_reference.is_(None)))
    return list(sess.scalars(query.order_by(Bill.last_checked_at.asc().nullsfirst(), Bill.id).limit(limit)))


def catch_up_bill(sess: Session, bill_id: int, *, platform: PaymentPlatform | None = None) -> RefreshOutcome | None:
    """One bill of the catch-up, in ``sess`` (idempotent: a final bill is left alone)."""
    bill = sess.get(Bill, bill_id)
    if bill is None:
        return None
    return refresh_from_platform(sess, bill, platform=platform)
