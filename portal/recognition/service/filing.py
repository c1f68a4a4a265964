"""Filing a work-injury recognition application (工伤认定申请) as a task list that saves on the
server after every step, so an applicant can leave and come back on another device.

    1 受伤害职工   2 用人单位   3 事故/职业病情况   4 申请材料   → 核对并提交

Who files (《工伤保险条例》第十七条): the employer within 30 days of the accident or the diagnosis
of an occupational disease (late filing is still received; the employer bears the costs arising
meanwhile, 第十七条第四款); otherwise the worker or a close relative within one year (time lost
for reasons not the worker's does not count, 法释〔2014〕9号第七条: a late worker-side filing needs
that reason in writing). The case is filed with the recognition office of the city where the
employer is located (第十七条第三款). Materials: 第十八条 and local practice
(config/policy/recognition.toml).

Plain Python, no Flask. Every change is audited; nothing commits here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Organisation, Person
from portal.accounts.service import (
    IdentifierError,
    account_scope,
    normalise_id_number,
    normalise_uscc,
    organisation_scope,
    person_for_typed,
)
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.clocks import service as clocks
from portal.errors import (
    ConflictError,
    InvalidFields,
    NotFoundError,
    PermissionDenied,
    UserInputError,
)
from portal.localtime import clock_time
from portal.materials import service as materials
from portal.materials.models import StoredFile
from portal.recognition.models import (
    ApplicantKind,
    CaseAction,
    CaseMaterial,
    CaseStatus,
    EventKind,
    RecognitionCase,
)
from portal.recognition.service import cases, policy, receipt, states
from portal.recognition.service.cases import INVALID_FIELDS
from portal.recognition.service.clock import filing_window as window_deadline
from portal.recognition.service.clock import refresh_due_dates
from portal.regions import province

#: the steps of the task list, in order (the check page is not a step: it is where they end)
STEPS = ("worker", "employer", "event", "materials")
STEP_TITLES = {"worker": "受伤害职工", "employer": "用人单位", "event": "事故伤害或职业病情况",
               "materials": "申请材料"}
#: materials anyone may add beyond the required ones
OPTIONAL_MATERIALS = (("accident_proof", "事故证明（如交通事故责任认定书、公安机关证明）"),
                      ("power_of_attorney", "授权委托书（委托他人办理的）"),
                      ("other", "其他材料"))
#: the first day an event may lie on: the national work-injury scheme began with
#: 《企业职工工伤保险试行办法》(劳部发〔1996〕266号), 1996-10-01; earlier dates are typing errors
EARLIEST_EVENT = date(1996, 1, 1)
NAME_MAX, PLACE_MAX, ACCOUNT_MAX, INJURY_MAX, REASON_MAX = 100, 200, 2000, 1000, 1000


class IncompleteFiling(InvalidFields):
    """What is still missing before the application can be submitted, one line each; none names
    a field, so a form shows them at its top, in order."""

    code = "recognition_incomplete"

    def __init__(self, problems: list[str]) -> None:
        super().__init__({f"problem-{n}": text for n, text in enumerate(problems, 1)})
        self.message = "申请尚未填写完整：" + "；".join(problems)
        self.problems = problems


class AlreadySubmitted(ConflictError):
    code = "recognition_already_submitted"


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- the filing window ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FilingWindow:
    """The last day to file for this applicant (申请时限) and whether ``today`` is past it."""

    applicant_kind: str
    rule: clocks.Rule | None
    #: the last day (after any holiday shift); None when the calendar of that year is unknown
    due_date: date | None
    #: the last day before any holiday shift
    nominal_due: date | None
    late: bool
    #: e.g. 用人单位应当自事故伤害发生之日起30日内提出（至2026年3月3日）
    statement: str
    #: how the date was counted (from the deadline calculator)
    explanation: str
    late_allowed: bool
    late_note: str
    #: the last day rests on a year whose holiday arrangement is not confirmed: why (暂定)
    provisional_reason: str | None = None

    @property
    def source(self) -> str:
        return self.rule.source if self.rule else "《工伤保险条例》第十七条"


def _who(applicant_kind: str) -> str:
    return "用人单位" if applicant_kind == ApplicantKind.EMPLOYER.value else "职工或者其近亲属"


def _start_label(event_kind: str | None) -> str:
    return "被诊断、鉴定为职业病之日" if event_kind == EventKind.DISEASE.value else "事故伤害发生之日"


def _nominal_end(rule: clocks.Rule, start: date) -> date:
    if rule.unit is clocks.Unit.CALENDAR_DAYS:
        return start + timedelta(days=rule.length)
    if rule.unit is clocks.Unit.MONTHS:
        return clocks.add_months(start, rule.length)
    return clocks.add_months(start, 12 * rule.length)


def relied_on(case: RecognitionCase, event_date: date | None = None) -> date | None:
    """The last day to file already shown to the applicant and stored on the draft, for the same
    rule and event date: a recomputed window never ends before it (the applicant relied on it)."""
    event_date = event_date or case.event_date
    if case.applicant_due_on is None or event_date is None or case.applicant_due_from != event_date:
        return None
    if case.applicant_due_rule != policy.applicant_rule(case.applicant_kind.value).window_rule:
        return None
    return case.applicant_due_on


def filing_window(applicant_kind: str, event_kind: str | None, event_date: date, *,
                  calendar: clocks.WorkCalendar, today: date, relied: date | None = None) -> FilingWindow:
    """The filing window of 《工伤保险条例》第十七条 for this applicant, counted from the event with
    the rule in config/policy/deadlines.toml (employer_filing / worker_filing), its last day
    moved off a statutory holiday per the counting policy. ``relied``: a later last day the
    applicant was shown before (:func:`relied_on`) holds."""
    kind = ApplicantKind(applicant_kind).value
    applicant = policy.applicant_rule(kind)
    who, start = _who(kind), _start_label(event_kind)
    try:
        rule = clocks.rule(applicant.window_rule, event_date)
    except UserInputError:  # an event before the rule's first version: long past any window
        return FilingWindow(kind, None, None, None, True,
                            f"{who}应当自{start}起在法定期限内提出工伤认定申请；该日期早于现行规定施行日期，申请时限已经届满",
                            "", applicant.late_allowed, applicant.late_note)
    nominal = _nominal_end(rule, event_date)
    provisional = None
    try:
        deadline = window_deadline(kind, event_date, calendar)
        due, explanation, provisional = deadline.due_date, deadline.explanation, deadline.provisional_reason
    except clocks.CalendarUnknown:
        # the holiday shift can only move the last day later: before the nominal end nobody is late
        due, explanation = None, (f"自{start}（{_cn(event_date)}）的次日起算{rule.period_label}，至{_cn(nominal)}；"
                                  "如该日为法定节假日，顺延至节假日后的第一个工作日（该年度节假日安排尚未公布）。")
    last = due or nominal
    if relied is not None and relied > last:
        due = last = relied
        explanation += f"（此前告知您的截止日期为{_cn(relied)}，按该日期执行。）"
    statement = f"{who}应当自{start}起{rule.period_label}内提出工伤认定申请（至{_cn(last)}）"
    return FilingWindow(kind, rule, due, nominal, today > last, statement, explanation,
                        applicant.late_allowed, applicant.late_note, provisional)


# --- loading and bookkeeping ----------------------------------------------------------------------


def _draft(sess: Session, actor: Actor, case_id: int, *, lock: bool = False) -> RecognitionCase:
    """The actor's own draft (the applicant's account), else not found / conflict."""
    case = cases.load_case(sess, actor, case_id, for_update=lock)
    if case.applicant_account_id != actor.account_id:
        raise cases.CaseNotFound("没有找到这个工伤认定案件，或者您无权查看")
    if case.status is not CaseStatus.DRAFT:
        raise AlreadySubmitted("该申请已经提交，不能再修改；如需补充材料，请等待工伤认定部门的补正通知")
    return case


def load_draft(sess: Session, actor: Actor, case_id: int) -> RecognitionCase:
    return _draft(sess, actor, case_id)


def _mark(case: RecognitionCase, step: str) -> None:
    steps = case.steps | {step}
    case.completed_steps = ",".join(s for s in STEPS if s in steps)


def _unmark(case: RecognitionCase, step: str) -> None:
    case.completed_steps = ",".join(s for s in STEPS if s in case.steps and s != step)


def _audit(sess: Session, actor: Actor, case: RecognitionCase, action: str, **detail: Any) -> None:
    audit.record(sess, actor, f"recognition.{action}", object_type="recognition_case", object_id=str(case.id),
                 city_code=case.city_code, detail=detail or None)


def own_unit(sess: Session, organisation_id: int | None):
    """The organisation's enrolled unit (参保单位) in this portal, if it has one."""
    from portal.enrollment.models import EnrolledUnit

    if organisation_id is None:
        return None
    return sess.execute(select(EnrolledUnit).where(EnrolledUnit.organisation_id == organisation_id)
                        ).scalar_one_or_none()


def _set_employer(sess: Session, case: RecognitionCase, organisation: Organisation, county_code: str) -> None:
    unit = own_unit(sess, organisation.id)
    case.employer_organisation_id = organisation.id
    case.employer = organisation
    case.unit_id = unit.id if unit else None
    case.county_code = county_code
    case.city_code = county_code[:4] + "00"


# --- 0. who applies ---------------------------------------------------------------------------------


def create_draft(sess: Session, actor: Actor, *, applicant_kind: str, relation: str | None = None) -> RecognitionCase:
    """Start an application, saved at once as a draft of the actor's account.

    An employer files for its worker (its own details are step 2, filled in already when the
    unit is enrolled here); a worker files for themself (step 1 is their own identity) or, as a
    close relative (《民法典》第一千零四十五条), for a worker who may have died."""
    if actor.account_id is None:
        raise PermissionDenied("请先登录")
    case = RecognitionCase(status=CaseStatus.DRAFT, applicant_account_id=actor.account_id, completed_steps="")
    if actor.role is Role.EMPLOYER and actor.organisation_id is not None:
        case.applicant_kind = ApplicantKind.EMPLOYER
        case.applicant_organisation_id = actor.organisation_id
        organisation = sess.get(Organisation, actor.organisation_id)
        unit = own_unit(sess, actor.organisation_id)
        if unit is not None:
            _set_employer(sess, case, organisation, unit.county_code)
            _mark(case, "employer")
        else:
            case.employer_organisation_id = organisation.id
    elif actor.role is Role.WORKER and actor.person_id is not None:
        if applicant_kind == ApplicantKind.WORKER.value:
            case.applicant_kind = ApplicantKind.WORKER
            case.applicant_person_id = case.worker_person_id = actor.person_id
            _mark(case, "worker")
        elif applicant_kind == ApplicantKind.RELATIVE.value:
            if relation not in policy.relations():
                raise InvalidFields({"relation": "请选择您与受伤害职工的关系"}, code=INVALID_FIELDS)
            case.applicant_kind = ApplicantKind.RELATIVE
            case.applicant_person_id = actor.person_id
            case.relation = relation
        else:
            raise InvalidFields({"applicant_kind": "请选择由谁提出申请"}, code=INVALID_FIELDS)
    else:
        raise PermissionDenied("只有职工本人、其近亲属或用人单位可以提出工伤认定申请")
    sess.add(case)
    sess.flush()
    _audit(sess, actor, case, "draft_create", applicant_kind=case.applicant_kind.value)
    return case


# --- 1. the injured worker ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberChoice:
    member_id: int
    name: str
    masked_id: str


def member_choices(sess: Session, actor: Actor) -> list[MemberChoice]:
    """The employer's insured persons (参保人员) to pick the injured worker from."""
    from portal.enrollment.models import UnitMember
    from portal.security.masking import mask_id_number

    if actor.role is not Role.EMPLOYER:
        return []
    unit = own_unit(sess, actor.organisation_id)
    if unit is None:
        return []
    rows = sess.execute(select(UnitMember).where(UnitMember.unit_id == unit.id)
                        .order_by(UnitMember.end_date.is_not(None), UnitMember.id.desc())).scalars().all()
    seen: dict[int, MemberChoice] = {}
    for member in rows:
        if member.person_id not in seen:
            seen[member.person_id] = MemberChoice(member.id, member.person.name,
                                                  mask_id_number(member.person.id_number))
    return sorted(seen.values(), key=lambda m: m.name)


def _typing_scope(actor: Actor, case: RecognitionCase):
    """The injured worker an employer or a relative types belongs to the filing employer (its
    organisation) or the relative's account until the worker signs in themself."""
    typed_in = f"工伤认定申请草稿（第 {case.id} 号）"
    if case.applicant_kind is ApplicantKind.EMPLOYER and case.applicant_organisation_id is not None:
        return organisation_scope(case.applicant_organisation_id, typed_in=typed_in, city_code=case.city_code)
    return account_scope(case.applicant_account_id, typed_in=typed_in, city_code=case.city_code)


def save_worker(sess: Session, actor: Actor, case_id: int, *, name: str | None = None,
                id_number: str | None = None, member_id: int | None = None, today: date) -> RecognitionCase:
    """Step 1: who was injured. A worker filing for themself has nothing to type; a relative or
    the employer gives the name and ID number (checked: GB 11643 check digit, no future birth
    date), or the employer picks one of its insured persons."""
    case = _draft(sess, actor, case_id)
    if case.applicant_kind is ApplicantKind.WORKER:
        _mark(case, "worker")
        return case
    person = None
    if member_id:
        from portal.enrollment.models import UnitMember

        unit = own_unit(sess, actor.organisation_id) if actor.role is Role.EMPLOYER else None
        member = sess.get(UnitMember, member_id)
        if unit is None or member is None or member.unit_id != unit.id:
            raise InvalidFields({"member_id": "请从本单位参保人员中选择"}, code=INVALID_FIELDS)
        person = member.person
    else:
        errors: dict[str, str] = {}
        name = (name or "").strip()
        if not name:
            errors["name"] = "请填写受伤害职工的姓名"
        elif len(name) > NAME_MAX:
            errors["name"] = f"姓名不能超过{NAME_MAX}个字"
        try:
            id_value = normalise_id_number(id_number or "", today=today)
        except IdentifierError as exc:
            errors["id_number"] = str(exc)
            id_value = ""
        if errors:
            raise InvalidFields(errors, code=INVALID_FIELDS)
        person = person_for_typed(sess, _typing_scope(actor, case), name=name, id_number=id_value)
    if case.applicant_kind is ApplicantKind.RELATIVE and _is_applicant(sess, case, person):
        raise InvalidFields({"id_number": "近亲属代为申请时，受伤害职工不能是您本人；本人受伤请选择“本人申请”"}, code=INVALID_FIELDS)
    case.worker_person_id = person.id
    case.worker = person
    _mark(case, "worker")
    sess.flush()
    _audit(sess, actor, case, "draft_save", step="worker", fields=["worker"])
    return case


def _is_applicant(sess: Session, case: RecognitionCase, person: Person) -> bool:
    """The relative typed their own ID number (whatever the name): compared by blind index."""
    applicant = sess.get(Person, case.applicant_person_id) if case.applicant_person_id else None
    return applicant is not None and applicant.id_number_hash == person.id_number_hash


# --- 2. the employer ----------------------------------------------------------------------------------


def check_county(raw: str | None) -> str:
    county = (raw or "").strip()
    if not county:
        raise IdentifierError("请填写用人单位所在县（区）行政区划代码")
    if not (len(county) == 6 and county.isdigit()):
        raise IdentifierError(f"行政区划代码应为6位数字，例如 {province().example_county}")
    if province().city_of(county) is None:
        raise IdentifierError(f"{county} 不是{province().name}的行政区划代码；工伤认定申请应向用人单位所在地设区的市提出")
    if county.endswith("00"):
        raise IdentifierError("请填写县（区）的代码，不是地市的代码（后两位不能是00）")
    return county


def save_employer(sess: Session, actor: Actor, case_id: int, *, uscc: str | None = None,
                  name: str | None = None, county_code: str | None = None) -> RecognitionCase:
    """Step 2: the employer, which decides the competent city (第十七条第三款). The employer
    applicant is itself (county from its enrollment, or typed); others give USCC, name and county.
    The organisation is found by its USCC or recorded; an enrollment here links the unit."""
    case = _draft(sess, actor, case_id)
    errors: dict[str, str] = {}
    if case.applicant_kind is ApplicantKind.EMPLOYER:
        organisation = sess.get(Organisation, case.applicant_organisation_id)
        unit = own_unit(sess, organisation.id)
        if unit is not None:
            county = unit.county_code
        else:
            try:
                county = check_county(county_code)
            except IdentifierError as exc:
                raise InvalidFields({"county_code": str(exc)}, code=INVALID_FIELDS) from exc
    else:
        try:
            uscc_value = normalise_uscc(uscc or "")
        except IdentifierError as exc:
            errors["uscc"] = str(exc)
            uscc_value = ""
        name = (name or "").strip()
        if not name:
            errors["name"] = "请填写用人单位名称"
        elif len(name) > 200:
            errors["name"] = "单位名称不能超过200个字"
        organisation = None
        if uscc_value:
            organisation = sess.execute(select(Organisation).where(Organisation.uscc == uscc_value)
                                        ).scalar_one_or_none()
            if organisation is not None and name and organisation.name != name:
                errors["name"] = f"该统一社会信用代码登记的单位名称为“{organisation.name}”，请核对"
        unit = own_unit(sess, organisation.id) if organisation is not None else None
        county = unit.county_code if unit is not None else None
        if county is None:
            try:
                county = check_county(county_code)
            except IdentifierError as exc:
                errors["county_code"] = str(exc)
        if errors:
            raise InvalidFields(errors, code=INVALID_FIELDS)
        if organisation is None:
            organisation = Organisation(uscc=uscc_value, name=name)
            sess.add(organisation)
            sess.flush()
    _set_employer(sess, case, organisation, county)
    _mark(case, "employer")
    sess.flush()
    _audit(sess, actor, case, "draft_save", step="employer", city_code=case.city_code)
    return case


# --- 3. the accident or occupational disease ------------------------------------------------------


def save_event(sess: Session, actor: Actor, case_id: int, *, event_kind: str | None, event_date: date | None,
               event_time: str | None, event_place: str | None, event_account: str | None,
               injury: str | None, died: bool = False, death_date: date | None = None,
               late_reason: str | None = None, today: date, calendar: clocks.WorkCalendar) -> FilingWindow | None:
    """Step 3: what happened (time, place, account: 第十八条第一款第一项), the injury and
    diagnosis (medical, encrypted; never shown to the employer), and a death. Checks the filing
    window: an employer past 30 days is recorded late (allowed); a worker or relative past one
    year must say why the time should not count (late_reason). Returns the window."""
    case = _draft(sess, actor, case_id)
    errors: dict[str, str] = {}
    kind = event_kind if event_kind in {k.value for k in EventKind} else None
    if kind is None:
        errors["event_kind"] = "请选择伤害类别"
    if event_date is None:
        errors["event_date"] = "请填写日期"
    elif event_date > today:
        errors["event_date"] = "日期不能晚于今天"
    elif event_date < EARLIEST_EVENT:
        errors["event_date"] = f"日期不能早于{_cn(EARLIEST_EVENT)}，请核对"
    time_value = (event_time or "").strip() or None
    if time_value:
        try:
            time_value = clock_time(time_value)  # "9:30" is stored as "09:30"
        except ValueError:
            errors["event_time"] = "时间格式不正确，请按 24 小时制填写，例如 9:30 或 14:30"
    place = (event_place or "").strip()
    if not place:
        errors["event_place"] = "请填写事故发生地点" if kind != EventKind.DISEASE.value else "请填写从事有害作业的地点"
    elif len(place) > PLACE_MAX:
        errors["event_place"] = f"地点不能超过{PLACE_MAX}个字"
    account = (event_account or "").strip()
    if not account:
        errors["event_account"] = "请填写经过"
    elif len(account) > ACCOUNT_MAX:
        errors["event_account"] = f"经过不能超过{ACCOUNT_MAX}个字"
    injury_text = (injury or "").strip()
    if not injury_text:
        errors["injury"] = "请填写受伤部位及诊断（或职业病名称）"
    elif len(injury_text) > INJURY_MAX:
        errors["injury"] = f"受伤部位及诊断不能超过{INJURY_MAX}个字"
    died = bool(died)
    if died:
        if case.applicant_kind is ApplicantKind.WORKER:
            errors["died"] = "职工本人申请时不能选择“职工已死亡”；职工死亡的，由其近亲属或用人单位申请"
        elif death_date is None:
            errors["death_date"] = "请填写死亡日期"
        elif death_date > today:
            errors["death_date"] = "死亡日期不能晚于今天"
        elif event_date is not None and death_date < event_date:
            errors["death_date"] = "死亡日期不能早于事故伤害（职业病诊断）日期"
    reason = (late_reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        errors["late_reason"] = f"原因说明不能超过{REASON_MAX}个字"
    window = None
    if kind and event_date is not None and "event_date" not in errors:
        window = filing_window(case.applicant_kind.value, kind, event_date, calendar=calendar, today=today,
                                relied=relied_on(case, event_date))
        if window.late and not window.late_allowed and not reason:
            errors["late_reason"] = (f"已超过{clocks.statutory_period('worker_filing', today)}申请时限：请说明因不属于职工或者其近亲属自身原因耽误的时间"
                                     "（如住院治疗、劳动关系仲裁、诉讼期间），工伤认定部门将审查")
    if errors:
        raise InvalidFields(errors, code=INVALID_FIELDS)
    case.event_kind = EventKind(kind)
    case.event_date, case.event_time, case.event_place, case.event_account = event_date, time_value, place, account
    case.injury = injury_text
    case.died, case.death_date = died, death_date if died else None
    case.late = bool(window and window.late)
    case.late_reason = reason if case.late else None
    _mark(case, "event")
    refresh_due_dates(case, calendar)  # the filing window, stored on the draft
    sess.flush()
    _audit(sess, actor, case, "draft_save", step="event", late=case.late)
    return window


# --- 4. materials -------------------------------------------------------------------------------------


@dataclass
class MaterialSlot:
    """One kind of material the case needs (or may have), with what is attached to it."""

    kind: str
    label: str
    hint: str
    basis: str
    required: bool
    unconfirmed: bool
    attached: list[tuple[CaseMaterial, StoredFile]] = field(default_factory=list)
    #: documents already held for the worker that could fill this slot
    reusable: list[StoredFile] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return bool(self.attached)


def required_rules(case: RecognitionCase) -> list[policy.MaterialRule]:
    return policy.required_materials(event_kind=case.event_kind.value if case.event_kind else None,
                                     died=case.died, applicant_kind=case.applicant_kind.value)


def attached_files(sess: Session, case: RecognitionCase) -> list[tuple[CaseMaterial, StoredFile]]:
    rows = sess.execute(select(CaseMaterial, StoredFile).join(StoredFile, StoredFile.id == CaseMaterial.stored_file_id)
                        .where(CaseMaterial.case_id == case.id).order_by(CaseMaterial.id)).all()
    return [(m, f) for m, f in rows]


def material_slots(sess: Session, actor: Actor, case: RecognitionCase, *, offer_reuse: bool = True) -> list[MaterialSlot]:
    """The required slots (第十八条 and local practice), then the optional ones, each with its
    files; reusable documents already held for the worker are offered where none is attached."""
    files = [(m, f) for m, f in attached_files(sess, case) if m.supplement_item_id is None]
    slots = [MaterialSlot(r.kind, r.label, r.hint, r.basis, True, r.unconfirmed) for r in required_rules(case)]
    known = {s.kind for s in slots}
    slots += [MaterialSlot(kind, label, "", "", False, False) for kind, label in OPTIONAL_MATERIALS if kind not in known]
    by_kind = {s.kind: s for s in slots}
    for material, stored in files:
        slot = by_kind.get(material.kind) or by_kind["other"]
        slot.attached.append((material, stored))
    if offer_reuse and case.worker_person_id is not None:
        held = [f for f in materials.reusable_documents(sess, case.worker_person_id)
                if materials.may_read(sess, actor, f)]
        attached_ids = {f.id for _m, f in files}
        for stored in held:
            slot = by_kind.get(stored.kind)
            if slot is not None and not slot.attached and stored.id not in attached_ids:
                slot.reusable.append(stored)
    return slots


def _check_slot_kind(case: RecognitionCase, kind: str) -> None:
    allowed = {r.kind for r in required_rules(case)} | {k for k, _ in OPTIONAL_MATERIALS}
    if kind not in allowed:
        raise InvalidFields({"kind": "请选择材料种类"}, code=INVALID_FIELDS)


def _refresh_materials_step(sess: Session, case: RecognitionCase) -> None:
    have = {m.kind for m, _f in attached_files(sess, case)}
    if all(r.kind in have for r in required_rules(case)):
        _mark(case, "materials")
    else:
        _unmark(case, "materials")


def add_material(sess: Session, actor: Actor, case_id: int, *, kind: str, data: bytes, filename: str,
                 files_dir: Path, max_bytes: int = materials.DEFAULT_MAX_BYTES) -> CaseMaterial:
    """Upload one file into a slot (PDF, JPG or PNG, checked by content, re-encoded, encrypted)."""
    case = _draft(sess, actor, case_id)
    _check_slot_kind(case, kind)
    stored = materials.store_upload(sess, actor, data=data, filename=filename, kind=kind,
                                    person_id=case.worker_person_id,
                                    organisation_id=case.employer_organisation_id, files_dir=files_dir,
                                    max_bytes=max_bytes)
    material = CaseMaterial(case_id=case.id, stored_file_id=stored.id, kind=kind, added_by=actor.account_id)
    sess.add(material)
    sess.flush()
    _refresh_materials_step(sess, case)
    _audit(sess, actor, case, "material_add", kind=kind, stored_file_id=stored.id)
    return material


def reuse_material(sess: Session, actor: Actor, case_id: int, *, stored_file_id: int) -> CaseMaterial:
    """使用已有材料: attach a document already held for the same worker (身份证明, 劳动关系证明)
    instead of uploading it again. Only what the actor may read is offered or accepted."""
    case = _draft(sess, actor, case_id)
    if case.worker_person_id is None:
        raise InvalidFields({"stored_file_id": "请先填写受伤害职工"}, code=INVALID_FIELDS)
    held = {f.id: f for f in materials.reusable_documents(sess, case.worker_person_id)
            if materials.may_read(sess, actor, f)}
    stored = held.get(stored_file_id)
    if stored is None:
        raise NotFoundError("没有找到可以复用的材料")
    _check_slot_kind(case, stored.kind)
    already = sess.execute(select(CaseMaterial).where(CaseMaterial.case_id == case.id,
                                                      CaseMaterial.stored_file_id == stored.id)).scalar_one_or_none()
    if already is not None:
        return already
    material = CaseMaterial(case_id=case.id, stored_file_id=stored.id, kind=stored.kind, reused=True,
                            added_by=actor.account_id)
    sess.add(material)
    sess.flush()
    _refresh_materials_step(sess, case)
    _audit(sess, actor, case, "material_reuse", kind=stored.kind, stored_file_id=stored.id)
    return material


def remove_material(sess: Session, actor: Actor, case_id: int, material_id: int) -> None:
    """Take a file off the draft (the stored file itself stays, as every stored file does)."""
    case = _draft(sess, actor, case_id)
    material = sess.get(CaseMaterial, material_id)
    if material is None or material.case_id != case.id:
        raise NotFoundError("没有找到该材料")
    sess.delete(material)
    sess.flush()
    _refresh_materials_step(sess, case)
    _audit(sess, actor, case, "material_remove", kind=material.kind, stored_file_id=material.stored_file_id)


# --- the task list and the check page ---------------------------------------------------------------


@dataclass(frozen=True)
class StepState:
    key: str
    title: str
    done: bool
    #: a step that cannot start yet (e.g. materials before the worker is known)
    blocked_by: str | None = None


def step_states(sess: Session, case: RecognitionCase) -> list[StepState]:
    done = case.steps
    have = {m.kind for m, _f in attached_files(sess, case)}
    materials_done = all(r.kind in have for r in required_rules(case)) and "event" in done
    result = []
    for key in STEPS:
        blocked = None
        if key == "materials" and "worker" not in done:
            blocked = "请先填写受伤害职工"
        is_done = materials_done if key == "materials" else key in done
        result.append(StepState(key, STEP_TITLES[key], is_done, blocked))
    return result


def problems(sess: Session, case: RecognitionCase) -> list[str]:
    """Everything still missing before submission, as the applicant should read it."""
    found = []
    done = case.steps
    for key in ("worker", "employer", "event"):
        if key not in done:
            found.append(f"请填写“{STEP_TITLES[key]}”")
    if case.city_code is None and "employer" in done:
        found.append("请填写用人单位所在县（区）")
    have = {m.kind for m, _f in attached_files(sess, case)}
    for rule in required_rules(case):
        if rule.kind not in have:
            found.append(f"请上传“{rule.label}”")
    return found


# --- submission -----------------------------------------------------------------------------------


def applicant_name(sess: Session, case: RecognitionCase) -> str:
    """The applicant's name and role as pages and the receipt print it: 张三，近亲属（配偶）."""
    if case.applicant_kind is ApplicantKind.EMPLOYER:
        organisation = sess.get(Organisation, case.applicant_organisation_id)
        return f"{organisation.name}，用人单位" if organisation else "用人单位"
    person = sess.get(Person, case.applicant_person_id)
    name = person.name if person else ""
    return f"{name}，{policy.applicant_role(case)}" if name else policy.applicant_role(case)


def submit(sess: Session, actor: Actor, case_id: int, *, today: date, now: datetime, files_dir: Path,
           case_url: str, calendar: clocks.WorkCalendar) -> RecognitionCase:
    """提交申请: lock the draft, check every step and required material, recheck the filing
    window on the day of receipt, give the reference number, issue the receipt (PDF with every
    file's SHA-256 and a QR code to ``case_url``) and move the case to submitted through the
    state machine. A second submission (two clicks, two tabs) finds the case no longer a draft
    and raises :class:`AlreadySubmitted`; nothing is recorded twice."""
    case = cases.lock_case(sess, actor, case_id)
    if case.applicant_account_id != actor.account_id:
        raise cases.CaseNotFound("没有找到这个工伤认定案件，或者您无权查看")
    if case.status is not CaseStatus.DRAFT:
        raise AlreadySubmitted(f"该申请已经提交（受理编号 {case.reference}），不能重复提交")
    missing = problems(sess, case)
    window = filing_window(case.applicant_kind.value, case.event_kind.value, case.event_date,
                           calendar=calendar, today=today, relied=relied_on(case)) if not missing else None
    if window is not None and window.late and not window.late_allowed and not case.late_reason:
        missing.append(f"已超过{clocks.statutory_period('worker_filing', today)}申请时限：请在“事故伤害或职业病情况”中说明耽误的原因")
    if missing:
        raise IncompleteFiling(missing)
    case.late = window.late
    case.received_on, case.submitted_at = today, now
    sess.flush()
    cases.assign_reference(case, today.year)
    files = attached_files(sess, case)
    note = "申请人在线提交工伤认定申请。"
    if case.late and case.applicant_kind is ApplicantKind.EMPLOYER:
        note += f"用人单位逾期提出申请（{window.statement}），照常接收，逾期情况记录在案（《工伤保险条例》第十七条第四款）。"
    elif case.late:
        note += f"超过申请时限（{window.statement}），申请人已书面说明耽误原因，由工伤认定部门审查。"
    pdf = receipt.render_receipt(case=case, applicant=applicant_name(sess, case), files=[f for _m, f in files],
                                 labels={f.id: material_label(m.kind) for m, f in files}, window=window,
                                 issued_at=now, case_url=case_url, office=cases.office_name(case.city_code))
    stored = materials.store_generated(sess, actor, data=pdf, filename=f"{case.reference}-回执.pdf", kind="receipt",
                                       person_id=case.applicant_person_id,
                                       organisation_id=case.applicant_organisation_id, files_dir=files_dir)
    case.receipt_file_id = stored.id
    sess.flush()
    states.apply(sess, actor, case, CaseAction.SUBMIT, on=today, note=note,
                 detail={"late": case.late, "applicant_kind": case.applicant_kind.value,
                         "materials": len(files), "receipt_sha256": stored.sha256})
    return case


def discard_draft(sess: Session, actor: Actor, case_id: int) -> None:
    """放弃填写: delete a draft (never a submitted case). Its uploads stay stored, unlinked."""
    case = _draft(sess, actor, case_id, lock=True)
    _audit(sess, actor, case, "draft_discard")
    sess.delete(case)
    sess.flush()


def material_label(kind: str) -> str:
    for rule in policy.materials():
        if rule.kind == kind:
            return rule.label
    for code, label in OPTIONAL_MATERIALS:
        if code == kind:
            return label
    try:
        return materials.material_kind(kind).label
    except UserInputError:
        return kind
