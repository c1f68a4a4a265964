"""单位参保登记 and 人员增减: a unit's enrollment, its timeline, and the insured persons on it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, Person
from portal.choices import LabelledEnum
from portal.db import Base, enum_column, utcnow
from portal.errors import ConflictError
from portal.security.fields import EncryptedText


class UnitStatus(LabelledEnum):
    DRAFT = "draft", "草稿（未提交）"  #: saved, not yet sent
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已参保"  #: 审核通过
    RETURNED = "returned", "已退回待补正"  #: with reasons the employer answers


class UnitAction(LabelledEnum):
    """What moves a unit from one state to the next (and what the timeline shows); the table of
    moves is ``portal.enrollment.service.UNIT_STATES``."""

    CREATE = "create", "填写参保登记信息"
    EDIT = "edit", "修改参保登记信息"
    SUBMIT = "submit", "提交审核"
    APPROVE = "approve", "审核通过，参保登记生效"
    RETURN = "return", "退回补正"


class IllegalUnitTransition(ConflictError):
    """A move the unit's state machine does not list (no step skipped, none done twice)."""

    code = "illegal_enrollment_transition"


class EnrolledUnit(Base):
    """One employer's work-injury insurance enrollment (单位参保登记), at most one per organisation."""

    __tablename__ = "enrolled_unit"
    __table_args__ = (
        # the review inbox: a city's units of one status, longest waiting first (and the
        # provincial overview's counts by city and status, read from the index alone)
        Index("ix_enrolled_unit_city_status_submitted", "city_code", "status", "submitted_at", "id"),
        # the provincial list of one status across cities
        Index("ix_enrolled_unit_status_submitted", "status", "submitted_at", "id"),
    )

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
    status: Mapped[UnitStatus] = mapped_column(enum_column(UnitStatus), index=True,
                                               server_default=UnitStatus.DRAFT.value)
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


class InsuranceType(LabelledEnum):
    """参保类型: regular, or a single-insurance group (单险种参保, figure single_insurance_groups)."""

    REGULAR = "regular", "一般参保"
    RETIRED_AGE = "retired_age", "单险种：超龄人员"  #: 超过法定退休年龄人员
    INTERN = "intern", "单险种：实习生"
    OTHER = "other", "单险种：其他特定人员"  #: clerk review


class UnitMember(Base):
    """One period of one insured person on a unit (参保人员). Never deleted: removal sets
    ``end_date``; adding the same person again later starts a new row."""

    __tablename__ = "unit_member"
    __table_args__ = (
        # a unit's members insured on a day, in start-date order (lists); with the wage, the
        # payroll totals of the page and of the provincial overview are read from the index alone
        Index("ix_unit_member_unit_dates", "unit_id", "start_date", "end_date", "wage_base"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("enrolled_unit.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    insurance_type: Mapped[InsuranceType] = mapped_column(enum_column(InsuranceType),
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
