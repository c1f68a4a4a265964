"""The recognition procedure as a state machine (工伤认定办理流程).

    draft ─submit→ submitted ─request_supplement (once)→ awaiting_supplement ─supply→ submitted
    submitted ─accept→ accepted ─suspend→ suspended ─resume→ accepted
    submitted ─refuse→ not_accepted                                     (办结)
    accepted ─decide→ decided ─serve→ served                            (办结)
    submitted | awaiting_supplement | accepted | suspended ─withdraw→ withdrawn (办结)

Bases: 《工伤保险条例》第十七至二十条; 《工伤认定办法》第八条（一次性书面告知补正）、第二十条
（中止）、第二十二条（送达）. Who may act: the applicant submits, supplies and withdraws; the
recognition officer of the case's city (or provincial staff) does everything else.

:data:`CASE_STATES` (``portal.states.StateMachine``) is the only place a case's status changes:
it refuses a move the table does not allow (so no step can be skipped or done twice) and, by the
guard, a second supplement request and the wrong actor; it writes the timeline event
(:class:`CaseEvent`), the audit row ``recognition.<action>``, the stage report to the provincial
platform (outbox) and the parties' inbox notices, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from portal.auth.roles import Actor
from portal.errors import ConflictError, PermissionDenied
from portal.recognition.models import CaseAction, CaseEvent, CaseStatus, RecognitionCase
from portal.recognition.service import clock, notices, platform
from portal.recognition.service.cases import OFFICE_ROLES, actor_office
from portal.states import StateMachine, Transition

S, A = CaseStatus, CaseAction

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


class IllegalTransition(ConflictError):
    code = "illegal_case_transition"


def check_actor(actor: Actor, case: RecognitionCase, action: CaseAction) -> None:
    """The applicant's account takes the applicant's actions; the recognition office of the
    case's city (or provincial staff) the others."""
    if action in APPLICANT_ACTIONS:
        if actor.account_id is None or actor.account_id != case.applicant_account_id:
            raise PermissionDenied("只有申请人本人可以办理此事项")
        return
    if actor.role not in OFFICE_ROLES or not actor.can_see_city(case.city_code):
        raise PermissionDenied("只有本案管辖地市的工伤认定人员可以办理此事项")


def _guard(actor: Actor, case: RecognitionCase, action: CaseAction) -> None:
    """What the table cannot say: missing material is asked for once (一次性告知), and who acts."""
    if action is A.REQUEST_SUPPLEMENT and case.supplement_requested:
        raise IllegalTransition("补正材料只能一次性告知；本案已发出过补正通知，不能再次要求补正")
    check_actor(actor, case, action)


def _timeline_event(sess: Session, actor: Actor, case: RecognitionCase, move: Transition) -> CaseEvent:
    event = CaseEvent(case=case, action=move.action.value, from_status=move.source.value,
                      to_status=move.target.value, by_role=actor.role.value if actor.role else "anonymous",
                      by_office=actor_office(actor, case), note=move.note)
    sess.add(event)
    return event


CASE_STATES: StateMachine[CaseStatus, CaseAction] = StateMachine(
    name="recognition",
    object_type="recognition_case",
    transitions=TRANSITIONS,
    illegal=IllegalTransition,
    guard=_guard,
    timeline=_timeline_event,
    effects=(clock.due_dates_effect, platform.report, notices.notify),
)


def allowed_actions(status: CaseStatus) -> list[CaseAction]:
    return CASE_STATES.allowed_actions(status)


def check_move(actor: Actor, case: RecognitionCase, action: CaseAction) -> CaseStatus:
    """The status ``action`` leads to, after the same checks :func:`apply` makes; services call
    it before they number or render anything."""
    target = CASE_STATES.next_status(case.status, action)
    _guard(actor, case, action)
    return target


def apply(sess: Session, actor: Actor, case: RecognitionCase, action: CaseAction, *, on: date,
          note: str | None = None, detail: dict | None = None) -> CaseEvent:
    """Move ``case`` by ``action`` on day ``on`` through :data:`CASE_STATES` (timeline, audit,
    platform report, inbox notices) and record the day a case closes. Callers lock the case row
    first (:func:`portal.recognition.service.cases.lock_case`) so two clicks cannot both pass."""
    if CASE_STATES.next_status(case.status, action).is_closed:
        # before the move, so its effects (the due dates: a refusal's appeal period) see it
        case.closed_on = on
    event = CASE_STATES.apply(sess, actor, case, action, note=note, detail=detail,
                              audit_detail={"reference": case.reference, **(detail or {})})
    return event
