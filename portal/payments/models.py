"""Bills (缴费单), the platform's payment notices, and the nonces of signed callbacks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.choices import LabelledEnum
from portal.db import Base, enum_column, utcnow


class BillStatus(LabelledEnum):
    """issued → pending_confirmation → paid, or cancelled (never "failed": see the service's
    ``BILL_STATES``)."""

    #: open: to be paid with its 缴款码 (or waiting for one)
    ISSUED = "issued", "待缴费"
    #: payment started, or the platform's answer is unknown
    PENDING_CONFIRMATION = "pending_confirmation", "待确认"
    #: the platform confirmed the billed amount
    PAID = "paid", "已缴费"
    #: withdrawn before payment (e.g. replaced by a new bill)
    CANCELLED = "cancelled", "已作废"


class BillAction(LabelledEnum):
    """What moves a bill (the audit actions ``payments.<code>``)."""

    #: the payer leaves for the platform's pay page
    START_PAYMENT = "payment_started", "去缴费"
    #: the platform gave no usable answer: the outcome is unknown until it reports
    AWAIT_CONFIRMATION = "awaiting_confirmation", "等待征收平台确认"
    #: the platform reports the billed amount paid (callback or query)
    PAY = "paid", "确认已缴费"
    #: paid, but not the billed amount: a person checks it
    FLAG_AMOUNT_MISMATCH = "amount_mismatch", "实缴金额不符"
    #: the platform no longer knows the bill's 缴款码 (expired or purged): a new one is asked for
    RENEW_REFERENCE = "reference_renewed", "缴款码失效，重新申请"
    #: a clerk or the subject area withdraws an unpaid bill
    CANCEL = "bill_cancelled", "作废"
    #: a payment reported for a cancelled bill: a person arranges the refund
    FLAG_PAID_AFTER_CANCEL = "paid_after_cancel", "作废后收到缴费"


class Bill(Base):
    """A bill for a premium, paid through the tax collection platform (社保费征收)."""

    __tablename__ = "bill"
    # Ids are never reused (SQLite AUTOINCREMENT): the bill number derives from the id, and the
    # platform keeps every bill number it has seen, even of a bill whose transaction rolled back.
    __table_args__ = (Index("ix_bill_subject", "subject_type", "subject_id"),
                      # the bills list: an employer's or a city's bills (of one status), newest first
                      Index("ix_bill_organisation_newest", "organisation_id", "id"),
                      Index("ix_bill_organisation_status", "organisation_id", "status", "id"),
                      Index("ix_bill_city_newest", "city_code", "id"),
                      Index("ix_bill_city_status", "city_code", "status", "id"),
                      # the projects overview's sums by city and status, from the index alone
                      Index("ix_bill_kind_city_status", "subject_type", "city_code", "status", "amount"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 缴费单号, human-readable, e.g. GS20261123000042
    number: Mapped[str] = mapped_column(String(24), unique=True)
    #: What the bill is for: "project" (按项目参保) or "unit" (单位参保)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    #: 缴费单位
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: 参保地 (prefecture city division code): which city's staff see the bill
    city_code: Mapped[str] = mapped_column(String(6))
    #: 费用项目, e.g. 项目参保保费 / 补缴保费
    purpose: Mapped[str] = mapped_column(String(50))
    #: 应缴金额 (yuan, to the fen)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    status: Mapped[BillStatus] = mapped_column(enum_column(BillStatus, length=30), default=BillStatus.ISSUED,
                                               server_default=BillStatus.ISSUED.value, index=True)
    #: 缴款码 (payment reference) from the platform; None until the platform has answered
    payment_reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    #: 缴费时间 as reported by the platform
    paid_at: Mapped[datetime | None]
    #: 实缴金额 as reported by the platform
    paid_amount: Mapped[Decimal | None]
    #: Last time the platform was asked (reference or payment query), answered or not
    last_checked_at: Mapped[datetime | None]
    #: 异常说明: why the bill needs a person (e.g. the paid amount differs); None = nothing wrong
    problem: Mapped[str | None] = mapped_column(String(200))
    #: 作废原因
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PaymentNotice(Base):
    """A callback message received from the platform (缴费结果通知), kept for idempotency."""

    __tablename__ = "payment_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The platform's message id: the same id twice changes nothing
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True)
    #: SHA-256 of the raw body (the body itself is not kept)
    payload_digest: Mapped[str] = mapped_column(String(64))
    #: What the message did: paid, already_paid, amount_mismatch, bill_cancelled
    outcome: Mapped[str] = mapped_column(String(30))
    signature_ok: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    bill: Mapped[Bill] = relationship()


class CallbackNonce(Base):
    """Nonces of accepted signed callbacks, remembered for the timestamp window (anti-replay)."""

    __tablename__ = "payment_callback_nonce"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
