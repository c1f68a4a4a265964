"""The deadline calculator against real dates (holidays, make-up days, month ends, year ends),
pauses, and the clock status. Pure functions: no database."""

from dataclasses import replace
from datetime import date

import pytest

from portal.clocks import deadlines as dl
from portal.clocks.calendar import CalendarUnknown, DayKind, WorkCalendar
from portal.clocks.deadlines import (
    ClockState,
    InvalidPause,
    Pause,
    PauseKind,
    Unit,
    deadline,
    status,
)

D = date.fromisoformat

# (rule, start event, due date, why) — every due date worked out by hand from the State Council
# arrangements (see test_calendar.OFFICIAL)
TABLE = [
    # 15 working days from just before a holiday (a working-day rule of 15, see WORKING_15 below)
    # 2024 春节: 02-09, [02-10..17 off], 02-18 Sun working, 02-19.. → 03-06
    ("working_15", "2024-02-08", "2024-03-06", "2024 Spring Festival with make-up Sunday"),
    # 2024 国庆: 09-29 Sun, 09-30, [10-01..07 off], 10-08..11, 10-12 Sat, 10-14..18, 10-21..23
    ("working_15", "2024-09-27", "2024-10-23", "2024 National Day with two make-up days"),
    # 2025 春节: 01-26 Sun, 01-27, [01-28..02-04 off], 02-05..07, 02-08 Sat, 02-10..14, 02-17..20
    ("working_15", "2025-01-24", "2025-02-20", "2025 Spring Festival"),
    # 2025 国庆+中秋: 09-28 Sun, 09-29, 09-30, [10-01..08 off], 10-09, 10-10, 10-11 Sat, ...
    ("working_15", "2025-09-26", "2025-10-23", "2025 National Day + Mid-autumn"),
    # 2026 春节: 02-13, 02-14 Sat, [02-15..23 off], 02-24..27, 02-28 Sat, 03-02..06, 03-09..11
    ("working_15", "2026-02-12", "2026-03-11", "2026 Spring Festival"),
    # 2026 国庆: 09-30, [10-01..07 off], 10-08, 10-09, 10-10 Sat, 10-12..16, 10-19..23, 10-26
    ("working_15", "2026-09-29", "2026-10-26", "2026 National Day"),
    # real working-day rules
    ("manual_reimbursement", "2024-09-25", "2024-10-28", "20 working days over National Day"),
    ("appraisal_supplement_notice", "2024-02-07", "2024-02-20", "5 working days over Spring Festival"),
    # 04-27 Sun, 04-28..30, [05-01..05 off], 05-06..09, 05-12, 05-13
    ("registration_change", "2025-04-25", "2025-05-13", "10 working days over Labour Day, 04-27 Sun working"),
    # 30 calendar days ending on a holiday: moves to the day after the holiday (CC 203)
    ("employer_filing", "2024-01-11", "2024-02-18", "ends 02-10 Spring Festival → 02-18 make-up Sunday"),
    ("employer_filing", "2024-09-01", "2024-10-08", "ends 10-01 → 10-08"),
    ("employer_filing", "2025-09-01", "2025-10-09", "ends 10-01, holiday to 10-08 → 10-09"),
    ("employer_filing", "2025-01-01", "2025-02-05", "ends 01-31 Spring Festival → 02-05"),
    ("employer_filing", "2026-01-16", "2026-02-24", "ends 02-15 Spring Festival → 02-24"),
    ("employer_filing", "2024-06-06", "2024-07-08", "ends on Saturday 07-06 → Monday 07-08"),
    ("employer_filing", "2024-01-05", "2024-02-04", "ends on make-up working Sunday 02-04: no shift"),
    ("employer_filing", "2024-03-02", "2024-04-01", "ends on a Monday: no shift"),
    # 60 days from acceptance
    ("recognition_decision", "2024-08-02", "2024-10-08", "ends 10-01 → 10-08"),
    ("recognition_decision", "2025-03-01", "2025-04-30", "ends the working day before Labour Day"),
    ("recognition_decision", "2024-12-01", "2025-02-05", "ends 01-30 Spring Festival → 02-05"),
    ("recognition_decision", "2026-03-01", "2026-04-30", "2026, no shift"),
    ("recognition_decision_simple", "2025-09-16", "2025-10-09", "15 days ends 10-01 → 10-09"),
    ("decision_delivery", "2025-01-08", "2025-02-05", "20 days ends 01-28 → 02-05"),
    # years and months (CC 202): the same-numbered day, or the month's last day
    ("worker_filing", "2024-02-29", "2025-02-28", "leap day + 1 year → 02-28"),
    ("worker_filing", "2025-02-17", "2026-02-24", "ends 2026-02-17 Spring Festival → 02-24"),
    ("worker_filing", "2024-03-15", "2025-03-17", "ends Saturday 2025-03-15 → Monday"),
    ("administrative_litigation", "2024-08-31", "2025-02-28", "6 months from 08-31 → 02-28"),
    ("administrative_litigation", "2025-08-31", "2026-02-28", "→ 02-28, a make-up working Saturday"),
    ("paid_leave", "2024-01-31", "2025-01-31", "12 months, a duration: no holiday shift"),
    ("appraisal_review", "2024-02-29", "2025-02-28", "earliest date, 1 year"),
]

WORKING_15 = dl.Rule(
    key="working_15", ref="T", title="测试：15个工作日", length=15, unit=Unit.WORKING_DAYS, starts="event",
    starts_label="测试事件之日", pausable_by=(PauseKind.SUSPENSION, PauseKind.SUPPLEMENT), holiday_shift=False,
    basis="T", source="测试", confidence="C", valid_from=date(2004, 1, 1))


def _rule(key):
    return WORKING_15 if key == "working_15" else key


@pytest.mark.parametrize("key,start,due,why", TABLE, ids=[f"{r[0]}-{r[1]}" for r in TABLE])
def test_real_dates(key, start, due, why):
    result = deadline(_rule(key), D(start))
    assert result.due_date == D(due), why


def test_working_day_result_fields():
    result = deadline(WORKING_15, D("2024-02-08"))
    assert result.counted_days == 15 and result.paused_days == 0
    assert "调休上班日计入" in result.explanation and "2024年3月6日届满" in result.explanation


def test_shift_is_explained():
    result = deadline("employer_filing", D("2024-01-11"))
    assert result.unshifted_due == D("2024-02-10") and result.shifted
    assert result.counted_days == 38
    assert "2024年2月10日为法定休假日（春节）" in result.explanation
    assert result.basis.startswith("《工伤保险条例》第十七条")


def test_add_months_month_end():
    assert dl.add_months(D("2024-01-31"), 1) == D("2024-02-29")
    assert dl.add_months(D("2025-01-31"), 1) == D("2025-02-28")
    assert dl.add_months(D("2024-03-31"), 1) == D("2024-04-30")
    assert dl.add_months(D("2024-02-29"), 12) == D("2025-02-28")
    assert dl.add_months(D("2024-11-30"), 3) == D("2025-02-28")
    assert dl.add_months(D("2024-01-15"), 1) == D("2024-02-15")


def test_rules_file_has_every_deadline_of_domain_md():
    refs = {r.ref for r in dl.rules()}
    assert refs == {f"D{n}" for n in range(1, 18)}
    for name in ("employer_filing", "worker_filing", "material_review", "recognition_decision",
                 "recognition_decision_simple", "decision_delivery", "appraisal_conclusion",
                 "appraisal_extension", "reappraisal_application", "appraisal_review"):
        assert name in dl.rule_keys()
    r = dl.rule("recognition_decision", D("2025-01-01"))
    assert (r.length, r.unit, r.starts, r.pausable_by, r.basis, r.confidence) == (
        60, Unit.CALENDAR_DAYS, "acceptance", (PauseKind.SUSPENSION,), "R 20", "C")
    assert dl.rule("material_review", D("2025-01-01")).unconfirmed  # RD 8 is U(sec)
    assert dl.counting_policy().confidence == "U(weak)"
    assert not any(r.holiday_shift for r in dl.rules() if r.unit is Unit.WORKING_DAYS)


def test_unknown_rule_and_date_before_the_rule():
    with pytest.raises(dl.UnknownRule, match="没有名为“nope”的期限规则"):
        deadline("nope", D("2025-01-01"))
    with pytest.raises(dl.RuleNotInForce, match="2015年01月01日没有适用的期限规则"):
        deadline("manual_reimbursement", D("2015-01-01"))


# --- year ends ----------------------------------------------------------------------------------


REASON_2027 = "2027年放假安排尚未公布，暂按法定节假日推算；公布后可能调整"


def test_working_days_across_2026_year_end_are_provisional_without_2027():
    result = deadline("manual_reimbursement", D("2026-12-20"))
    # 12-21..25, 12-28..31 (9), [2027-01-01 元旦], 01-04..08, 01-11..15, 01-18
    assert result.due_date == D("2027-01-18") and result.provisional
    assert result.provisional_years == (2027,) and result.provisional_reason == REASON_2027
    assert result.explanation.endswith(f"（暂定：{REASON_2027}。）")


def test_calendar_days_ending_in_2027_are_provisional_and_shift_off_the_statutory_holidays():
    """The holiday shift asks whether the last day is a working day: the provisional rule says."""
    result = deadline("employer_filing", D("2027-01-07"))  # 30 days: 2027-02-06 (春节)
    assert result.due_date == D("2027-02-09") and result.provisional and "（春节）" in result.explanation
    assert deadline("employer_filing", D("2026-12-15")).provisional  # 2027-01-14, a plain Thursday


def test_a_period_that_does_not_consult_2027_is_not_provisional():
    assert not deadline("paid_leave", D("2026-06-01")).provisional  # no holiday shift: 2027-06-01
    assert not deadline("employer_filing", D("2026-11-01")).provisional  # ends 2026-12-01
    result = deadline("worker_filing", D("2026-06-01"))
    assert result.due_date == D("2027-06-01") and result.provisional


def test_year_no_source_covers_still_fails():
    with pytest.raises(CalendarUnknown):
        deadline("manual_reimbursement", D("2100-12-20"))


def test_year_end_counts_once_2027_is_complete():
    cal = WorkCalendar({D("2027-01-01"): DayKind.HOLIDAY}, complete_years=[2027])
    # 2026-12-20 (Sun): 12-21..25, 12-28..31 (9), [2027-01-01 holiday], 01-04..08, 01-11..15, 01-18
    assert deadline("manual_reimbursement", D("2026-12-20"), calendar=cal).due_date == D("2027-01-18")
    # 30 days from 2026-12-02 end 2027-01-01 (holiday) → Monday 2027-01-04
    assert deadline("employer_filing", D("2026-12-02"), calendar=cal).due_date == D("2027-01-04")


def test_year_end_within_known_years():
    # 2025-12-24 + 10 working days: 12-25, 26, 29, 30, 31, [2026-01-01..03 off], 01-04 Sun working, 01-05..08
    assert deadline("registration_change", D("2025-12-24")).due_date == D("2026-01-08")


# --- pauses -------------------------------------------------------------------------------------


def test_supplement_pause_of_five_days_extends_a_calendar_day_period_by_five():
    plain = deadline("material_review", D("2025-03-04"))
    assert plain.due_date == D("2025-03-19")
    paused = deadline("material_review", D("2025-03-04"),
                      [Pause(D("2025-03-05"), D("2025-03-09"), PauseKind.SUPPLEMENT)])
    assert paused.due_date == D("2025-03-24") and paused.paused_days == 5
    assert paused.counted_days == 15
    assert "停止计算的5日不计入" in paused.explanation


def test_pause_over_a_holiday_in_a_working_day_period_extends_by_its_working_days():
    assert deadline(WORKING_15, D("2024-09-20")).due_date == D("2024-10-16")
    # 09-28..10-09 is 12 calendar days, of which 09-29, 09-30, 10-08, 10-09 are working days
    result = deadline(WORKING_15, D("2024-09-20"), [Pause(D("2024-09-28"), D("2024-10-09"))])
    assert result.paused_days == 4 and result.due_date == D("2024-10-22") and result.counted_days == 15


def test_overlapping_unsorted_and_touching_pauses_are_merged():
    start = D("2025-03-04")
    single = deadline("recognition_decision", start, [Pause(D("2025-03-05"), D("2025-03-10"))])
    merged = deadline("recognition_decision", start, [Pause(D("2025-03-08"), D("2025-03-10")),
                                                      Pause(D("2025-03-05"), D("2025-03-09"))])
    touching = deadline("recognition_decision", start, [Pause(D("2025-03-08"), D("2025-03-10")),
                                                        Pause(D("2025-03-05"), D("2025-03-07"))])
    assert single.paused_days == merged.paused_days == touching.paused_days == 6
    assert single.due_date == merged.due_date == touching.due_date
    assert [(s.start, s.end) for s in merged.pauses] == [(D("2025-03-05"), D("2025-03-10"))]


def test_a_pause_starting_before_the_start_event_is_clipped():
    start = D("2025-06-02")
    result = deadline("recognition_decision", start, [Pause(D("2025-05-20"), D("2025-06-04"))])
    assert result.paused_days == 2  # 06-03 and 06-04 only
    assert result.unshifted_due == D("2025-08-03")  # 08-01 + 2
    assert result.due_date == D("2025-08-04")  # 08-03 is a Sunday
    # wholly before the event (or on its day): no effect
    assert deadline("recognition_decision", start, [Pause(D("2025-05-01"), start)]).paused_days == 0


def test_a_pause_after_the_clock_ran_out_moves_nothing():
    plain = deadline("recognition_decision", D("2025-03-04"))
    late = deadline("recognition_decision", D("2025-03-04"), [Pause(D("2025-06-01"), D("2025-06-30"))])
    assert late.due_date == plain.due_date and late.paused_days == 0


def test_a_pause_crossing_the_due_date_counts_its_days_before_it():
    # nominal due 2025-05-03; pause 05-01..05-10: 3 paused days before it → … → 10 days: 05-13
    result = deadline("recognition_decision", D("2025-03-04"), [Pause(D("2025-05-01"), D("2025-05-10"))])
    assert result.paused_days == 10 and result.due_date == D("2025-05-13")


def test_open_pause_holds_the_clock():
    result = deadline("recognition_decision", D("2025-03-01"), [Pause(D("2025-03-10"))])
    assert result.due_date is None and result.is_paused and result.paused_since == D("2025-03-10")
    assert result.counted_days == 8 and result.days_left == 52
    working = deadline(WORKING_15, D("2024-09-20"), [Pause(D("2024-09-28"))])
    assert working.due_date is None and working.counted_days == 5 and working.days_left == 10
    assert status(result, D("2025-12-31")).state is ClockState.PAUSED


def test_pause_kind_must_be_allowed_by_the_rule():
    with pytest.raises(InvalidPause, match="不因“中止”停止计算"):
        deadline("decision_delivery", D("2025-03-01"), [Pause(D("2025-03-02"), D("2025-03-03"))])
    tolled = deadline("worker_filing", D("2024-03-15"),
                      [Pause(D("2024-04-01"), D("2024-04-10"), PauseKind.TOLLING)])
    assert tolled.paused_days == 10


def test_pause_end_before_start_is_refused():
    with pytest.raises(InvalidPause, match="早于开始日期"):
        Pause(D("2025-03-10"), D("2025-03-01"))


# --- status -------------------------------------------------------------------------------------


def test_status_ok_near_overdue():
    result = deadline("recognition_decision", D("2024-08-02"))  # due 2024-10-08
    ok = status(result, D("2024-09-02"))
    assert ok.state is ClockState.OK and ok.days_remaining == 36
    # from 09-27: 09-29, 09-30, 10-08 are the working days left → near with N = 3
    near = status(result, D("2024-09-27"))
    assert near.state is ClockState.NEAR and near.working_days_remaining == 3 and near.days_remaining == 11
    assert status(result, D("2024-09-27"), near_working_days=2).state is ClockState.OK
    due_day = status(result, D("2024-10-08"))
    assert due_day.state is ClockState.NEAR and due_day.days_remaining == 0 and due_day.working_days_remaining == 0
    late = status(result, D("2024-10-09"))
    assert late.state is ClockState.OVERDUE and late.days_remaining == -1 and late.label == "已超期"


def test_status_far_from_an_unknown_year_is_ok_close_to_it_fails():
    cal = WorkCalendar({D("2101-01-01"): DayKind.HOLIDAY}, complete_years=[2101])
    result = deadline("worker_filing", D("2100-03-02"), calendar=cal)  # 2101-03-02
    far = status(result, D("2100-06-01"))  # 2101: no source, but far off
    assert far.state is ClockState.OK and far.working_days_remaining is None
    with pytest.raises(CalendarUnknown):
        status(result, D("2101-02-20"))
    assert status(result, D("2101-02-26"), calendar=cal).state is ClockState.NEAR


def test_status_counts_through_a_provisional_year():
    result = deadline("manual_reimbursement", D("2026-12-20"))  # 2027-01-18 暂定
    near = status(result, D("2027-01-13"))
    assert near.state is ClockState.NEAR and near.working_days_remaining == 3


def test_status_refuses_earliest_dates():
    with pytest.raises(ValueError):
        status(deadline("appraisal_review", D("2024-02-29")), D("2024-03-01"))


def test_rule_versions_follow_the_start_date(monkeypatch):
    old = dl.rule("employer_filing", D("2020-01-01"))
    newer = replace(old, length=45, valid_from=D("2030-01-01"))
    ended = replace(old, valid_to=D("2029-12-31"))
    policy = dl.counting_policy()
    monkeypatch.setattr(dl, "_data", lambda: ((ended, newer), policy))
    assert dl.rule("employer_filing", D("2029-12-31")).length == 30
    assert dl.rule("employer_filing", D("2030-01-01")).length == 45
    assert dl.rules()[0].length == 45
