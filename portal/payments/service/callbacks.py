"""缴费结果通知: the platform's signed callback (HMAC-SM3, single-use nonces) and its record."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.tax_collection import signing
from adapters.tax_collection.codes import PaymentState
from adapters.tax_collection.errors import SignatureError
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.db import independent_transaction, utcnow, will_write
from portal.errors import DomainError, NotFoundError, UserInputError
from portal.money import to_fen
from portal.payments.models import Bill, CallbackNonce, PaymentNotice
from portal.payments.service.lifecycle import PLATFORM_ACTOR, apply_paid

_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
    notice.outcome = apply_paid(sess, PLATFORM_ACTOR, bill, amount=amount, paid_at=paid_at, source="callback")
    audit.record(sess, PLATFORM_ACTOR, "payments.callback_received", object_type="bill", object_id=bill.id,
                 city_code=bill.city_code, detail={"message_id": message_id, "outcome": notice.outcome})
    sess.flush()
    return bill


class CallbackRefused(DomainError):
    """A callback the portal refuses; ``code`` and ``status`` go back to the platform."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


def accept_signed_callback(sess: Session, actor: Actor, *, signing_key: bytes, path: str,
                           headers: Mapping[str, str], body: bytes, now: float | None = None) -> Bill:
    """Verify the signature (HMAC-SM3, timestamp window, single-use nonce), parse, record.

    A refusal (``CallbackRefused``) is audited in a transaction of its own, which persists while
    the unit of work of ``sess`` rolls back."""
    will_write(sess)
    try:
        return _accept(sess, signing_key=signing_key, path=path, headers=headers, body=body, now=now)
    except CallbackRefused as exc:
        with independent_transaction(sess) as own:
            audit.record(own, actor, "payments.callback_refused", object_type="endpoint",
                         object_id="payments.tax_callback",
                         detail={"code": exc.code, "payload_digest": hashlib.sha256(body).hexdigest()})
        raise


def _accept(sess: Session, *, signing_key: bytes, path: str, headers: Mapping[str, str], body: bytes,
            now: float | None) -> Bill:
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


def purge_nonces(sess: Session) -> int:
    """Forget callback nonces older than twice the signature window (they are stale anyway)."""
    cutoff = utcnow() - timedelta(seconds=2 * signing.WINDOW_SECONDS)
    old = sess.scalars(select(CallbackNonce).where(CallbackNonce.seen_at < cutoff)).all()
    for row in old:
        sess.delete(row)
    sess.flush()
    return len(old)
