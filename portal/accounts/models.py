"""Accounts and the personal data behind them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.choices import LabelledEnum
from portal.db import Base, enum_column, utcnow
from portal.security.fields import EncryptedText


class AccountKind(LabelledEnum):
    PERSON = "person", "自然人"  #: natural person: worker or relative
    ORGANISATION = "organisation", "法人"  #: legal person: employer, acting through an agent
    STAFF = "staff", "工作人员"  #: agency, HRSS or provincial staff


class Person(Base):
    """A natural person's identity and contact details (个人信息). Encrypted at rest.

    A **confirmed** record (已实名确认) is made or confirmed by the person's own verified sign-in
    through the provincial platform, whose real-name identity is authoritative: at most one per ID
    number. A record typed by another account (an employer adding a member or a roster worker, an
    employer or a relative filing a recognition draft) stays **unconfirmed** and local to its
    typing ``scope`` (one per scope and ID number) until the person signs in: the same name is then
    linked to the confirmed record, a different name goes to the clerks' work list
    (姓名不一致待核实). Nothing typed in one scope is ever seen or matched from another.
    """

    __tablename__ = "person"
    __table_args__ = (
        # one confirmed record per ID number; unconfirmed ones only once per typing scope
        Index("uq_person_confirmed_id_number", "id_number_hash", unique=True,
              sqlite_where=text("confirmed"), postgresql_where=text("confirmed")),
        Index("uq_person_scope_id_number", "id_number_hash", "scope", unique=True,
              sqlite_where=text("NOT confirmed"), postgresql_where=text("NOT confirmed")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 姓名 (a confirmed record: the platform's real name; unconfirmed: as typed)
    name: Mapped[str] = mapped_column(String(100))
    #: 公民身份号码, encrypted
    id_number: Mapped[str] = mapped_column(EncryptedText("person.id_number"))
    #: HMAC-SM3 blind index of the ID number, for look-ups
    id_number_hash: Mapped[str] = mapped_column(String(64))
    #: 已实名确认: made or confirmed by the person's verified sign-in
    confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: 录入范围 of an unconfirmed record: ``organisation:<id>``, ``account:<id>`` or ``legacy``
    scope: Mapped[str | None] = mapped_column(String(40))
    #: where an unconfirmed record was first typed (单位名称 / 项目编号 / 工伤认定申请), for clerks
    typed_in: Mapped[str | None] = mapped_column(String(200))
    #: 地市 of that place (the clerks who see the mismatch); NULL: provincial staff only
    typed_city_code: Mapped[str | None] = mapped_column(String(6))
    #: a clerk found it is NOT the confirmed person of that ID number (不是同一人): kept separate
    kept_separate: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: 手机号码, encrypted
    phone: Mapped[str | None] = mapped_column(EncryptedText("person.phone"))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    #: 待遇发放银行账号 (benefit payment account), encrypted
    bank_account: Mapped[str | None] = mapped_column(EncryptedText("person.bank_account"))
    bank_account_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    #: 开户银行
    bank_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Organisation(Base):
    """An employer (用人单位) as known from the legal-person login."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 统一社会信用代码
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    #: 单位名称
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Account(Base):
    """One login identity at the provincial platform (统一身份认证账号)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The platform's subject identifier (``sub``): opaque, stable, not personal data.
    subject: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind))
    display_name: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    person: Mapped[Person | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class StaffAssignment(Base):
    """Which staff login may act in which role and city (人员授权). Maintained by the province."""

    __tablename__ = "staff_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The staff member's subject at the provincial platform.
    subject: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: portal.auth.roles.Role value (clerk, recognition_officer, ...)
    role: Mapped[str] = mapped_column(String(32))
    #: 地市行政区划代码; NULL for provincial staff (all cities)
    city_code: Mapped[str | None] = mapped_column(String(6))
    #: 经办机构/部门名称 shown to applicants instead of the person's name
    office: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
