"""Cases as service items (办件) on the provincial government-service platform (一网通办).

A case area calls :func:`report_item` when a case is filed and :func:`report_stage` at each stage
(acceptance, supplement, suspension, decision, service, completion), **inside the transaction that
makes the change**. Both only enqueue outbox messages (aggregate = the 办件 number, so the
registration goes first and the stages follow in order); the outbox job delivers them with the
client of :mod:`adapters.gov_platform.client` (protocol there). When the platform answers the
completion with a 好差评 invitation, :func:`handlers_for`'s completion handler puts it in the
applicant's inbox, in the transaction that marks the message delivered (once: the inbox
deduplicates by ``evaluation:<item_no>``).

Stage codes: ``adapters.gov_platform.service_items.Stage`` (re-exported as :data:`STAGES`);
service item codes: the province's, ``config/regions.toml`` ``[province.platform_items]``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.gov_platform.client import ServiceItemsClient, local_iso
from adapters.gov_platform.service_items import (
    STAGE_LABELS,
    ApplicantKind,
    ServiceItem,
    Stage,
)
from portal.outbox import service as outbox
from portal.outbox.models import OutboxMessage
from portal.regions import province

TOPIC_ITEM = "gov.item"  #: 办件登记 (register or update)
TOPIC_EVENT = "gov.item.event"  #: 办件环节
STAGES: tuple[str, ...] = tuple(Stage)
__all__ = ["STAGES", "STAGE_LABELS", "ServiceItem", "Stage", "TOPIC_EVENT", "TOPIC_ITEM",
           "client_from_settings", "handlers_for", "is_registered", "item_key", "report_item", "report_move",
           "report_stage"]


def item_key(item_no: str) -> str:
    """Outbox key of an item's registration."""
    return f"gov.item:{item_no}"


def report_item(sess: Session, *, item_no: str, item_code: str, item_name: str, applicant_account_id: int,
                applicant_person_id: int | None, applicant_organisation_id: int | None, department: str,
                city_code: str, received_at: datetime) -> OutboxMessage:
    """Register the case as a 办件 (once per ``item_no``; a repeat is a no-op).

    The applicant is named to the platform by their unified-login subject (``Account.subject``)
    and their name; a legal person (``applicant_organisation_id``) by the unit's name. The person
    or organisation id stays in the portal: it says whose inbox gets the evaluation invitation.
    """
    from portal.accounts.models import Account, Organisation, Person

    if not item_no or len(item_no) > 40:  # it is the inbox's case reference, too
        raise ValueError("item_no must be 1–40 characters")
    if (applicant_person_id is None) == (applicant_organisation_id is None):
        raise ValueError("exactly one of applicant_person_id and applicant_organisation_id")
    account = sess.get(Account, applicant_account_id)
    if account is None:
        raise ValueError(f"no account {applicant_account_id}")
    if applicant_organisation_id is not None:
        organisation = sess.get(Organisation, applicant_organisation_id)
        name, kind = (organisation.name if organisation else account.display_name), ApplicantKind.LEGAL
    else:
        person = sess.get(Person, applicant_person_id)
        name, kind = (person.name if person else account.display_name), ApplicantKind.NATURAL
    item = {"item_no": item_no, "item_code": item_code, "item_name": item_name,
            "applicant_sub": account.subject, "applicant_name": name, "applicant_kind": kind.value,
            "department": department, "city_code": city_code, "received_at": local_iso(received_at)}
    return outbox.enqueue(sess, topic=TOPIC_ITEM, aggregate=item_no, key=item_key(item_no), payload={
        "item": item,
        "recipient": {"person_id": applicant_person_id, "organisation_id": applicant_organisation_id},
    })


def report_stage(sess: Session, *, item_no: str, stage: str, stage_label: str, occurred_at: datetime,
                 detail: str = "", completed: bool = False, result: str | None = None,
                 event_key: str) -> OutboxMessage:
    """Report one stage of a registered 办件 (``event_key``: unique, stable for this event, e.g.
    ``recognition:<case id>:event:<event id>``; a repeat is a no-op; sent as the event id).

    ``completed`` closes the item at the platform (``result`` required, e.g. 认定工伤 / 不予认定
    / 不予受理); the platform then invites the applicant to evaluate. ``detail`` is a short
    Chinese note without personal data (it is shown on the platform).
    """
    stage = Stage(stage)
    if not stage_label:
        stage_label = stage.label
    if stage is Stage.COMPLETED and not completed:
        raise ValueError("the completed stage must say completed=True")
    if completed and not (result and result.strip()):
        raise ValueError("a completion needs its result")
    if len(detail) > 500:
        raise ValueError("detail is at most 500 characters")
    registration = sess.scalar(select(OutboxMessage).where(OutboxMessage.key == item_key(item_no)))
    if registration is None:
        raise ValueError(f"办件 {item_no} is not registered: call report_item first")
    payload: dict[str, Any] = {
        "item_no": item_no,
        "event": {"event_id": event_key, "stage": stage.value, "stage_label": stage_label,
                  "occurred_at": local_iso(occurred_at), "detail": detail, "completed": bool(completed),
                  "result": result},
    }
    if completed:
        registered = registration.data
        payload["notify"] = {**registered["recipient"], "item_name": registered["item"]["item_name"]}
    return outbox.enqueue(sess, topic=TOPIC_EVENT, aggregate=item_no, key=event_key, payload=payload)


def is_registered(sess: Session, item_no: str) -> bool:
    """Whether :func:`report_item` was called for ``item_no`` (in this or an earlier transaction)."""
    return sess.scalar(select(OutboxMessage.id).where(OutboxMessage.key == item_key(item_no))) is not None


def report_move(sess: Session, *, service_item: ServiceItem, item_no: str, stage: str, occurred_at: datetime,
                event_key: str, stage_label: str = "", detail: str = "", completed: bool = False,
                result: str | None = None, register: dict[str, Any] | None = None) -> OutboxMessage | None:
    """One step of an area's case as a 办件, for an area whose state machine reports its moves:
    ``register`` (the :func:`report_item` arguments other than the item's code and name, which
    ``service_item`` gives) registers the item first, on its submission; a later step of an item
    that was never registered (sent in before reporting began) is not reported (None)."""
    if register is not None:
        code, name = province().platform_item(ServiceItem(service_item).value)  # the province's 事项编码
        report_item(sess, item_no=item_no, item_code=code, item_name=name, **register)
    elif not is_registered(sess, item_no):
        return None
    return report_stage(sess, item_no=item_no, stage=stage, stage_label=stage_label, occurred_at=occurred_at,
                        detail=detail, completed=completed, result=result, event_key=event_key)


# --- delivery -----------------------------------------------------------------------------------


def client_from_settings(settings) -> ServiceItemsClient:
    return ServiceItemsClient(settings.gov_platform_url, settings.gov_platform_app_id,
                              settings.gov_platform_secret, timeout=float(settings.gov_platform_timeout_seconds))


def handlers_for(client: ServiceItemsClient) -> dict[str, outbox.Handler]:
    """The outbox handlers of both topics, talking to the platform through ``client``."""

    def register(payload: dict[str, Any]) -> dict[str, Any]:
        return client.register_item(**payload["item"])

    def report(payload: dict[str, Any]) -> dict[str, Any]:
        return client.report_event(item_no=payload["item_no"], **payload["event"])

    return {TOPIC_ITEM: outbox.Handler(register),
            TOPIC_EVENT: outbox.Handler(report, on_delivered=_invite_to_evaluate)}


def _invite_to_evaluate(sess: Session, message: OutboxMessage, answer: dict[str, Any]) -> None:
    """好差评: the platform's invitation reaches the applicant's inbox (once per item)."""
    evaluation = answer.get("evaluation")
    notify = message.data.get("notify")
    if not evaluation or not notify or not evaluation.get("url"):
        return
    from portal.inbox import service as inbox

    item_no = message.data["item_no"]
    deadline = ""
    if evaluation.get("expires_at"):
        expires = datetime.fromisoformat(evaluation["expires_at"])
        deadline = f"，请在{expires.year}年{expires.month}月{expires.day}日前完成评价"
    inbox.deliver(
        sess, person_id=notify.get("person_id"), organisation_id=notify.get("organisation_id"),
        kind="evaluation", subject=f"请评价“{notify['item_name']}”办件的办理服务",
        body=(f"您的“{notify['item_name']}”办件（编号 {item_no}）已办结。省政务服务平台邀请您对本次政务服务"
              f"进行评价（好差评）{deadline}。评价在省政务服务平台完成，每个办件评价一次。"),
        link=evaluation["url"], link_label="去评价", case_reference=item_no, dedupe_key=f"evaluation:{item_no}")
