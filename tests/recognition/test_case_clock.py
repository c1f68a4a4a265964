"""Which statutory clock a case shows in each status, against hand-counted real dates
(2025 National Day with its make-up Saturday 10-11; 2026 Spring Festival 02-15..02-23)."""

from datetime import date

import pytest

from portal.clocks.calendar import WorkCalendar
from portal.clocks.deadlines import ClockState
from portal.recognition.models import (
    ApplicantKind,
    CasePause,
    CaseStatus,
    PauseKind,
    RecognitionCase,
)
from portal.recognition.service.clock import case_clock, filing_window, holder

D = date.fromisoformat
CAL = WorkCalendar()


def _case(status, **fields):
    fields.setdefault("city_code", "340100")
    fields.setdefault("applicant_kind", ApplicantKind.WORKER)
    return RecognitionCase(status=status, **fields)


@pytest.mark.parametrize(("fields", "rule", "due", "why"), [
    ({"status": CaseStatus.SUBMITTED, "received_on": D("2025-09-26")}, "material_review", "2025-10-11",
     "15 days end on the make-up working Saturday 10-11: no shift"),
    ({"status": CaseStatus.SUBMITTED, "received_on": D("2025-09-20")}, "material_review", "2025-10-09",
     "15 days end 10-05 inside the National Day holiday → first working day 10-09"),
    ({"status": CaseStatus.SUBMITTED, "received_on": D("2025-09-01"), "supplement_requested": True,
      "supplement_received_on": D("2025-09-20")}, "supplement_review", "2025-10-09",
     "after a supplement the 15 days run from its receipt"),
    ({"status": CaseStatus.ACCEPTED, "accepted_on": D("2026-01-10")}, "recognition_decision", "2026-03-11",
     "60 days, a plain Wednesday"),
    ({"status": CaseStatus.ACCEPTED, "accepted_on": D("2026-02-05"), "simplified": True},
     "recognition_decision_simple", "2026-02-24", "15 days end 02-20 in the Spring Festival → 02-24"),
    ({"status": CaseStatus.DECIDED, "decided_on": D("2025-09-15")}, "decision_delivery", "2025-10-09",
     "20 days end 10-05 → 10-09"),
])
def test_running_clock_per_status(fields, rule, due, why):
    case = _case(**fields)
    clock = case_clock(case, CAL, D("2025-09-01"))
    assert clock.deadline.rule.key == rule, why
    assert clock.deadline.due_date == D(due), why


def test_a_suspension_moves_the_decision_deadline_by_its_days():
    case = _case(CaseStatus.ACCEPTED, accepted_on=D("2026-01-10"),
                 pauses=[CasePause(kind=PauseKind.SUSPENSION, started_on=D("2026-02-01"),
                                   ended_on=D("2026-02-10"), reason="劳动关系争议待仲裁")])
    clock = case_clock(case, CAL, D("2026-03-01"))
    # 60 + 10 paused days = 03-21, a Saturday → Monday 03-23
    assert clock.deadline.due_date == D("2026-03-23")
    assert clock.status.state is ClockState.OK


def test_an_open_suspension_stops_the_clock_and_says_what_is_left():
    case = _case(CaseStatus.SUSPENDED, accepted_on=D("2026-01-10"),
                 pauses=[CasePause(kind=PauseKind.SUSPENSION, started_on=D("2026-01-21"), reason="待法院判决")])
    clock = case_clock(case, CAL, D("2026-03-01"))
    assert clock.deadline.due_date is None
    assert clock.status.state is ClockState.PAUSED
    assert clock.deadline.days_left == 50  # days 1..10 ran (01-11..01-20)
    assert "中止" in clock.holder


def test_awaiting_supplement_has_no_office_clock_and_the_applicant_holds_it():
    clock = case_clock(_case(CaseStatus.AWAITING_SUPPLEMENT, received_on=D("2025-09-01"),
                             supplement_requested=True), CAL, D("2025-09-10"))
    assert clock.deadline is None
    assert clock.holder == "申请人（补正材料）"


def test_overdue_and_near():
    case = _case(CaseStatus.SUBMITTED, received_on=D("2025-09-26"))
    assert case_clock(case, CAL, D("2025-10-12")).overdue
    assert case_clock(case, CAL, D("2025-10-10")).near
    assert not case_clock(case, CAL, D("2025-09-29")).near


def test_holder_names_the_city_office_not_a_person():
    assert holder(_case(CaseStatus.ACCEPTED)) == "合肥市人力资源和社会保障局 工伤认定人员"
    assert holder(_case(CaseStatus.SERVED)) == "已办结"


def test_a_year_not_yet_published_gives_a_provisional_date():
    case = _case(CaseStatus.ACCEPTED, accepted_on=D("2026-12-20"))
    clock = case_clock(case, CAL, D("2026-12-21"))
    # 60 days: 2027-02-18, a working day under the statutory holidays of 2027
    assert clock.deadline.due_date == D("2027-02-18") and clock.provisional and clock.problem is None
    assert clock.deadline.provisional_reason.startswith("2027年放假安排尚未公布")


def test_a_year_no_source_covers_is_reported_not_guessed_with_the_staff_hint_apart():
    case = _case(CaseStatus.ACCEPTED, accepted_on=D("2100-12-20"))
    clock = case_clock(case, CAL, D("2100-12-21"))
    assert clock.deadline is None and "2101" in clock.problem and "管理员" not in clock.problem
    assert "节假日维护" in clock.staff_hint


@pytest.mark.parametrize(("kind", "event", "last_day"), [
    ("employer", "2025-09-05", "2025-10-09"),  # 30 days end 10-05 (holiday) → 10-09
    ("worker", "2024-02-29", "2025-02-28"),  # one year from a leap day
    ("relative", "2025-01-10", "2026-01-12"),  # ends Saturday 2026-01-10 → Monday 01-12
])
def test_filing_windows(kind, event, last_day):
    assert filing_window(kind, D(event), CAL).due_date == D(last_day)
