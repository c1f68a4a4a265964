"""工伤认定案件 (work-injury recognition cases) and what hangs off them.

One :class:`RecognitionCase` per application, from the applicant's first saved step (draft) to
the served decision. Its status moves only through ``service.states.CASE_STATES``; every move
is a :class:`CaseEvent` (the timeline applicants and staff see) and an audit row. Medical text
(injury, diagnosis, investigation notes) is encrypted at rest and never shown to the employer.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, Person
from portal.choices import LabelledEnum
from portal.clocks.models import DueDates
from portal.db import Base, enum_column, utcnow
from portal.security.fields import EncryptedText


class CaseStatus(LabelledEnum):
    DRAFT = "draft", "填写中"  #: 填写中（未提交）
    SUBMITTED = "submitted", "待审查材料"  #: 已提交，待审查材料
    AWAITING_SUPPLEMENT = "awaiting_supplement", "待补正材料"  #: 待补正（一次性告知，期限停止计算）
    ACCEPTED = "accepted", "已受理，调查核实中"  #: 已受理，调查核实中
    SUSPENDED = "suspended", "中止"  #: 中止（待司法或仲裁结论）
    DECIDED = "decided", "已作出认定决定，待送达"  #: 已作出认定决定，待送达
    SERVED = "served", "已送达"  #: 已送达（办结）
    NOT_ACCEPTED = "not_accepted", "不予受理"  #: 不予受理（办结）
    WITHDRAWN = "withdrawn", "已撤回"  #: 申请人撤回（办结）

    @property
    def is_closed(self) -> bool:
        return self in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({CaseStatus.SERVED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN})


class CaseAction(LabelledEnum):
    """The steps of the procedure (办理环节); the table of moves is ``service.states.CASE_STATES``."""

    SUBMIT = "submit", "提交申请"
    REQUEST_SUPPLEMENT = "request_supplement", "一次性告知补正材料"
    SUPPLY = "supply", "补正材料"
    ACCEPT = "accept", "受理"
    REFUSE = "refuse", "不予受理"
    SUSPEND = "suspend", "中止认定"
    RESUME = "resume", "恢复认定"
    DECIDE = "decide", "作出认定决定"
    SERVE = "serve", "送达认定决定书"
    WITHDRAW = "withdraw", "撤回申请"


class ApplicantKind(LabelledEnum):
    EMPLOYER = "employer", "用人单位"
    WORKER = "worker", "职工本人"
    RELATIVE = "relative", "近亲属"


class EventKind(LabelledEnum):
    ACCIDENT = "accident", "事故伤害"
    DISEASE = "disease", "职业病"

    @property
    def date_label(self) -> str:
        return {"accident": "事故伤害发生日期", "disease": "职业病诊断（鉴定）日期"}[self.value]


class Outcome(LabelledEnum):
    RECOGNISED = "recognised", "认定工伤"  #: 认定工伤（条例第十四条）
    DEEMED = "deemed", "视同工伤"  #: 视同工伤（条例第十五条）
    #: 不予认定（不符合第十四、十五条或属第十六条情形）
    NOT_RECOGNISED = "not_recognised", "不予认定工伤"


class PauseKind(LabelledEnum):
    SUPPLEMENT = "supplement", "补正"  #: 补正（待申请人补齐材料）
    SUSPENSION = "suspension", "中止"  #: 中止（待司法机关或有关行政主管部门结论）


class RecognitionCase(DueDates, Base):
    """One application for work-injury recognition (工伤认定申请), filed with the recognition
    office of the city where the employer is located (《工伤保险条例》第十七条第三款).

    Its running due dates (the office's and the applicant's, indexed) come from
    :class:`portal.clocks.models.DueDates`, kept by ``service.clock.refresh_due_dates``."""

    __tablename__ = "recognition_case"
    __table_args__ = (
        # the office queue (service/queue.py): the cases of a status (in a city) in due-date
        # order; the queue's and the overview's counts from the index alone
        Index("ix_recognition_case_queue", "status", "city_code", "office_due_on", "id"),
        # a city's open cases with a date in due-date order, whatever their status
        Index("ix_recognition_case_city_due", "city_code", "office_due_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 受理编号 (reference number), given on submission, e.g. RD-340100-2026-000012
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, 24), index=True,
                                               server_default=CaseStatus.DRAFT.value)
    #: 申请人类别
    applicant_kind: Mapped[ApplicantKind] = mapped_column(enum_column(ApplicantKind, 12))
    #: 申请人账号（提交、补正、撤回、催办由该账号办理）
    applicant_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    #: 申请人（自然人：职工本人或近亲属）
    applicant_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    #: 申请人（用人单位）
    applicant_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    #: 近亲属与职工的关系 (spouse/child/parent/sibling/grandparent/grandchild)
    relation: Mapped[str | None] = mapped_column(String(20))
    #: 受伤害职工
    worker_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    #: 用人单位
    employer_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: 参保单位（已在本门户参保时）
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("enrolled_unit.id"))
    #: 用人单位所在县（区）行政区划代码
    county_code: Mapped[str | None] = mapped_column(String(6))
    #: 管辖地市（用人单位所在地设区的市）
    city_code: Mapped[str | None] = mapped_column(String(6), index=True)
    #: 伤害类别：事故伤害 / 职业病
    event_kind: Mapped[EventKind | None] = mapped_column(enum_column(EventKind, 12))
    #: 事故伤害发生日期或职业病诊断、鉴定日期（申请时限起算）
    event_date: Mapped[date | None] = mapped_column(Date)
    #: 事故发生时间（时:分），可空
    event_time: Mapped[str | None] = mapped_column(String(5))
    #: 事故地点
    event_place: Mapped[str | None] = mapped_column(String(200))
    #: 事故经过（不含医疗信息）
    event_account: Mapped[str | None] = mapped_column(Text)
    #: 受伤部位及诊断（医疗信息，加密，用人单位不可见）
    injury: Mapped[str | None] = mapped_column(EncryptedText("recognition_case.injury"))
    #: 职工是否死亡
    died: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: 死亡日期
    death_date: Mapped[date | None] = mapped_column(Date)
    #: 已完成的填写步骤（逗号分隔）
    completed_steps: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: 超过申请时限提出（用人单位逾期申请照常受理，记录在案：条例第十七条第四款）
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: 逾期原因说明（职工一方：因不属于本人的原因耽误的时间，法释〔2014〕9号第七条）
    late_reason: Mapped[str | None] = mapped_column(Text)
    #: 提交时间
    submitted_at: Mapped[datetime | None]
    #: 收到申请之日（审查期限起算）
    received_on: Mapped[date | None] = mapped_column(Date)
    #: 是否已发出补正通知（一次性告知，只能一次）
    supplement_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: 收到补正材料之日
    supplement_received_on: Mapped[date | None] = mapped_column(Date)
    #: 受理日期（认定期限起算）
    accepted_on: Mapped[date | None] = mapped_column(Date)
    #: 受理决定书文号 / 不予受理决定书文号
    acceptance_number: Mapped[str | None] = mapped_column(String(60))
    #: 不予受理理由
    refusal_reasons: Mapped[str | None] = mapped_column(Text)
    #: 适用简易程序（事实清楚、权利义务明确，15日内作出决定：条例第二十条第二款）
    simplified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: 认定结论
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, 16))
    #: 认定依据（config/policy/recognition_grounds.toml 中的代码）
    ground_code: Mapped[str | None] = mapped_column(String(40))
    #: 认定决定理由与事实（写入决定书；用人单位可见）
    decision_reasoning: Mapped[str | None] = mapped_column(EncryptedText("recognition_case.decision_reasoning"))
    #: 认定决定书文号
    decision_number: Mapped[str | None] = mapped_column(String(60))
    #: 作出认定决定日期
    decided_on: Mapped[date | None] = mapped_column(Date)
    #: 送达日期
    served_on: Mapped[date | None] = mapped_column(Date)
    #: 办结日期（送达、不予受理或撤回）
    closed_on: Mapped[date | None] = mapped_column(Date)
    #: 申请回执 / 受理（不予受理）决定书 / 认定决定书（portal.materials 的文件）
    receipt_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    acceptance_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    decision_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    worker: Mapped[Person | None] = relationship(foreign_keys=[worker_person_id])
    applicant_person: Mapped[Person | None] = relationship(foreign_keys=[applicant_person_id])
    employer: Mapped[Organisation | None] = relationship(foreign_keys=[employer_organisation_id])
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan")
    pauses: Mapped[list[CasePause]] = relationship(
        back_populates="case", order_by="CasePause.id", cascade="all, delete-orphan")
    materials: Mapped[list[CaseMaterial]] = relationship(
        back_populates="case", order_by="CaseMaterial.id", cascade="all, delete-orphan")

    @property
    def steps(self) -> set[str]:
        return {s for s in self.completed_steps.split(",") if s}


class CaseEvent(Base):
    """One step of a case's timeline (办理进度). ``note`` is what the applicant, the worker and
    the employer may read; it never holds medical details."""

    __tablename__ = "recognition_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recognition_case.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: 办理环节（CaseAction 的值）
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    #: 办理人角色（不记录个人姓名）
    by_role: Mapped[str] = mapped_column(String(32))
    #: 办理机构，如 合肥市人力资源和社会保障局 / 申请人
    by_office: Mapped[str] = mapped_column(String(200))
    #: 对外说明
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[RecognitionCase] = relationship(back_populates="events")


class CasePause(Base):
    """A stretch of days on which the case's statutory clock stands still: waiting for the
    applicant's supplement (补正) or suspended (中止) pending another authority's conclusion."""

    __tablename__ = "recognition_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recognition_case.id"), index=True)
    kind: Mapped[PauseKind] = mapped_column(enum_column(PauseKind, 12))
    #: 停止计时起始日（含）
    started_on: Mapped[date] = mapped_column(Date)
    #: 恢复计时前一日（含）；空 = 仍在停止计时
    ended_on: Mapped[date | None] = mapped_column(Date)
    #: 理由（对外可见，如：劳动关系争议待仲裁裁决）
    reason: Mapped[str] = mapped_column(Text)

    case: Mapped[RecognitionCase] = relationship(back_populates="pauses")


class CaseMaterial(Base):
    """A file submitted with a case (申请材料), or offered again from documents already held
    for the same person (``reused``)."""

    __tablename__ = "recognition_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recognition_case.id"), index=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    #: 材料类别（config/policy/material_kinds.toml）
    kind: Mapped[str] = mapped_column(String(40))
    #: 补正清单中的哪一项（补正时上传）
    supplement_item_id: Mapped[int | None] = mapped_column(ForeignKey("recognition_supplement_item.id"))
    #: 复用已有材料
    reused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))

    case: Mapped[RecognitionCase] = relationship(back_populates="materials")


class SupplementItem(Base):
    """One line of the one-time notice of missing material (一次性告知补正材料清单)."""

    __tablename__ = "recognition_supplement_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recognition_case.id"), index=True)
    #: 材料类别
    kind: Mapped[str] = mapped_column(String(40))
    #: 具体要求，如：请提供劳动合同或工资发放记录
    description: Mapped[str] = mapped_column(Text)
    #: 已补交
    supplied_at: Mapped[datetime | None]


class Urge(Base):
    """催办: an applicant presses a case; staff answer in writing."""

    __tablename__ = "recognition_urge"
    __table_args__ = (
        Index("ix_recognition_urge_unanswered", "case_id",
              sqlite_where=text("answer IS NULL"), postgresql_where=text("answer IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recognition_case.id"), index=True)
    by_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: 催办内容
    text: Mapped[str] = mapped_column(Text)
    #: 书面答复
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    #: 答复机构
    answered_by_office: Mapped[str | None] = mapped_column(String(200))


class InvestigationNote(Base):
    """调查核实记录 and the employer's view (用人单位意见); staff only, may hold medical facts."""

    __tablename__ = "recognition_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recognition_case.id"), index=True)
    #: note 调查记录 / employer_view 用人单位意见
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(EncryptedText("recognition_note.text"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    by_office: Mapped[str] = mapped_column(String(200))


class DocumentCounter(Base):
    """The last number given to a kind of document in a city and year (文书编号)."""

    __tablename__ = "recognition_doc_counter"
    __table_args__ = (UniqueConstraint("city_code", "year", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    #: acceptance 受理 / refusal 不予受理 / decision 认定
    kind: Mapped[str] = mapped_column(String(20))
    last: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
