"""What each party finds in their inbox when a case moves (送达与通知).

Parties: the applicant (person or employer), the injured worker when someone else applied (not
after death), and the employer when a worker or relative applied. Every message has a dedupe key,
so a retried transaction never delivers twice, and the decision's delivery record (送达日期,
first read) is found again by that key. Messages never carry ID numbers or medical details.
An effect of ``states.CASE_STATES``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.roles import Actor
from portal.clocks import service as clocks
from portal.localtime import to_local
from portal.recognition.models import (
    CaseAction,
    CaseEvent,
    RecognitionCase,
    SupplementItem,
)
from portal.recognition.service.cases import office_name
from portal.recognition.service.documents import appeal_rights
from portal.recognition.service.policy import applicant_role
from portal.states import Transition

A = CaseAction
CASE_LINK = "/recognition/cases/{id}"


@dataclass(frozen=True)
class Party:
    key: str  #: applicant | worker | employer
    person_id: int | None = None
    organisation_id: int | None = None


def parties(case: RecognitionCase) -> list[Party]:
    found = [Party("applicant", case.applicant_person_id, case.applicant_organisation_id)]
    if (case.worker_person_id and not case.died and case.worker_person_id != case.applicant_person_id):
        found.append(Party("worker", person_id=case.worker_person_id))
    if case.employer_organisation_id and case.employer_organisation_id != case.applicant_organisation_id:
        found.append(Party("employer", organisation_id=case.employer_organisation_id))
    return found


def decision_dedupe_key(case: RecognitionCase, party: str) -> str:
    return f"recognition-decision:{case.reference}:{party}"


def _token(sess: Session, file_id: int | None) -> str | None:
    if file_id is None:
        return None
    from portal.materials.models import StoredFile

    stored = sess.get(StoredFile, file_id)
    return stored.token if stored else None


def _deliver(sess: Session, case: RecognitionCase, party: Party, event: CaseEvent, *, kind: str,
             subject: str, body: str, attachment_file_id: int | None = None,
             action_required: bool = False, dedupe_key: str | None = None) -> None:
    from portal.inbox import service as inbox

    inbox.deliver(sess, person_id=party.person_id, organisation_id=party.organisation_id, kind=kind,
                  subject=subject, body=body, link=CASE_LINK.format(id=case.id), link_label="查看案件",
                  case_reference=case.reference, attachment_token=_token(sess, attachment_file_id),
                  action_required=action_required,
                  dedupe_key=dedupe_key or f"recognition:{case.reference}:{event.id}:{party.key}")


def _worker_name(case: RecognitionCase) -> str:
    return case.worker.name if case.worker else "职工"


def notify(sess: Session, actor: Actor, case: RecognitionCase, move: Transition, event: CaseEvent) -> None:
    """Deliver the inbox messages the move calls for."""
    action = move.action
    event_day = to_local(event.at).date()

    office = office_name(case.city_code)
    ref = case.reference
    everyone = parties(case)
    applicant = everyone[0]
    others = everyone[1:]
    who = _worker_name(case)
    match action:
        case A.SUBMIT:
            _deliver(sess, case, applicant, event, kind="notice", subject=f"已收到您的工伤认定申请（{ref}）",
                     body=(f"{office}已收到您提交的{who}工伤认定申请，受理编号 {ref}。\n"
                           "申请回执见附件。工伤认定部门将在法定期限内审查材料，"
                           "您可以随时在案件页面查看办理进度和法定期限。"),
                     attachment_file_id=case.receipt_file_id)
            for party in others:
                text = ("您的单位已为您提交工伤认定申请" if party.key == "worker"
                        else f"{applicant_role(case)}已就职工{who}提交工伤认定申请")
                _deliver(sess, case, party, event, kind="notice", subject=f"{text}（{ref}）",
                         body=f"{text}，受理编号 {ref}，由{office}办理。可在案件页面查看进度。")
        case A.REQUEST_SUPPLEMENT:
            items = sess.execute(select(SupplementItem).where(SupplementItem.case_id == case.id)
                                 .order_by(SupplementItem.id)).scalars().all()
            listing = "\n".join(f"{n}. {item.description}" for n, item in enumerate(items, 1))
            _deliver(sess, case, applicant, event, kind="request", action_required=True,
                     subject=f"请补正工伤认定申请材料（{ref}）",
                     body=(f"经审查，您的工伤认定申请材料不完整。请一次性补正以下材料：\n{listing}\n"
                           "补正期间审查期限停止计算；收到全部补正材料后，工伤认定部门将在"
                           f"{clocks.statutory_period('supplement_review')}内作出是否受理的决定。"
                           "请在案件页面逐项上传。"))
        case A.SUPPLY:
            from portal.inbox import service as inbox

            inbox.complete_actions(sess, case_reference=ref, kind="request")
            _deliver(sess, case, applicant, event, kind="notice", subject=f"补正材料已收到（{ref}）",
                     body="您补正的材料已收到，审查期限自收到之日起重新计算。")
        case A.ACCEPT:
            for party in everyone:
                body = f"{office}已受理{who}的工伤认定申请（{case.acceptance_number}），受理决定书见附件。"
                if party.organisation_id:
                    body += ("\n用人单位对是否构成工伤有异议的，应当提供证据，承担举证责任"
                             "（《工伤保险条例》第十九条第二款）；调查核实时请予以协助。")
                _deliver(sess, case, party, event, kind="decision", subject=f"工伤认定申请已受理（{ref}）",
                         body=body, attachment_file_id=case.acceptance_file_id)
        case A.REFUSE:
            for party in everyone:
                _deliver(sess, case, party, event, kind="decision", subject=f"工伤认定申请不予受理（{ref}）",
                         body=(f"{office}决定对{who}的工伤认定申请不予受理（{case.acceptance_number}）。"
                               f"理由见附件不予受理决定书。\n{appeal_rights(case, event_day).sentence}"),
                         attachment_file_id=case.acceptance_file_id)
        case A.SUSPEND | A.RESUME:
            verb = "中止" if action is A.SUSPEND else "恢复"
            for party in everyone:
                _deliver(sess, case, party, event, kind="notice", subject=f"工伤认定{verb}（{ref}）",
                         body=(f"{office}已{verb}{who}的工伤认定。{event.note or ''}\n"
                               + ("中止期间认定期限停止计算。" if action is A.SUSPEND
                                  else "认定期限自恢复之日起继续计算。")))
        case A.SERVE:
            for party in everyone:
                _deliver(sess, case, party, event, kind="decision", subject=f"工伤认定决定书（{ref}）",
                         body=(f"{office}对{who}的工伤认定申请已作出决定（{case.decision_number}），"
                               f"认定决定书见附件。\n{appeal_rights(case, case.decided_on or event_day).sentence}"),
                         attachment_file_id=case.decision_file_id,
                         dedupe_key=decision_dedupe_key(case, party.key))
        case A.WITHDRAW:
            for party in everyone:
                _deliver(sess, case, party, event, kind="notice", subject=f"工伤认定申请已撤回（{ref}）",
                         body="申请人已撤回该工伤认定申请，案件办结。")
