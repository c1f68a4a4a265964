"""The recognition procedure as a state machine (工伤认定办理流程).

    draft ─submit→ submitted ─request_supplement (once)→ awaiting_supplement ─supply→ submitted
    submitted ─accept→ accepted ─suspend→ suspended ─resume→ accepted
    submitted ─refuse→ not_accepted                                     (办结)
    accepted ─decide→ decided ─serve→ served                            (办结)
    submitted | awaiting_supplement | accepted | suspended ─withdraw→ withdrawn (办结)

Bases: 《工伤保险条例》第十七至二十条; 《工伤认定办法》第八条（一次性书面告知补正）、第二十条
（中止）、第二十二条（送达）. Who may act: the applicant submits, supplies and withdraws; the
recognition officer of the case's city (or provincial staff) does everything else.

:func:`apply` is the only place a case's status changes: it refuses a move the table does not
allow (so no step can be skipped or done twice), writes the timeline event and the audit row, and
reports the stage to the provincial platform through the outbox, all in the caller's transaction.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy.orm import Session

from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.errors import ConflictError, PermissionDenied
from portal.recognition.models import CaseEvent, CaseStatus, RecognitionCase

S = CaseStatus


class CaseAction(enum.StrEnum):
    SUBMIT = "submit"  #: 提交申请
    REQUEST_SUPPLEMENT = "request_supplement"  #: 一次性告知补正
    SUPPLY = "supply"  #: 补正材料
    ACCEPT = "accept"  #: 受理
    REFUSE = "refuse"  #: 不予受理
    SUSPEND = "suspend"  #: 中止
    RESUME = "resume"  #: 恢复
    DECIDE = "decide"  #: 作出认定决定
    SERVE = "serve"  #: 送达
    WITHDRAW = "withdraw"  #: 撤回申请

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    CaseAction.SUBMIT: "提交申请",
    CaseAction.REQUEST_SUPPLEMENT: "一次性告知补正材料",
    CaseAction.SUPPLY: "补正材料",
    CaseAction.ACCEPT: "受理",
    CaseAction.REFUSE: "不予受理",
    CaseAction.SUSPEND: "中止认定",
    CaseAction.RESUME: "恢复认定",
    CaseAction.DECIDE: "作出认定决定",
    CaseAction.SERVE: "送达认定决定书",
    CaseAction.WITHDRAW: "撤回申请",
}

A = CaseAction
TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.REQUEST_SUPPLEMENT): S.AWAITING_SUPPLEMENT,
    (S.AWAITING_SUPPLEMENT, A.SUPPLY): S.SUBMITTED,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.REFUSE): S.NOT_ACCEPTED,
    (S.ACCEPTED, A.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, A.RESUME): S.ACCEPTED,
    (S.ACCEPTED, A.DECIDE): S.DECIDED,
    (S.DECIDED, A.SERVE): S.SERVED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.AWAITING_SUPPLEMENT, A.WITHDRAW): S.WITHDRAWN,
    (S.ACCEPTED, A.WITHDRAW): S.WITHDRAWN,
    (S.SUSPENDED, A.WITHDRAW): S.WITHDRAWN,
}

#: actions the applicant takes; every other action is the recognition office's
APPLICANT_ACTIONS = frozenset({A.SUBMIT, A.SUPPLY, A.WITHDRAW})
OFFICE_ROLES = frozenset({Role.RECOGNITION_OFFICER, Role.PROVINCIAL})

#: stage codes reported to the provincial platform (一网通办) for each action
PLATFORM_STAGES = {
    A.SUBMIT: "received",
    A.REQUEST_SUPPLEMENT: "supplement_requested",
    A.SUPPLY: "supplement_received",
    A.ACCEPT: "accepted",
    A.REFUSE: "not_accepted",
    A.SUSPEND: "suspended",
    A.RESUME: "resumed",
    A.DECIDE: "decided",
    A.SERVE: "served",
    A.WITHDRAW: "withdrawn",
}


class IllegalTransition(ConflictError):
    code = "illegal_case_transition"


def allowed_actions(status: CaseStatus) -> list[CaseAction]:
    return [action for (st, action) in TRANSITIONS if st is status]


def next_status(case: RecognitionCase, action: CaseAction) -> CaseStatus:
    """The status ``action`` leads to, or :class:`IllegalTransition` with the reason."""
    target = TRANSITIONS.get((case.status, action))
    if target is None:
        raise IllegalTransition(f"该案件当前状态为“{case.status.label}”，不能办理“{action.label}”")
    if action is A.REQUEST_SUPPLEMENT and case.supplement_requested:
        raise IllegalTransition("补正材料只能一次性告知；本案已发出过补正通知，不能再次要求补正")
    return target


def check_actor(actor: Actor, case: RecognitionCase, action: CaseAction) -> None:
    """The applicant's account takes the applicant's actions; the recognition office of the
    case's city (or provincial staff) the others."""
    if action in APPLICANT_ACTIONS:
        if actor.account_id is None or actor.account_id != case.applicant_account_id:
            raise PermissionDenied("只有申请人本人可以办理此事项")
        return
    if actor.role not in OFFICE_ROLES or not actor.can_see_city(case.city_code):
        raise PermissionDenied("只有本案管辖地市的工伤认定人员可以办理此事项")


def office_name(city_code: str | None) -> str:
    """The recognition office of a city, as applicants see it (no person's name)."""
    from portal.regions import city_name

    if not city_code:
        return "工伤认定部门"
    return f"{city_name(city_code)}人力资源和社会保障局"


def actor_office(actor: Actor, case: RecognitionCase) -> str:
    if actor.role in OFFICE_ROLES:
        return office_name(case.city_code) if actor.role is Role.RECOGNITION_OFFICER else "安徽省人力资源和社会保障厅"
    return f"申请人（{case.applicant_kind.label}）"


def apply(sess: Session, actor: Actor, case: RecognitionCase, action: CaseAction, *, on: date,
          note: str | None = None, detail: dict | None = None) -> CaseEvent:
    """Move ``case`` by ``action`` on day ``on``: checks the move and the actor, sets the
    status, records the timeline event and the audit row, and reports the stage to the
    provincial platform (outbox) and delivers the parties' inbox messages, all in the same
    transaction. Callers lock the case row first
    (:func:`portal.recognition.cases.lock_case`) so two clicks cannot both pass the check."""
    target = next_status(case, action)
    check_actor(actor, case, action)
    source = case.status
    case.status = target
    if target.is_closed:
        case.closed_on = on
    event = CaseEvent(case=case, action=action.value, from_status=source.value, to_status=target.value,
                      by_role=actor.role.value if actor.role else "anonymous",
                      by_office=actor_office(actor, case), note=note)
    sess.add(event)
    sess.flush()
    audit.record(sess, actor, f"recognition.{action.value}", object_type="recognition_case",
                 object_id=str(case.id), city_code=case.city_code,
                 detail={"from": source.value, "to": target.value, "reference": case.reference,
                         **(detail or {})})
    from portal.recognition import notices, platform

    platform.report(sess, case, action, event)
    notices.notify(sess, case, action, event)
    return event
