"""Construction projects (工程建设项目), their timeline and their real-name rosters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, Person
from portal.choices import LabelledEnum
from portal.db import Base, enum_column, utcnow
from portal.errors import ConflictError
from portal.security.fields import EncryptedText


class ProjectStatus(LabelledEnum):
    DRAFT = "draft", "草稿"  #: not yet submitted, no bill
    AWAITING_PAYMENT = "awaiting_payment", "待缴费"  #: bill issued, premium not paid
    COVERED = "covered", "已参保"  #: premium paid; the site may start
    STARTED = "started", "已开工"
    COMPLETED = "completed", "已竣工"  #: cover ended at completion


#: statuses in which the project's workers are insured
INSURED_STATUSES = (ProjectStatus.COVERED, ProjectStatus.STARTED)


class ProjectAction(LabelledEnum):
    """What happens to a project (and what its timeline and audit trail call it: ``project.<value>``);
    the table of moves is ``portal.projects.service.PROJECT_STATES``."""

    ENROLL = "enroll", "登记项目"
    SUBMIT = "submit", "提交并开具缴费单"
    COVER = "covered", "缴费参保"  #: the first premium paid (the payment platform acts)
    START = "start", "登记开工"
    COMPLETE = "complete", "登记竣工"
    # recorded on the timeline, the status unchanged
    BILL_PAID = "bill_paid", "缴费单已缴纳"  #: a later bill (补缴) paid
    CHANGE_PRICE = "change_price", "变更合同价"
    EXTEND = "extend", "延长工期"
    PERMIT = "permit", "登记施工许可证号"
    SWITCH_BASIS = "switch_basis", "变更缴费基数"  #: by the city clerk, before payment


class IllegalProjectTransition(ConflictError):
    """A move the project's state machine does not list (no step skipped, none done twice)."""

    code = "illegal_project_transition"


class PremiumBasis(LabelledEnum):
    CONTRACT_PRICE = "contract_price", "工程合同价"  #: the default basis
    INSTALLATION_COST = "installation_cost", "建筑安装工程费"


class Project(Base):
    """One construction project insured on its own (按项目参保) by its general contractor."""

    __tablename__ = "project"
    __table_args__ = (
        # the project list: a city's projects, most recently changed first; all cities' likewise
        Index("ix_project_city_updated", "city_code", "updated_at", "id"),
        Index("ix_project_updated", "updated_at", "id"),
        # the provincial overview's counts by city and status, from the index alone
        Index("ix_project_city_status", "city_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 项目参保编号, e.g. XM340100202400001; printed on the certificate
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: 施工总承包单位 (the general contractor, who enrolls and pays)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: 项目名称
    name: Mapped[str] = mapped_column(String(200))
    #: 项目所在地县（市、区）行政区划代码
    county_code: Mapped[str] = mapped_column(String(6))
    #: 地市行政区划代码 (county_code[:4] + "00"); that city's agency handles the project
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    #: 施工许可证号; often issued after enrollment (先参保、后开工)
    permit_number: Mapped[str | None] = mapped_column(String(64))
    #: 工程合同价 (yuan)
    contract_price: Mapped[Decimal]
    #: 建筑安装工程费 (yuan), optional second basis (domain.md Q5)
    installation_cost: Mapped[Decimal | None]
    #: 缴费基数 chosen: contract price by default; the clerk may switch before payment
    premium_basis: Mapped[PremiumBasis] = mapped_column(enum_column(PremiumBasis), default=PremiumBasis.CONTRACT_PRICE)
    #: 计划开工日期 (local date); also the date the premium rate is looked up for
    planned_start: Mapped[date]
    #: 计划竣工日期 (local date); extensions are recorded on the timeline
    planned_end: Mapped[date]
    status: Mapped[ProjectStatus] = mapped_column(enum_column(ProjectStatus), default=ProjectStatus.DRAFT, index=True)
    #: 应缴保费合计: the sum of every bill issued for this project (initial + 补缴)
    premium_billed: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    #: 保障开始时间: when the first premium was paid (never earlier)
    cover_start: Mapped[datetime | None]
    #: 保障终止时间: the completion date (竣工)
    cover_end: Mapped[datetime | None]
    #: 实际开工日期
    started_on: Mapped[date | None]
    #: 竣工日期
    completed_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()

    @property
    def basis_amount(self) -> Decimal:
        if self.premium_basis is PremiumBasis.INSTALLATION_COST and self.installation_cost is not None:
            return self.installation_cost
        return self.contract_price

    @property
    def insured(self) -> bool:
        return self.status in INSURED_STATUSES


class ProjectEvent(Base):
    """The project's timeline (办理记录) as its contractor sees it. No personal data inside."""

    __tablename__ = "project_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: machine name, e.g. project.submit (same as the audit action)
    action: Mapped[str] = mapped_column(String(64))
    #: 办理人: the contractor's name or the staff office, never a staff member's own name
    actor_label: Mapped[str] = mapped_column(String(100))
    #: 说明 shown on the timeline
    message: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    project: Mapped[Project] = relationship()


class RosterEntry(Base):
    """One period of one worker on a project's real-name roster (实名制花名册).

    Rows are never deleted: removal records the exit; re-entry is a new row (a new period).
    """

    __tablename__ = "roster_entry"
    __table_args__ = (Index("ix_roster_entry_person_active", "person_id", "exited_at"),
                      # a project's active roster count (project list, case page, overview)
                      Index("ix_roster_entry_project_active", "project_id", "exited_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    #: 姓名 as declared by the contractor
    name: Mapped[str] = mapped_column(String(100))
    #: 手机号码, encrypted
    phone: Mapped[str | None] = mapped_column(EncryptedText("roster_entry.phone"))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    #: 工种
    trade: Mapped[str] = mapped_column(String(50))
    #: 班组 (often a subcontractor's team)
    team: Mapped[str | None] = mapped_column(String(100))
    #: 申报进场日期 (declared entry date, local)
    declared_entry_date: Mapped[date]
    #: 保障起始时间: max(time of registration, declared date); never backdated
    cover_from: Mapped[datetime]
    #: 退场日期 (declared exit date, local)
    exit_date: Mapped[date | None]
    #: when the exit was recorded; NULL while the worker is on the roster
    exited_at: Mapped[datetime | None]
    #: 同期在其他项目名册 (domain.md §10 audit rule: one worker on overlapping rosters)
    overlap_flag: Mapped[bool] = mapped_column(default=False)
    #: 批量导入批次 (None for one-by-one additions)
    import_batch: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship()
    person: Mapped[Person] = relationship()

    @property
    def active(self) -> bool:
        return self.exited_at is None
