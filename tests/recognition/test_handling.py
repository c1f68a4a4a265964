"""The recognition office's services (``portal.recognition.service``) on both databases: every
action, its Chinese refusals, and its effect on the statutory clock, against dates computed by
hand on the real calendar (National Day 2025, Spring Festival and Qingming 2026, make-up working
days)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.clocks.service import work_calendar
from portal.errors import InvalidFields, NotFoundError
from portal.inbox import service as inbox
from portal.inbox.models import InboxMessage
from portal.recognition import service as recognition
from portal.recognition.models import (
    CaseEvent,
    CaseMaterial,
    CasePause,
    CaseStatus,
    InvestigationNote,
    PauseKind,
    SupplementItem,
    Urge,
)
from portal.recognition.service import SupplementRequest, clock, notices
from tests.recognition import factories
from tests.recognition.factories import (
    accepted_case,
    decided_case,
    submitted_case,
    supply_everything,
)

#: fixtures shared by the recognition tests
people, files_dir = factories.people, factories.files_dir


def _due(sess, case, today=None):
    deadline = clock.running_deadline(case, work_calendar(sess))
    return deadline.due_date if deadline else None


def _events(sess, case) -> list[str]:
    return list(sess.execute(select(CaseEvent.action).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.id)).scalars())


ITEMS = [SupplementRequest("labour_relation", "请提供劳动合同或近三个月工资发放记录"),
         SupplementRequest("other", "请提供事故现场照片或监控截图")]


# --- 一次性告知补正 --------------------------------------------------------------------------------------


def test_supplement_request_lists_everything_once_and_the_review_restarts_on_receipt(sess, people, files_dir):
    case = submitted_case(sess, people, received_on=date(2025, 9, 15))
    assert _due(sess, case) == date(2025, 9, 30)  # material_review: 15 days from receipt
    recognition.request_supplement(sess, people.officer, case.id, items=ITEMS, files_dir=files_dir,
                                   on=date(2025, 9, 18))
    assert case.status is CaseStatus.AWAITING_SUPPLEMENT and case.supplement_requested
    items = sess.execute(select(SupplementItem).where(SupplementItem.case_id == case.id)).scalars().all()
    assert [(i.kind, i.description) for i in items] == [(i.kind, i.description) for i in ITEMS]
    pause = sess.execute(select(CasePause).where(CasePause.case_id == case.id)).scalar_one()
    assert (pause.kind, pause.started_on, pause.ended_on) == (PauseKind.SUPPLEMENT, date(2025, 9, 18), None)
    notice = sess.execute(select(CaseMaterial).where(CaseMaterial.case_id == case.id,
                                                     CaseMaterial.kind == recognition.SUPPLEMENT_NOTICE)).scalar_one()
    assert notice.stored_file_id
    # no office clock while the applicant holds the case
    assert recognition.case_clock(case, work_calendar(sess), date(2025, 10, 20)).deadline is None
    request = sess.execute(select(InboxMessage).where(InboxMessage.case_reference == case.reference,
                                                      InboxMessage.kind == "request")).scalar_one()
    assert request.recipient_organisation_id == people.employer.organisation_id and request.action_required
    assert "劳动合同" in request.body

    # supplied on 2025-09-20: 15 days end 2025-10-05, inside the National Day holiday (Oct 1-8),
    # so the review ends on the first working day after it: Thursday 2025-10-09
    supply_everything(sess, people, case, files_dir, on=date(2025, 9, 20))
    assert case.status is CaseStatus.SUBMITTED
    assert _due(sess, case) == date(2025, 10, 9)
    assert clock.running_deadline(case, work_calendar(sess)).rule.key == "supplement_review"

    with pytest.raises(recognition.IllegalTransition, match="只能一次性告知"):
        recognition.request_supplement(sess, people.officer, case.id, items=ITEMS, files_dir=files_dir,
                                       on=date(2025, 9, 22))
    assert _events(sess, case).count("request_supplement") == 1


def test_a_supplement_list_needs_items_with_descriptions(sess, people, files_dir):
    case = submitted_case(sess, people)
    with pytest.raises(InvalidFields, match="至少列出一项") as exc:
        recognition.request_supplement(sess, people.officer, case.id, items=[], files_dir=files_dir)
    assert "items" in exc.value.errors
    with pytest.raises(InvalidFields, match="请填写第1项补正材料的具体要求"):
        recognition.request_supplement(sess, people.officer, case.id,
                                       items=[SupplementRequest("labour_relation", "  ")], files_dir=files_dir)
    with pytest.raises(InvalidFields, match="种类不正确"):
        recognition.request_supplement(sess, people.officer, case.id,
                                       items=[SupplementRequest("../../etc", "x")], files_dir=files_dir)
    assert case.status is CaseStatus.SUBMITTED and not case.supplement_requested


# --- 受理 / 不予受理 -----------------------------------------------------------------------------------------


def test_acceptance_numbers_documents_and_starts_the_60_day_clock(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir, received_on=date(2025, 9, 15), accepted_on=date(2025, 9, 16))
    assert case.status is CaseStatus.ACCEPTED and case.accepted_on == date(2025, 9, 16)
    assert case.acceptance_number == "合肥人社工伤受字〔2025〕1号"
    assert case.acceptance_file_id is not None
    # 60 days from 2025-09-16 end Saturday 2025-11-15: moved to Monday 2025-11-17
    assert _due(sess, case) == date(2025, 11, 17)
    second = accepted_case(sess, people, files_dir, received_on=date(2025, 9, 15), accepted_on=date(2025, 9, 16))
    assert second.acceptance_number == "合肥人社工伤受字〔2025〕2号"
    # every party gets the decision with the document attached; the employer is told its burden
    messages = sess.execute(select(InboxMessage).where(InboxMessage.case_reference == case.reference,
                                                       InboxMessage.kind == "decision")).scalars().all()
    assert {(m.recipient_person_id, m.recipient_organisation_id) for m in messages} == {
        (None, people.employer.organisation_id), (people.worker.person_id, None)}
    assert all(m.attachment_token for m in messages)
    assert any("第十九条第二款" in m.body for m in messages)


@pytest.mark.parametrize(("accepted_on", "due"), [
    (date(2025, 9, 26), date(2025, 10, 11)),  # ends on Saturday 2025-10-11, a make-up working day
    (date(2026, 1, 30), date(2026, 2, 14)),  # ends on Saturday 2026-02-14, a make-up working day
    (date(2026, 2, 1), date(2026, 2, 24)),  # ends 2026-02-16, Spring Festival: moved to 02-24
])
def test_the_simplified_procedure_has_15_days(sess, people, files_dir, accepted_on, due):
    case = accepted_case(sess, people, files_dir, received_on=accepted_on, simplified=True)
    assert case.simplified
    assert clock.running_deadline(case, work_calendar(sess)).rule.key == "recognition_decision_simple"
    assert _due(sess, case) == due
    assert "适用简易程序" in case.events[-1].note


def test_the_simplified_procedure_needs_a_reason(sess, people, files_dir):
    case = submitted_case(sess, people)
    with pytest.raises(InvalidFields, match="请填写适用简易程序的理由"):
        recognition.accept_case(sess, people.officer, case.id, simplified=True, simplified_reason=" ",
                                files_dir=files_dir)
    assert case.status is CaseStatus.SUBMITTED and case.acceptance_number is None


def test_refusal_needs_reasons_and_has_its_own_numbering(sess, people, files_dir):
    case = submitted_case(sess, people, received_on=date(2025, 9, 15))
    with pytest.raises(InvalidFields, match="请填写不予受理的理由"):
        recognition.refuse_case(sess, people.officer, case.id, reasons="", files_dir=files_dir)
    recognition.refuse_case(sess, people.officer, case.id, reasons="用人单位所在地不属于本部门管辖",
                            files_dir=files_dir, on=date(2025, 9, 20))
    assert case.status is CaseStatus.NOT_ACCEPTED and case.closed_on == date(2025, 9, 20)
    assert case.acceptance_number == "合肥人社工伤不受字〔2025〕1号"
    assert case.refusal_reasons == "用人单位所在地不属于本部门管辖"
    with pytest.raises(recognition.IllegalTransition):
        recognition.accept_case(sess, people.officer, case.id, files_dir=files_dir)


def test_a_second_click_changes_nothing(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir)
    number = case.acceptance_number
    with pytest.raises(recognition.IllegalTransition, match="不能办理“受理”"):
        recognition.accept_case(sess, people.officer, case.id, files_dir=files_dir)
    assert case.acceptance_number == number and _events(sess, case).count("accept") == 1


# --- 调查核实 ------------------------------------------------------------------------------------------------


def test_notes_are_recorded_after_acceptance_and_audited_without_their_text(sess, people, files_dir):
    case = submitted_case(sess, people)
    with pytest.raises(recognition.IllegalTransition, match="受理后才能记录"):
        recognition.add_note(sess, people.officer, case.id, kind="note", text="x")
    recognition.accept_case(sess, people.officer, case.id, files_dir=files_dir, on=case.received_on)
    with pytest.raises(InvalidFields, match="记录类别不正确"):
        recognition.add_note(sess, people.officer, case.id, kind="gossip", text="x")
    with pytest.raises(InvalidFields, match="请填写用人单位意见"):
        recognition.add_note(sess, people.officer, case.id, kind="employer_view", text="")
    note = recognition.add_note(sess, people.officer, case.id, kind="employer_view",
                                text="单位认可事故发生在工作时间，提供了考勤记录。")
    assert note.kind == "employer_view" and note.by_office.startswith("合肥市人力资源和社会保障局")
    rows = sess.execute(select(AuditEvent).where(AuditEvent.action == "recognition.note")).scalars().all()
    assert len(rows) == 1 and "考勤" not in str(rows[0].detail)


# --- 中止 / 恢复 ---------------------------------------------------------------------------------------------


def test_suspension_over_the_spring_festival_stops_the_clock_and_resuming_restarts_it(sess, people, files_dir):
    # accepted 2026-01-20: 60 days would end Saturday 2026-03-21 (→ Monday 03-23)
    case = accepted_case(sess, people, files_dir, received_on=date(2026, 1, 19), accepted_on=date(2026, 1, 20))
    assert _due(sess, case) == date(2026, 3, 23)
    recognition.suspend_case(sess, people.officer, case.id, reason="劳动关系存在争议，待劳动人事争议仲裁委员会裁决",
                             files_dir=files_dir, on=date(2026, 2, 10))
    assert case.status is CaseStatus.SUSPENDED
    running = clock.running_deadline(case, work_calendar(sess))
    # 01-21..02-09 counted (20 days); 40 remain when the clock runs again
    assert running.due_date is None and running.paused_since == date(2026, 2, 10) and running.days_left == 40
    assert recognition.case_clock(case, work_calendar(sess), date(2026, 4, 30)).status.state.value == "paused"
    assert case.events[-1].note.startswith("劳动关系存在争议")
    assert sess.execute(select(CaseMaterial).where(CaseMaterial.case_id == case.id,
                                                   CaseMaterial.kind == recognition.SUSPENSION_NOTICE)).scalar_one()
    with pytest.raises(recognition.IllegalTransition):
        recognition.decide_case(sess, people.officer, case.id, outcome="recognised", ground_code="r14_1",
                                reasoning="x", files_dir=files_dir)
    # resumed 2026-02-25 (award received): 02-10..02-24 stood still (15 days), 02-25 counts again.
    # 2026-03-21 + 15 = 2026-04-05, in the Qingming holiday (04-04..04-06): Tuesday 2026-04-07
    recognition.resume_case(sess, people.officer, case.id, note="劳动仲裁裁决书已生效，确认存在劳动关系",
                            on=date(2026, 2, 25))
    assert case.status is CaseStatus.ACCEPTED
    pause = sess.execute(select(CasePause).where(CasePause.case_id == case.id)).scalar_one()
    assert (pause.started_on, pause.ended_on) == (date(2026, 2, 10), date(2026, 2, 24))
    assert _due(sess, case) == date(2026, 4, 7)


def test_resuming_on_the_day_of_suspension_loses_no_day(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir, received_on=date(2025, 9, 15), accepted_on=date(2025, 9, 16))
    recognition.suspend_case(sess, people.officer, case.id, reason="待公安机关交通事故责任认定",
                             files_dir=files_dir, on=date(2025, 10, 10))
    recognition.resume_case(sess, people.officer, case.id, note="交通事故认定书已送达", on=date(2025, 10, 10))
    assert sess.execute(select(func.count()).select_from(CasePause)
                        .where(CasePause.case_id == case.id)).scalar_one() == 0
    assert _due(sess, case) == date(2025, 11, 17)
    assert _events(sess, case)[-2:] == ["suspend", "resume"]


def test_suspension_and_resumption_need_their_reasons(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir)
    with pytest.raises(InvalidFields, match="请填写中止的理由"):
        recognition.suspend_case(sess, people.officer, case.id, reason=" ", files_dir=files_dir)
    recognition.suspend_case(sess, people.officer, case.id, reason="待法院判决", files_dir=files_dir,
                             on=date(2025, 9, 20))
    with pytest.raises(InvalidFields, match="请填写恢复的理由"):
        recognition.resume_case(sess, people.officer, case.id, note="", on=date(2025, 9, 25))
    with pytest.raises(recognition.IllegalTransition):
        recognition.suspend_case(sess, people.officer, case.id, reason="再次中止", files_dir=files_dir)


# --- 认定决定与送达 -------------------------------------------------------------------------------------------


def test_a_decision_needs_an_outcome_a_matching_ground_and_reasons(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir)
    with pytest.raises(InvalidFields) as exc:
        recognition.decide_case(sess, people.officer, case.id, outcome="maybe", ground_code="", reasoning="",
                                files_dir=files_dir)
    assert set(exc.value.errors) == {"outcome", "reasoning"}
    with pytest.raises(InvalidFields, match="不适用于“认定工伤”"):
        recognition.decide_case(sess, people.officer, case.id, outcome="recognised", ground_code="r16_2",
                                reasoning="事实", files_dir=files_dir)
    with pytest.raises(InvalidFields, match="请选择认定依据"):
        recognition.decide_case(sess, people.officer, case.id, outcome="deemed", ground_code="",
                                reasoning="事实", files_dir=files_dir)
    assert case.status is CaseStatus.ACCEPTED and case.decision_number is None
    recognition.decide_case(sess, people.officer, case.id, outcome="deemed", ground_code="r15_1",
                            reasoning="在工作岗位突发疾病，48小时内经抢救无效死亡。", files_dir=files_dir,
                            on=date(2025, 10, 1))
    assert case.status is CaseStatus.DECIDED and case.outcome.value == "deemed"
    assert case.decision_number == "合肥人社工伤认字〔2025〕1号" and case.decided_on == date(2025, 10, 1)
    # decision_delivery: 20 days from 2025-10-01 end 2025-10-21
    assert _due(sess, case) == date(2025, 10, 21)
    with pytest.raises(recognition.IllegalTransition):
        recognition.decide_case(sess, people.officer, case.id, outcome="recognised", ground_code="r14_1",
                                reasoning="again", files_dir=files_dir)


def test_service_delivers_to_every_party_with_delivery_records(sess, people, files_dir):
    case = decided_case(sess, people, files_dir)
    assert recognition.delivery_records(sess, case)[0].delivered_at is None
    recognition.serve_case(sess, people.officer, case.id, on=date(2025, 9, 22))
    assert case.status is CaseStatus.SERVED and case.served_on == date(2025, 9, 22)
    assert case.closed_on == date(2025, 9, 22)
    records = recognition.delivery_records(sess, case)
    assert [(r.party, r.name) for r in records] == [("applicant", "安徽皖建建设工程有限公司"), ("worker", "张伟")]
    assert all(r.delivered_at is not None and r.read_at is None for r in records)
    message = inbox.delivery_record(sess, dedupe_key=notices.decision_dedupe_key(case, "worker"))
    assert message.attachment_token and "60日" in message.body
    inbox.open_message(sess, people.worker, message.id)
    assert recognition.delivery_records(sess, case)[1].read_at is not None
    with pytest.raises(recognition.IllegalTransition):
        recognition.serve_case(sess, people.officer, case.id)
    for action in (recognition.suspend_case, recognition.accept_case):
        with pytest.raises(recognition.IllegalTransition):
            action(sess, people.officer, case.id, files_dir=files_dir, **({"reason": "x"} if action is
                                                                          recognition.suspend_case else {}))


# --- 催办答复 ----------------------------------------------------------------------------------------------------


def test_an_urge_is_answered_in_writing_once_into_the_urgers_inbox(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir, applicant="worker")
    urge = Urge(case_id=case.id, by_account_id=people.worker.account_id, text="已经超过60天了，请尽快作出决定。")
    sess.add(urge)
    sess.flush()
    with pytest.raises(InvalidFields, match="请填写答复内容"):
        recognition.answer_urge(sess, people.officer, urge.id, "  ")
    with pytest.raises(InvalidFields, match="不能超过1000个字"):
        recognition.answer_urge(sess, people.officer, urge.id, "长" * 1001)
    with pytest.raises(NotFoundError):
        recognition.answer_urge(sess, people.wuhu_officer, urge.id, "答复")
    recognition.answer_urge(sess, people.officer, urge.id, "正在等待医疗机构的诊断意见，预计10日内作出决定。")
    assert urge.answer.startswith("正在等待") and urge.answered_by_office.startswith("合肥市")
    message = inbox.delivery_record(sess, dedupe_key=f"recognition-urge-answer:{urge.id}")
    assert message.recipient_person_id == people.worker.person_id and message.kind.value == "message"
    assert "预计10日内" in message.body
    with pytest.raises(recognition.UrgeAlreadyAnswered, match="已经答复过"):
        recognition.answer_urge(sess, people.officer, urge.id, "再答一次")
    with pytest.raises(recognition.UrgeNotFound):
        recognition.answer_urge(sess, people.officer, 999_999, "答复")


def test_an_employers_urge_answer_goes_to_the_employer_inbox(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir)
    urge = Urge(case_id=case.id, by_account_id=people.employer.account_id, text="请问进度？")
    sess.add(urge)
    sess.flush()
    recognition.answer_urge(sess, people.province, urge.id, "已转合肥市办理，将尽快答复。")
    message = inbox.delivery_record(sess, dedupe_key=f"recognition-urge-answer:{urge.id}")
    assert message.recipient_organisation_id == people.employer.organisation_id
    assert urge.answered_by_office == "安徽省人力资源和社会保障厅"


# --- scope ---------------------------------------------------------------------------------------------------------


def test_an_officer_of_another_city_finds_nothing_and_provincial_staff_may_act(sess, people, files_dir):
    case = submitted_case(sess, people)
    wuhu = people.wuhu_officer
    for call in (lambda: recognition.accept_case(sess, wuhu, case.id, files_dir=files_dir),
                 lambda: recognition.refuse_case(sess, wuhu, case.id, reasons="x", files_dir=files_dir),
                 lambda: recognition.request_supplement(sess, wuhu, case.id, items=ITEMS, files_dir=files_dir),
                 lambda: recognition.add_note(sess, wuhu, case.id, kind="note", text="x"),
                 lambda: recognition.office_view(sess, wuhu, case.id)):
        with pytest.raises(NotFoundError):
            call()
    with pytest.raises(Exception, match="只有工伤认定人员"):
        recognition.accept_case(sess, people.employer, case.id, files_dir=files_dir)
    recognition.accept_case(sess, people.province, case.id, files_dir=files_dir, on=case.received_on)
    assert case.events[-1].by_office == "安徽省人力资源和社会保障厅"


def test_reading_a_case_is_audited_as_a_read_of_medical_data(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir)
    recognition.add_note(sess, people.officer, case.id, kind="note", text="诊断为左手食指骨折。")
    view = recognition.office_view(sess, people.officer, case.id, today=date(2025, 10, 1))
    assert view.case.injury == "左手食指近节指骨骨折" and len(view.notes) == 1
    assert view.worker_id_masked == "340104********1235"
    assert [a.value for a in view.actions] == ["suspend", "decide"]
    assert [d.label for d in view.documents] == ["受理决定书"]
    row = sess.execute(select(AuditEvent).where(AuditEvent.action == "recognition.read_medical_data")).scalar_one()
    assert row.object_id == str(case.id) and "骨折" not in str(row.detail)
    assert sess.execute(select(func.count()).select_from(InvestigationNote)).scalar_one() == 1
