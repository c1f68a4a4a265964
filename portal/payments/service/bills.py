"""Bills: who sees which, issuing and cancelling them, lists, and what a bill page says."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import utcnow
from portal.errors import ConflictError, NotFoundError, UserInputError
from portal.localtime import to_local
from portal.money import to_fen
from portal.outbox import service as outbox
from portal.paging import capped_count, page_count
from portal.payments.models import Bill, BillAction, BillStatus
from portal.payments.service.lifecycle import BILL_STATES, move

PURPOSE_PROJECT_PREMIUM = "项目参保保费"
PURPOSE_SUPPLEMENTARY = "补缴保费"
PURPOSE_UNIT_PREMIUM = "单位参保保费"

PER_PAGE = 20
#: The outbox topic that asks the platform for a new bill's 缴款码 right after the commit.
REFERENCE_TOPIC = "tax.reference"

_SUBJECT_TYPE = re.compile(r"^[a-z_]{1,20}$")


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
    #: more bills match than ``total`` (counted up to portal.paging.COUNT_CAP)
    total_is_capped: bool = False


def bill_list_query(actor: Actor, *, status: BillStatus | None = None) -> Select | None:
    """The bills list's query, newest first: an employer's own bills, or the bills of a staff
    member's city (provincial: all); None for anyone else. Indexes (organisation, status) and
    (city, status) serve the filters and the order."""
    query = select(Bill)
    if actor.role is Role.EMPLOYER and actor.organisation_id is not None:
        query = query.where(Bill.organisation_id == actor.organisation_id)
    elif actor.role is Role.PROVINCIAL:
        pass
    elif actor.role is not None and actor.role.is_city_staff and actor.city_code:
        query = query.where(Bill.city_code == actor.city_code)
    else:
        return None
    if status is not None:
        query = query.where(Bill.status == status)
    return query.order_by(Bill.id.desc())


def list_bills(sess: Session, actor: Actor, *, status: BillStatus | None = None, page: int = 1) -> BillPage:
    """One page of :func:`bill_list_query`, counted and paged in SQL."""
    query = bill_list_query(actor, status=status)
    if query is None:
        return BillPage([], 1, 1, 0)
    total, capped = capped_count(sess, query)
    pages = page_count(total, PER_PAGE)
    page = min(max(1, page), pages)
    bills = sess.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return BillPage(bills, page, pages, total, capped)


# --- issuing and cancelling -------------------------------------------------------------------------


def issue_bill(sess: Session, actor: Actor, *, subject_type: str, subject_id: int,
               organisation_id: int, city_code: str, amount: Decimal, purpose: str) -> Bill:
    """开具缴费单 in the caller's transaction; its 缴款码 is asked for right after that commits.

    The request is an outbox message (``REFERENCE_TOPIC``) delivered right after the commit
    (no transaction open while the platform answers), retried by the outbox job when the platform
    cannot be reached; meanwhile the bill is 待缴费 without a reference (never an error for the
    caller), and the catch-up job (portal.tasks.payments) asks too. A rollback asks for nothing.
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
    bill.number = f"GS{to_local(now):%Y%m%d}{bill.id:06d}"
    audit.record(sess, actor, "payments.bill_issued", object_type="bill", object_id=bill.id,
                 city_code=city_code, detail={"number": bill.number, "subject_type": subject_type,
                                              "subject_id": subject_id, "amount": str(amount),
                                              "purpose": purpose})
    outbox.enqueue(sess, topic=REFERENCE_TOPIC, aggregate=f"bill:{bill.id}", key=f"{REFERENCE_TOPIC}:{bill.id}",
                   payload={"bill_id": bill.id}, after_commit=True)
    sess.flush()
    return bill


def cancel_bill(sess: Session, actor: Actor, bill: Bill, *, reason: str) -> Bill:
    """作废 an unpaid bill (e.g. replaced by a new one). A bill whose payment may be under way
    (待确认) or is paid cannot be cancelled."""
    if not _visible(actor, bill):
        raise NotFoundError("缴费单不存在")
    if bill.status is BillStatus.CANCELLED:
        return bill
    if not BILL_STATES.allows(bill.status, BillAction.CANCEL):
        raise ConflictError(f"缴费单{bill.status.label}，不能作废")
    bill.cancel_reason = reason[:200]
    move(sess, actor, bill, BillAction.CANCEL, reason=reason[:200])
    sess.flush()
    return bill


def check_payable(actor: Actor, bill: Bill) -> None:
    """Only the bill's own organisation pays it, and only while it is open."""
    if not actor.owns_organisation(bill.organisation_id):
        raise NotFoundError("缴费单不存在")
    if bill.status is BillStatus.PAID:
        raise ConflictError("该缴费单已缴费，无需重复缴纳")
    if bill.status is BillStatus.CANCELLED:
        raise ConflictError("该缴费单已作废，请缴纳新的缴费单")


# --- for pages ------------------------------------------------------------------------------------


#: How long an open bill page keeps asking for news after the bill last changed.
POLL_WINDOW = timedelta(minutes=15)


def _fetching_reference(bill: Bill) -> bool:
    return bill.status is BillStatus.ISSUED and bill.payment_reference is None and bill.last_checked_at is None


def awaiting_platform(bill: Bill) -> bool:
    """Whether news from the platform is awaited for this bill right now (the page polls): its
    reference is being fetched, or a payment was started and is not yet confirmed."""
    confirming = bill.status is BillStatus.PENDING_CONFIRMATION and bill.problem is None
    return (_fetching_reference(bill) or confirming) and bill.updated_at >= utcnow() - POLL_WINDOW


def status_message(bill: Bill) -> str:
    """One sentence for the payer about where the bill stands."""
    if bill.problem:
        return bill.problem
    if _fetching_reference(bill):
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
