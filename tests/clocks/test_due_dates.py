"""Due dates stored on recognition cases (issue 13 point 1), on both databases: kept on every move,
provisional in 2027, recomputed when staff enter or confirm the year, with inbox notices; an office
date moved earlier holds (staff alerted), an applicant's keeps the later date; overdue and
due-this-week as queries; the pages show 暂定 and no staff instruction to workers."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.clocks import due
from portal.clocks import service as clocks
from portal.clocks.deadlines import deadline
from portal.inbox.models import InboxMessage
from portal.recognition import service as recognition
from portal.recognition.models import RecognitionCase
from tests.clocks.test_service import SOURCE, enter_statutory_holidays
from tests.recognition import factories
from tests.recognition.factories import accepted_case, decided_case, submitted_case

people, files_dir = factories.people, factories.files_dir
D = date.fromisoformat


def _stored(case: RecognitionCase) -> tuple:
    return (case.office_due_on, case.office_due_rule, case.office_due_provisional,
            case.applicant_due_on, case.applicant_due_rule, case.applicant_due_provisional)


def _inbox(sess, case) -> list[InboxMessage]:
    return list(sess.execute(sa.select(InboxMessage).where(InboxMessage.dedupe_key.like("recognition-due:%"))
                             .where(InboxMessage.case_reference == case.reference)
                             .order_by(InboxMessage.id)).scalars())


# --- pure: store_due_dates ------------------------------------------------------------------------


class _Subject:
    office_due_on = office_due_rule = office_due_was = None
    applicant_due_on = applicant_due_rule = applicant_due_from = None
    office_due_provisional = applicant_due_provisional = False


def test_store_keeps_the_applicants_later_date_and_alerts_on_an_earlier_office_date():
    subject = _Subject()
    provisional_cal = clocks.WorkCalendar()
    confirmed_cal = clocks.WorkCalendar({D("2027-01-31"): clocks.DayKind.WORKDAY}, complete_years=[2027])
    office = deadline("recognition_decision", D("2026-12-02"), calendar=provisional_cal)
    applicant = deadline("administrative_reconsideration", D("2026-12-02"), calendar=provisional_cal)
    assert office.due_date == applicant.due_date == D("2027-02-01")  # Sunday 01-31 → Monday
    clocks.store_due_dates(subject, office=office, applicant=applicant)
    assert subject.office_due_provisional and subject.applicant_due_provisional

    changes = clocks.store_due_dates(
        subject, office=deadline("recognition_decision", D("2026-12-02"), calendar=confirmed_cal),
        applicant=deadline("administrative_reconsideration", D("2026-12-02"), calendar=confirmed_cal),
        recomputed=True)
    assert subject.office_due_on == D("2027-01-31") and subject.office_due_was == D("2027-02-01")
    assert subject.applicant_due_on == D("2027-02-01")  # relied on
    assert not subject.office_due_provisional and not subject.applicant_due_provisional
    office_change, applicant_change = changes
    assert office_change.earlier and office_change.moved
    assert applicant_change.kept_later and not applicant_change.moved and applicant_change.computed == D("2027-01-31")

    # the case itself moves on: the alert goes, and a new applicant rule takes its own date
    clocks.store_due_dates(subject, office=None, applicant=None)
    assert subject.office_due_was is None and subject.applicant_due_on is None


def test_store_refuses_a_rule_on_the_wrong_side():
    with pytest.raises(ValueError, match="office"):
        clocks.store_due_dates(_Subject(), office=deadline("worker_filing", D("2025-01-02")), applicant=None)


def test_week_end():
    assert due.week_end(D("2026-12-03")) == D("2026-12-06") and due.week_end(D("2026-12-06")) == D("2026-12-06")


# --- on the case ----------------------------------------------------------------------------------


def test_dates_follow_every_move(sess, people, files_dir):
    case = submitted_case(sess, people, received_on=D("2025-09-15"))
    assert _stored(case) == (D("2025-09-30"), "material_review", False, None, None, False)
    recognition.accept_case(sess, people.officer, case.id, files_dir=files_dir, on=D("2025-09-16"))
    # 60 days: 2025-11-15 (Saturday) → Monday 11-17
    assert _stored(case)[:3] == (D("2025-11-17"), "recognition_decision", False)
    recognition.suspend_case(sess, people.officer, case.id, reason="劳动关系争议待仲裁裁决", files_dir=files_dir,
                             on=D("2025-09-20"))
    assert case.office_due_on is None and case.office_due_rule == "recognition_decision"  # clock stopped
    recognition.resume_case(sess, people.officer, case.id, note="已收到仲裁裁决", on=D("2025-09-30"))
    assert case.office_due_on == D("2025-11-25")  # 2025-11-15 plus the 10 paused days
    recognition.decide_case(sess, people.officer, case.id, outcome="recognised", ground_code="r14_1",
                            reasoning="经调查核实，该职工在工作时间和工作场所内因工作原因受到事故伤害。",
                            files_dir=files_dir, on=D("2025-10-10"))
    assert _stored(case)[:2] == (D("2025-10-30"), "decision_delivery")
    recognition.serve_case(sess, people.officer, case.id, on=D("2025-10-11"))
    assert _stored(case) == (None, None, False, D("2025-12-10"), "administrative_reconsideration", False)
    assert case.applicant_due_from == D("2025-10-11")


def test_a_refusal_starts_the_appeal_period_on_its_day(sess, people, files_dir):
    case = submitted_case(sess, people, received_on=D("2025-09-15"))
    recognition.refuse_case(sess, people.officer, case.id, reasons="不属于本部门管辖", files_dir=files_dir,
                            on=D("2025-09-18"))
    assert case.closed_on == D("2025-09-18")
    assert _stored(case) == (None, None, False, D("2025-11-17"), "administrative_reconsideration", False)


def test_a_date_in_2027_is_stored_provisional(sess, people):
    case = submitted_case(sess, people, received_on=D("2026-12-20"))
    assert _stored(case)[:3] == (D("2027-01-04"), "material_review", True)


def test_confirming_2027_recomputes_notifies_and_alerts(sess, people, files_dir, actor_for, monkeypatch):
    import portal.recognition.service.clock as clock_module

    monkeypatch.setattr(clock_module, "local_today", lambda: D("2026-12-03"))
    province = actor_for("provincial")
    # office: 60 days from 2026-12-02 end Sunday 2027-01-31 → provisionally Monday 02-01
    office_case = accepted_case(sess, people, files_dir, received_on=D("2026-12-01"), accepted_on=D("2026-12-02"))
    # applicant: served 2026-12-02, 60 days to apply for reconsideration → provisionally 02-01 too
    served = decided_case(sess, people, files_dir, received_on=D("2026-11-20"), on=D("2026-11-30"))
    recognition.serve_case(sess, people.officer, served.id, on=D("2026-12-02"))
    # office, moving later: 60 days from 2026-12-10 end 2027-02-08 (春节) → provisionally 02-09
    later_case = accepted_case(sess, people, files_dir, received_on=D("2026-12-09"), accepted_on=D("2026-12-10"))
    assert (office_case.office_due_on, office_case.office_due_provisional) == (D("2027-02-01"), True)
    assert (served.applicant_due_on, served.applicant_due_provisional) == (D("2027-02-01"), True)
    assert later_case.office_due_on == D("2027-02-09")

    # the official arrangement: 2027-01-31 (Sunday) a make-up working day, 02-09..02-10 rest days
    enter_statutory_holidays(sess, province, 2027)
    clocks.add_override(sess, province, D("2027-01-31"), "workday", "春节", SOURCE)
    clocks.add_override(sess, province, D("2027-02-09"), "holiday", "春节", SOURCE)
    clocks.add_override(sess, province, D("2027-02-10"), "holiday", "春节", SOURCE)
    clocks.mark_year_complete(sess, province, 2027, SOURCE)

    # the agency's own period takes the earlier date; the city's staff see the alert
    assert (office_case.office_due_on, office_case.office_due_provisional) == (D("2027-01-31"), False)
    assert office_case.office_due_was == D("2027-02-01")
    # the applicant relied on 02-01: it holds
    assert (served.applicant_due_on, served.applicant_due_provisional) == (D("2027-02-01"), False)
    assert later_case.office_due_on == D("2027-02-11") and later_case.office_due_was is None

    moved = _inbox(sess, office_case)
    assert moved and all("2027年2月1日调整为2027年1月31日" in m.body for m in moved)
    assert {m.recipient_organisation_id or m.recipient_person_id for m in moved} >= {people.employer.organisation_id}
    assert _inbox(sess, served) == []  # nobody's date moved
    assert any("调整为2027年2月11日" in m.body for m in _inbox(sess, later_case))

    audited = sess.execute(sa.select(AuditEvent.object_id, AuditEvent.detail)
                           .where(AuditEvent.action == "recognition.due_dates_recomputed")).all()
    by_case = {}
    for object_id, detail in audited:
        by_case.setdefault(object_id, []).extend(detail["changes"])
    assert any(c["kept_later"] and c["computed"] == "2027-01-31" for c in by_case[str(served.id)])
    assert any(c["side"] == "office" and c["after"] == "2027-01-31" for c in by_case[str(office_case.id)])

    # withdrawing the confirmation recomputes too: provisional again
    clocks.unmark_year_complete(sess, province, 2027)
    assert office_case.office_due_provisional and office_case.office_due_on == D("2027-01-31")


def test_overdue_and_due_this_week_are_queries(sess, people, files_dir):
    today = D("2025-10-13")  # a Monday
    late = submitted_case(sess, people, received_on=D("2025-09-10"))  # due 2025-09-25
    this_week = submitted_case(sess, people, received_on=D("2025-09-30"))  # due 2025-10-15
    later = submitted_case(sess, people, received_on=D("2025-10-06"))  # due 2025-10-21
    other_city = submitted_case(sess, people, received_on=D("2025-09-10"), city_code=factories.WUHU)

    def ids(actor, when, side="office"):
        return [c.id for c in sess.execute(recognition.cases_due(actor, when=when, today=today, side=side)).scalars()]

    assert ids(people.officer, recognition.DUE_OVERDUE) == [late.id]
    assert ids(people.officer, recognition.DUE_THIS_WEEK) == [this_week.id]
    assert ids(people.province, recognition.DUE_OVERDUE) == [late.id, other_city.id]
    assert later.id not in ids(people.province, recognition.DUE_THIS_WEEK)
    assert ids(people.officer, recognition.DUE_OVERDUE, side="applicant") == []


# --- pages ----------------------------------------------------------------------------------------


def test_a_worker_sees_provisional_and_no_staff_instruction(app, client, login_as, people):
    with app.extensions["portal.database"].write_transaction() as s:
        case_id = submitted_case(s, people, applicant="worker", received_on=D("2026-12-20")).id
    login_as(client, "worker")
    page = client.get(f"/recognition/cases/{case_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "2027年1月4日" in text and "暂定" in text and "2027年放假安排尚未公布，暂按法定节假日推算；公布后可能调整" in text
    assert "管理员" not in text and "节假日维护" not in text
    listing = client.get("/recognition/").get_data(as_text=True)
    assert "暂定" in listing and "管理员" not in listing


def test_staff_see_provisional_on_the_queue_and_the_case(app, client, login_as, people):
    with app.extensions["portal.database"].write_transaction() as s:
        case_id = submitted_case(s, people, received_on=D("2026-12-20")).id
    login_as(client, "officer")
    queue = client.get("/recognition/office/").get_data(as_text=True)
    assert "2027年1月4日" in queue and "暂定" in queue
    page = client.get(f"/recognition/office/cases/{case_id}").get_data(as_text=True)
    assert "暂定：2027年放假安排尚未公布" in page
