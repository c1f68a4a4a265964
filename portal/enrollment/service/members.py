"""人员增减: insured persons on an approved unit — add, change the wage base, remove.

A member row is never deleted: removal sets its end date, and adding the same person later
starts a new period. ID numbers live (encrypted) in the ``person`` table: the person's confirmed
record when the name matches it, else the employer's own unconfirmed one
(:func:`portal.accounts.service.persons_for_typed`); lists show masked numbers only, and each page
view is audited as a read.
Rules: wage base within [floor × A, cap × A], A the 全口径 average wage (国办发〔2019〕13号); 单险种参保 for people
past retirement age, interns and other groups (皖人社发〔2023〕21号 三(一)1), age cap warns only
(shared/domain.md Q6). Plain Python: no Flask here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, load_only

from portal.accounts.models import Person
from portal.accounts.service import (
    IdentifierError,
    TypingScope,
    birth_date_of,
    id_number_hash,
    normalise_id_number,
    normalise_phone,
    organisation_scope,
    person_for_typed,
    phone_hash,
)
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import independent_transaction
from portal.enrollment.models import EnrolledUnit, InsuranceType, UnitMember, UnitStatus
from portal.enrollment.service.premiums import (
    Premium,
    monthly_premium,
    rate_info,
    wage_bounds,
)
from portal.enrollment.service.units import (
    load_unit_for_staff,
    own_unit,
    require_own_unit,
)
from portal.errors import ConflictError, InvalidFields, NotFoundError, UserInputError
from portal.localtime import cn_date, local_today
from portal.money import MoneyError, parse_amount
from portal.paging import Paged, capped_count, page_count
from portal.policy.figures import figure
from portal.policy.retirement import retirement
from portal.regions import province
from portal.security.masking import mask_id_number, mask_phone

PER_PAGE = 50
#: Chinese names people may type for each insurance type (template, form, import)
TYPE_ALIASES = {
    "": InsuranceType.REGULAR, "一般参保": InsuranceType.REGULAR, "一般": InsuranceType.REGULAR,
    "普通": InsuranceType.REGULAR,
    "超龄人员": InsuranceType.RETIRED_AGE, "单险种：超龄人员": InsuranceType.RETIRED_AGE,
    "超过法定退休年龄人员": InsuranceType.RETIRED_AGE,
    "实习生": InsuranceType.INTERN, "单险种：实习生": InsuranceType.INTERN,
    "其他特定人员": InsuranceType.OTHER, "单险种：其他特定人员": InsuranceType.OTHER,
    **{t.value: t for t in InsuranceType},
}


def parse_insurance_type(raw: str | None) -> InsuranceType | None:
    key = (raw or "").strip().replace(":", "：")
    return TYPE_ALIASES.get(key) or TYPE_ALIASES.get(key.lower())


def age_on(birth: date, on: date) -> int:
    """Full years of age on ``on`` (周岁)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def sex_of(id_number: str) -> str:
    """GB 11643: the 17th character (sequence) is odd for men, even for women."""
    return "male" if int(id_number[16]) % 2 else "female"


# --- one person's details, checked -------------------------------------------------------------


@dataclass(frozen=True)
class MemberDetails:
    name: str
    id_number: str
    phone: str | None
    wage_base: Decimal
    start_date: date
    insurance_type: InsuranceType
    age_warning: bool = False
    needs_review: bool = False
    warning: str | None = None


def _date_window(today: date) -> int:
    return int(figure("enrollment_date_window", today).value["max_days_ahead"])


def check_wage_base(wage: Decimal, on: date) -> None:
    """Refuse (never clamp) a wage base outside the bounds in force on ``on``."""
    bounds = wage_bounds(on)
    if not bounds.floor <= wage <= bounds.cap:
        raise UserInputError(f"月缴费工资基数应在 {bounds.text}之间（{bounds.basis_text}）")


def check_member_details(unit: EnrolledUnit, *, name: Any, id_number: Any, phone: Any, wage_base: Any,
                         start_date: date | None, insurance_type: Any, today: date) -> MemberDetails:
    """Validate one person; every problem at once as :class:`InvalidFields` (field -> message)."""
    errors: dict[str, str] = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = "请填写姓名"
    elif len(name) > 100:
        errors["name"] = "姓名不能超过100个字"
    try:
        id_value = normalise_id_number(id_number if isinstance(id_number, str) else "", today=today)
    except IdentifierError as exc:
        errors["id_number"] = str(exc)
        id_value = ""
    phone_value = None
    if isinstance(phone, str) and phone.strip():
        try:
            phone_value = normalise_phone(phone)
        except IdentifierError as exc:
            errors["phone"] = str(exc)
    wage = None
    if isinstance(wage_base, Decimal):
        wage = wage_base
    else:
        try:
            wage = parse_amount(wage_base if isinstance(wage_base, str) else "", field="月缴费工资基数")
        except MoneyError as exc:
            errors["wage_base"] = str(exc)
    kind = insurance_type if isinstance(insurance_type, InsuranceType) else parse_insurance_type(insurance_type)
    if kind is None:
        errors["insurance_type"] = "参保类型应为：一般参保、超龄人员、实习生、其他特定人员"
    if start_date is None:
        errors["start_date"] = "请填写参保日期"
    else:
        window = _date_window(today)
        if unit.effective_date and start_date < unit.effective_date:
            errors["start_date"] = f"参保日期不能早于本单位参保生效日期 {unit.effective_date:%Y-%m-%d}"
        elif start_date > today + timedelta(days=window):
            errors["start_date"] = f"参保日期不能晚于今天之后{window}天"
    if start_date is not None and "start_date" not in errors and wage is not None and "wage_base" not in errors:
        try:
            check_wage_base(wage, start_date)
        except UserInputError as exc:
            errors["wage_base"] = exc.message
    age_warning = needs_review = False
    warning = None
    if (kind is InsuranceType.RETIRED_AGE and id_value and start_date is not None
            and "start_date" not in errors):
        try:
            cap = int(figure("single_insurance_age_cap", start_date).decimal())
            birth, sex = birth_date_of(id_value), sex_of(id_value)
            # a woman's original category (50 or 55) is not on the ID card: the earlier date decides
            # refusal, and one between the two dates goes to the clerk to confirm the category
            earliest = retirement(birth, sex, 50 if sex == "female" else None)
            age = age_on(birth, start_date)
            if start_date < earliest.date:
                errors["insurance_type"] = (
                    f"该人员参保日为{age}周岁，未达到法定退休年龄（{earliest.describe()}，"
                    f"{cn_date(earliest.date)}达到），不能按超龄人员单险种参保")
            elif age > cap:
                age_warning = True
                warning = f"该人员参保日已{age}周岁，超过单险种参保年龄上限{cap}周岁，已受理，经办机构将复核"
            elif sex == "female" and start_date < (later := retirement(birth, sex, 55)).date:
                needs_review = True
                warning = (f"该人员已达到原法定退休年龄为50周岁的女职工的法定退休年龄；如原法定退休年龄为55周岁，"
                           f"须到{cn_date(later.date)}（{later.age}）才达到，已受理，经办机构将复核")
        except UserInputError as exc:
            errors["start_date"] = exc.message
    if kind is InsuranceType.OTHER:
        needs_review = True
        warning = "“其他特定人员”需经办机构审核认定"
    if kind is not None and kind is not InsuranceType.REGULAR and start_date is not None and "start_date" not in errors:
        try:
            groups = figure("single_insurance_groups", start_date).value
            if kind.value not in groups:
                errors["insurance_type"] = f"{start_date:%Y-%m-%d} 起没有“{kind.label}”这一参保类型"
        except UserInputError as exc:
            errors["start_date"] = exc.message
    if errors:
        raise InvalidFields(errors)
    return MemberDetails(name=name, id_number=id_value, phone=phone_value, wage_base=wage,  # type: ignore[arg-type]
                         start_date=start_date, insurance_type=kind, age_warning=age_warning,  # type: ignore[arg-type]
                         needs_review=needs_review, warning=warning)


# --- loading ------------------------------------------------------------------------------------


def approved_own_unit(sess: Session, actor: Actor) -> EnrolledUnit:
    unit = require_own_unit(sess, actor)
    if unit.status is not UnitStatus.APPROVED:
        raise ConflictError("单位参保登记审核通过后才能增减参保人员")
    return unit


def _own_member(sess: Session, actor: Actor, member_id: int) -> tuple[EnrolledUnit, UnitMember]:
    unit = approved_own_unit(sess, actor)
    member = sess.get(UnitMember, member_id)
    if member is None or member.unit_id != unit.id:
        raise NotFoundError("未找到该参保人员")
    return unit, member


def open_periods(sess: Session, unit_id: int, id_hashes: Sequence[str]) -> dict[str, UnitMember]:
    """Each ID number's latest period on this unit (by blind index, so every record this unit
    typed for the number counts, confirmed or not), keyed by the blind index."""
    found: dict[str, UnitMember] = {}
    hashes = list(id_hashes)
    for i in range(0, len(hashes), 500):
        for digest, m in sess.execute(
                select(Person.id_number_hash, UnitMember).join(Person, Person.id == UnitMember.person_id)
                .where(UnitMember.unit_id == unit_id, Person.id_number_hash.in_(hashes[i:i + 500]))
                .order_by(UnitMember.start_date, UnitMember.id)).all():
            found[digest] = m
    return found


def overlap_message(existing: UnitMember | None, start: date) -> str | None:
    if existing is None:
        return None
    if existing.end_date is None:
        return "该人员已在本单位参保，不能重复增加"
    if existing.end_date >= start:
        return f"该人员在本单位的上一段参保至 {existing.end_date:%Y-%m-%d}，新的参保日期须晚于该日"
    return None


def member_scope(unit: EnrolledUnit) -> TypingScope:
    """Persons an employer types on its member list belong to the employer until confirmed."""
    return organisation_scope(unit.organisation_id, typed_in=f"参保人员名单：{unit.name}", city_code=unit.city_code)


# --- changes --------------------------------------------------------------------------------------


def add_member(sess: Session, actor: Actor, *, name: Any, id_number: Any, phone: Any, wage_base: Any,
               start_date: date | None, insurance_type: Any, today: date | None = None) -> tuple[UnitMember, str | None]:
    """增员: one person; returns the new period and a warning the employer should see (or None)."""
    unit = approved_own_unit(sess, actor)
    today = today or local_today()
    details = check_member_details(unit, name=name, id_number=id_number, phone=phone, wage_base=wage_base,
                                   start_date=start_date, insurance_type=insurance_type, today=today)
    digest = id_number_hash(details.id_number)
    problem = overlap_message(open_periods(sess, unit.id, [digest]).get(digest), details.start_date)
    if problem:
        raise InvalidFields({"id_number": problem})
    person = person_for_typed(sess, member_scope(unit), name=details.name, id_number=details.id_number)
    member = _new_member(unit, person, details)
    sess.add(member)
    sess.flush()
    audit.record(sess, actor, "enrollment.member_add", object_type="unit_member", object_id=member.id,
                 city_code=unit.city_code,
                 detail={"unit_id": unit.id, "insurance_type": details.insurance_type.value,
                         "fields": ["id_number"] + (["phone"] if details.phone else [])})
    return member, details.warning


def _new_member(unit: EnrolledUnit, person: Person, details: MemberDetails) -> UnitMember:
    return UnitMember(unit_id=unit.id, person=person, insurance_type=details.insurance_type,
                      wage_base=details.wage_base, start_date=details.start_date,
                      phone=details.phone, phone_hash=phone_hash(details.phone) if details.phone else None,
                      age_warning=details.age_warning, needs_review=details.needs_review)


def change_wage_base(sess: Session, actor: Actor, member_id: int, *, wage_base: Any,
                     today: date | None = None) -> UnitMember:
    """变更缴费工资基数 of a current member; checked against the bounds in force today."""
    unit, member = _own_member(sess, actor, member_id)
    today = today or local_today()
    if member.end_date is not None and member.end_date < today:
        raise ConflictError("该人员已停保，不能变更缴费工资基数")
    try:
        wage = parse_amount(wage_base if isinstance(wage_base, str) else str(wage_base or ""),
                            field="月缴费工资基数")
        check_wage_base(wage, max(today, member.start_date))
    except MoneyError as exc:
        raise InvalidFields({"wage_base": str(exc)}) from exc
    except UserInputError as exc:
        raise InvalidFields({"wage_base": exc.message}) from exc
    member.wage_base = wage
    sess.flush()
    audit.record(sess, actor, "enrollment.member_wage_change", object_type="unit_member", object_id=member.id,
                 city_code=unit.city_code, detail={"unit_id": unit.id})
    return member


def remove_member(sess: Session, actor: Actor, member_id: int, *, end_date: date | None,
                  today: date | None = None) -> UnitMember:
    """减员: the period ends on ``end_date`` (inclusive); the row stays as history."""
    unit, member = _own_member(sess, actor, member_id)
    today = today or local_today()
    if member.end_date is not None:
        raise ConflictError("该人员已停保")
    window = _date_window(today)
    if end_date is None:
        raise InvalidFields({"end_date": "请填写停保日期"})
    if end_date < member.start_date:
        raise InvalidFields({"end_date": f"停保日期不能早于参保日期 {member.start_date:%Y-%m-%d}"})
    if end_date > today + timedelta(days=window):
        raise InvalidFields({"end_date": f"停保日期不能晚于今天之后{window}天"})
    member.end_date = end_date
    sess.flush()
    audit.record(sess, actor, "enrollment.member_remove", object_type="unit_member", object_id=member.id,
                 city_code=unit.city_code, detail={"unit_id": unit.id, "end_date": end_date.isoformat()})
    return member


# --- the list, masked and audited ------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    id: int
    name: str
    id_number_masked: str
    phone_masked: str | None
    insurance_type: InsuranceType
    wage_base: Decimal
    start_date: date
    end_date: date | None
    age_warning: bool
    needs_review: bool
    active: bool
    premium: Premium | None


@dataclass(frozen=True)
class MembersPage(Paged):
    unit: EnrolledUnit
    rows: Sequence[MemberRow]
    total: int
    page: int
    per_page: int
    show: str
    total_is_capped: bool = False


SHOW_CHOICES = ("current", "ended", "flagged", "all")


def _unit_for_reader(sess: Session, actor: Actor, unit_id: int | None) -> EnrolledUnit | None:
    if actor.role is Role.EMPLOYER:
        return own_unit(sess, actor)
    if unit_id is None:
        raise NotFoundError("未找到该单位")
    return load_unit_for_staff(sess, actor, unit_id)


def read_members(sess: Session, actor: Actor, *, unit_id: int | None = None, show: str = "current",
                 page: int = 1, per_page: int = PER_PAGE, today: date | None = None) -> MembersPage | None:
    """One page of the unit's members with masked numbers; the decryption is audited (one row
    per page view naming how many persons were shown), in a transaction of its own that commits
    whatever the page answers."""
    with independent_transaction(sess) as own:
        return _members_page(own, actor, unit_id=unit_id, show=show, page=page, per_page=per_page,
                             today=today or local_today())


def members_query(unit_id: int, show: str, today: date) -> Select:
    """The members list's query for one unit and filter (全部 / 在保 / 已减员 / 需复核), unordered."""
    query = select(UnitMember).where(UnitMember.unit_id == unit_id)
    if show == "current":
        query = query.where(or_(UnitMember.end_date.is_(None), UnitMember.end_date >= today))
    elif show == "ended":
        query = query.where(UnitMember.end_date < today)
    elif show == "flagged":
        query = query.where(or_(UnitMember.age_warning.is_(True), UnitMember.needs_review.is_(True)))
    return query


def _members_page(sess: Session, actor: Actor, *, unit_id: int | None, show: str, page: int, per_page: int,
                  today: date) -> MembersPage | None:
    unit = _unit_for_reader(sess, actor, unit_id)
    if unit is None:
        return None  # an employer that has not enrolled yet: the page says how to start
    show = show if show in SHOW_CHOICES else "current"
    query = members_query(unit.id, show, today)
    total, capped = capped_count(sess, query)
    page = min(max(1, page), page_count(total, per_page))
    members = sess.execute(query.order_by(UnitMember.start_date, UnitMember.id)
                           .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    # only the shown columns of the page's persons: their phone and bank account stay encrypted
    persons = {p.id: p for p in sess.execute(
        select(Person).where(Person.id.in_({m.person_id for m in members}))
        .options(load_only(Person.id, Person.name, Person.id_number, raiseload=True))).scalars()} if members else {}
    info = None
    if unit.status is UnitStatus.APPROVED and unit.risk_class:
        try:
            info = rate_info(unit.industry_code, unit.risk_class, unit.rate_band, max(today, unit.effective_date))  # type: ignore[type-var]
        except UserInputError:
            info = None
    rows = []
    for m in members:
        person = persons[m.person_id]
        active = m.is_active(today)
        premium = None
        if info is not None and info.base_rate is not None:
            try:
                premium = monthly_premium(m.wage_base, info.base_rate, info.band, today)
            except UserInputError:
                premium = None
        rows.append(MemberRow(id=m.id, name=person.name, id_number_masked=mask_id_number(person.id_number),
                              phone_masked=mask_phone(m.phone) if m.phone else None,
                              insurance_type=m.insurance_type, wage_base=m.wage_base, start_date=m.start_date,
                              end_date=m.end_date, age_warning=m.age_warning, needs_review=m.needs_review,
                              active=active, premium=premium))
    if rows:
        audit.record(sess, actor, "enrollment.members_read_personal_data", object_type="enrolled_unit",
                     object_id=unit.id, city_code=unit.city_code,
                     detail={"persons": len(rows), "fields": ["id_number", "phone"], "page": page})
    return MembersPage(unit=unit, rows=rows, total=total, page=page, per_page=per_page, show=show,
                       total_is_capped=capped)


def read_member(sess: Session, actor: Actor, member_id: int, today: date | None = None) -> MemberRow:
    """One member of the employer's unit, masked; the read is audited like :func:`read_members`."""
    with independent_transaction(sess) as own:
        return _member_row(own, actor, member_id, today or local_today())


def _member_row(sess: Session, actor: Actor, member_id: int, today: date) -> MemberRow:
    unit = require_own_unit(sess, actor)
    member = sess.get(UnitMember, member_id)
    if member is None or member.unit_id != unit.id:
        raise NotFoundError("未找到该参保人员")
    person = sess.get(Person, member.person_id)
    premium = None
    if unit.status is UnitStatus.APPROVED and unit.risk_class:
        try:
            info = rate_info(unit.industry_code, unit.risk_class, unit.rate_band, today)
            premium = monthly_premium(member.wage_base, info.base_rate, info.band, today)  # type: ignore[arg-type]
        except UserInputError:
            premium = None
    audit.record(sess, actor, "enrollment.members_read_personal_data", object_type="unit_member",
                 object_id=member.id, city_code=unit.city_code,
                 detail={"persons": 1, "fields": ["id_number", "phone"]})
    return MemberRow(id=member.id, name=person.name, id_number_masked=mask_id_number(person.id_number),  # type: ignore[union-attr]
                     phone_masked=mask_phone(member.phone) if member.phone else None,
                     insurance_type=member.insurance_type, wage_base=member.wage_base,
                     start_date=member.start_date, end_date=member.end_date, age_warning=member.age_warning,
                     needs_review=member.needs_review, active=member.is_active(today), premium=premium)


# --- the worker's own cover (查参保) -------------------------------------------------------------------


@dataclass(frozen=True)
class UnitCoverLine:
    """One period of the signed-in worker's own unit cover (单位参保)."""

    unit_name: str
    city_name: str
    insurance_type: InsuranceType
    start_date: date
    end_date: date | None

    @property
    def started(self) -> bool:
        return self.start_date <= local_today()


def my_unit_cover(sess: Session, actor: Actor, today: date | None = None) -> list[UnitCoverLine]:
    """The signed-in worker's current (or announced) periods on approved units, by their own
    person record only: nothing about anyone else, nothing another account typed under a name
    that was not linked to theirs."""
    if actor.role is not Role.WORKER or actor.person_id is None:
        raise NotFoundError("未找到您的个人信息")
    today = today or local_today()
    rows = sess.execute(select(UnitMember, EnrolledUnit).join(EnrolledUnit, EnrolledUnit.id == UnitMember.unit_id)
                        .where(UnitMember.person_id == actor.person_id,
                               EnrolledUnit.status == UnitStatus.APPROVED,
                               or_(UnitMember.end_date.is_(None), UnitMember.end_date >= today))
                        .order_by(UnitMember.start_date, UnitMember.id)).all()
    names = {c.code: c.name for c in province().cities}
    return [UnitCoverLine(unit.name, names.get(unit.city_code, unit.city_code), member.insurance_type,
                          member.start_date, member.end_date) for member, unit in rows]
