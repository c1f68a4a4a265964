"""The applicant's side of a submitted case (services): supplying the missing material once,
pressing (催办) only when overdue, withdrawing, and what each party may see and read."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.errors import ConflictError, InvalidFields, NotFoundError, PermissionDenied
from portal.materials import service as materials
from portal.recognition import service as recognition
from portal.recognition.models import CaseEvent, CaseMaterial, CaseStatus, PauseKind
from portal.recognition.service import CaseNotFound, IllegalTransition
from tests.materials import samples
from tests.recognition import factories
from tests.recognition.factories import submitted_case
from tests.recognition.filing_fixtures import CAL, INJURY, fill_draft

#: fixtures shared with the office side's tests
people, files_dir = factories.people, factories.files_dir
D = date.fromisoformat
NOW = datetime(2026, 4, 1, 2, 30, tzinfo=timezone.utc)


def _filed(sess, actor, files_dir, *, kind="worker", today=D("2026-04-01")):
    case = fill_draft(sess, actor, kind=kind, files_dir=files_dir, today=today)
    return recognition.submit(sess, actor, case.id, today=today, now=NOW, files_dir=files_dir,
                              case_url=f"https://portal.example/recognition/cases/{case.id}", calendar=CAL)


def _request_supplement(sess, people, case, files_dir, on=D("2026-04-03")):
    return recognition.request_supplement(sess, people.officer, case.id, files_dir=files_dir, on=on, items=[
        recognition.SupplementRequest("labour_relation", "请提供2026年1月至3月的工资发放记录"),
        recognition.SupplementRequest("other", "请提供事故现场证人证言")])


# --- 补正 --------------------------------------------------------------------------------------------


def test_the_applicant_supplies_every_item_then_the_case_returns_to_the_office(sess, people, files_dir):
    case = _filed(sess, people.worker, files_dir)
    _request_supplement(sess, people, case, files_dir)
    view = recognition.case_view(sess, people.worker, case, today=D("2026-04-05"), calendar=CAL)
    assert view.supplement_open and not view.can_supply and len(view.supplement) == 2
    assert any(d.title == "补正材料通知书" for d in view.documents)
    first, second = view.supplement
    with pytest.raises(recognition.SupplementIncomplete) as exc:
        recognition.supply(sess, people.worker, case.id, today=D("2026-04-05"), now=NOW)
    assert "工资发放记录" in exc.value.message and "证人证言" in exc.value.message
    recognition.upload_supplement(sess, people.worker, case.id, first.item.id, data=samples.pdf(), filename="工资.pdf",
                                  files_dir=files_dir)
    # a second file for the same item replaces the first
    recognition.upload_supplement(sess, people.worker, case.id, first.item.id, data=samples.png(), filename="工资.png",
                                  files_dir=files_dir)
    recognition.upload_supplement(sess, people.worker, case.id, second.item.id, data=samples.pdf(), filename="证言.pdf",
                                  files_dir=files_dir)
    linked = sess.execute(select(CaseMaterial).where(CaseMaterial.case_id == case.id,
                                                     CaseMaterial.supplement_item_id.is_not(None))).scalars().all()
    assert sorted(m.supplement_item_id for m in linked) == sorted([first.item.id, second.item.id])
    assert recognition.case_view(sess, people.worker, case, today=D("2026-04-05"), calendar=CAL).can_supply
    recognition.supply(sess, people.worker, case.id, today=D("2026-04-06"), now=NOW)
    assert case.status is CaseStatus.SUBMITTED and case.supplement_received_on == D("2026-04-06")
    pause = next(p for p in case.pauses if p.kind is PauseKind.SUPPLEMENT)
    assert pause.ended_on == D("2026-04-06")
    assert all(item.supplied_at == NOW for item in recognition.supplement_items(sess, case))
    # the office's clock now runs 15 days from the supplement's receipt
    assert recognition.case_view(sess, people.worker, case, today=D("2026-04-06"), calendar=CAL
                                 ).clock.deadline.rule.key == "supplement_review"
    with pytest.raises(IllegalTransition):
        recognition.supply(sess, people.worker, case.id, today=D("2026-04-06"), now=NOW)
    actions = sess.execute(select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).scalars().all()
    assert actions == ["submit", "request_supplement", "supply"]


def test_only_the_applicant_supplies(sess, people, files_dir):
    case = _filed(sess, people.relative, files_dir, kind="relative")
    _request_supplement(sess, people, case, files_dir)
    item = recognition.supplement_items(sess, case)[0]
    with pytest.raises(PermissionDenied):  # the injured worker sees the case but did not apply
        recognition.upload_supplement(sess, people.worker, case.id, item.id, data=samples.png(), filename="x.png",
                                      files_dir=files_dir)
    with pytest.raises(CaseNotFound):
        recognition.upload_supplement(sess, people.employer2, case.id, item.id, data=samples.png(), filename="x.png",
                                      files_dir=files_dir)


def test_no_supplement_upload_when_none_is_asked(sess, people, files_dir):
    case = _filed(sess, people.worker, files_dir)
    with pytest.raises(ConflictError):
        recognition.upload_supplement(sess, people.worker, case.id, 1, data=samples.png(), filename="x.png",
                                      files_dir=files_dir)


# --- 催办 ---------------------------------------------------------------------------------------------


def test_an_urge_is_only_for_an_overdue_case_and_one_at_a_time(sess, people):
    case = submitted_case(sess, people, applicant="worker", received_on=D("2025-09-15"))
    with pytest.raises(recognition.UrgeNotAllowed) as exc:
        recognition.urge(sess, people.worker, case.id, text="请尽快审查", today=D("2025-09-20"), calendar=CAL)
    assert "期限届满" in exc.value.message
    with pytest.raises(InvalidFields) as exc:
        recognition.urge(sess, people.worker, case.id, text=" ", today=D("2026-04-01"), calendar=CAL)
    assert exc.value.errors == {"text": "请填写催办内容"}
    with pytest.raises(InvalidFields):
        recognition.urge(sess, people.worker, case.id, text="催" * 501, today=D("2026-04-01"), calendar=CAL)
    urge = recognition.urge(sess, people.worker, case.id, text="已超过审查期限，请尽快受理。", today=D("2026-04-01"),
                            calendar=CAL)
    assert urge.by_account_id == people.worker.account_id
    assert sess.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "recognition.urge")) == 1
    with pytest.raises(recognition.UrgeNotAllowed) as exc:
        recognition.urge(sess, people.worker, case.id, text="再次催办", today=D("2026-04-01"), calendar=CAL)
    assert "尚未答复" in exc.value.message
    recognition.answer_urge(sess, people.officer, urge.id, "已安排专人审查，三个工作日内作出决定。")
    view = recognition.case_view(sess, people.worker, case, today=D("2026-04-01"), calendar=CAL)
    assert view.urges[0].answer.startswith("已安排专人") and view.may_urge
    # the answer reached the worker's inbox
    from portal.inbox.models import InboxMessage

    assert sess.scalar(select(func.count()).select_from(InboxMessage).where(
        InboxMessage.recipient_person_id == people.worker.person_id, InboxMessage.kind == "message")) == 1


def test_an_employer_that_did_not_apply_cannot_urge_but_the_worker_can(sess, people):
    case = submitted_case(sess, people, applicant="relative", received_on=D("2025-09-15"))
    with pytest.raises(recognition.UrgeNotAllowed):
        recognition.urge(sess, people.employer, case.id, text="催办", today=D("2026-04-01"), calendar=CAL)
    assert recognition.urge(sess, people.worker, case.id, text="催办", today=D("2026-04-01"), calendar=CAL)


# --- 撤回 ---------------------------------------------------------------------------------------------


def test_the_applicant_withdraws_before_the_decision_only(sess, people, files_dir):
    case = submitted_case(sess, people, applicant="worker")
    view = recognition.case_view(sess, people.employer, case, today=D("2025-09-16"), calendar=CAL)
    assert not view.can_withdraw
    with pytest.raises(PermissionDenied):
        recognition.withdraw(sess, people.employer, case.id, reason=None, today=D("2025-09-16"))
    recognition.withdraw(sess, people.worker, case.id, reason="已与单位协商解决", today=D("2025-09-16"))
    assert case.status is CaseStatus.WITHDRAWN and case.closed_on == D("2025-09-16")
    assert case.events[-1].note == "申请人撤回申请。原因：已与单位协商解决"
    with pytest.raises(IllegalTransition):
        recognition.withdraw(sess, people.worker, case.id, reason=None, today=D("2025-09-16"))


def test_no_withdrawal_after_the_decision(sess, people, files_dir):
    from tests.recognition.factories import decided_case

    case = decided_case(sess, people, files_dir, applicant="worker")
    assert not recognition.may_withdraw(people.worker, case)
    with pytest.raises(IllegalTransition):
        recognition.withdraw(sess, people.worker, case.id, reason=None, today=D("2025-09-21"))


# --- who sees what ------------------------------------------------------------------------------------


def test_the_employer_view_hides_injury_and_medical_files_and_the_files_stay_closed(sess, people, files_dir):
    case = _filed(sess, people.worker, files_dir)
    view = recognition.case_view(sess, people.employer, case, today=D("2026-04-01"), calendar=CAL)
    assert not view.show_medical and view.hidden_medical == 1
    assert {f.stored.kind for f in view.submitted} == {"labour_relation", "id_card"}
    assert view.documents == []  # the receipt is the applicant's
    medical = sess.execute(select(materials.StoredFile).join(CaseMaterial, CaseMaterial.stored_file_id == materials.StoredFile.id)
                           .where(CaseMaterial.case_id == case.id, CaseMaterial.kind == "medical_certificate")).scalar_one()
    receipt = sess.get(materials.StoredFile, case.receipt_file_id)
    labour = next(f.stored for f in view.submitted if f.stored.kind == "labour_relation")
    assert not materials.may_read(sess, people.employer, medical)
    assert not materials.may_read(sess, people.employer, receipt)
    assert materials.may_read(sess, people.employer, labour)
    # the worker, the Hefei officer and the province read everything; a stranger nothing
    for who in (people.worker, people.officer, people.province):
        assert materials.may_read(sess, who, medical), who.role
    for who in (people.relative, people.employer2, people.wuhu_officer):
        assert not materials.may_read(sess, who, medical), who.role
        assert not materials.may_read(sess, who, labour), who.role
    worker_view = recognition.case_view(sess, people.worker, case, today=D("2026-04-01"), calendar=CAL)
    assert worker_view.show_medical and worker_view.hidden_medical == 0 and case.injury == INJURY
    assert [d.title for d in worker_view.documents] == ["工伤认定申请回执"]


def test_strangers_and_staff_get_no_party_case(sess, people, files_dir):
    case = _filed(sess, people.worker, files_dir)
    for who in (people.relative, people.employer2, people.officer):
        with pytest.raises(NotFoundError):
            recognition.load_party_case(sess, who, case.id)


def test_a_relative_and_the_living_worker_both_see_the_relatives_case(sess, people, files_dir):
    case = _filed(sess, people.relative, files_dir, kind="relative")
    assert recognition.load_party_case(sess, people.relative, case.id) is case
    assert recognition.load_party_case(sess, people.worker, case.id) is case
    drafts, submitted = recognition.list_cases(sess, people.worker, today=D("2026-04-01"), calendar=CAL)
    assert [r.case.id for r in submitted] == [case.id] and drafts == []
    assert submitted[0].clock.deadline.rule.key == "material_review"
