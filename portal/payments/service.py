"""Bills (缴费单) and their payment through the tax collection platform (社保费征收).

How a subject area (projects, units) uses this module
-----------------------------------------------------
1. Issue a bill in the same transaction as the change that makes money due::

       from portal.payments import service as payments
       bill = payments.issue_bill(sess, actor, subject_type="project", subject_id=project.id,
                                  organisation_id=project.organisation_id,
                                  city_code=project.city_code, amount=premium,
                                  purpose=payments.PURPOSE_PROJECT_PREMIUM)

   The bill is written as 待缴费 without a payment reference (缴款码). The reference is asked
   for right **after your transaction commits** (see "Waiting for the platform" below); when the
   platform cannot be reached the bill stays 待缴费 without a reference and the catch-up job
   (portal.tasks.payments) asks again. ``issue_bill`` never calls the platform itself and never
   raises because the platform is down; a transaction that rolls back asks for nothing.

2. Learn that a bill was paid, inside the same transaction that marks it paid, by registering a
   handler once at import time of your service module::

       def _on_paid(sess, bill):  # bill.subject_type == "project"
           project = sess.get(Project, bill.subject_id); project.mark_covered(...)
       payments.register_paid_handler("project", _on_paid)

   The handler runs exactly once per bill (duplicate callbacks and catch-up queries do not call
   it again). It must not commit; raising rolls the payment back, and the platform's callback is
   retried later.

3. List the bills of a subject for a page: ``payments.bills_for(sess, actor, "project", id)``
   (scope-checked: the organisation itself, or staff of the bill's city).

A bill's status: issued (待缴费) → pending_confirmation (待确认) → paid (已缴费), or cancelled.
An answer from the platform that is missing, slow or unreadable never makes a bill paid or failed:
the bill waits in 待确认 until a signed callback or a catch-up query says it is paid.

Waiting for the platform
------------------------
A call to the platform may take up to its timeout (``tax_platform_timeout_seconds``). Nobody may
wait for it inside a write transaction: on SQLite that holds the database's only writer lock
(every other writer, the audit of a read of personal data included, would wait seconds), on
PostgreSQL the bill row and the audit chain head. Every exchange with the platform therefore
has three steps:

1. :func:`question_for`: a short read decides what to ask (a reference, or the payment state);
   the read transaction ends before the call;
2. :func:`ask_platform`: the call, with no transaction open;
3. :func:`apply_answer`: a short write that re-reads the bill under lock and applies the answer
   idempotently; the bill may have changed meanwhile (a callback marked it paid, a clerk
   cancelled it, another process already stored the reference), and a stale answer never
   undoes what happened since.

The 查询缴费结果 and 去缴费 actions (:func:`refresh_bill`, :func:`start_payment`) run the three
steps in the request's unit of work: they end the (read-only) transaction of their first step
themselves, so call them before changing anything else in that unit of work. The catch-up job
runs them in separate read and write transactions.

Issuing a bill happens inside the caller's transaction (projects: the request that submits the
project), which must not wait for the platform either. Of the two ways out, a Huey task that
fetches the reference later, with the page polling "正在获取缴款码", or a synchronous request
made *after* the caller's transaction has committed, this module takes the second: an
``after_commit`` hook on the caller's session asks for the reference (no transaction open) and
stores it in a short write transaction of its own. The employer who submits a project thus
lands on a page where 去缴费 already works, as before, without a worker process being
needed for it; a response may be delayed by up to the platform's timeout, but no lock is held
meanwhile. Until the reference is stored the bill says 正在获取缴款码; if the platform did not
answer it says so, and the catch-up job retries. A Huey task would add a second moving part for
the same result, and the catch-up job already is the retry.
"""

from __future__ import annotations

import contextvars
import enum
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from adapters.tax_collection import signing
from adapters.tax_collection.codes import PaymentState
from adapters.tax_collection.errors import SignatureError, TaxPlatformError
from portal.accounts.models import Organisation
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import set_write_intent, utcnow
from portal.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PeerUnavailable,
    UserInputError,
)
from portal.money import to_fen, yuan
from portal.paging import page_count
from portal.payments.models import Bill, BillStatus, CallbackNonce, PaymentNotice

log = structlog.get_logger("portal.payments")

PURPOSE_PROJECT_PREMIUM = "项目参保保费"
PURPOSE_SUPPLEMENTARY = "补缴保费"
PURPOSE_UNIT_PREMIUM = "单位参保保费"

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
#: Who acts when the platform reports a payment (audit trail, subject areas' timelines).
PLATFORM_ACTOR = Actor(role=None, display_name="社保费征收平台")
PER_PAGE = 20

_SUBJECT_TYPE = re.compile(r"^[a-z_]{1,20}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PaymentPlatform(Protocol):
    """What the service needs from the tax collection platform; the adapter's
    ``adapters.tax_collection.client.TaxPlatformClient`` fits, and tests pass a recording fake.
    Both methods raise ``TaxPlatformError`` when there is no usable answer (outcome unknown)."""

    def issue_reference(self, *, bill_number: str, amount: Decimal, payer: str,
                        purpose: str, city_code: str) -> str: ...

    def query_payment(self, reference: str) -> Any:
        """An object with ``state`` (``PaymentState``), ``amount`` and ``paid_at``."""
        ...


PaidHandler = Callable[[Session, Bill], None]
_paid_handlers: dict[str, list[PaidHandler]] = {}
_platform_provider: Callable[[], PaymentPlatform | None] | None = None


def register_paid_handler(subject_type: str, fn: PaidHandler) -> None:
    """Call ``fn(sess, bill)`` in the transaction that marks a bill of ``subject_type`` paid."""
    handlers = _paid_handlers.setdefault(subject_type, [])
    if fn not in handlers:
        handlers.append(fn)


def set_platform_provider(provider: Callable[[], PaymentPlatform | None]) -> None:
    """Where services find the platform client when the caller passes none (set by the web
    layer: the client of the current app)."""
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


# --- scope --------------------------------------------------------------------------------------


def _visible(actor: Actor, bill: Bill) -> bool:
    return actor.owns_organisation(bill.organisation_id) or actor.can_see_city(bill.city_code)


def get_bill(sess: Session, actor: Actor, bill_id: int) -> Bill:
    """The bill if the actor may see it: its own organisation, or staff of its city."""
    bill = sess.get(Bill, bill_id)
    if bill is None or not _visible(actor, bill):
        raise NotFoundError("缴费单不存在")
    return bill


def bills_for(sess: Session, actor: Actor, subject_type: str, subject_id: int) -> list[Bill]:
    """The bills of one subject (e.g. one project) the actor may see, newest first."""
    query = select(Bill).where(Bill.subject_type == subject_type, Bill.subject_id == subject_id)
    return [b for b in sess.scalars(query.order_by(Bill.id.desc())) if _visible(actor, b)]


@dataclass
class BillPage:
    bills: Sequence[Bill]
    page: int
    pages: int
    total: int


def list_bills(sess: Session, actor: Actor, *, status: BillStatus | None = None, page: int = 1) -> BillPage:
    """An employer's own bills, or the bills of a staff member's city (provincial: all)."""
    query = select(Bill)
    if actor.role is Role.EMPLOYER and actor.organisation_id is not None:
        query = query.where(Bill.organisation_id == actor.organisation_id)
    elif actor.role is Role.PROVINCIAL:
        pass
    elif actor.role is not None and actor.role.is_city_staff and actor.city_code:
        query = query.where(Bill.city_code == actor.city_code)
    else:
        return BillPage([], 1, 1, 0)
    if status is not None:
        query = query.where(Bill.status == status)
    total = sess.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = page_count(total, PER_PAGE)
    page = min(max(1, page), pages)
    bills = sess.scalars(query.order_by(Bill.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return BillPage(bills, page, pages, total)


# --- issuing ------------------------------------------------------------------------------------


def issue_bill(sess: Session, actor: Actor, *, subject_type: str, subject_id: int,
               organisation_id: int, city_code: str, amount: Decimal, purpose: str,
               platform: PaymentPlatform | None = None) -> Bill:
    """开具缴费单 and ask the platform for its 缴款码.

    When the platform cannot be reached the bill stays 待缴费 without a reference (never an
    error for the caller); the catch-up job (portal.tasks.payments) asks again.
    """
    if not _SUBJECT_TYPE.match(subject_type or ""):
        raise ValueError(f"bad subject_type {subject_type!r}")
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    amount = to_fen(amount)
    if amount <= 0:
        raise UserInputError("缴费金额必须大于零")
    if not re.fullmatch(r"\d{6}", city_code or ""):
        raise UserInputError("参保地区划代码不正确")
    now = utcnow()
    bill = Bill(number=f"tmp-{uuid.uuid4().hex[:20]}", subject_type=subject_type,
                subject_id=subject_id, organisation_id=organisation_id, city_code=city_code,
                purpose=purpose, amount=amount, currency="CNY", status=BillStatus.ISSUED,
                created_at=now, updated_at=now)
    sess.add(bill)
    sess.flush()
    bill.number = f"GS{now.astimezone(LOCAL_TZ):%Y%m%d}{bill.id:06d}"
    audit.record(sess, actor, "payments.bill_issued", object_type="bill", object_id=bill.id,
                 city_code=city_code, detail={"number": bill.number, "subject_type": subject_type,
                                              "subject_id": subject_id, "amount": str(amount),
                                              "purpose": purpose})
    sess.flush()
    _request_reference_after_commit(sess, actor, bill, _platform(platform))
    return bill


# Bills issued in a session's open transaction, whose reference is asked for once it commits.
_AFTER_COMMIT = "portal.payments.references_after_commit"


@dataclass(frozen=True)
class _PendingReference:
    bill: Bill
    bill_id: int
    actor: Actor
    platform: PaymentPlatform | None


def _request_reference_after_commit(sess: Session, actor: Actor, bill: Bill,
                                    platform: PaymentPlatform | None) -> None:
    sess.info.setdefault(_AFTER_COMMIT, []).append(_PendingReference(bill, bill.id, actor, platform))


@event.listens_for(Session, "after_commit")
def _after_commit(sess: Session) -> None:
    # Fired for a released SAVEPOINT too: only the outermost commit makes the bill real.
    if sess.in_nested_transaction():
        return
    pending = sess.info.pop(_AFTER_COMMIT, None)
    if not pending:
        return
    engine = sess.get_bind()
    for item in pending:
        try:
            # A copied context: the write intent set for the short transactions stays in there.
            contextvars.copy_context().run(_fetch_reference, engine, item)
        except Exception:  # the caller's transaction is committed: never make it look failed
            log.exception("payments.reference_after_commit_failed", bill_id=item.bill_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(sess: Session) -> None:
    # A rolled-back SAVEPOINT may have held some of the bills; a bill that is gone is skipped
    # when the outer transaction commits. A rolled-back transaction asks for nothing.
    if not sess.in_nested_transaction():
        sess.info.pop(_AFTER_COMMIT, None)


def _fetch_reference(engine, item: _PendingReference) -> None:
    """The three steps for the reference of a bill just committed (see the module docstring)."""
    set_write_intent(False)
    with Session(engine) as sess:
        bill = sess.get(Bill, item.bill_id)
        question = question_for(sess, bill) if bill is not None else None
    if question is None or question.kind is not QuestionKind.REFERENCE:
        return  # gone, or someone (a test, another process) already gave it a reference
    answer = ask_platform(question, item.platform)
    set_write_intent(True)
    with Session(engine, expire_on_commit=False) as sess, sess.begin():
        apply_answer(sess, item.actor, question, answer)
        bill = sess.get(Bill, item.bill_id)
        stored = {name: getattr(bill, name) for name in ("payment_reference", "last_checked_at", "updated_at")}
    # The caller's session does not expire objects on commit: keep its copy of the bill in step
    # with the database, as if it had been loaded again.
    for name, value in stored.items():
        set_committed_value(item.bill, name, value)


def cancel_bill(sess: Session, actor: Actor, bill: Bill, *, reason: str) -> Bill:
    """作废 an unpaid bill (e.g. replaced by a new one). A bill whose payment may be under way
    (待确认) or is paid cannot be cancelled."""
    if not _visible(actor, bill):
        raise NotFoundError("缴费单不存在")
    if bill.status is BillStatus.CANCELLED:
        return bill
    if bill.status is not BillStatus.ISSUED:
        raise ConflictError(f"缴费单{bill.status.label}，不能作废")
    bill.status = BillStatus.CANCELLED
    bill.cancel_reason = reason[:200]
    audit.record(sess, actor, "payments.bill_cancelled", object_type="bill", object_id=bill.id,
                 city_code=bill.city_code, detail={"number": bill.number, "reason": reason[:200]})
    sess.flush()
    return bill


def _check_payable(actor: Actor, bill: Bill) -> None:
    if not actor.owns_organisation(bill.organisation_id):
        raise NotFoundError("缴费单不存在")
    if bill.status is BillStatus.PAID:
        raise ConflictError("该缴费单已缴费，无需重复缴纳")
    if bill.status is BillStatus.CANCELLED:
        raise ConflictError("该缴费单已作废，请缴纳新的缴费单")


def start_payment(sess: Session, actor: Actor, bill_id: int, *, platform: PaymentPlatform | None = None) -> Bill:
    """去缴费: the payer leaves for the platform. From now on the outcome is unknown until the
    platform reports it, so the bill is 待确认.

    A bill still without a reference asks the platform for one first, without holding a
    transaction (see "Waiting for the platform"): call this before writing anything else in
    ``sess``."""
    bill = get_bill(sess, actor, bill_id)
    _check_payable(actor, bill)
    if bill.payment_reference is None:
        question = question_for(sess, bill)
        platform = _platform(platform)
        _end_read(sess)
        if question is not None:
            apply_answer(sess, actor, question, ask_platform(question, platform))
        bill = get_bill(sess, actor, bill_id)
        _check_payable(actor, bill)  # it may have changed while the platform answered
        if bill.payment_reference is None:
            raise PeerUnavailable("社保费征收平台暂时无法连接，尚未取得缴款码，请稍后再试")
    if bill.status is BillStatus.ISSUED:
        _set_status(sess, actor, bill, BillStatus.PENDING_CONFIRMATION, "payments.payment_started")
    sess.flush()
    return bill


def _set_status(sess: Session, actor: Actor, bill: Bill, status: BillStatus, action: str, **detail) -> None:
    old = bill.status
    bill.status = status
    bill.updated_at = utcnow()
    audit.record(sess, actor, action, object_type="bill", object_id=bill.id, city_code=bill.city_code,
                 detail={"number": bill.number, "from": old.value, "to": status.value, **detail})


# --- learning of payments -----------------------------------------------------------------------


def _apply_paid(sess: Session, actor: Actor, bill: Bill, *, amount: Decimal, paid_at: datetime,
                source: str) -> str:
    """The platform says the bill was paid: the one place a bill becomes 已缴费."""
    if bill.status is BillStatus.PAID:
        return "already_paid"
    if bill.status is BillStatus.CANCELLED:
        if bill.problem is None:
            bill.problem = f"已作废的缴费单收到缴费 {yuan(amount)} 元，待人工核对退费"
            bill.paid_amount, bill.paid_at = amount, paid_at
            audit.record(sess, actor, "payments.paid_after_cancel", object_type="bill", object_id=bill.id,
                         city_code=bill.city_code, detail={"number": bill.number, "amount": str(amount),
                                                           "source": source})
        return "bill_cancelled"
    if amount != bill.amount:
        if bill.paid_amount != amount or bill.problem is None:
            bill.paid_amount, bill.paid_at = amount, paid_at
            bill.problem = f"实缴金额 {yuan(amount)} 元与应缴金额 {yuan(bill.amount)} 元不符，待人工核对"
            audit.record(sess, actor, "payments.amount_mismatch", object_type="bill", object_id=bill.id,
                         city_code=bill.city_code, detail={"number": bill.number, "billed": str(bill.amount),
                                                           "paid": str(amount), "source": source})
            if bill.status is BillStatus.ISSUED:
                _set_status(sess, actor, bill, BillStatus.PENDING_CONFIRMATION, "payments.awaiting_confirmation",
                            source=source)
        return "amount_mismatch"
    bill.paid_amount, bill.paid_at, bill.problem = amount, paid_at, None
    _set_status(sess, actor, bill, BillStatus.PAID, "payments.paid", amount=str(amount), source=source)
    for handler in _paid_handlers.get(bill.subject_type, ()):
        handler(sess, bill)
    sess.flush()
    return "paid"


def record_callback(sess: Session, *, message_id: str, reference: str, status: str,
                    amount: Decimal, paid_at: datetime | None, raw: bytes,
                    signature_ok: bool = True) -> Bill:
    """缴费结果通知 from the platform. Idempotent: a message id seen before changes nothing and
    returns the same bill, also when two deliveries of it arrive at the same moment. Unknown
    reference → NotFoundError(code="unknown_reference")."""
    # The bill's row lock serialises the deliveries of its messages (PostgreSQL; SQLite has
    # one writer anyway): a concurrent duplicate waits here, then finds the first one's notice.
    bill = sess.scalar(select(Bill).where(Bill.payment_reference == reference).with_for_update()
                       .execution_options(populate_existing=True))
    seen = sess.scalar(select(PaymentNotice).where(PaymentNotice.message_id == message_id))
    if seen is not None:
        return seen.bill
    if bill is None:
        raise NotFoundError("缴款码不存在", code="unknown_reference")
    if status != PaymentState.PAID or paid_at is None:
        raise UserInputError("通知状态不正确", code="invalid_payload")
    notice = PaymentNotice(message_id=message_id, bill_id=bill.id, outcome="received",
                           payload_digest=hashlib.sha256(raw).hexdigest(), signature_ok=signature_ok,
                           received_at=utcnow())
    try:
        with sess.begin_nested():  # claim the message id before anything changes
            sess.add(notice)
    except IntegrityError:
        # The same message id, delivered at the same moment for another reference, got there
        # first (same reference: the row lock above already serialised the two). A duplicate.
        seen = sess.scalar(select(PaymentNotice).where(PaymentNotice.message_id == message_id)
                           .execution_options(populate_existing=True))
        if seen is None:
            raise
        sess.refresh(seen.bill)
        return seen.bill
    notice.outcome = _apply_paid(sess, PLATFORM_ACTOR, bill, amount=amount, paid_at=paid_at, source="callback")
    audit.record(sess, PLATFORM_ACTOR, "payments.callback_received", object_type="bill", object_id=bill.id,
                 city_code=bill.city_code, detail={"message_id": message_id, "outcome": notice.outcome})
    sess.flush()
    return bill


class CallbackRefused(DomainError):
    """A callback the portal refuses; ``code`` and ``status`` go back to the platform."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


def accept_signed_callback(sess: Session, *, signing_key: bytes, path: str, headers: Mapping[str, str],
                           body: bytes, now: float | None = None) -> Bill:
    """Verify the signature (HMAC-SM3, timestamp window, single-use nonce), parse, record."""
    try:
        verified = signing.verify(signing_key, "POST", path, headers, body, now=now)
    except SignatureError as exc:
        raise CallbackRefused(401, exc.code, exc.message) from None
    replayed = CallbackRefused(401, "replayed_nonce", "请求重复提交（随机数已使用）")
    if sess.get(CallbackNonce, verified.nonce) is not None:
        raise replayed
    try:
        # A SAVEPOINT: the same signed request sent twice at once must not become a 500. On
        # PostgreSQL the second insert waits for the first transaction, then fails here.
        with sess.begin_nested():
            sess.add(CallbackNonce(nonce=verified.nonce, seen_at=utcnow()))
    except IntegrityError:
        raise replayed from None
    try:
        data = json.loads(body.decode("utf-8"))
        message_id, reference, status = data["message_id"], data["reference"], data["status"]
        amount = Decimal(data["amount"]) if isinstance(data["amount"], str) else None
        paid_at = datetime.fromisoformat(data["paid_at"]) if isinstance(data.get("paid_at"), str) else None
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, InvalidOperation):
        raise CallbackRefused(422, "invalid_payload", "通知报文格式错误") from None
    if (not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id)
            or not isinstance(reference, str) or not 0 < len(reference) <= 40
            or status != PaymentState.PAID or amount is None or not amount.is_finite()
            or amount <= 0 or amount != to_fen(amount) or paid_at is None or paid_at.tzinfo is None):
        raise CallbackRefused(422, "invalid_payload", "通知报文格式错误")
    try:
        return record_callback(sess, message_id=message_id, reference=reference, status=status,
                               amount=amount, paid_at=paid_at, raw=body)
    except NotFoundError as exc:
        raise CallbackRefused(404, "unknown_reference", exc.message) from None


def record_refused_callback(sess: Session, actor: Actor, *, code: str, body: bytes) -> None:
    """Audit a refused callback (in its own transaction: the request's own rolls back)."""
    audit.record(sess, actor, "payments.callback_refused", object_type="endpoint",
                 object_id="payments.tax_callback",
                 detail={"code": code, "payload_digest": hashlib.sha256(body).hexdigest()})


# --- catching up --------------------------------------------------------------------------------


class QuestionKind(enum.StrEnum):
    REFERENCE = "reference"  #: 申请缴款码
    PAYMENT = "payment"  #: 查询缴费结果


@dataclass(frozen=True)
class PlatformQuestion:
    """What to ask the platform about one bill: plain values, read in a short read."""

    bill_id: int
    kind: QuestionKind
    bill_number: str
    amount: Decimal
    purpose: str
    city_code: str
    payer: str = ""
    reference: str | None = None


@dataclass(frozen=True)
class PlatformAnswer:
    """The platform's answer, or ``error`` (its code) when there was no usable answer."""

    reference: str | None = None  #: for a REFERENCE question
    payment: Any = None  #: for a PAYMENT question: ``state``, ``amount``, ``paid_at``
    error: str | None = None


def question_for(sess: Session, bill: Bill) -> PlatformQuestion | None:
    """Step 1: what to ask about ``bill``; None when its outcome is final (nothing to ask)."""
    if bill.status in (BillStatus.PAID, BillStatus.CANCELLED) and bill.problem is None:
        return None
    if bill.payment_reference is None:
        if bill.status is BillStatus.CANCELLED:
            return None
        payer = sess.scalar(select(Organisation.name).where(Organisation.id == bill.organisation_id)) or ""
        return PlatformQuestion(bill.id, QuestionKind.REFERENCE, bill.number, bill.amount, bill.purpose,
                                bill.city_code, payer=payer)
    return PlatformQuestion(bill.id, QuestionKind.PAYMENT, bill.number, bill.amount, bill.purpose,
                            bill.city_code, reference=bill.payment_reference)


def ask_platform(question: PlatformQuestion, platform: PaymentPlatform | None = None) -> PlatformAnswer:
    """Step 2: the call, made with no database transaction open. Never raises for the platform."""
    platform = _platform(platform)
    if platform is None:
        log.warning("payments.no_platform", bill_id=question.bill_id)
        return PlatformAnswer(error="no_platform")
    try:
        if question.kind is QuestionKind.REFERENCE:
            return PlatformAnswer(reference=platform.issue_reference(
                bill_number=question.bill_number, amount=question.amount, payer=question.payer,
                purpose=question.purpose, city_code=question.city_code))
        return PlatformAnswer(payment=platform.query_payment(question.reference))
    except TaxPlatformError as exc:
        log.warning("payments.platform_no_answer", bill_id=question.bill_id, kind=question.kind.value,
                    code=exc.code)
        return PlatformAnswer(error=exc.code)


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
        result = _apply_payment(sess, actor, bill, answer.payment)
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


def _apply_payment(sess: Session, actor: Actor, bill: Bill, payment: Any) -> RefreshOutcome:
    state = getattr(payment, "state", None)
    if state == PaymentState.PAID:
        outcome = _apply_paid(sess, actor, bill, amount=payment.amount, paid_at=payment.paid_at, source="query")
        return {"paid": RefreshOutcome.PAID, "amount_mismatch": RefreshOutcome.AMOUNT_MISMATCH}.get(
            outcome, RefreshOutcome.ALREADY_FINAL)
    if bill.status in (BillStatus.PAID, BillStatus.CANCELLED) and bill.problem is None:
        return RefreshOutcome.ALREADY_FINAL  # final meanwhile (e.g. a callback): the answer is stale
    if state == PaymentState.UNPAID:
        return RefreshOutcome.NOT_PAID
    if bill.status is BillStatus.ISSUED:
        _set_status(sess, actor, bill, BillStatus.PENDING_CONFIRMATION, "payments.awaiting_confirmation",
                    source="query")
    return RefreshOutcome.UNKNOWN


def _end_read(sess: Session) -> None:
    """End step 1's transaction, so that no lock (SQLite's writer lock, taken by BEGIN IMMEDIATE
    in a unit of work that will write) is held while the platform answers. Step 1 only read: a
    rollback loses nothing; changes not yet flushed would be lost, so they are refused."""
    if sess.new or sess.dirty or sess.deleted:
        raise RuntimeError("ask the platform before changing anything else in this unit of work")
    sess.rollback()


def refresh_from_platform(sess: Session, bill: Bill, *, actor: Actor | None = None,
                          platform: PaymentPlatform | None = None) -> RefreshOutcome:
    """查询缴费结果: ask the platform about the bill. Paid → 已缴费; no usable answer or an
    unknown reference → 待确认 (never "failed"); a definite "not paid yet" leaves it as it is.
    A bill without a reference asks for one instead. The three steps of "Waiting for the
    platform" in ``sess``: its transaction so far must have only read."""
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


def due_for_catch_up(sess: Session, *, older_than_minutes: int, limit: int = 50) -> list[int]:
    """Ids of bills to ask about: 待确认 not asked for N minutes, or still without a reference."""
    cutoff = utcnow() - timedelta(minutes=older_than_minutes)
    stale = or_(Bill.last_checked_at.is_(None), Bill.last_checked_at <= cutoff)
    query = select(Bill.id).where(stale, or_(
        Bill.status == BillStatus.PENDING_CONFIRMATION,
        (Bill.status == BillStatus.ISSUED) & Bill.payment_reference.is_(None)))
    return list(sess.scalars(query.order_by(Bill.last_checked_at.asc().nullsfirst(), Bill.id).limit(limit)))


def catch_up_bill(sess: Session, bill_id: int, *, platform: PaymentPlatform | None = None) -> RefreshOutcome | None:
    """One bill of the catch-up job (idempotent: a final bill is left alone)."""
    bill = sess.get(Bill, bill_id)
    if bill is None:
        return None
    return refresh_from_platform(sess, bill, platform=platform)


def purge_nonces(sess: Session) -> int:
    """Forget callback nonces older than twice the signature window (they are stale anyway)."""
    cutoff = utcnow() - timedelta(seconds=2 * signing.WINDOW_SECONDS)
    old = sess.scalars(select(CallbackNonce).where(CallbackNonce.seen_at < cutoff)).all()
    for row in old:
        sess.delete(row)
    sess.flush()
    return len(old)


# --- for pages ------------------------------------------------------------------------------------


#: How long an open bill page keeps asking for news after the bill last changed.
POLL_WINDOW = timedelta(minutes=15)


def awaiting_platform(bill: Bill) -> bool:
    """Whether news from the platform is awaited for this bill right now (the page polls): its
    reference is being fetched, or a payment was started and is not yet confirmed."""
    fetching = bill.status is BillStatus.ISSUED and bill.payment_reference is None and bill.last_checked_at is None
    confirming = bill.status is BillStatus.PENDING_CONFIRMATION and bill.problem is None
    return (fetching or confirming) and bill.updated_at >= utcnow() - POLL_WINDOW


def status_message(bill: Bill) -> str:
    """One sentence for the payer about where the bill stands."""
    if bill.problem:
        return bill.problem
    if bill.status is BillStatus.ISSUED and bill.payment_reference is None and bill.last_checked_at is None:
        return "正在获取缴款码：门户正在向社保费征收平台申请缴款码，请稍后刷新本页。"
    if bill.status is BillStatus.ISSUED and bill.payment_reference is None:
        return "社保费征收平台暂时无法连接，尚未取得缴款码。系统会自动重试，取得后即可缴费；您也可以稍后点击“查询缴费结果”。"
    if bill.status is BillStatus.ISSUED:
        return "请点击“去缴费”，在社保费征收平台完成缴费。"
    if bill.status is BillStatus.PENDING_CONFIRMATION:
        return "正在等待社保费征收平台确认缴费结果。如已缴费，通常几分钟内自动确认；也可点击“查询缴费结果”。"
    if bill.status is BillStatus.PAID:
        return "已缴费，征收平台已确认。"
    return f"该缴费单已作废{('：' + bill.cancel_reason) if bill.cancel_reason else ''}。"
