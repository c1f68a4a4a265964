"""Reporting recognition cases to the provincial government-service platform (一网通办).

Every submitted case is a service item (办件) there: the item is registered when the case is
submitted, and every later step is reported as a stage, through the transactional outbox
(``portal.outbox.gov_items``) so nothing is lost or sent twice. Drafts are never reported.
An effect of ``states.CASE_STATES``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.auth.roles import Actor
from portal.localtime import to_local
from portal.recognition.models import CaseAction, CaseEvent, CaseStatus, RecognitionCase
from portal.recognition.service.cases import office_name
from portal.states import Transition

A = CaseAction

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


def item_no(case: RecognitionCase) -> str:
    """The 办件 number on the platform: our reference number."""
    assert case.reference, "a case gets its reference number on submission"
    return case.reference


def report(sess: Session, actor: Actor, case: RecognitionCase, move: Transition, event: CaseEvent) -> None:
    """Register the item on submission, then report the stage ``move`` reached (outbox)."""
    from portal.outbox import gov_items

    target = move.target
    result = None
    if target.is_closed:
        result = case.outcome.label if target is CaseStatus.SERVED and case.outcome else target.label
    occurred_at = to_local(event.at)
    register = None
    if move.action is A.SUBMIT:
        register = dict(applicant_account_id=case.applicant_account_id,
                        applicant_person_id=case.applicant_person_id,
                        applicant_organisation_id=case.applicant_organisation_id,
                        department=office_name(case.city_code), city_code=case.city_code or "",
                        received_at=occurred_at)
    gov_items.report_move(
        sess, service_item=gov_items.ServiceItem.RECOGNITION, item_no=item_no(case),
        stage=PLATFORM_STAGES[move.action], stage_label=move.action.label, occurred_at=occurred_at,
        detail=_public_detail(case, move.action), completed=target.is_closed, result=result,
        event_key=f"recognition:{case.id}:event:{event.id}", register=register)


def _public_detail(case: RecognitionCase, action: CaseAction) -> str:
    """A short Chinese line for the platform; never personal or medical details."""
    if action is A.ACCEPT and case.acceptance_number:
        return f"受理决定书 {case.acceptance_number}"
    if action is A.DECIDE and case.decision_number:
        return f"认定决定书 {case.decision_number}"
    return ""
