"""单位参保登记: the employer enrolls its unit, a clerk of its city approves or returns it.

States draft → submitted → approved | returned (→ submitted again after the employer answers).
Every change goes through :data:`UNIT_STATES`, which writes the timeline entry (EnrollmentEvent)
and the audit row in the same transaction.
Basis: 《工伤保险条例》第二条、第十条; 《社会保险经办条例》第六条; 皖人社发〔2023〕21号 三(一)1–2.
Plain Python: no Flask here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import BigInteger, Select, and_, case, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from portal.accounts.models import Organisation
from portal.accounts.service import (
    IdentifierError,
    normalise_phone,
    normalise_uscc,
    phone_hash,
)
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import independent_transaction, utcnow
from portal.enrollment.models import (
    EnrolledUnit,
    EnrollmentEvent,
    IllegalUnitTransition,
    UnitAction,
    UnitMember,
    UnitStatus,
)
from portal.enrollment.service.premiums import (
    CLASS_NAMES,
    RateInfo,
    bands_for,
    monthly_premium,
    rate_info,
)
from portal.errors import ConflictError, InvalidFields, NotFoundError, UserInputError
from portal.localtime import local_today, to_local
from portal.paging import Paged, capped_count, page_count
from portal.policy.figures import figure, industries, industry_for
from portal.regions import province
from portal.security.masking import mask_phone
from portal.states import StateMachine, Transition

PER_PAGE = 20
#: 国民经济行业分类 (GB/T 4754): optional section letter A–T, then 2–4 digits (大类 to 小类)
_INDUSTRY = re.compile(r"^[A-T]?\d{2,4}$")


# --- the state machine: every status change writes its timeline line and audit row ------------


def _office_of(actor: Actor, unit: EnrolledUnit) -> str:
    if actor.role is Role.EMPLOYER:
        return unit.name
    return actor.office or (actor.role.label if actor.role else "")


def _timeline_event(sess: Session, actor: Actor, unit: EnrolledUnit, move: Transition) -> EnrollmentEvent:
    """办理进度: names the office, never the staff member (the audit trail keeps who exactly)."""
    event = EnrollmentEvent(unit=unit, at=utcnow(), action=move.action.value,
                            from_status=move.source.value if move.source else None, to_status=move.target.value,
                            by_role=actor.role.value if actor.role else "", by_office=_office_of(actor, unit),
                            reasons=move.note)
    sess.add(event)
    return event


def platform_item_no(unit: EnrolledUnit) -> str:
    """The unit's enrollment as a 办件 on the provincial platform, and its inbox case reference."""
    return f"DWCB-{unit.city_code}-{unit.id:08d}"


UNIT_LINK = "/enrollment/unit"


def _notify_employer(sess: Session, actor: Actor, unit: EnrolledUnit, move: Transition, event: EnrollmentEvent) -> None:
    """The employer's inbox hears of the decision: approval, or the return with its reasons (a
    待办 until the unit sends the enrollment again)."""
    from portal.inbox import service as inbox

    reference = platform_item_no(unit)
    office = province().office("agency", unit.city_code)
    key = f"enrollment:{unit.id}:event:{event.id}:organisation"
    if move.action is UnitAction.APPROVE:
        inbox.deliver(sess, organisation_id=unit.organisation_id, kind="notice",
                      subject="单位工伤保险参保登记已审核通过",
                      body=(f"您单位（{unit.name}）的工伤保险参保登记已由{office}审核通过：{move.note}。\n"
                            "现在可以办理参保人员增减（增员、减员、变更缴费工资基数）。"),
                      link=UNIT_LINK, link_label="查看参保登记", case_reference=reference, dedupe_key=key)
    elif move.action is UnitAction.RETURN:
        inbox.deliver(sess, organisation_id=unit.organisation_id, kind="request",
                      subject="单位工伤保险参保登记被退回，请补正",
                      body=(f"您单位（{unit.name}）的工伤保险参保登记被{office}退回。\n退回原因：{move.note}\n"
                            "请按退回原因修改登记信息后重新提交审核。"),
                      link=UNIT_LINK, link_label="修改并重新提交", case_reference=reference,
                      action_required=True, dedupe_key=key)
    elif move.action is UnitAction.SUBMIT and move.source is UnitStatus.RETURNED:
        inbox.complete_actions(sess, case_reference=reference, kind="request")


def _report_to_platform(sess: Session, actor: Actor, unit: EnrolledUnit, move: Transition,
                        event: EnrollmentEvent) -> None:
    """Submissions, returns and approvals as a 办件 on the provincial platform (outbox); drafts
    are never reported, and neither are the return's reasons (they may name people)."""
    from portal.outbox import gov_items

    stage = {UnitAction.SUBMIT: gov_items.Stage.SUPPLEMENT_RECEIVED if move.source is UnitStatus.RETURNED
             else gov_items.Stage.RECEIVED,
             UnitAction.RETURN: gov_items.Stage.SUPPLEMENT_REQUESTED,
             UnitAction.APPROVE: gov_items.Stage.COMPLETED}.get(move.action)
    if stage is None:
        return
    register = None
    if stage is gov_items.Stage.RECEIVED:
        if actor.account_id is None:
            return  # sent in by a script, not a signed-in account: nobody to name on the platform
        register = dict(applicant_account_id=actor.account_id, applicant_person_id=None,
                        applicant_organisation_id=unit.organisation_id,
                        department=province().office("agency", unit.city_code), city_code=unit.city_code,
                        received_at=to_local(event.at))
    completed = move.action is UnitAction.APPROVE
    gov_items.report_move(
        sess, service_item=gov_items.ServiceItem.UNIT_ENROLLMENT, item_no=platform_item_no(unit), stage=stage,
        stage_label=move.action.label, occurred_at=to_local(event.at), event_key=f"enrollment:{unit.id}:event:{event.id}",
        completed=completed, result="准予参保登记" if completed else None, register=register)


#: 单位参保登记: draft → submitted → approved | returned (→ submitted again once answered).
#: Anything not listed is refused; audit actions "enrollment.unit_<action>"; submissions and
#: decisions reach the provincial platform (outbox) and decisions the employer's inbox.
UNIT_STATES: StateMachine[UnitStatus, UnitAction] = StateMachine(
    name="enrollment",
    object_type="enrolled_unit",
    audit_action="enrollment.unit_{action}",
    transitions={
        (None, UnitAction.CREATE): UnitStatus.DRAFT,
        (UnitStatus.DRAFT, UnitAction.EDIT): UnitStatus.DRAFT,
        (UnitStatus.RETURNED, UnitAction.EDIT): UnitStatus.RETURNED,
        (UnitStatus.DRAFT, UnitAction.SUBMIT): UnitStatus.SUBMITTED,
        (UnitStatus.RETURNED, UnitAction.SUBMIT): UnitStatus.SUBMITTED,
        (UnitStatus.SUBMITTED, UnitAction.APPROVE): UnitStatus.APPROVED,
        (UnitStatus.SUBMITTED, UnitAction.RETURN): UnitStatus.RETURNED,
    },
    illegal=IllegalUnitTransition,
    timeline=_timeline_event,
    effects=(_report_to_platform, _notify_employer),
)


# --- the employer's side ---------------------------------------------------------------------


def own_unit(sess: Session, actor: Actor) -> EnrolledUnit | None:
    """The signed-in employer's unit, or None when it has not started an enrollment."""
    if actor.role is not Role.EMPLOYER or actor.organisation_id is None:
        raise NotFoundError("未找到您的单位")
    return sess.execute(select(EnrolledUnit).where(EnrolledUnit.organisation_id == actor.organisation_id)
                        ).scalar_one_or_none()


def require_own_unit(sess: Session, actor: Actor) -> EnrolledUnit:
    unit = own_unit(sess, actor)
    if unit is None:
        raise NotFoundError("您的单位尚未办理参保登记")
    return unit


def own_organisation(sess: Session, actor: Actor) -> Organisation:
    if actor.role is not Role.EMPLOYER or actor.organisation_id is None:
        raise NotFoundError("未找到您的单位")
    organisation = sess.get(Organisation, actor.organisation_id)
    if organisation is None:
        raise NotFoundError("未找到您的单位")
    return organisation


@dataclass(frozen=True)
class UnitDetails:
    uscc: str
    name: str
    address: str
    county_code: str
    industry_code: str
    contact_name: str
    contact_phone: str


def check_unit_details(organisation: Organisation, *, uscc: str, name: str, address: str,
                       county_code: str, industry_code: str, contact_name: str,
                       contact_phone: str) -> UnitDetails:
    """Validate every field; all problems at once as :class:`InvalidFields`."""
    errors: dict[str, str] = {}
    values = {k: (v or "").strip() for k, v in dict(
        uscc=uscc, name=name, address=address, county_code=county_code, industry_code=industry_code,
        contact_name=contact_name, contact_phone=contact_phone).items()}
    try:
        values["uscc"] = normalise_uscc(values["uscc"])
        if values["uscc"] != organisation.uscc:
            errors["uscc"] = "统一社会信用代码须与登录单位的代码一致（" + organisation.uscc + "）"
    except IdentifierError as exc:
        errors["uscc"] = str(exc)
    for key, label, limit in (("name", "单位名称", 200), ("address", "单位地址", 300),
                              ("contact_name", "联系人", 100)):
        if not values[key]:
            errors[key] = f"请填写{label}"
        elif len(values[key]) > limit:
            errors[key] = f"{label}不能超过{limit}个字"
    county = values["county_code"]
    if not county:
        errors["county_code"] = "请填写所在县（区）行政区划代码"
    elif not (len(county) == 6 and county.isdigit()):
        errors["county_code"] = f"行政区划代码应为6位数字，例如 {province().example_county}"
    elif province().city_of(county) is None:
        errors["county_code"] = f"{county} 不是{province().name}的行政区划代码"
    elif county.endswith("00"):
        errors["county_code"] = "请填写县（区）的代码，不是地市的代码（后两位不能是00）"
    industry = values["industry_code"].upper().replace(" ", "")
    values["industry_code"] = industry
    if not industry:
        errors["industry_code"] = "请填写国民经济行业分类代码"
    elif not _INDUSTRY.match(industry):
        errors["industry_code"] = "行业代码格式不正确，例如 E4710 或 4710（GB/T 4754）"
    elif industry_for(industry) is None:
        division = industries().get(industry.lstrip("ABCDEFGHIJKLMNOPQRST")[:2])
        errors["industry_code"] = (
            f"行业代码 {industry} 的门类字母与大类不符：大类 {division.code}（{division.name}）属于门类 {division.section}"
            if division else f"行业代码 {industry} 不在《国民经济行业分类》（GB/T 4754-2017）的大类 01–97 中")
    try:
        values["contact_phone"] = normalise_phone(values["contact_phone"])
    except IdentifierError as exc:
        errors["contact_phone"] = str(exc)
    if errors:
        raise InvalidFields(errors)
    return UnitDetails(**values)


def save_unit(sess: Session, actor: Actor, *, uscc: str, name: str, address: str, county_code: str,
              industry_code: str, contact_name: str, contact_phone: str) -> EnrolledUnit:
    """Create the draft, or change a draft or a returned enrollment (not while under review)."""
    organisation = own_organisation(sess, actor)
    details = check_unit_details(organisation, uscc=uscc, name=name, address=address,
                                 county_code=county_code, industry_code=industry_code,
                                 contact_name=contact_name, contact_phone=contact_phone)
    unit = own_unit(sess, actor)
    action = UnitAction.CREATE if unit is None else UnitAction.EDIT
    UNIT_STATES.next_status(unit.status if unit else None, action)  # refused before anything changes
    if unit is None:
        unit = EnrolledUnit(organisation_id=organisation.id)
        sess.add(unit)
    unit.uscc, unit.name, unit.address = details.uscc, details.name, details.address
    unit.county_code, unit.city_code = details.county_code, details.county_code[:4] + "00"
    unit.industry_code = details.industry_code
    unit.risk_class = rate_info(details.industry_code, None, None, local_today()).table_class
    unit.contact_name = details.contact_name
    unit.contact_phone, unit.contact_phone_hash = details.contact_phone, phone_hash(details.contact_phone)
    try:
        UNIT_STATES.apply(sess, actor, unit, action, audit_detail={"fields": ["contact_phone"]})
    except IntegrityError as exc:  # two tabs creating at once: the unique organisation_id says no
        raise ConflictError("本单位已办理过参保登记，不能重复登记") from exc
    return unit


def create_unit(sess: Session, actor: Actor, **fields) -> EnrolledUnit:
    """Start an enrollment; refuses a second one for the same organisation."""
    if own_unit(sess, actor) is not None:
        raise ConflictError("本单位已办理过参保登记，不能重复登记")
    return save_unit(sess, actor, **fields)


def unit_form_data(sess: Session, actor: Actor) -> dict[str, str]:
    """What the enrollment form starts with: the saved draft, or the login's USCC and name.
    Showing the saved contact phone unmasked (to edit it) is an audited read, committed on its
    own (whatever the page answers)."""
    with independent_transaction(sess) as own:
        organisation = own_organisation(own, actor)
        unit = own_unit(own, actor)
        if unit is None:
            return {"uscc": organisation.uscc, "name": organisation.name}
        audit.record(own, actor, "enrollment.unit_read_personal_data", object_type="enrolled_unit",
                     object_id=unit.id, city_code=unit.city_code,
                     detail={"fields": ["contact_phone"], "unmasked": True})
    return {"uscc": unit.uscc, "name": unit.name, "address": unit.address, "county_code": unit.county_code,
            "industry_code": unit.industry_code, "contact_name": unit.contact_name,
            "contact_phone": unit.contact_phone}


def submit_unit(sess: Session, actor: Actor) -> EnrolledUnit:
    """Send the draft (or the answered return) to the clerk of the unit's city."""
    unit = require_own_unit(sess, actor)
    UNIT_STATES.apply(sess, actor, unit, UnitAction.SUBMIT)
    unit.submitted_at = utcnow()
    return unit


# --- the clerk's side ------------------------------------------------------------------------

#: what staff may see: everything sent to them (drafts are the employer's own business)
STAFF_VISIBLE = (UnitStatus.SUBMITTED, UnitStatus.APPROVED, UnitStatus.RETURNED)


def load_unit_for_staff(sess: Session, actor: Actor, unit_id: int) -> EnrolledUnit:
    """One unit, if it exists, was sent in, and lies in the actor's city (else 404)."""
    unit = sess.get(EnrolledUnit, unit_id)
    if (unit is None or unit.status not in STAFF_VISIBLE or not actor.can_see_city(unit.city_code)
            or actor.role not in (Role.CLERK, Role.PROVINCIAL)):
        raise NotFoundError("未找到该参保登记，或不属于您的业务范围")
    return unit


def approve_unit(sess: Session, actor: Actor, unit_id: int, *, risk_class: int | str | None,
                 band: str | Decimal | None, effective_date: date | None,
                 today: date | None = None) -> EnrolledUnit:
    """Approve with the class and band the clerk confirms, effective on the given date."""
    unit = load_unit_for_staff(sess, actor, unit_id)
    if actor.role is not Role.CLERK:
        raise NotFoundError("只有本市经办人员可以审核")
    if unit.status is not UnitStatus.SUBMITTED:
        raise ConflictError(f"当前状态为“{unit.status.label}”，不能审核通过")
    errors: dict[str, str] = {}
    today = today or local_today()
    cls = None
    try:
        cls = int(risk_class) if risk_class not in (None, "") else None
    except (TypeError, ValueError):
        cls = None
    if cls not in CLASS_NAMES:
        errors["risk_class"] = "请选择行业风险类别（一类至八类）"
    if effective_date is None:
        errors["effective_date"] = "请填写参保生效日期"
    else:
        window = int(figure("enrollment_date_window", today).value["max_days_ahead"])
        if effective_date > today + timedelta(days=window):
            errors["effective_date"] = f"参保生效日期不能晚于今天之后{window}天"
    band_value: Decimal | None = None
    if not errors:
        try:
            allowed = bands_for(cls, effective_date)  # type: ignore[arg-type]
        except UserInputError as exc:
            errors["effective_date"] = exc.message
            allowed = ()
        try:
            band_value = Decimal(str(band)) if band not in (None, "") else None
        except InvalidOperation:
            band_value = None
        if not errors and (band_value is None or band_value not in allowed):
            errors["band"] = "请选择该类别允许的费率档次：" + "、".join(
                f"{(b * 100).normalize():f}%" for b in allowed)
    if errors:
        raise InvalidFields(errors)
    info = rate_info(unit.industry_code, cls, band_value, effective_date)  # type: ignore[arg-type]
    note = (f"行业风险类别{CLASS_NAMES[cls]}，基准费率 {info.base_rate_text}，浮动档次 {info.band_text}，"  # type: ignore[index]
            f"自 {effective_date:%Y年%m月%d日} 起参保")  # type: ignore[union-attr]
    UNIT_STATES.apply(sess, actor, unit, UnitAction.APPROVE, note=note, audit_detail={
        "risk_class": cls, "band": str(band_value), "effective_date": effective_date.isoformat()})  # type: ignore[union-attr]
    unit.risk_class, unit.rate_band, unit.effective_date = cls, band_value, effective_date
    unit.decided_at = utcnow()
    unit.return_reasons = None
    return unit


def return_unit(sess: Session, actor: Actor, unit_id: int, *, reasons: str) -> EnrolledUnit:
    """Send back with reasons the employer sees on its timeline (required)."""
    unit = load_unit_for_staff(sess, actor, unit_id)
    if actor.role is not Role.CLERK:
        raise NotFoundError("只有本市经办人员可以审核")
    reasons = (reasons or "").strip()
    if not reasons:
        raise InvalidFields({"reasons": "请填写退回原因，告诉单位需要补正什么"})
    if len(reasons) > 2000:
        raise InvalidFields({"reasons": "退回原因不能超过2000个字"})
    UNIT_STATES.apply(sess, actor, unit, UnitAction.RETURN, note=reasons)
    unit.return_reasons = reasons
    unit.decided_at = utcnow()
    return unit


# --- what a page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitView:
    """A unit as a page shows it: masked contact phone, rate, premium, timeline."""

    unit: EnrolledUnit
    contact_phone_masked: str
    rate: RateInfo
    events: Sequence[EnrollmentEvent]
    members_active: int
    payroll: Decimal
    premium_formula: str | None
    premium_amount: Decimal | None
    flagged_members: int = 0
    city_name: str = ""
    rate_error: str | None = None


def _member_totals(sess: Session, unit_ids: Sequence[int], on: date) -> dict[int, tuple[int, Decimal]]:
    if not unit_ids:
        return {}
    rows = sess.execute(
        select(UnitMember.unit_id, func.count(UnitMember.id), func.coalesce(func.sum(UnitMember.wage_base), 0))
        .where(UnitMember.unit_id.in_(unit_ids), UnitMember.start_date <= on,
               or_(UnitMember.end_date.is_(None), UnitMember.end_date >= on))
        .group_by(UnitMember.unit_id)).all()
    return {uid: (int(n), Decimal(str(total))) for uid, n, total in rows}


def unit_premium(unit: EnrolledUnit, payroll: Decimal, on: date):
    """The unit's monthly premium on the total payroll of its active members, or None."""
    if unit.status is not UnitStatus.APPROVED or unit.risk_class is None:
        return None
    info = rate_info(unit.industry_code, unit.risk_class, unit.rate_band, on)
    return monthly_premium(payroll, info.base_rate, info.band, on)  # type: ignore[arg-type]


def _view(sess: Session, actor: Actor, unit: EnrolledUnit, today: date) -> UnitView:
    audit.record(sess, actor, "enrollment.unit_read_personal_data", object_type="enrolled_unit",
                 object_id=unit.id, city_code=unit.city_code, detail={"fields": ["contact_phone"]})
    on = max(today, unit.effective_date) if unit.effective_date else today
    rate_error = None
    try:
        info = rate_info(unit.industry_code, unit.risk_class, unit.rate_band, on)
    except UserInputError as exc:  # a date no policy figure covers: say so, do not guess
        info, rate_error = None, exc.message
    n, payroll = _member_totals(sess, [unit.id], today).get(unit.id, (0, Decimal(0)))
    premium = unit_premium(unit, payroll, on) if rate_error is None else None
    flagged = sess.execute(select(func.count(UnitMember.id)).where(
        UnitMember.unit_id == unit.id, UnitMember.end_date.is_(None),
        or_(UnitMember.age_warning.is_(True), UnitMember.needs_review.is_(True)))).scalar_one()
    events = sess.execute(select(EnrollmentEvent).where(EnrollmentEvent.unit_id == unit.id)
                          .order_by(EnrollmentEvent.id)).scalars().all()
    city = province().city(unit.city_code)
    return UnitView(unit=unit, contact_phone_masked=mask_phone(unit.contact_phone), rate=info,  # type: ignore[arg-type]
                    events=events, members_active=n, payroll=payroll,
                    premium_formula=premium.formula if premium else None,
                    premium_amount=premium.amount if premium else None, flagged_members=flagged,
                    city_name=city.name if city else unit.city_code, rate_error=rate_error)


def read_own_unit(sess: Session, actor: Actor, today: date | None = None) -> UnitView | None:
    """The employer's unit page; reading the contact phone (masked) is audited, in a transaction
    of its own (committed whatever the page answers)."""
    with independent_transaction(sess) as own:
        unit = own_unit(own, actor)
        return None if unit is None else _view(own, actor, unit, today or local_today())


def read_unit_for_review(sess: Session, actor: Actor, unit_id: int, today: date | None = None) -> UnitView:
    """The clerk's (or provincial staff's) review page; audited like :func:`read_own_unit`."""
    with independent_transaction(sess) as own:
        return _view(own, actor, load_unit_for_staff(own, actor, unit_id), today or local_today())


# --- lists for staff ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    unit: EnrolledUnit
    members_active: int
    payroll: Decimal
    premium: Decimal | None


@dataclass(frozen=True)
class UnitListPage(Paged):
    rows: Sequence[UnitRow]
    total: int
    page: int
    per_page: int
    premium_total: Decimal = Decimal(0)
    members_total: int = 0
    filters: dict = field(default_factory=dict)
    total_is_capped: bool = False


def _staff_city(actor: Actor, city_code: str | None) -> str | None:
    """The city a staff list is limited to: the clerk's own, any (or the one asked) for the province."""
    if actor.role is Role.CLERK:
        if city_code and city_code != actor.city_code:
            raise NotFoundError("不属于您的业务范围")
        return actor.city_code
    if actor.role is not Role.PROVINCIAL:
        raise NotFoundError("不属于您的业务范围")
    return city_code


def unit_list_query(actor: Actor, *, city_code: str | None = None, status: str | None = None,
                    county_code: str | None = None, q: str | None = None) -> Select:
    """The review inbox's query, filtered, without order or page (the plan test explains it).

    The contact phone is encrypted and the list does not show it: it is not loaded (reading it
    raises rather than decrypting twenty phones behind the page's back)."""
    city_code = _staff_city(actor, city_code)
    query = (select(EnrolledUnit).where(EnrolledUnit.status.in_(STAFF_VISIBLE))
             .options(defer(EnrolledUnit.contact_phone, raiseload=True)))
    if city_code:
        query = query.where(EnrolledUnit.city_code == city_code)
    if status:
        query = query.where(EnrolledUnit.status == UnitStatus(status))
    if county_code:
        query = query.where(EnrolledUnit.county_code == county_code)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(EnrolledUnit.name.like(like, escape="\\"), EnrolledUnit.uscc == q.upper()))
    return query


def unit_list_page_query(query: Select, page: int, per_page: int = PER_PAGE) -> Select:
    """Oldest submission first (what has waited longest); every unit staff see was submitted, so
    ``submitted_at`` is set and the index (city, status, submitted_at) gives the order."""
    return (query.order_by(EnrolledUnit.submitted_at, EnrolledUnit.id)
            .offset((page - 1) * per_page).limit(per_page))


def list_units(sess: Session, actor: Actor, *, city_code: str | None = None, status: str | None = None,
               county_code: str | None = None, q: str | None = None, page: int = 1,
               per_page: int = PER_PAGE, today: date | None = None) -> UnitListPage:
    """The review inbox and the provincial lists: units sent in, scoped to the actor's city;
    filtered, counted and paged in SQL, member totals for the page's units only."""
    today = today or local_today()
    query = unit_list_query(actor, city_code=city_code, status=status, county_code=county_code, q=q)
    total, capped = capped_count(sess, query)
    page = min(max(1, page), page_count(total, per_page))
    units = sess.execute(unit_list_page_query(query, page, per_page)).scalars().all()
    totals = _member_totals(sess, [u.id for u in units], today)
    rows = []
    for unit in units:
        n, payroll = totals.get(unit.id, (0, Decimal(0)))
        try:
            premium = unit_premium(unit, payroll, today)
        except UserInputError:
            premium = None
        rows.append(UnitRow(unit, n, payroll, premium.amount if premium else None))
    return UnitListPage(rows=rows, total=total, page=page, per_page=per_page, total_is_capped=capped,
                        premium_total=sum((r.premium or Decimal(0) for r in rows), Decimal(0)),
                        members_total=sum(r.members_active for r in rows))


@dataclass(frozen=True)
class CityFigures:
    code: str
    name: str
    by_status: dict[str, int]
    members_active: int
    premium_due: Decimal


def _active_members(on: date):
    """Members insured on ``on`` (the same rule as :meth:`UnitMember.is_active`)."""
    return and_(UnitMember.start_date <= on, or_(UnitMember.end_date.is_(None), UnitMember.end_date >= on))


def _scaled(value: Decimal) -> tuple[int, int]:
    """``value`` as (integer, decimal places): Decimal("0.011") -> (11, 3)."""
    places = max(0, -int(value.normalize().as_tuple().exponent))  # type: ignore[arg-type]
    return int(value.scaleb(places)), places


def _premium_fen(payroll, risk_class, rate_band, on: date):
    """SQL for a unit's monthly premium in fen, rounded half-up per unit as :func:`unit_premium`
    does, in integers (exact on SQLite, whose numbers are floats): payroll in fen × base rate of
    the class × band, over 10^places. None when no figure covers ``on`` or rounding is not half-up
    (the caller then prices unit by unit in Python)."""
    try:
        rates = {int(k): Decimal(str(v)) for k, v in figure("base_rate", on).value.items()}
        rounding = figure("premium_rounding", on).value
    except UserInputError:
        return None
    if rounding != "ROUND_HALF_UP" or not rates:
        return None
    places = max(_scaled(r)[1] for r in rates.values())
    rate = case({cls: int(r.scaleb(places)) for cls, r in rates.items()}, value=risk_class, else_=None)
    payroll_fen = cast(func.round(payroll * 100), BigInteger)
    band_cents = cast(func.round(rate_band * 100), BigInteger)
    divisor = 10 ** (places + 2)
    return (payroll_fen * rate * band_cents + divisor // 2) // divisor


def province_overview(sess: Session, actor: Actor, today: date | None = None) -> list[CityFigures]:
    """Per city: units by status, insured persons active today, monthly premium due; aggregated in
    SQL (GROUP BY city), whatever the number of units and members."""
    if actor.role is not Role.PROVINCIAL:
        raise NotFoundError("不属于您的业务范围")
    today = today or local_today()
    counts: dict[str, dict[str, int]] = {}
    for city, status, n in sess.execute(
            select(EnrolledUnit.city_code, EnrolledUnit.status, func.count(EnrolledUnit.id))
            .where(EnrolledUnit.status.in_(STAFF_VISIBLE))
            .group_by(EnrolledUnit.city_code, EnrolledUnit.status)).all():
        counts.setdefault(city, {})[UnitStatus(status).value] = int(n)
    # members grouped by unit first: one pass over the index (unit, dates, wage) in unit order,
    # then each approved unit's class and band by primary key
    payrolls = (select(UnitMember.unit_id, func.count().label("members"),
                       func.sum(UnitMember.wage_base).label("payroll"))
                .where(_active_members(today)).group_by(UnitMember.unit_id)).subquery()
    per_unit = (select(EnrolledUnit.city_code, EnrolledUnit.industry_code, EnrolledUnit.risk_class,
                       EnrolledUnit.rate_band, payrolls.c.members, payrolls.c.payroll)
                .join(payrolls, payrolls.c.unit_id == EnrolledUnit.id)
                .where(EnrolledUnit.status == UnitStatus.APPROVED)).subquery()
    members: dict[str, int] = {}
    premiums: dict[str, Decimal] = {}
    premium = _premium_fen(per_unit.c.payroll, per_unit.c.risk_class, per_unit.c.rate_band, today)
    if premium is not None:
        for city, n, fen in sess.execute(
                select(per_unit.c.city_code, func.sum(per_unit.c.members), func.sum(premium))
                .group_by(per_unit.c.city_code)).all():
            members[city] = int(n or 0)
            premiums[city] = Decimal(int(fen or 0)) / 100
    else:  # a rounding rule SQL does not do: price each unit in Python (same figures as its page)
        for row in sess.execute(select(per_unit)).all():
            members[row.city_code] = members.get(row.city_code, 0) + int(row.members)
            try:
                info = rate_info(row.industry_code, row.risk_class, Decimal(str(row.rate_band)), today)
                found = (monthly_premium(Decimal(str(row.payroll)), info.base_rate, info.band, today)
                         if row.risk_class is not None and info.base_rate is not None else None)
            except UserInputError:
                found = None
            premiums[row.city_code] = premiums.get(row.city_code, Decimal(0)) + (found.amount if found else 0)
    return [CityFigures(c.code, c.name, {s.value: counts.get(c.code, {}).get(s.value, 0) for s in STAFF_VISIBLE},
                        members.get(c.code, 0), premiums.get(c.code, Decimal(0)).quantize(Decimal("0.01")))
            for c in province().cities]
