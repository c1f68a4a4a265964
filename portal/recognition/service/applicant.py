"""The applicant's side of a submitted case: what the parties see, supplying the missing
material (补正), pressing an overdue case (催办) and withdrawing the application (撤回).

- 补正: the office sends ONE list of everything missing (《工伤认定办法》第八条); the applicant
  uploads a file for every item, then sends them together. Receipt of the supplement restarts
  the office's review period (supplement_review, 15 days) and ends the supplement pause.
- 催办: the applicant or the injured worker may press a case whose statutory period has run out;
  one open press at a time; the office answers in writing (the office side's ``answer_urge``).
- 撤回: the applicant may withdraw until the decision is made.

Plain Python, no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.clocks import service as clocks
from portal.db import independent_transaction
from portal.errors import (
    ConflictError,
    InvalidFields,
    NotFoundError,
    PermissionDenied,
    UserInputError,
)
from portal.localtime import to_local
from portal.materials import service as materials
from portal.materials.models import StoredFile
from portal.recognition.models import (
    CaseAction,
    CaseMaterial,
    CasePause,
    CaseStatus,
    PauseKind,
    RecognitionCase,
    SupplementItem,
    Urge,
)
from portal.recognition.service import cases, policy, states
from portal.recognition.service.cases import INVALID_FIELDS
from portal.recognition.service.clock import CaseClock, case_clock
from portal.recognition.service.documents import appeal_rights
from portal.recognition.service.filing import (
    applicant_name,
    attached_files,
    material_label,
)
from portal.recognition.service.handling import NOTICE_KINDS, SUPPLEMENT_NOTICE
from portal.recognition.service.notices import decision_dedupe_key
from portal.security.masking import mask_id_number

URGE_MAX = 500
WITHDRAW_REASON_MAX = 500


class UrgeNotAllowed(ConflictError):
    code = "recognition_urge_not_allowed"


class SupplementIncomplete(UserInputError):
    code = "recognition_supplement_incomplete"


def _is_applicant(actor: Actor, case: RecognitionCase) -> bool:
    return actor.account_id is not None and actor.account_id == case.applicant_account_id


def _party_case(sess: Session, actor: Actor, case_id: int, *, lock: bool = False) -> RecognitionCase:
    """A submitted case the actor is a party to (applicant, worker, employer); staff and
    strangers get not-found, as do drafts (they have their own pages)."""
    case = cases.load_case(sess, actor, case_id, for_update=lock)
    if case.status is CaseStatus.DRAFT or not (cases.is_party(actor, case) or _is_applicant(actor, case)):
        raise cases.CaseNotFound("没有找到这个工伤认定案件，或者您无权查看")
    return case


def load_party_case(sess: Session, actor: Actor, case_id: int) -> RecognitionCase:
    return _party_case(sess, actor, case_id)


def submitted_case(sess: Session, actor: Actor, case_id: int) -> tuple[RecognitionCase, StoredFile | None]:
    """申请已提交: the case and its receipt (申请回执)."""
    case = _party_case(sess, actor, case_id)
    return case, sess.get(StoredFile, case.receipt_file_id) if case.receipt_file_id else None


# --- 补正 --------------------------------------------------------------------------------------------


def supplement_items(sess: Session, case: RecognitionCase) -> list[SupplementItem]:
    return list(sess.execute(select(SupplementItem).where(SupplementItem.case_id == case.id)
                             .order_by(SupplementItem.id)).scalars())


def _item_files(sess: Session, case: RecognitionCase) -> dict[int, list[tuple[CaseMaterial, StoredFile]]]:
    found: dict[int, list[tuple[CaseMaterial, StoredFile]]] = {}
    for material, stored in attached_files(sess, case):
        if material.supplement_item_id is not None:
            found.setdefault(material.supplement_item_id, []).append((material, stored))
    return found


def _supplement_kind(item: SupplementItem) -> str:
    return item.kind if item.kind in {k.code for k in materials.material_kinds()} else "supplement"


def upload_supplement(sess: Session, actor: Actor, case_id: int, item_id: int, *, data: bytes, filename: str,
                      files_dir: Path, max_bytes: int = materials.DEFAULT_MAX_BYTES) -> CaseMaterial:
    """Attach a file to one item of the supplement list; a new file replaces the one before
    (until the supplement is sent)."""
    case = _party_case(sess, actor, case_id, lock=True)
    if not _is_applicant(actor, case):
        raise PermissionDenied("只有申请人可以补正材料")
    if case.status is not CaseStatus.AWAITING_SUPPLEMENT:
        raise ConflictError("该案件当前不需要补正材料")
    item = sess.get(SupplementItem, item_id)
    if item is None or item.case_id != case.id:
        raise NotFoundError("没有找到该补正事项")
    stored = materials.store_upload(sess, actor, data=data, filename=filename, kind=_supplement_kind(item),
                                    person_id=case.worker_person_id,
                                    organisation_id=case.employer_organisation_id, files_dir=files_dir,
                                    max_bytes=max_bytes)
    for old in sess.execute(select(CaseMaterial).where(CaseMaterial.case_id == case.id,
                                                       CaseMaterial.supplement_item_id == item.id)).scalars():
        sess.delete(old)
    material = CaseMaterial(case_id=case.id, stored_file_id=stored.id, kind=stored.kind,
                            supplement_item_id=item.id, added_by=actor.account_id)
    sess.add(material)
    sess.flush()
    audit.record(sess, actor, "recognition.supplement_upload", object_type="recognition_case",
                 object_id=str(case.id), city_code=case.city_code,
                 detail={"item_id": item.id, "kind": stored.kind, "stored_file_id": stored.id})
    return material


def supply(sess: Session, actor: Actor, case_id: int, *, today: date, now: datetime) -> RecognitionCase:
    """提交补正材料: every item of the list must have a file; then the case returns to the office
    (SUPPLY), the receipt day of the supplement starts its 15-day review and the supplement
    pause ends. A second click finds the case no longer awaiting a supplement (conflict)."""
    case = _party_case(sess, actor, case_id, lock=True)
    if not _is_applicant(actor, case):
        raise PermissionDenied("只有申请人可以补正材料")
    states.check_move(actor, case, CaseAction.SUPPLY)  # refuses a second submission first
    items = supplement_items(sess, case)
    files = _item_files(sess, case)
    missing = [item.description for item in items if item.id not in files]
    if missing:
        raise SupplementIncomplete("请为每一项补正材料上传文件后再提交：" + "；".join(missing))
    for item in items:
        item.supplied_at = now
    case.supplement_received_on = today
    for pause in case.pauses:
        if pause.kind is PauseKind.SUPPLEMENT and pause.ended_on is None:
            pause.ended_on = today
    sess.flush()
    states.apply(sess, actor, case, CaseAction.SUPPLY, on=today,
                 note=f"申请人已补正全部{len(items)}项材料。", detail={"items": len(items)})
    return case


# --- 催办 ---------------------------------------------------------------------------------------------


def urges(sess: Session, case: RecognitionCase) -> list[Urge]:
    return list(sess.execute(select(Urge).where(Urge.case_id == case.id).order_by(Urge.id)).scalars())


def may_urge(actor: Actor, case: RecognitionCase) -> bool:
    """The applicant or the injured worker (not an employer that did not apply)."""
    return _is_applicant(actor, case) or (actor.role is Role.WORKER and actor.person_id is not None
                                          and actor.person_id == case.worker_person_id)


def urge_refusal(actor: Actor, case: RecognitionCase, clock: CaseClock, open_urges: list[Urge]) -> str | None:
    """Why the actor may not press now, or None when they may."""
    if not may_urge(actor, case):
        return "只有申请人或受伤害职工本人可以催办"
    if case.status.is_closed:
        return "案件已办结"
    if not clock.overdue:
        return "办理期限届满后仍未办结的，才可以催办"
    if any(u.answer is None for u in open_urges):
        return "您的上一次催办尚未答复，答复后才能再次催办"
    return None


def urge(sess: Session, actor: Actor, case_id: int, *, text: str | None, today: date,
         calendar: clocks.WorkCalendar) -> Urge:
    """催办 an overdue case: the office must answer in writing; it sees the press on its queue."""
    case = _party_case(sess, actor, case_id, lock=True)
    text = (text or "").strip()
    if not text:
        raise InvalidFields({"text": "请填写催办内容"}, code=INVALID_FIELDS)
    if len(text) > URGE_MAX:
        raise InvalidFields({"text": f"催办内容不能超过{URGE_MAX}个字"}, code=INVALID_FIELDS)
    refusal = urge_refusal(actor, case, case_clock(case, calendar, today), urges(sess, case))
    if refusal:
        raise UrgeNotAllowed(refusal)
    item = Urge(case_id=case.id, by_account_id=actor.account_id, text=text)
    sess.add(item)
    sess.flush()
    audit.record(sess, actor, "recognition.urge", object_type="recognition_case", object_id=str(case.id),
                 city_code=case.city_code, detail={"urge_id": item.id, "reference": case.reference})
    return item


# --- 撤回 ---------------------------------------------------------------------------------------------


def may_withdraw(actor: Actor, case: RecognitionCase) -> bool:
    return _is_applicant(actor, case) and states.CASE_STATES.allows(case.status, CaseAction.WITHDRAW)


def withdraw(sess: Session, actor: Actor, case_id: int, *, reason: str | None, today: date) -> RecognitionCase:
    """撤回申请, before the decision is made. The reason (optional) goes to the timeline that
    every party reads, so the page asks for no medical details there."""
    case = _party_case(sess, actor, case_id, lock=True)
    reason = (reason or "").strip() or None
    if reason and len(reason) > WITHDRAW_REASON_MAX:
        raise InvalidFields({"reason": f"撤回原因不能超过{WITHDRAW_REASON_MAX}个字"}, code=INVALID_FIELDS)
    states.apply(sess, actor, case, CaseAction.WITHDRAW, on=today,
                 note=f"申请人撤回申请。{('原因：' + reason) if reason else ''}".strip())
    return case


# --- the case page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmittedFile:
    label: str
    stored: StoredFile
    reused: bool


@dataclass(frozen=True)
class IssuedDocument:
    title: str
    number: str | None
    stored: StoredFile
    issued_on: date | None = None
    #: 送达: when it reached this party's inbox, and when first read there
    delivered_at: datetime | None = None
    read_at: datetime | None = None


@dataclass(frozen=True)
class SupplementRow:
    item: SupplementItem
    label: str
    files: list[StoredFile]


@dataclass
class CaseView:
    case: RecognitionCase
    clock: CaseClock
    #: injury/diagnosis and medical files: never for the employer
    show_medical: bool
    is_applicant: bool
    applicant: str
    relation_label: str | None
    submitted: list[SubmittedFile]
    hidden_medical: int
    supplement: list[SupplementRow]
    documents: list[IssuedDocument]
    urges: list[Urge]
    urge_refusal: str | None
    can_withdraw: bool
    ground_label: str | None = None
    #: the injured worker's ID number, masked (公民身份号码)
    worker_id_masked: str | None = None
    notes: list[str] = field(default_factory=list)
    #: 救济途径 for a served decision or a refusal, from the deadline rules
    appeal: str | None = None

    @property
    def can_supply(self) -> bool:
        return (self.is_applicant and self.case.status is CaseStatus.AWAITING_SUPPLEMENT
                and bool(self.supplement) and all(row.files for row in self.supplement))

    @property
    def supplement_open(self) -> bool:
        return self.is_applicant and self.case.status is CaseStatus.AWAITING_SUPPLEMENT

    @property
    def may_urge(self) -> bool:
        return self.urge_refusal is None


def _party_key(actor: Actor, case: RecognitionCase) -> str:
    if _is_applicant(actor, case) or (actor.role is Role.EMPLOYER and actor.organisation_id == case.applicant_organisation_id) \
            or (actor.role is Role.WORKER and actor.person_id == case.applicant_person_id):
        return "applicant"
    return "employer" if actor.role is Role.EMPLOYER else "worker"


def case_view(sess: Session, actor: Actor, case: RecognitionCase, *, today: date,
              calendar: clocks.WorkCalendar) -> CaseView:
    from portal.inbox import service as inbox

    show_medical = cases.may_see_medical(actor, case)
    reader = cases.case_party(actor, case)

    def withheld(kind: str, medical: bool) -> bool:
        """Files this party may not read (medical ones, kinds the policy data keeps from it) are
        counted, not listed."""
        return (medical and not show_medical) or (reader is not None and not cases.may_see_kind(actor, case, kind))

    submitted, hidden, notices_issued = [], 0, []
    for material, stored in attached_files(sess, case):
        if material.kind in NOTICE_KINDS:
            notices_issued.append((material, stored))
            continue
        if material.supplement_item_id is not None:
            continue
        if withheld(material.kind, stored.medical):
            hidden += 1
            continue
        submitted.append(SubmittedFile(material_label(material.kind), stored, material.reused))
    files = _item_files(sess, case)
    supplement = []
    for item in supplement_items(sess, case):
        shown = [f for m, f in files.get(item.id, []) if not withheld(m.kind, f.medical)]
        supplement.append(SupplementRow(item, material_label(item.kind), shown))
    documents = []
    party = _party_key(actor, case)

    def add(title: str, number: str | None, file_id: int | None, issued_on: date | None, dedupe: str | None = None):
        stored = sess.get(StoredFile, file_id) if file_id else None
        if stored is None or not materials.may_read(sess, actor, stored):
            return
        record = inbox.delivery_record(sess, dedupe_key=dedupe) if dedupe else None
        documents.append(IssuedDocument(title, number, stored, issued_on,
                                        record.delivered_at if record else None, record.read_at if record else None))

    add("工伤认定申请回执", case.reference, case.receipt_file_id, case.received_on)
    for material, stored in notices_issued:
        add("补正材料通知书" if material.kind == SUPPLEMENT_NOTICE else "中止工伤认定通知书", None, stored.id,
            to_local(material.added_at).date())
    if case.acceptance_file_id:
        title = "不予受理决定书" if case.status is CaseStatus.NOT_ACCEPTED else "工伤认定申请受理决定书"
        add(title, case.acceptance_number, case.acceptance_file_id, case.accepted_on or case.closed_on)
    if case.decision_file_id and case.status is CaseStatus.SERVED:
        add("认定工伤决定书" if case.outcome and case.outcome.value != "not_recognised" else "不予认定工伤决定书",
            case.decision_number, case.decision_file_id, case.decided_on, decision_dedupe_key(case, party))
    all_urges = urges(sess, case)
    clock = case_clock(case, calendar, today)
    ground_label = None
    if case.ground_code and case.status is CaseStatus.SERVED:
        try:
            ground_label = policy.ground(case.ground_code).label
        except KeyError:
            ground_label = case.ground_code
    return CaseView(
        case=case, clock=clock, show_medical=show_medical, is_applicant=_is_applicant(actor, case),
        applicant=applicant_name(sess, case),
        relation_label=policy.relations().get(case.relation or "") if case.relation else None,
        submitted=submitted, hidden_medical=hidden, supplement=supplement, documents=documents,
        urges=all_urges, urge_refusal=urge_refusal(actor, case, clock, all_urges),
        can_withdraw=may_withdraw(actor, case), ground_label=ground_label, appeal=_appeal(case),
        worker_id_masked=mask_id_number(case.worker.id_number) if case.worker else None)


def read_party_case(sess: Session, actor: Actor, case_id: int, *, today: date) -> CaseView:
    """The case page of a party, and the audit of that read of personal (for the worker's side
    also medical) data, ``recognition.case_read``. The read and its audit row run in a
    transaction of their own, committed whatever the page answers (a form shown again with 422
    keeps the row too)."""
    with independent_transaction(sess) as own:
        case = _party_case(own, actor, case_id)
        view = case_view(own, actor, case, today=today, calendar=clocks.work_calendar(own))
        audit.record(own, actor, "recognition.case_read", object_type="recognition_case", object_id=str(case.id),
                     city_code=case.city_code, detail={"medical": view.show_medical})
        _ = (list(case.events), list(case.pauses), case.employer)  # loaded before the session closes
    return view


def read_receipt(sess: Session, actor: Actor, case_id: int, *, files_dir: Path) -> tuple[bytes, StoredFile]:
    """The application receipt (申请回执) of a case, for a party who may read it. The read is
    audited (by ``portal.materials``) in a transaction of its own, committed at once."""
    with independent_transaction(sess) as own:
        case = _party_case(own, actor, case_id)
        stored = own.get(StoredFile, case.receipt_file_id) if case.receipt_file_id else None
        if stored is None:
            raise NotFoundError("该案件没有申请回执")
        return materials.read_content(own, actor, stored, files_dir=files_dir), stored


def _appeal(case: RecognitionCase) -> str | None:
    issued_on = case.decided_on if case.status is CaseStatus.SERVED else case.closed_on
    if case.status not in (CaseStatus.SERVED, CaseStatus.NOT_ACCEPTED) or issued_on is None:
        return None
    return appeal_rights(case, issued_on).sentence


@dataclass(frozen=True)
class CaseRow:
    """One line of 我的工伤认定: a draft to continue or a submitted case with its clock."""

    case: RecognitionCase
    clock: CaseClock | None
    worker_name: str
    employer_name: str


def list_cases(sess: Session, actor: Actor, *, today: date,
               calendar: clocks.WorkCalendar) -> tuple[list[CaseRow], list[CaseRow]]:
    """(drafts of the actor's account, submitted cases the actor may see), newest first."""
    rows = sess.execute(cases.visible_cases(actor).order_by(RecognitionCase.id.desc())).scalars().all()
    drafts, submitted = [], []
    for case in rows:
        worker = case.worker.name if case.worker else "（未填写）"
        employer = case.employer.name if case.employer else "（未填写）"
        if case.status is CaseStatus.DRAFT:
            if case.applicant_account_id == actor.account_id:
                drafts.append(CaseRow(case, None, worker, employer))
        else:
            submitted.append(CaseRow(case, case_clock(case, calendar, today), worker, employer))
    return drafts, submitted


def pause_of(case: RecognitionCase, kind: PauseKind) -> CasePause | None:
    return next((p for p in reversed(case.pauses) if p.kind is kind), None)
