"""工伤认定部门办理 (the recognition office's side of a case): review of the filing, the one-time
request for missing material, acceptance or refusal, investigation notes, suspension and
resumption, the decision, its service, and written answers to 催办.

Plain Python, no Flask. Every action locks the case row first (:func:`cases.lock_case`), checks
the move with :func:`states.check_move` BEFORE it numbers or renders any document, sets the
case's fields and documents, and only then calls :func:`states.apply` (which writes the
timeline, the audit row, the provincial platform report and the inbox notices that read those
fields). A second click on the same action finds the status already moved and gets
:class:`states.IllegalTransition` (409, Chinese message): nothing is done twice.

Where the documents are kept:
  - 受理决定书 / 不予受理决定书: ``case.acceptance_file_id`` (number in ``acceptance_number``);
  - 认定工伤（视同工伤、不予认定工伤）决定书: ``case.decision_file_id`` (``decision_number``);
  - 补正材料通知书 and 中止通知书: a :class:`CaseMaterial` row of kind ``supplement_notice`` /
    ``suspension_notice`` (the stored file's kind is ``decision``, 决定文书), so the applicant's
    side finds them among the case's files (:data:`NOTICE_KINDS`).

Clock semantics of a suspension (中止): a :class:`CasePause` from ``started_on`` (the day of
the suspension, not counted) to ``ended_on`` inclusive; resuming on day X makes X count again,
so ``ended_on = X - 1``. Resumed on the very day it was suspended, no day was lost: the pause
row is removed (the timeline keeps both events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, AccountKind
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.clocks import service as clocks
from portal.db import independent_transaction, utcnow
from portal.errors import ConflictError, InvalidFields, NotFoundError, PermissionDenied
from portal.localtime import local_today
from portal.materials import service as materials
from portal.materials.models import StoredFile
from portal.recognition.models import (
    CaseAction,
    CaseMaterial,
    CasePause,
    CaseStatus,
    InvestigationNote,
    Outcome,
    PauseKind,
    RecognitionCase,
    SupplementItem,
    Urge,
)
from portal.recognition.service import cases as case_repo
from portal.recognition.service import clock as case_clock_module
from portal.recognition.service import documents, notices, policy, states
from portal.recognition.service.cases import INVALID_FIELDS, OFFICE_ROLES, actor_office

A = CaseAction

#: CaseMaterial kinds of the notices the office issues (the applicant side lists them apart)
SUPPLEMENT_NOTICE, SUSPENSION_NOTICE = "supplement_notice", "suspension_notice"
NOTICE_KINDS = frozenset({SUPPLEMENT_NOTICE, SUSPENSION_NOTICE})
#: InvestigationNote kinds: 调查核实记录 / 用人单位意见
NOTE_KINDS = {"note": "调查核实记录", "employer_view": "用人单位意见"}
#: a free-text line of the supplement list (not one of the configured materials)
OTHER_ITEM = "other"

SUPPLEMENT_ITEMS_MAX, ITEM_MAX = 20, 500
REASON_MAX, REASONS_MAX, NOTE_MAX, REASONING_MAX, ANSWER_MAX = 500, 2000, 5000, 5000, 1000


class UrgeNotFound(NotFoundError):
    code = "recognition_urge_not_found"


class UrgeAlreadyAnswered(ConflictError):
    code = "recognition_urge_answered"


# --- helpers ------------------------------------------------------------------------------------


def _text(value: str | None, field_name: str, what: str, limit: int, *, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidFields({field_name: f"请填写{what}"}, code=INVALID_FIELDS)
        return None
    if len(value) > limit:
        raise InvalidFields({field_name: f"{what}不能超过{limit}个字"}, code=INVALID_FIELDS)
    return value


def _require_office(actor: Actor) -> None:
    if actor.role not in OFFICE_ROLES:
        raise PermissionDenied("只有工伤认定人员可以办理此事项")


def _begin(sess: Session, actor: Actor, case_id: int, action: A) -> RecognitionCase:
    """Lock the case and check, before anything is numbered or rendered, that ``actor`` may
    take ``action`` now (the same checks :func:`states.apply` repeats)."""
    _require_office(actor)
    case = case_repo.lock_case(sess, actor, case_id)
    states.check_move(actor, case, action)
    return case


def _store_pdf(sess: Session, actor: Actor, case: RecognitionCase, data: bytes, filename: str,
               files_dir: Path) -> StoredFile:
    return materials.store_generated(
        sess, actor, data=data, filename=filename, kind="decision", person_id=case.worker_person_id,
        organisation_id=case.employer_organisation_id, files_dir=files_dir, medical=False)


def _year(on: date) -> int:
    return on.year


# --- 一次性告知补正 (request for missing material) ---------------------------------------------------


@dataclass(frozen=True)
class SupplementRequest:
    kind: str  #: a configured material kind, or "other"
    description: str


def supplement_kind_choices(case: RecognitionCase) -> list[tuple[str, str, str]]:
    """(kind, label, hint) of the materials a case of this shape requires (条例第十八条)."""
    rules = policy.required_materials(event_kind=case.event_kind.value if case.event_kind else None,
                                      died=case.died, applicant_kind=case.applicant_kind.value)
    return [(m.kind, m.label, m.hint) for m in rules]


def review_deadline(case: RecognitionCase, calendar: clocks.WorkCalendar) -> clocks.Deadline | None:
    """The review clock running on a submitted case (material_review, or supplement_review)."""
    if case.status is not CaseStatus.SUBMITTED:
        return None
    return case_clock_module.running_deadline(case, calendar)


def request_supplement(sess: Session, actor: Actor, case_id: int, *, items: Sequence[SupplementRequest],
                       files_dir: Path, on: date | None = None) -> RecognitionCase:
    """Send the ONE notice listing everything missing (一次性书面告知补正, 《工伤认定办法》第八条):
    stores the list, stops the review clock (a supplement pause from today), issues the
    补正材料通知书 and moves the case to awaiting_supplement. Only once per case."""
    on = on or local_today()
    case = _begin(sess, actor, case_id, A.REQUEST_SUPPLEMENT)
    known = {k.code for k in materials.material_kinds()} | {OTHER_ITEM}
    cleaned: list[SupplementRequest] = []
    for n, item in enumerate(items):
        if item.kind not in known:
            raise InvalidFields({"items": "补正材料的种类不正确"}, code=INVALID_FIELDS)
        text = _text(item.description, "items", f"第{n + 1}项补正材料的具体要求", ITEM_MAX)
        cleaned.append(SupplementRequest(item.kind, text))
    if not cleaned:
        raise InvalidFields({"items": "请至少列出一项需要补正的材料，并写明具体要求"}, code=INVALID_FIELDS)
    if len(cleaned) > SUPPLEMENT_ITEMS_MAX:
        raise InvalidFields({"items": f"补正清单不能超过{SUPPLEMENT_ITEMS_MAX}项"}, code=INVALID_FIELDS)

    calendar = clocks.work_calendar(sess)
    try:
        running = review_deadline(case, calendar)
    except clocks.CalendarUnknown:
        running = None
    number = case_repo.next_document_number(sess, case.city_code, _year(on), "supplement")
    rows = [SupplementItem(case_id=case.id, kind=i.kind, description=i.description) for i in cleaned]
    sess.add_all(rows)
    sess.add(CasePause(case_id=case.id, kind=PauseKind.SUPPLEMENT, started_on=on,
                       reason="等待申请人补正材料（一次性告知补正）"))
    sess.flush()
    pdf = documents.supplement_notice_pdf(case, number=number, items=rows, on=on, running=running)
    stored = _store_pdf(sess, actor, case, pdf, f"补正材料通知书-{case.reference}.pdf", files_dir)
    sess.add(CaseMaterial(case_id=case.id, stored_file_id=stored.id, kind=SUPPLEMENT_NOTICE,
                          added_by=actor.account_id))
    sess.flush()
    states.apply(sess, actor, case, A.REQUEST_SUPPLEMENT, on=on,
                 note=f"一次性告知补正材料{len(rows)}项（{number}）；补正期间审查期限停止计算",
                 detail={"items": len(rows), "number": number})
    # set after the move: states.next_status refuses the request once this flag is set
    case.supplement_requested = True
    sess.flush()
    return case


# --- 受理 / 不予受理 ----------------------------------------------------------------------------------


def accept_case(sess: Session, actor: Actor, case_id: int, *, simplified: bool = False,
                simplified_reason: str | None = None, files_dir: Path,
                on: date | None = None) -> RecognitionCase:
    """受理 (《工伤保险条例》第十八条第三款): numbers and issues the 受理决定书 and starts the
    decision clock: 60 days, or 15 under the simplified procedure (第二十条第二款)."""
    on = on or local_today()
    case = _begin(sess, actor, case_id, A.ACCEPT)
    reason = None
    if simplified:
        reason = _text(simplified_reason, "simplified_reason", "适用简易程序的理由", REASON_MAX)
    case.simplified = bool(simplified)
    case.accepted_on = on
    number = case_repo.next_document_number(sess, case.city_code, _year(on), "acceptance")
    case.acceptance_number = number
    pdf = documents.acceptance_pdf(case, number=number, on=on, calendar=clocks.work_calendar(sess))
    stored = _store_pdf(sess, actor, case, pdf, f"工伤认定申请受理决定书-{case.reference}.pdf", files_dir)
    case.acceptance_file_id = stored.id
    sess.flush()
    note = f"受理决定书 {number}"
    if simplified:
        note += f"；适用简易程序，{clocks.statutory_period('recognition_decision_simple', on)}内作出认定决定（{reason}）"
    states.apply(sess, actor, case, A.ACCEPT, on=on, note=note,
                 detail={"number": number, "simplified": bool(simplified)})
    return case


def refuse_case(sess: Session, actor: Actor, case_id: int, *, reasons: str, files_dir: Path,
                on: date | None = None) -> RecognitionCase:
    """不予受理: the reasons are required and printed on the 不予受理决定书 with the rights of
    appeal (行政复议, 行政诉讼)."""
    on = on or local_today()
    case = _begin(sess, actor, case_id, A.REFUSE)
    reasons = _text(reasons, "reasons", "不予受理的理由", REASONS_MAX)
    number = case_repo.next_document_number(sess, case.city_code, _year(on), "refusal")
    case.acceptance_number = number
    case.refusal_reasons = reasons
    pdf = documents.refusal_pdf(case, number=number, on=on)
    stored = _store_pdf(sess, actor, case, pdf, f"工伤认定申请不予受理决定书-{case.reference}.pdf", files_dir)
    case.acceptance_file_id = stored.id
    sess.flush()
    states.apply(sess, actor, case, A.REFUSE, on=on, note=f"不予受理决定书 {number}：{reasons}",
                 detail={"number": number})
    return case


# --- 调查核实 -------------------------------------------------------------------------------------------


def add_note(sess: Session, actor: Actor, case_id: int, *, kind: str, text: str,
             now: datetime | None = None) -> InvestigationNote:
    """Record an investigation note (调查核实情况) or the employer's view (用人单位意见,
    its statement and the evidence it gave; 条例第十九条). Staff only; never shown to parties.
    Allowed while the case is accepted or suspended."""
    _require_office(actor)
    case = case_repo.lock_case(sess, actor, case_id)
    if not actor.can_see_city(case.city_code):
        raise PermissionDenied("只有本案管辖地市的工伤认定人员可以办理此事项")
    if kind not in NOTE_KINDS:
        raise InvalidFields({"kind": "记录类别不正确"}, code=INVALID_FIELDS)
    if case.status not in (CaseStatus.ACCEPTED, CaseStatus.SUSPENDED):
        raise states.IllegalTransition(f"该案件当前状态为“{case.status.label}”，不能记录{NOTE_KINDS[kind]}；"
                                       "受理后才能记录调查核实情况")
    text = _text(text, "text", NOTE_KINDS[kind], NOTE_MAX)
    note = InvestigationNote(case_id=case.id, kind=kind, text=text, at=now or utcnow(),
                             by_account_id=actor.account_id, by_office=actor_office(actor, case))
    sess.add(note)
    sess.flush()
    audit.record(sess, actor, "recognition.note", object_type="recognition_case", object_id=str(case.id),
                 city_code=case.city_code, detail={"kind": kind, "note_id": note.id})
    return note


# --- 中止 / 恢复 --------------------------------------------------------------------------------------------


def open_suspension(case: RecognitionCase) -> CasePause | None:
    return next((p for p in case.pauses if p.kind is PauseKind.SUSPENSION and p.ended_on is None), None)


def suspend_case(sess: Session, actor: Actor, case_id: int, *, reason: str, files_dir: Path,
                 on: date | None = None) -> RecognitionCase:
    """中止 (《工伤保险条例》第二十条第三款; 《工伤认定办法》第二十条): the decision clock stops
    from today; the reason is public (it is what the parties wait for) and goes on the 中止通知书."""
    on = on or local_today()
    case = _begin(sess, actor, case_id, A.SUSPEND)
    reason = _text(reason, "reason", "中止的理由", REASON_MAX)
    if case.accepted_on is not None and on < case.accepted_on:
        raise InvalidFields({"reason": "中止日期不能早于受理日期"}, code=INVALID_FIELDS)
    pause = CasePause(case_id=case.id, kind=PauseKind.SUSPENSION, started_on=on, reason=reason)
    sess.add(pause)
    number = case_repo.next_document_number(sess, case.city_code, _year(on), "suspension")
    sess.flush()
    sess.refresh(case, ["pauses"])
    pdf = documents.suspension_notice_pdf(case, number=number, reason=reason, on=on)
    stored = _store_pdf(sess, actor, case, pdf, f"工伤认定中止通知书-{case.reference}.pdf", files_dir)
    sess.add(CaseMaterial(case_id=case.id, stored_file_id=stored.id, kind=SUSPENSION_NOTICE,
                          added_by=actor.account_id))
    sess.flush()
    states.apply(sess, actor, case, A.SUSPEND, on=on, note=f"{reason}（中止通知书 {number}）",
                 detail={"number": number})
    return case


def resume_case(sess: Session, actor: Actor, case_id: int, *, note: str,
                on: date | None = None) -> RecognitionCase:
    """恢复: the decision clock runs again from today (today counts). ``note`` says what arrived,
    e.g. 劳动仲裁裁决书已生效, and is public."""
    on = on or local_today()
    case = _begin(sess, actor, case_id, A.RESUME)
    note = _text(note, "note", "恢复的理由（收到的结论）", REASON_MAX)
    pause = open_suspension(case)
    if pause is not None:
        if on < pause.started_on:
            raise InvalidFields({"note": "恢复日期不能早于中止日期"}, code=INVALID_FIELDS)
        if on == pause.started_on:
            # resumed the day it was suspended: not one day stood still
            case.pauses.remove(pause)
            sess.delete(pause)
        else:
            pause.ended_on = on - timedelta(days=1)
        sess.flush()
    states.apply(sess, actor, case, A.RESUME, on=on, note=note)
    return case


# --- 认定决定 --------------------------------------------------------------------------------------------


def decide_case(sess: Session, actor: Actor, case_id: int, *, outcome: str, ground_code: str,
                reasoning: str, files_dir: Path, on: date | None = None) -> RecognitionCase:
    """作出认定决定 (《工伤保险条例》第二十条): 认定工伤 (第十四条), 视同工伤 (第十五条) or 不予认定
    (第十四、十五条不符或第十六条), with one legal ground of that outcome from the policy list.
    The facts and reasoning are printed on the decision, which the employer also receives."""
    on = on or local_today()
    case = _begin(sess, actor, case_id, A.DECIDE)
    errors: dict[str, str] = {}
    try:
        chosen = Outcome(outcome)
    except ValueError:
        chosen = None
        errors["outcome"] = "请选择认定结论"
    ground = None
    if chosen is not None:
        codes = {g.code: g for g in policy.grounds(chosen.value)}
        if not ground_code:
            errors["ground_code"] = "请选择认定依据"
        elif ground_code not in codes:
            errors["ground_code"] = f"所选认定依据不适用于“{chosen.label}”，请重新选择"
        else:
            ground = codes[ground_code]
    text = (reasoning or "").strip()
    if not text:
        errors["reasoning"] = "请填写认定的事实和理由"
    elif len(text) > REASONING_MAX:
        errors["reasoning"] = f"认定的事实和理由不能超过{REASONING_MAX}个字"
    if errors:
        raise InvalidFields(errors, code=INVALID_FIELDS)
    assert chosen is not None and ground is not None
    case.outcome = chosen
    case.ground_code = ground.code
    case.decision_reasoning = text
    case.decided_on = on
    number = case_repo.next_document_number(sess, case.city_code, _year(on), "decision")
    case.decision_number = number
    pdf = documents.decision_pdf(case, number=number, ground=ground, on=on)
    title = documents.decision_title(chosen)
    stored = _store_pdf(sess, actor, case, pdf, f"{title}-{case.reference}.pdf", files_dir)
    case.decision_file_id = stored.id
    sess.flush()
    states.apply(sess, actor, case, A.DECIDE, on=on, note=f"{chosen.label}（{title} {number}），待送达",
                 detail={"number": number, "outcome": chosen.value, "ground": ground.code})
    return case


def serve_case(sess: Session, actor: Actor, case_id: int, *, on: date | None = None) -> RecognitionCase:
    """送达 (《工伤认定办法》第二十二条): the decision goes to the inboxes of the applicant, the
    worker and the employer; each delivery time is the inbox's ``delivered_at``."""
    on = on or local_today()
    case = _begin(sess, actor, case_id, A.SERVE)
    case.served_on = on
    sess.flush()
    states.apply(sess, actor, case, A.SERVE, on=on, note=f"认定决定书 {case.decision_number} 已通过门户收件箱送达")
    return case


@dataclass(frozen=True)
class Delivery:
    party: str  #: applicant | worker | employer
    label: str  #: 申请人（职工本人） / 受伤害职工 / 用人单位
    name: str
    delivered_at: datetime | None
    read_at: datetime | None


PARTY_LABELS = {"applicant": "申请人", "worker": "受伤害职工", "employer": "用人单位"}


def delivery_records(sess: Session, case: RecognitionCase) -> list[Delivery]:
    """送达记录 of the decision: for each party, when it reached the inbox and was first read."""
    from portal.inbox import service as inbox

    rows = []
    for party in notices.parties(case):
        record = inbox.delivery_record(sess, dedupe_key=notices.decision_dedupe_key(case, party.key))
        label = PARTY_LABELS[party.key]
        if party.key == "applicant":
            label += f"：{policy.applicant_role(case)}"
        rows.append(Delivery(party.key, label, _party_name(sess, party.person_id, party.organisation_id),
                             record.delivered_at if record else None, record.read_at if record else None))
    return rows


def _party_name(sess: Session, person_id: int | None, organisation_id: int | None) -> str:
    from portal.accounts.models import Organisation, Person

    if person_id is not None:
        person = sess.get(Person, person_id)
        return person.name if person else "—"
    if organisation_id is not None:
        organisation = sess.get(Organisation, organisation_id)
        return organisation.name if organisation else "—"
    return "—"


# --- 催办答复 --------------------------------------------------------------------------------------------


def urge_case_id(sess: Session, urge_id: int) -> int:
    """The case a 催办 belongs to (the page its answer form is on)."""
    case_id = sess.execute(select(Urge.case_id).where(Urge.id == urge_id)).scalar_one_or_none()
    if case_id is None:
        raise UrgeNotFound("没有找到这条催办记录")
    return case_id


def answer_urge(sess: Session, actor: Actor, urge_id: int, answer: str, now: datetime | None = None) -> Urge:
    """Answer a 催办 in writing, once: the answer goes to the urging party's inbox (a message)
    and onto the case page. The office of the case's city (or the province) answers."""
    _require_office(actor)
    urge = sess.get(Urge, urge_id)
    if urge is None:
        raise UrgeNotFound("没有找到这条催办记录")
    case = case_repo.lock_case(sess, actor, urge.case_id)  # 404 outside the actor's city
    sess.refresh(urge)
    if not actor.can_see_city(case.city_code):
        raise PermissionDenied("只有本案管辖地市的工伤认定人员可以答复催办")
    if urge.answer is not None:
        raise UrgeAlreadyAnswered("这条催办已经答复过，不能重复答复")
    text = _text(answer, "answer", "答复内容", ANSWER_MAX)
    office = actor_office(actor, case)
    urge.answer = text
    urge.answered_at = now or utcnow()
    urge.answered_by_account_id = actor.account_id
    urge.answered_by_office = office
    sess.flush()
    account = sess.get(Account, urge.by_account_id)
    person_id = organisation_id = None
    if account is not None and account.kind is AccountKind.ORGANISATION:
        organisation_id = account.organisation_id
    elif account is not None:
        person_id = account.person_id
    if person_id is not None or organisation_id is not None:
        from portal.inbox import service as inbox

        inbox.deliver(sess, person_id=person_id, organisation_id=organisation_id, kind="message",
                      subject=f"关于您催办的答复（{case.reference}）",
                      body=f"{office}对您的催办答复如下：\n{text}",
                      link=notices.CASE_LINK.format(id=case.id), link_label="查看案件",
                      case_reference=case.reference, dedupe_key=f"recognition-urge-answer:{urge.id}")
    audit.record(sess, actor, "recognition.answer_urge", object_type="recognition_case",
                 object_id=str(case.id), city_code=case.city_code, detail={"urge_id": urge.id})
    return urge


# --- reading: the office's case page ------------------------------------------------------------------


@dataclass
class CaseFile:
    material: CaseMaterial | None
    label: str
    stored: StoredFile


@dataclass
class OfficeCaseView:
    case: RecognitionCase
    clock: case_clock_module.CaseClock
    filing_window: clocks.Deadline | None
    filing_window_problem: str | None
    worker_id_masked: str | None
    applicant_name: str
    materials: list[CaseFile]
    documents: list[CaseFile]
    supplement_items: list[SupplementItem]
    notes: list[InvestigationNote]
    urges: list[Urge]
    urgers: dict[int, str]
    deliveries: list[Delivery]
    actions: list[A]
    review: clocks.Deadline | None = None
    suspension: CasePause | None = None
    ground: policy.Ground | None = None
    grounds: dict[str, list[policy.Ground]] = field(default_factory=dict)
    supplement_choices: list[tuple[str, str, str]] = field(default_factory=list)
    decision_file: StoredFile | None = None
    appeal: documents.Appeal | None = None

    @property
    def open_urges(self) -> int:
        return sum(1 for u in self.urges if u.answer is None)


DOCUMENT_LABELS = {SUPPLEMENT_NOTICE: "补正材料通知书", SUSPENSION_NOTICE: "中止通知书"}


def read_case(sess: Session, actor: Actor, case_id: int, *, today: date | None = None) -> OfficeCaseView:
    """The office's case page: :func:`office_view` and its audit row in a transaction of their
    own, committed whatever the page answers (an action refused with 422 shows the case again)."""
    with independent_transaction(sess) as own:
        return office_view(own, actor, case_id, today=today)


def office_view(sess: Session, actor: Actor, case_id: int, *, today: date | None = None) -> OfficeCaseView:
    """Everything the office sees of a case, medical details included; the read is audited
    (``recognition.read_medical_data``) in ``sess``'s transaction."""
    from portal.security.masking import mask_id_number

    _require_office(actor)
    today = today or local_today()
    case = case_repo.load_case(sess, actor, case_id)
    calendar = clocks.work_calendar(sess)
    clock = case_clock_module.case_clock(case, calendar, today)
    window = problem = None
    if case.event_date is not None:
        try:
            window = case_clock_module.filing_window(case.applicant_kind.value, case.event_date, calendar)
        except (clocks.CalendarUnknown, clocks.RuleNotInForce) as exc:
            problem = exc.message
    try:
        review = review_deadline(case, calendar)
    except clocks.CalendarUnknown:
        review = None
    files = sess.execute(select(CaseMaterial, StoredFile).join(StoredFile, StoredFile.id == CaseMaterial.stored_file_id)
                         .where(CaseMaterial.case_id == case.id).order_by(CaseMaterial.id)).all()
    materials, issued = [], []
    for material, stored in files:
        if material.kind in NOTICE_KINDS:
            issued.append(CaseFile(material, DOCUMENT_LABELS[material.kind], stored))
        else:
            materials.append(CaseFile(material, materials.kind_label(material.kind), stored))
    for file_id, label in ((case.receipt_file_id, "申请回执"),
                           (case.acceptance_file_id, "不予受理决定书" if case.status is CaseStatus.NOT_ACCEPTED
                            else "受理决定书"),
                           (case.decision_file_id, "认定决定书")):
        if file_id is not None:
            stored = sess.get(StoredFile, file_id)
            if stored is not None:
                issued.append(CaseFile(None, label, stored))
    items = list(sess.execute(select(SupplementItem).where(SupplementItem.case_id == case.id)
                              .order_by(SupplementItem.id)).scalars())
    notes = list(sess.execute(select(InvestigationNote).where(InvestigationNote.case_id == case.id)
                              .order_by(InvestigationNote.id)).scalars())
    urges = list(sess.execute(select(Urge).where(Urge.case_id == case.id).order_by(Urge.id)).scalars())
    urgers = {}
    for urge in urges:
        account = sess.get(Account, urge.by_account_id)
        urgers[urge.id] = account.display_name if account else "申请人"
    worker_id = None
    if case.worker is not None and case.worker.id_number:
        worker_id = mask_id_number(case.worker.id_number)
    if case.applicant_person is not None:
        applicant_name = case.applicant_person.name
    elif case.applicant_organisation_id is not None:
        applicant_name = _party_name(sess, None, case.applicant_organisation_id)
    else:
        applicant_name = "—"
    ground = None
    if case.ground_code:
        try:
            ground = policy.ground(case.ground_code)
        except KeyError:
            ground = None
    view = OfficeCaseView(
        case=case, clock=clock, filing_window=window, filing_window_problem=problem,
        worker_id_masked=worker_id, applicant_name=applicant_name, materials=materials, documents=issued,
        supplement_items=items, notes=notes, urges=urges, urgers=urgers,
        deliveries=delivery_records(sess, case) if case.status is CaseStatus.SERVED else [],
        actions=[a for a in states.allowed_actions(case.status) if a not in states.APPLICANT_ACTIONS
                 and not (a is A.REQUEST_SUPPLEMENT and case.supplement_requested)],
        review=review, suspension=open_suspension(case), ground=ground,
        grounds={o.value: policy.grounds(o.value) for o in Outcome},
        supplement_choices=supplement_kind_choices(case),
        decision_file=sess.get(StoredFile, case.decision_file_id) if case.decision_file_id else None,
        appeal=documents.appeal_rights(case, today))
    _ = (list(case.events), case.employer, case.applicant_person)  # loaded before the session closes
    audit.record(sess, actor, "recognition.read_medical_data", object_type="recognition_case",
                 object_id=str(case.id), city_code=case.city_code,
                 detail={"reference": case.reference, "notes": len(notes)})
    return view
