"""Reporting recognition cases to the provincial government-service platform (一网通办).

Every submitted case is a service item (办件) there: the item is registered when the case is
submitted, and every later step is reported as a stage, through the transactional outbox
(``portal.outbox.gov_items``) so nothing is lost or sent twice. Drafts are never reported.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portal.recognition.models import CaseEvent, CaseStatus, RecognitionCase

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def item_no(case: RecognitionCase) -> str:
    """The 办件 number on the platform: our reference number."""
    assert case.reference, "a case gets its reference number on submission"
    return case.reference


def report(sess: Session, case: RecognitionCase, action, event: CaseEvent) -> None:
    from portal.outbox import gov_items
    from portal.recognition.states import PLATFORM_STAGES, CaseAction, office_name

    occurred_at = event.at.astimezone(LOCAL_TZ)
    if action is CaseAction.SUBMIT:
        from adapters.gov_platform.service_items import SERVICE_ITEM_CODES, ServiceItem

        code, name = SERVICE_ITEM_CODES[ServiceItem.RECOGNITION]
        gov_items.report_item(
            sess, item_no=item_no(case), item_code=code, item_name=name,
            applicant_account_id=case.applicant_account_id,
            applicant_person_id=case.applicant_person_id,
            applicant_organisation_id=case.applicant_organisation_id,
            department=office_name(case.city_code), city_code=case.city_code or "",
            received_at=occurred_at)
    target = CaseStatus(event.to_status)
    result = None
    if target.is_closed:
        result = case.outcome.label if target is CaseStatus.SERVED and case.outcome else target.label
    gov_items.report_stage(
        sess, item_no=item_no(case), stage=PLATFORM_STAGES[action],
        stage_label=action.label, occurred_at=occurred_at, detail=_public_detail(case, action),
        completed=target.is_closed, result=result, event_key=f"recognition:{case.id}:event:{event.id}")


def _public_detail(case: RecognitionCase, action) -> str:
    """A short Chinese line for the platform; never personal or medical details."""
    from portal.recognition.states import CaseAction

    if action is CaseAction.ACCEPT and case.acceptance_number:
        return f"受理决定书 {case.acceptance_number}"
    if action is CaseAction.DECIDE and case.decision_number:
        return f"认定决定书 {case.decision_number}"
    return ""
