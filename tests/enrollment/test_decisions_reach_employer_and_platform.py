"""A unit's enrollment decision reaches the employer's inbox, and its submission and decisions the
provincial platform as a 办件 (outbox), in the same transaction; the worker sees their unit cover."""

from datetime import date

import pytest
from sqlalchemy import select

from portal.enrollment import service as enrollment
from portal.enrollment.service.units import platform_item_no
from portal.errors import NotFoundError
from portal.inbox.models import InboxMessage
from portal.outbox.gov_items import TOPIC_EVENT, TOPIC_ITEM, item_key
from portal.outbox.models import OutboxMessage
from tests.enrollment.conftest import make_id

TODAY = date(2026, 11, 2)


def _messages(sess, organisation_id):
    return sess.execute(select(InboxMessage).where(InboxMessage.recipient_organisation_id == organisation_id)
                        .order_by(InboxMessage.id)).scalars().all()


def _platform(sess, item_no):
    return sess.execute(select(OutboxMessage).where(OutboxMessage.aggregate == item_no)
                        .order_by(OutboxMessage.id)).scalars().all()


def test_return_then_approval_reach_the_employers_inbox_and_the_platform(sess, actor_for, enroll):
    employer, clerk = actor_for("employer"), actor_for("clerk")
    unit = enroll(sess)  # saved and submitted
    item_no = platform_item_no(unit)
    sent = _platform(sess, item_no)
    assert [m.topic for m in sent] == [TOPIC_ITEM, TOPIC_EVENT]
    assert sent[0].key == item_key(item_no)
    item = sent[0].data["item"]
    assert item["item_name"] == "工伤保险参保登记" and item["applicant_kind"] == "legal"
    assert item["department"] == "合肥市社会保险经办机构"
    assert sent[1].data["event"]["stage"] == "received"
    assert _messages(sess, unit.organisation_id) == []  # a submission tells the clerk, not the employer

    enrollment.return_unit(sess, clerk, unit.id, reasons="单位地址与营业执照不一致，请核对")
    returned = _messages(sess, unit.organisation_id)
    assert len(returned) == 1 and returned[0].kind.value == "request" and returned[0].action_required
    assert "退回原因：单位地址与营业执照不一致，请核对" in returned[0].body and returned[0].case_reference == item_no
    event = _platform(sess, item_no)[-1].data["event"]
    assert event["stage"] == "supplement_requested" and "营业执照" not in event["detail"]  # reasons stay here

    enrollment.submit_unit(sess, employer)
    assert returned[0].action_done_at is not None  # the 待办 is done once the unit sends it again
    assert _platform(sess, item_no)[-1].data["event"]["stage"] == "supplement_received"

    enrollment.approve_unit(sess, clerk, unit.id, risk_class="6", band="1.0", effective_date=date(2026, 11, 1))
    approved = _messages(sess, unit.organisation_id)[-1]
    assert approved.kind.value == "notice" and approved.subject == "单位工伤保险参保登记已审核通过"
    assert "行业风险类别六类" in approved.body and approved.link == "/enrollment/unit"
    last = _platform(sess, item_no)[-1].data
    assert last["event"]["completed"] and last["event"]["result"] == "准予参保登记"
    assert last["notify"]["organisation_id"] == unit.organisation_id  # the 好差评 invitation goes to the unit


def test_a_draft_is_never_reported(sess, enroll):
    unit = enroll(sess, submit=False)
    assert _platform(sess, platform_item_no(unit)) == []


def test_worker_sees_their_own_unit_cover_only(sess, actor_for, enroll):
    worker, employer = actor_for("worker"), actor_for("employer")
    assert enrollment.my_unit_cover(sess, worker, today=TODAY) == []
    unit = enroll(sess, approve=True, effective=date(2026, 1, 1))
    enrollment.add_member(sess, employer, name="李四", id_number=make_id(seq=611), phone="", wage_base="8000",
                          start_date=date(2026, 11, 1), insurance_type="", today=TODAY)
    assert enrollment.my_unit_cover(sess, worker, today=TODAY) == []  # someone else's period
    person_id = worker.person_id
    from portal.accounts.models import Person

    me = sess.get(Person, person_id)
    member, _ = enrollment.add_member(sess, employer, name=me.name, id_number=me.id_number, phone="",
                                      wage_base="8000", start_date=date(2026, 11, 1), insurance_type="",
                                      today=TODAY)
    assert member.person_id == person_id  # typed with the worker's confirmed name: their own record
    lines = enrollment.my_unit_cover(sess, worker, today=TODAY)
    assert [(line.unit_name, line.city_name, line.start_date, line.insurance_type.label) for line in lines] == [
        (unit.name, "合肥市", date(2026, 11, 1), "一般参保")]
    enrollment.remove_member(sess, employer, member.id, end_date=date(2026, 11, 1), today=TODAY)
    assert enrollment.my_unit_cover(sess, worker, today=date(2026, 11, 2)) == []
    with pytest.raises(NotFoundError):
        enrollment.my_unit_cover(sess, employer)
