"""单位参保登记 and 人员增减: a unit's enrollment, its timeline, and the insured persons on it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Enum, ForeignKey, Integer, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, Person
from portal.db import Base, utcnow
from portal.errors import ConflictError
from portal.security.fields import EncryptedText


class UnitStatus(enum.StrEnum):
    DRAFT = "draft"  #: 草稿 (saved, not yet sent)
    SUBMITTED = "submitted"  #: 待审核
    APPROVED = "approved"  #: 已参保 (审核通过)
    RETURNED = "returned"  #: 已退回 (with reasons the employer answers)

    @property
    def label(self) -> str:
        return UNIT_STATUS_LABELS[self]


UNIT_STATUS_LABELS = {
    UnitStatus.DRAFT: "草稿（未提交）",
    UnitStatus.SUBMITTED: "待审核",
    UnitStatus.APPROVED: "已参保",
    UnitStatus.RETURNED: "已退回待补正",
}


class UnitAction(enum.StrEnum):
    """What moves a unit from one state to the next (and what the timeline shows)."""

    CREATE = "create"  #: 填写登记信息
    EDIT = "edit"  #: 修改登记信息
    SUBMIT = "submit"  #: 提交审核
    APPROVE = "approve"  #: 审核通过
    RETURN = "return"  #: 退回补正

    @property
    def label(self) -> str:
        return UNIT_ACTION_LABELS[self]


UNIT_ACTION_LABELS = {
    UnitAction.CREATE: "填写参保登记信息",
    UnitAction.EDIT: "修改参保登记信息",
    UnitAction.SUBMIT: "提交审核",
    UnitAction.APPROVE: "审核通过，参保登记生效",
    UnitAction.RETURN: "退回补正",
}

#: the state machine: (from, action) -> to. Anything not listed is refused.
TRANSITIONS: dict[tuple[UnitStatus | None, UnitAction], UnitStatus] = {
    (None, UnitAction.CREATE): UnitStatus.DRAFT,
    (UnitStatus.DRAFT, UnitAction.EDIT): UnitStatus.DRAFT,
    (UnitStatus.RETURNED, UnitAction.EDIT): UnitStatus.RETURNED,
    (UnitStatus.DRAFT, UnitAction.SUBMIT): UnitStatus.SUBMITTED,
    (UnitStatus.RETURNED, UnitAction.SUBMIT): UnitStatus.SUBMITTED,
    (UnitStatus.SUBMITTED, UnitAction.APPROVE): UnitStatus.APPROVED,
    (UnitStatus.SUBMITTED, UnitAction.RETURN): UnitStatus.RETURNED,
}


class IllegalUnitTransition(ConflictError):
    code = "illegal_enrollment_transition"


def next_status(current: UnitStatus | None, action: UnitAction) -> UnitStatus:
    """The state after ``action``, or :class:`IllegalUnitTransition` (no skipping, no repeats)."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        where = current.label if current else "尚未登记"
        raise IllegalUnitTransition(f"当前状态为“{where}”，不能{action.label}") from None


_status_enum = Enum(UnitStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class EnrolledUnit(Base):
    """One employer's work-injury insurance enrollment (单位参保登记), at most one per organisation."""

    __tablename__ = "enrolled_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    #: 统一社会信用代码 (as at the legal-person login)
    uscc: Mapped[str] = mapped_column(String(18))
    #: 单位名称
    name: Mapped[str] = mapped_column(String(200))
    #: 单位地址
    address: Mapped[str] = mapped_column(String(300))
    #: 所在县（区）行政区划代码
    county_code: Mapped[str] = mapped_column(String(6))
    #: 所在地市 = county_code[:4] + "00": the clerk's scope
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    #: 国民经济行业分类代码 (GB/T 4754), e.g. E4710
    industry_code: Mapped[str] = mapped_column(String(10))
    #: 行业风险类别 1..8; from the industry table, or set by the clerk at approval
    risk_class: Mapped[int | None] = mapped_column(Integer)
    #: 费率浮动档次, multiple of the base rate (1.00 = 100 %)
    rate_band: Mapped[Decimal] = mapped_column(Numeric(4, 2), server_default="1.00", default=Decimal("1.00"))
    #: 联系人
    contact_name: Mapped[str] = mapped_column(String(100))
    #: 联系电话 (personal data), encrypted
    contact_phone: Mapped[str] = mapped_column(EncryptedText("enrolled_unit.contact_phone"))
    contact_phone_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[UnitStatus] = mapped_column(_status_enum, index=True, server_default=UnitStatus.DRAFT.value)
    #: 退回原因 of the latest return (the timeline keeps every one)
    return_reasons: Mapped[str | None] = mapped_column(Text)
    #: 参保生效日期, set at approval
    effective_date: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    events: Mapped[list[EnrollmentEvent]] = relationship(
        back_populates="unit", order_by="EnrollmentEvent.id")

    def apply(self, action: UnitAction) -> UnitStatus:
        """Move along the state machine or refuse; returns the status before the move."""
        before = self.status
        self.status = next_status(before, action)
        return before


class EnrollmentEvent(Base):
    """A line of the unit's timeline (办理进度): when, what, which office in which role, why.

    Names the office, never the staff member; the audit trail keeps who exactly.
    """

    __tablename__ = "enrollment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("enrolled_unit.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    #: 办理角色 (Role value)
    by_role: Mapped[str] = mapped_column(String(32))
    #: 办理机构 (office for staff; the unit's name for the employer)
    by_office: Mapped[str] = mapped_column(String(200))
    #: 退回原因 or a note (e.g. the class and band approved)
    reasons: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[EnrolledUnit] = relationship(back_populates="events")

    @property
    def action_label(self) -> str:
        return UnitAction(self.action).label


class InsuranceType(enum.StrEnum):
    """参保类型: regular, or a single-insurance group (单险种参保, figure single_insurance_groups)."""

    REGULAR = "regular"  #: 一般参保
    RETIRED_AGE = "retired_age"  #: 超过法定退休年龄人员
    INTERN = "intern"  #: 实习生
    OTHER = "other"  #: 其他特定人员 (clerk review)

    @property
    def label(self) -> str:
        return INSURANCE_TYPE_LABELS[self]


INSURANCE_TYPE_LABELS = {
    InsuranceType.REGULAR: "一般参保",
    InsuranceType.RETIRED_AGE: "单险种：超龄人员",
    InsuranceType.INTERN: "单险种：实习生",
    InsuranceType.OTHER: "单险种：其他特定人员",
}


class UnitMember(Base):
    """One period of one insured person on a unit (参保人员). Never deleted: removal sets
    ``end_date``; adding the same person again later starts a new row."""

    __tablename__ = "unit_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("enrolled_unit.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    insurance_type: Mapped[InsuranceType] = mapped_column(
        Enum(InsuranceType, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        server_default=InsuranceType.REGULAR.value)
    #: 月缴费工资基数
    wage_base: Mapped[Decimal]
    #: 参保日期 (local calendar date)
    start_date: Mapped[date] = mapped_column(Date)
    #: 停保日期; NULL while insured
    end_date: Mapped[date | None] = mapped_column(Date)
    #: 联系电话 given by the employer (optional), encrypted
    phone: Mapped[str | None] = mapped_column(EncryptedText("unit_member.phone"))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    #: 超过单险种年龄上限: accepted, the clerk sees a warning (domain.md Q6)
    age_warning: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: 需经办机构审核认定 (group "other")
    needs_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()

    def is_active(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or on <= self.end_date)
