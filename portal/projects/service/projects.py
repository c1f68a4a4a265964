"""Project enrollment and its state machine (按项目参保) — plain Python, no Flask.

draft → awaiting_payment (待缴费) → covered (已参保, only when the bill is paid) → started (开工)
→ completed (竣工). 先参保、后开工: a site cannot be marked started before its premium is paid
(皖人社发〔2023〕21号 三(一)1). Every change goes through :data:`PROJECT_STATES`, which writes the
timeline entry (:class:`ProjectEvent`) and the audit row ``project.<action>`` in the caller's
transaction; a change that leaves the status as it is (a price change, an extension …) is a move
from a status to itself, so it is recorded the same way and refused where the table says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal.auth.roles import Actor, Role
from portal.db import serialise, utcnow
from portal.errors import ConflictError, InvalidFields, NotFoundError, UserInputError
from portal.localtime import LOCAL_TZ, local_today, to_local
from portal.money import yuan
from portal.paging import capped_count, page_count
from portal.payments import service as payments
from portal.projects.models import (
    IllegalProjectTransition,
    PremiumBasis,
    Project,
    ProjectAction,
    ProjectEvent,
    ProjectStatus,
    RosterEntry,
)
from portal.projects.service.premium import PremiumQuote, quote
from portal.regions import province
from portal.states import StateMachine, Transition

SUBJECT_TYPE = "project"
#: how the payment platform appears on the timeline and in the audit trail
PLATFORM_ACTOR = Actor(role=None, display_name="社保费征收平台")

PER_PAGE = 20


def local_midnight(day: date) -> datetime:
    """Start of a local calendar day, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


# --- the state machine ------------------------------------------------------------------------

S, A = ProjectStatus, ProjectAction
#: statuses in which the contractor may still change the project's particulars
OPEN = (S.DRAFT, S.AWAITING_PAYMENT, S.COVERED, S.STARTED)

TRANSITIONS: dict[tuple[ProjectStatus | None, ProjectAction], ProjectStatus] = {
    (None, A.ENROLL): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.AWAITING_PAYMENT,
    (S.AWAITING_PAYMENT, A.COVER): S.COVERED,  # the paid handler: cover from the payment, never earlier
    (S.COVERED, A.START): S.STARTED,
    (S.STARTED, A.COMPLETE): S.COMPLETED,
    # the status stays: what the timeline records and where it is allowed
    **{(s, A.BILL_PAID): s for s in (S.COVERED, S.STARTED, S.COMPLETED)},
    **{(s, A.CHANGE_PRICE): s for s in (S.DRAFT, S.COVERED, S.STARTED)},
    **{(s, A.EXTEND): s for s in OPEN},
    **{(s, A.PERMIT): s for s in OPEN},
    (S.AWAITING_PAYMENT, A.SWITCH_BASIS): S.AWAITING_PAYMENT,
}

_UNPAID_START = ("该项目尚未缴纳工伤保险费，不能开工。按照“先参保、后开工”的规定，"
                 "请先缴纳项目工伤保险费，缴费成功后再登记开工。")
#: why an action is refused in a status, as the contractor or the clerk reads it (None: any other)
REFUSALS: dict[ProjectAction, dict[ProjectStatus | None, str]] = {
    A.SUBMIT: {None: "该项目已经提交，不能重复提交"},
    A.START: {S.DRAFT: _UNPAID_START, S.AWAITING_PAYMENT: _UNPAID_START, None: "该项目已登记开工，不能重复登记"},
    A.COMPLETE: {S.COMPLETED: "该项目已登记竣工，不能重复登记", None: "该项目尚未开工，不能登记竣工"},
    A.CHANGE_PRICE: {S.AWAITING_PAYMENT: "缴费单尚未缴纳，请先缴纳已开具的保费后再变更合同价",
                     S.COMPLETED: "项目已竣工，不能变更合同价"},
    A.EXTEND: {S.COMPLETED: "项目已竣工，不能延长工期"},
    A.PERMIT: {S.COMPLETED: "项目已竣工，不能修改"},
    A.SWITCH_BASIS: {None: "只能在缴费前变更缴费基数"},
}


def _actor_label(actor: Actor) -> str:
    """办理人 on the timeline: the staff office, never a staff member's own name."""
    if actor.role in (Role.CLERK, Role.PROVINCIAL):
        return actor.office or actor.display_name
    return actor.display_name


def _timeline_event(sess: Session, actor: Actor, project: Project, move: Transition) -> ProjectEvent:
    event = ProjectEvent(project=project, at=utcnow(), action=f"project.{move.action.value}",
                         actor_label=_actor_label(actor)[:100], message=(move.note or move.action.label)[:500],
                         detail=dict(move.detail))
    sess.add(event)
    return event


def _report_to_platform(sess: Session, actor: Actor, project: Project, move: Transition, event: ProjectEvent) -> None:
    """The project's enrollment as a 办件 on the provincial platform (outbox): registered when
    submitted, completed when the premium is paid and the project is insured. Drafts and the
    later changes of an insured project are not reported."""
    from portal.outbox import gov_items

    if move.action is A.SUBMIT:
        if actor.account_id is None:
            return  # sent in by a script, not a signed-in account: nobody to name on the platform
        stage, register = gov_items.Stage.RECEIVED, dict(
            applicant_account_id=actor.account_id, applicant_person_id=None,
            applicant_organisation_id=project.organisation_id,
            department=province().office("agency", project.city_code), city_code=project.city_code,
            received_at=to_local(event.at))
    elif move.action is A.COVER:
        stage, register = gov_items.Stage.COMPLETED, None
    else:
        return
    completed = stage is gov_items.Stage.COMPLETED
    gov_items.report_move(
        sess, service_item=gov_items.ServiceItem.PROJECT_ENROLLMENT, item_no=project.code, stage=stage,
        stage_label=move.action.label, occurred_at=to_local(event.at),
        event_key=f"project:{project.id}:event:{event.id}", detail=f"项目编号 {project.code}",
        completed=completed, result="已参保" if completed else None, register=register)


#: 按项目参保; audit actions "project.<action>", the same names as the timeline's; the
#: submission and the cover reach the provincial platform as a 办件 (outbox)
PROJECT_STATES: StateMachine[ProjectStatus, ProjectAction] = StateMachine(
    name="project",
    object_type="project",
    transitions=TRANSITIONS,
    illegal=IllegalProjectTransition,
    timeline=_timeline_event,
    effects=(_report_to_platform,),
)


def _require(project: Project, action: ProjectAction) -> None:
    """Refuse, with the reason people read, an action the project's status does not allow."""
    if not PROJECT_STATES.allows(project.status, action):
        reasons = REFUSALS.get(action, {})
        reason = reasons.get(project.status) or reasons.get(None)
        if reason is not None:
            raise IllegalProjectTransition(reason)
        PROJECT_STATES.next_status(project.status, action)  # refuses in the machine's own words


def _apply(sess: Session, actor: Actor, project: Project, action: ProjectAction, message: str,
           **detail: Any) -> ProjectEvent:
    """Move the project by ``action`` through :data:`PROJECT_STATES`: ``message`` on the timeline,
    ``detail`` (amounts and dates as text) on the timeline and in the audit row."""
    detail = {k: (str(v) if isinstance(v, (Decimal, date)) else v) for k, v in detail.items()}
    return PROJECT_STATES.apply(sess, actor, project, action, note=message, detail=detail)


# --- loading with scope ---------------------------------------------------------------------


def get_project(sess: Session, actor: Actor, project_id: int, *, for_update: bool = False) -> Project:
    """The project if the actor may see it: its contractor, or staff of its city. Else 404."""
    stmt = select(Project).where(Project.id == project_id)
    if for_update and sess.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    project = sess.execute(stmt).scalar_one_or_none()
    if project is None or not can_see(actor, project):
        raise NotFoundError("未找到该项目")
    return project


def can_see(actor: Actor, project: Project) -> bool:
    if actor.role is Role.EMPLOYER:
        return actor.owns_organisation(project.organisation_id)
    if actor.role in (Role.CLERK, Role.PROVINCIAL):
        # drafts are the contractor's own working copies
        return project.status is not ProjectStatus.DRAFT and actor.can_see_city(project.city_code)
    return False


def _own_project(sess: Session, actor: Actor, project_id: int) -> Project:
    if actor.role is not Role.EMPLOYER:
        raise NotFoundError("未找到该项目")
    return get_project(sess, actor, project_id, for_update=True)


# --- validation helpers: a problem names the field it is about ------------------------------------


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidFields({"name": "请填写项目名称"})
    if len(name) > 200:
        raise InvalidFields({"name": "项目名称不能超过200个字"})
    return name


def _city_of_county(county_code: str) -> str:
    code = (county_code or "").strip()
    if len(code) != 6 or not code.isdigit():
        raise InvalidFields({"county_code": "项目所在县（市、区）代码应为6位数字，如 340104"})
    city = province().city_of(code)
    if city is None:
        raise InvalidFields({"county_code": f"{code} 不是{province().name}的行政区划代码"})
    if code.endswith("00"):
        raise InvalidFields({"county_code": "请填写项目所在的县（市、区）代码，而不是地市代码"})
    return city.code


def _clean_permit(permit_number: str | None) -> str | None:
    permit = (permit_number or "").strip() or None
    if permit and len(permit) > 64:
        raise InvalidFields({"permit_number": "施工许可证号不能超过64个字符"})
    return permit


def _check_dates(start: date, end: date) -> None:
    if end <= start:
        raise InvalidFields({"planned_end": "计划竣工日期应晚于计划开工日期"})
    if (end - start).days > 366 * 10:
        raise InvalidFields({"planned_end": "计划工期超过10年，请核对日期"})


def _check_price(contract_price: Decimal) -> None:
    if contract_price <= 0:
        raise InvalidFields({"contract_price": "工程合同价应大于0"})


def quote_for(project: Project) -> PremiumQuote:
    return quote(project.basis_amount, project.planned_start, project.premium_basis.label)


def _next_code(sess: Session, city_code: str, year: int) -> str:
    prefix = f"XM{city_code}{year}"
    last = sess.execute(select(func.max(Project.code)).where(Project.code.like(prefix + "%"))).scalar()
    seq = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{seq:05d}"


CODE_ATTEMPTS = 5


# --- contractor actions ----------------------------------------------------------------------


def check_project_details(*, name: str | None, county_code: str | None, permit_number: str | None,
                          contract_price: Decimal | None, installation_cost: Decimal | None,
                          planned_start: date | None, planned_end: date | None) -> tuple[str, str, str | None]:
    """Every problem of a project's details at once as :class:`InvalidFields` (a value the form
    could not read arrives as None); else (name, city code, permit number), cleaned."""
    errors: dict[str, str] = {}

    def check(step, *args):
        try:
            return step(*args)
        except InvalidFields as exc:
            for key, message in exc.errors.items():
                errors.setdefault(key, message)
            return None

    clean_name = check(_clean_name, name)
    city_code = check(_city_of_county, county_code)
    permit = check(_clean_permit, permit_number)
    if planned_start is None:
        errors["planned_start"] = "请填写计划开工日期，格式如 2024-03-01"
    if planned_end is None:
        errors["planned_end"] = "请填写计划竣工日期，格式如 2024-03-01"
    if planned_start is not None and planned_end is not None:
        check(_check_dates, planned_start, planned_end)
    if contract_price is None:
        errors.setdefault("contract_price", "请填写工程合同价")
    else:
        check(_check_price, contract_price)
    if installation_cost is not None and installation_cost <= 0:
        errors["installation_cost"] = "建筑安装工程费应大于0，没有可不填"
    if planned_start is not None and "contract_price" not in errors:
        try:
            quote(contract_price, planned_start)  # type: ignore[arg-type]  # refuses a start date no rate covers
        except UserInputError as exc:
            errors.setdefault("planned_start", exc.message)
    if errors:
        raise InvalidFields(errors)
    return clean_name, city_code, permit  # type: ignore[return-value]


def enroll_project(sess: Session, actor: Actor, *, name: str, county_code: str,
                   permit_number: str | None, contract_price: Decimal,
                   installation_cost: Decimal | None, planned_start: date,
                   planned_end: date) -> Project:
    """Create a draft project for the signed-in general contractor (施工总承包单位).

    It gets the next free code of its city and year. Contractors enrolling in the same city at
    the same moment take turns at numbering (PostgreSQL: an advisory lock per city and year until
    the transaction ends; SQLite has one writer anyway), so none is refused; should a code still be
    taken (a code typed in by other means), the next free one is tried in a savepoint."""
    if actor.role is not Role.EMPLOYER or actor.organisation_id is None:
        raise NotFoundError("只有施工总承包单位可以办理按项目参保")
    name, city_code, permit_number = check_project_details(
        name=name, county_code=county_code, permit_number=permit_number, contract_price=contract_price,
        installation_cost=installation_cost, planned_start=planned_start, planned_end=planned_end)
    serialise(sess, f"project_code:{city_code}:{planned_start.year}")
    for _ in range(CODE_ATTEMPTS):
        code = _next_code(sess, city_code, planned_start.year)
        project = Project(
            code=code, organisation_id=actor.organisation_id,
            name=name, county_code=county_code.strip(), city_code=city_code,
            permit_number=permit_number, contract_price=contract_price,
            installation_cost=installation_cost, premium_basis=PremiumBasis.CONTRACT_PRICE,
            planned_start=planned_start, planned_end=planned_end, premium_billed=Decimal("0.00"))
        try:
            with sess.begin_nested():
                sess.add(project)
                _apply(sess, actor, project, A.ENROLL, f"填写项目参保登记（项目编号 {code}）", code=code)
        except IntegrityError:
            continue
        return project
    raise ConflictError("项目编号分配冲突，请稍后重新提交")


def submit_project(sess: Session, actor: Actor, project_id: int) -> Project:
    """Submit the enrollment: the premium bill is issued and the project waits for payment."""
    project = _own_project(sess, actor, project_id)
    _require(project, A.SUBMIT)
    premium = quote_for(project)
    if premium.amount <= 0:
        raise UserInputError("应缴保费为0，请核对工程合同价")
    payments.issue_bill(sess, actor, subject_type=SUBJECT_TYPE, subject_id=project.id,
                        organisation_id=project.organisation_id, city_code=project.city_code,
                        amount=premium.amount, purpose=payments.PURPOSE_PROJECT_PREMIUM)
    project.premium_billed = premium.amount
    _apply(sess, actor, project, A.SUBMIT,
           f"提交参保登记，开具保费缴费单 {yuan(premium.amount)} 元（{premium.formula}）", amount=premium.amount)
    return project


def start_project(sess: Session, actor: Actor, project_id: int, *, started_on: date) -> Project:
    """Mark the site started (开工). Refused until the premium is paid: 先参保、后开工."""
    project = _own_project(sess, actor, project_id)
    _require(project, A.START)
    if started_on > local_today():
        raise UserInputError("开工日期不能晚于今天")
    if project.cover_start and started_on < to_local(project.cover_start).date():
        raise UserInputError("开工日期不能早于缴费参保日期（先参保、后开工）")
    project.started_on = started_on
    _apply(sess, actor, project, A.START, f"登记开工，开工日期 {started_on:%Y-%m-%d}", started_on=started_on)
    return project


def complete_project(sess: Session, actor: Actor, project_id: int, *, completed_on: date) -> Project:
    """Record completion (竣工): the project's cover ends at the end of that day, and so does
    every open roster period."""
    project = _own_project(sess, actor, project_id)
    _require(project, A.COMPLETE)
    if completed_on > local_today():
        raise UserInputError("竣工日期不能晚于今天")
    if project.started_on and completed_on < project.started_on:
        raise UserInputError("竣工日期不能早于开工日期")
    project.completed_on = completed_on
    project.cover_end = local_midnight(completed_on + timedelta(days=1))
    closed = 0
    for entry in sess.execute(select(RosterEntry).where(RosterEntry.project_id == project.id,
                                                        RosterEntry.exited_at.is_(None))).scalars():
        entry.exit_date, entry.exited_at = completed_on, utcnow()
        closed += 1
    _apply(sess, actor, project, A.COMPLETE,
           f"登记竣工，竣工日期 {completed_on:%Y-%m-%d}，项目工伤保险保障至当日结束；"
           f"名册中 {closed} 名在册人员同时退场", completed_on=completed_on, roster_closed=closed)
    return project


def change_contract_price(sess: Session, actor: Actor, project_id: int, *, contract_price: Decimal,
                          installation_cost: Decimal | None) -> tuple[Project, Decimal]:
    """Record a contract price change. An increase on an insured project issues a supplementary
    bill (补缴) for the difference premium; the project stays covered. Returns the amount billed."""
    project = _own_project(sess, actor, project_id)
    _require(project, A.CHANGE_PRICE)
    _check_price(contract_price)
    installation_cost = installation_cost if installation_cost is not None else project.installation_cost
    old_price, old_cost = project.contract_price, project.installation_cost
    if project.status is ProjectStatus.DRAFT:
        project.contract_price, project.installation_cost = contract_price, installation_cost
        _apply(sess, actor, project, A.CHANGE_PRICE, f"修改工程合同价为 {yuan(contract_price)} 元",
               old=old_price, new=contract_price)
        return project, Decimal("0.00")
    if contract_price < old_price or (old_cost is not None and installation_cost is not None
                                      and installation_cost < old_cost):
        raise UserInputError("合同价调减涉及退费，退费规则尚未明确（待核实），请到项目所在地社会保险经办机构办理")
    if contract_price == old_price and installation_cost == old_cost:
        raise UserInputError("金额没有变化")
    project.contract_price, project.installation_cost = contract_price, installation_cost
    new_premium = quote_for(project)
    difference = new_premium.amount - project.premium_billed
    if difference > 0:
        payments.issue_bill(sess, actor, subject_type=SUBJECT_TYPE, subject_id=project.id,
                            organisation_id=project.organisation_id, city_code=project.city_code,
                            amount=difference, purpose=payments.PURPOSE_SUPPLEMENTARY)
        project.premium_billed = new_premium.amount
        message = (f"工程合同价由 {yuan(old_price)} 元变更为 {yuan(contract_price)} 元，"
                   f"开具补缴单 {yuan(difference)} 元（{new_premium.formula}，减已开具 "
                   f"{yuan(new_premium.amount - difference)} 元）")
    else:
        difference = Decimal("0.00")
        message = f"工程合同价由 {yuan(old_price)} 元变更为 {yuan(contract_price)} 元，无需补缴"
    _apply(sess, actor, project, A.CHANGE_PRICE, message, old=old_price, new=contract_price,
           supplementary=difference)
    return project, difference


def extend_project(sess: Session, actor: Actor, project_id: int, *, planned_end: date,
                   reason: str) -> Project:
    """Record an extension of the planned end date (工期延长); the old date stays on the timeline."""
    project = _own_project(sess, actor, project_id)
    _require(project, A.EXTEND)
    if planned_end <= project.planned_end:
        raise InvalidFields({"planned_end": f"新的计划竣工日期应晚于原计划竣工日期 {project.planned_end:%Y-%m-%d}"})
    _check_dates(project.planned_start, planned_end)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidFields({"reason": "请填写延期原因"})
    old = project.planned_end
    project.planned_end = planned_end
    _apply(sess, actor, project, A.EXTEND,
           f"计划竣工日期由 {old:%Y-%m-%d} 延长至 {planned_end:%Y-%m-%d}。原因：{reason[:200]}",
           old=old, new=planned_end)
    return project


def record_permit(sess: Session, actor: Actor, project_id: int, *, permit_number: str) -> Project:
    """Add the construction permit number (施工许可证号) once it is issued."""
    project = _own_project(sess, actor, project_id)
    permit = _clean_permit(permit_number)
    if permit is None:
        raise InvalidFields({"permit_number": "请填写施工许可证号"})
    _require(project, A.PERMIT)
    project.permit_number = permit
    _apply(sess, actor, project, A.PERMIT, f"登记施工许可证号 {permit}", permit=permit)
    return project


# --- clerk actions -----------------------------------------------------------------------------


def switch_basis(sess: Session, actor: Actor, project_id: int, *, basis: PremiumBasis) -> Project:
    """The city clerk switches the premium basis before payment (domain.md Q5). The unpaid bill
    is cancelled and a new one issued for the new amount."""
    if actor.role is not Role.CLERK:
        raise NotFoundError("未找到该项目")
    project = get_project(sess, actor, project_id, for_update=True)
    _require(project, A.SWITCH_BASIS)
    if basis is project.premium_basis:
        raise UserInputError("缴费基数没有变化")
    if basis is PremiumBasis.INSTALLATION_COST and project.installation_cost is None:
        raise UserInputError("该项目未申报建筑安装工程费，不能以其为缴费基数")
    old_basis = project.premium_basis
    project.premium_basis = basis
    premium = quote_for(project)
    _replace_open_bills(sess, actor, project, premium.amount)
    project.premium_billed = premium.amount
    _apply(sess, actor, project, A.SWITCH_BASIS,
           f"经办机构将缴费基数由{old_basis.label}调整为{basis.label}，重新开具缴费单 "
           f"{yuan(premium.amount)} 元（{premium.formula}）", old=old_basis.value, new=basis.value,
           amount=premium.amount)
    return project


def _replace_open_bills(sess: Session, actor: Actor, project: Project, amount: Decimal) -> None:
    for bill in payments.bills_for(sess, actor, SUBJECT_TYPE, project.id):
        if _bill_status(bill) in ("issued", "pending_confirmation"):
            if _bill_status(bill) == "pending_confirmation":
                raise ConflictError("缴费单正在等待征收平台确认，暂不能变更缴费基数")
            payments.cancel_bill(sess, actor, bill, reason="经办机构变更缴费基数")
    payments.issue_bill(sess, actor, subject_type=SUBJECT_TYPE, subject_id=project.id,
                        organisation_id=project.organisation_id, city_code=project.city_code,
                        amount=amount, purpose=payments.PURPOSE_PROJECT_PREMIUM)


def _bill_status(bill) -> str:
    status = bill.status
    return getattr(status, "value", status)


# --- payment ------------------------------------------------------------------------------------


def on_bill_paid(sess: Session, bill) -> None:
    """Payments calls this (registered by the app factory) in the transaction that marks a project
    bill paid. The first paid premium makes the project covered from the moment of payment, never
    earlier; a later one (补缴) is recorded on the timeline."""
    project = sess.get(Project, bill.subject_id)
    if project is None:
        return
    paid_at = getattr(bill, "paid_at", None) or utcnow()
    if project.status is ProjectStatus.AWAITING_PAYMENT:
        project.cover_start = paid_at
        _apply(sess, PLATFORM_ACTOR, project, A.COVER,
               f"保费 {yuan(bill.amount)} 元已缴纳，项目自 {to_local(paid_at):%Y-%m-%d %H:%M} 起参保",
               amount=bill.amount)
    else:
        _apply(sess, PLATFORM_ACTOR, project, A.BILL_PAID, f"缴费单 {yuan(bill.amount)} 元已缴纳",
               amount=bill.amount)


# --- reading ------------------------------------------------------------------------------------


def my_projects(sess: Session, actor: Actor) -> list[Project]:
    if actor.role is not Role.EMPLOYER or actor.organisation_id is None:
        return []
    return list(sess.execute(select(Project).where(Project.organisation_id == actor.organisation_id)
                             .order_by(Project.created_at.desc(), Project.id.desc())).scalars())


def timeline(sess: Session, project: Project) -> list[ProjectEvent]:
    return list(sess.execute(select(ProjectEvent).where(ProjectEvent.project_id == project.id)
                             .order_by(ProjectEvent.at, ProjectEvent.id)).scalars())


def roster_counts(sess: Session, project: Project) -> tuple[int, int]:
    """(active, flagged active) roster entries."""
    base = select(func.count()).where(RosterEntry.project_id == project.id, RosterEntry.exited_at.is_(None))
    active = sess.execute(base).scalar_one()
    flagged = sess.execute(base.where(RosterEntry.overlap_flag.is_(True))).scalar_one()
    return int(active), int(flagged)


@dataclass
class ProjectView:
    project: Project
    quote: PremiumQuote | None
    quote_error: str | None
    bills: list
    events: list[ProjectEvent]
    roster_active: int
    roster_flagged: int


def project_view(sess: Session, actor: Actor, project_id: int) -> ProjectView:
    project = get_project(sess, actor, project_id)
    try:
        premium, error = quote_for(project), None
    except UserInputError as exc:
        premium, error = None, exc.message
    bills = payments.bills_for(sess, actor, SUBJECT_TYPE, project.id) if project.status is not ProjectStatus.DRAFT else []
    active, flagged = roster_counts(sess, project)
    return ProjectView(project, premium, error, bills, timeline(sess, project), active,
                       flagged if actor.role is not Role.EMPLOYER else 0)


# --- staff lists ---------------------------------------------------------------------------------


@dataclass
class InboxPage:
    items: list[tuple[Project, int]]
    page: int
    pages: int
    total: int
    #: more projects match than ``total`` (counted up to portal.paging.COUNT_CAP)
    total_is_capped: bool = False


def _inbox_conditions(actor: Actor, *, status: str | None, county: str | None, name: str | None,
                      city: str | None) -> list:
    """What the project list shows: projects sent in, in the actor's scope, filtered."""
    if actor.role is Role.CLERK:
        city = actor.city_code
    elif actor.role is not Role.PROVINCIAL:
        raise NotFoundError("无权查看")
    conditions = [Project.status != ProjectStatus.DRAFT]
    if city:
        conditions.append(Project.city_code == city)
    if status:
        conditions.append(Project.status == ProjectStatus(status))
    if county:
        conditions.append(Project.county_code == county)
    if name:
        conditions.append(Project.name.contains(name, autoescape=True))
    return conditions


def inbox_query(actor: Actor, *, status: str | None = None, county: str | None = None,
                name: str | None = None, city: str | None = None) -> Select:
    """The project list's filtered query, unordered: each project with its active roster count
    (one correlated count on the roster's index) and its contractor loaded in the same statement."""
    active_count = (select(func.count()).where(RosterEntry.project_id == Project.id,
                                                RosterEntry.exited_at.is_(None))
                    .correlate(Project).scalar_subquery())
    return (select(Project, active_count)
            .where(*_inbox_conditions(actor, status=status, county=county, name=name, city=city))
            .options(joinedload(Project.organisation)))


def inbox_page_query(stmt: Select, page: int) -> Select:
    """Most recently changed first; the index (city, updated_at) gives this order."""
    return (stmt.order_by(Project.updated_at.desc(), Project.id.desc())
            .offset((page - 1) * PER_PAGE).limit(PER_PAGE))


def inbox(sess: Session, actor: Actor, *, status: str | None = None, county: str | None = None,
          name: str | None = None, city: str | None = None, page: int = 1) -> InboxPage:
    """Projects of the clerk's city (provincial staff: any city, optionally one), newest first;
    counted and paged in SQL."""
    filters = dict(status=status, county=county, name=name, city=city)
    total, capped = capped_count(sess, select(Project.id).where(*_inbox_conditions(actor, **filters)))
    pages = page_count(total, PER_PAGE)
    page = min(max(1, page), pages)
    rows = sess.execute(inbox_page_query(inbox_query(actor, **filters), page)).all()
    return InboxPage([(p, int(n or 0)) for p, n in rows], page, pages, total, capped)
