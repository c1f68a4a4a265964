"""The pause and month arithmetic of portal/clocks/deadlines.py at its edges (mutation testing:
an off-by-one, a swapped bound or a dropped clause there must fail a test). Pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from portal.clocks import deadlines as dl
from portal.clocks.calendar import CalendarUnknown, WorkCalendar
from portal.clocks.deadlines import (
    ClockState,
    InvalidPause,
    Pause,
    PauseKind,
    _paused_calendar_days,
    _Span,
    add_months,
    deadline,
    merge_pauses,
    status,
)

D = date


@pytest.mark.parametrize("day,months,expected", [
    (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap February: its last day (民法典第二百零二条)
    (D(2025, 1, 31), 1, D(2025, 2, 28)),
    (D(2024, 2, 29), 12, D(2025, 2, 28)),
    (D(2024, 3, 31), -1, D(2024, 2, 29)),
    (D(2024, 11, 30), 1, D(2024, 12, 30)),  # December: index 11 must not spill into the next year
    (D(2024, 12, 15), 1, D(2025, 1, 15)),
    (D(2024, 1, 15), 0, D(2024, 1, 15)),
    (D(2024, 1, 15), 23, D(2025, 12, 15)),
    (D(2024, 1, 15), 24, D(2026, 1, 15)),
    (D(2024, 5, 31), 6, D(2024, 11, 30)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_a_pause_counts_both_ends_and_refuses_an_end_before_its_start():
    assert Pause(D(2025, 3, 10), D(2025, 3, 14)).days == 5
    assert Pause(D(2025, 3, 10), D(2025, 3, 10)).days == 1
    assert Pause(D(2025, 3, 10)).days is None
    assert Pause(D(2025, 3, 10)).kind is PauseKind.SUSPENSION and Pause(D(2025, 3, 10)).reason == ""
    with pytest.raises(InvalidPause) as caught:
        Pause(D(2025, 3, 10), D(2025, 3, 9))
    assert caught.value.message == "停止计时的结束日期（2025年03月09日）早于开始日期（2025年03月10日）"
    assert caught.value.code == "invalid_pause"


def test_merge_clips_to_the_days_after_the_start_event():
    start = D(2025, 3, 1)
    assert merge_pauses([Pause(D(2025, 2, 20), D(2025, 3, 1))], start) == []  # wholly on or before it
    assert merge_pauses([Pause(D(2025, 2, 20), D(2025, 3, 2))], start) == [_Span(D(2025, 3, 2), D(2025, 3, 2))]
    assert merge_pauses([Pause(D(2025, 2, 20))], start) == [_Span(D(2025, 3, 2), None)]


def test_merge_sorts_and_joins_overlapping_and_touching_spans_only():
    start = D(2025, 3, 1)
    pauses = [Pause(D(2025, 3, 20), D(2025, 3, 22)), Pause(D(2025, 3, 5), D(2025, 3, 7)),
              Pause(D(2025, 3, 8), D(2025, 3, 9)), Pause(D(2025, 3, 11), D(2025, 3, 12))]
    assert merge_pauses(pauses, start) == [_Span(D(2025, 3, 5), D(2025, 3, 9)),  # 7 and 8 touch
                                           _Span(D(2025, 3, 11), D(2025, 3, 12)),  # a gap day: kept apart
                                           _Span(D(2025, 3, 20), D(2025, 3, 22))]
    inner = [Pause(D(2025, 3, 5), D(2025, 3, 20)), Pause(D(2025, 3, 6), D(2025, 3, 8))]
    assert merge_pauses(inner, start) == [_Span(D(2025, 3, 5), D(2025, 3, 20))]  # the longer end holds
    opened = [Pause(D(2025, 3, 5)), Pause(D(2025, 3, 9), D(2025, 3, 30))]
    assert merge_pauses(opened, start) == [_Span(D(2025, 3, 5), None)]
    closed_then_open = [Pause(D(2025, 3, 5), D(2025, 3, 10)), Pause(D(2025, 3, 11))]
    assert merge_pauses(closed_then_open, start) == [_Span(D(2025, 3, 5), None)]


def test_paused_calendar_days_counts_only_the_overlap_both_ends_included():
    spans = [_Span(D(2025, 3, 5), D(2025, 3, 9)), _Span(D(2025, 3, 20), D(2025, 3, 22))]
    assert _paused_calendar_days(spans, D(2025, 3, 1), D(2025, 3, 31)) == 8
    assert _paused_calendar_days(spans, D(2025, 3, 9), D(2025, 3, 20)) == 2
    assert _paused_calendar_days(spans, D(2025, 3, 10), D(2025, 3, 19)) == 0
    assert _paused_calendar_days(spans, D(2025, 3, 6), D(2025, 3, 6)) == 1


# --- working-day periods, the holiday shift and the clock status, field by field ------------------

WORKING_15 = dl.Rule(
    key="working_15", ref="T", title="测试：15个工作日", length=15, unit=dl.Unit.WORKING_DAYS, starts="event",
    starts_label="测试事件之日", pausable_by=(PauseKind.SUSPENSION, PauseKind.SUPPLEMENT), holiday_shift=False,
    basis="T", source="《测试条例》第一条", confidence="C", valid_from=D(2004, 1, 1))
PROVISIONAL_2027 = "（暂定：2027年放假安排尚未公布，暂按法定节假日推算；公布后可能调整。）"


def test_an_open_pause_holds_a_working_day_clock_and_says_what_remains():
    # 2024-02-08: 02-09 (1), [02-10..17 Spring Festival], 02-18 make-up Sunday (2), 02-19 (3), stopped 02-20
    result = deadline(WORKING_15, D(2024, 2, 8), [Pause(D(2024, 2, 20))])
    assert (result.rule, result.start_event_date, result.due_date, result.basis) == (
        WORKING_15, D(2024, 2, 8), None, "《测试条例》第一条")
    assert (result.counted_days, result.paused_days, result.paused_since, result.days_left) == (3, 0, D(2024, 2, 20), 12)
    assert (result.unshifted_due, result.pauses, result.provisional_years) == (None, (_Span(D(2024, 2, 20), None),), ())
    assert result.explanation == ("自测试事件之日（2024年2月8日）的次日起算15个工作日；自2024年2月20日起停止计算，"
                                  "已计3个工作日，恢复计算后还剩12个工作日。")
    held = status(result, D(2024, 3, 1))
    assert (held.state, held.due_date, held.days_remaining, held.working_days_remaining,
            held.days_left_when_resumed) == (ClockState.PAUSED, None, None, None, 12)


def test_a_closed_pause_moves_a_working_day_clock_by_its_working_days():
    result = deadline(WORKING_15, D(2024, 2, 8), [Pause(D(2024, 2, 20), D(2024, 2, 21))])
    assert (result.start_event_date, result.due_date, result.unshifted_due, result.basis) == (
        D(2024, 2, 8), D(2024, 3, 8), D(2024, 3, 8), "《测试条例》第一条")  # 03-06 + 2 working days
    assert (result.counted_days, result.paused_days, result.paused_since, result.days_left) == (15, 2, None, None)
    assert result.pauses == (_Span(D(2024, 2, 20), D(2024, 2, 21)),) and not result.shifted
    assert result.explanation == ("自测试事件之日（2024年2月8日）的次日起算15个工作日；法定节假日和休息日不计入，调休上班日计入；"
                                  "停止计算期间的2个工作日不计入，期限相应顺延；至2024年3月8日届满。")


def test_the_count_starts_the_day_after_the_event_for_provisional_years():
    # 2027 not confirmed, 2028 confirmed: counting from 2027-12-31 passes through the provisional 2027
    cal = WorkCalendar(complete_years=[2028])
    result = deadline(WORKING_15, D(2027, 12, 30), calendar=cal)
    assert result.due_date == D(2028, 1, 20) and result.provisional_years == (2027,)
    assert result.explanation.endswith("至2028年1月20日届满。" + PROVISIONAL_2027)
    held = deadline(WORKING_15, D(2027, 12, 30), [Pause(D(2028, 1, 5))], calendar=cal)
    assert held.provisional_years == (2027,) and held.explanation.endswith("还剩12个工作日。" + PROVISIONAL_2027)
    # the event day itself is not counted: the year before it (2100, provisional) is never asked
    far = WorkCalendar(complete_years=[2101])
    assert deadline(WORKING_15, D(2101, 1, 1), calendar=far).provisional_years == ()
    held_far = deadline(WORKING_15, D(2101, 1, 1), [Pause(D(2101, 1, 5))], calendar=far)
    assert (held_far.days_left, held_far.provisional_years) == (13, ())  # 2100 (provisional) not asked


@pytest.mark.parametrize("pause,due", [
    ((D(2024, 2, 18), D(2024, 2, 18)), D(2024, 2, 19)),  # the make-up Sunday is suspended: the next day
    ((D(2024, 2, 12), D(2024, 2, 18)), D(2024, 2, 19)),
    ((D(2024, 2, 18), D(2024, 2, 20)), D(2024, 2, 21)),
    ((D(2024, 2, 19), D(2024, 2, 20)), D(2024, 2, 18)),  # after the shifted day: no effect
])
def test_the_shifted_last_day_cannot_fall_on_a_day_the_clock_is_stopped(pause, due):
    # employer_filing from 2024-01-11 ends 02-10 (春节) → 02-18; a pause after the nominal end moves
    # no day of the count, but the period cannot end while the case is suspended
    rule = replace(dl.rule("employer_filing", D(2024, 1, 11)), pausable_by=(PauseKind.SUSPENSION,))
    result = deadline(rule, D(2024, 1, 11), [Pause(*pause)])
    assert (result.due_date, result.unshifted_due, result.paused_days) == (due, D(2024, 2, 10), 0)


def test_status_fields_when_overdue_and_ok():
    result = deadline(WORKING_15, D(2024, 2, 8))  # due 2024-03-06
    late = status(result, D(2024, 3, 9))
    assert (late.state, late.due_date, late.days_remaining, late.working_days_remaining) == (
        ClockState.OVERDUE, D(2024, 3, 6), -3, None)
    ok = status(result, D(2024, 2, 26))
    assert (ok.state, ok.due_date, ok.days_remaining, ok.working_days_remaining) == (ClockState.OK, D(2024, 3, 6), 9, 7)  # 02-27..29, 03-01, 03-04..06


def test_status_far_from_a_year_no_calendar_knows():
    """No run of rest days is longer than 9 days, so more than 7 × (N + 1) + 14 calendar days (42
    with N = 3) hold more than N working days whatever the year holds; 42 or fewer need the calendar."""
    cal = WorkCalendar(complete_years=[2101])
    result = deadline("worker_filing", D(2100, 3, 2), calendar=cal)  # 2101-03-02
    far = status(result, result.due_date - timedelta(days=43))
    assert (far.state, far.due_date, far.days_remaining, far.working_days_remaining) == (
        ClockState.OK, D(2101, 3, 2), 43, None)
    with pytest.raises(CalendarUnknown):
        status(result, result.due_date - timedelta(days=42))
    assert status(result, result.due_date - timedelta(days=50), near_working_days=4).state is ClockState.OK
    with pytest.raises(CalendarUnknown):
        status(result, result.due_date - timedelta(days=49), near_working_days=4)


def test_status_names_the_rule_that_gives_an_earliest_date():
    with pytest.raises(ValueError, match="^appraisal_review gives an earliest date, not a deadline$"):
        status(deadline("appraisal_review", D(2024, 2, 29)), D(2024, 3, 1))


def test_rules_on_a_day_gives_the_versions_in_force_once_each():
    on = D(2024, 1, 1)
    found = dl.rules(on)
    keys = [r.key for r in found]
    assert len(keys) == len(set(keys)) and "employer_filing" in keys and "manual_reimbursement" in keys
    assert all(r.covers(on) for r in found)
    assert "manual_reimbursement" not in [r.key for r in dl.rules(D(2005, 1, 1))]  # in force from 2023-12-01


def test_an_open_pause_holds_a_calendar_day_clock_and_says_what_remains():
    # material_review: 15 days from 2025-03-04 (03-19); supplement pauses 03-06..07 (closed) and from 03-10 (open)
    pauses = [Pause(D(2025, 3, 6), D(2025, 3, 7), PauseKind.SUPPLEMENT), Pause(D(2025, 3, 10), None, PauseKind.SUPPLEMENT)]
    result = deadline("material_review", D(2025, 3, 4), pauses)
    assert (result.start_event_date, result.due_date, result.basis) == (
        D(2025, 3, 4), None, "《工伤认定办法》（人社部令第8号）第八条")
    # counted: 03-05, 03-08, 03-09; the end moved to 03-21 by the 2 paused days: 03-10..21 = 12 left
    assert (result.counted_days, result.paused_days, result.paused_since, result.days_left) == (3, 2, D(2025, 3, 10), 12)
    assert result.unshifted_due is None and len(result.pauses) == 2
    assert result.explanation == ("自收到工伤认定申请之日（2025年3月4日）的次日起算15日；自2025年3月10日起停止计算，"
                                  "已计3日，恢复计算后还剩12日。")
    on_the_last_day = deadline("material_review", D(2025, 3, 4), pauses[:1] + [
        Pause(D(2025, 3, 21), None, PauseKind.SUPPLEMENT)])
    assert (on_the_last_day.due_date, on_the_last_day.days_left, on_the_last_day.counted_days) == (None, 1, 14)


def test_a_pause_starting_the_day_after_the_last_day_moves_nothing():
    result = deadline("material_review", D(2025, 3, 4), [Pause(D(2025, 3, 20), D(2025, 3, 20), PauseKind.SUPPLEMENT)])
    assert (result.due_date, result.paused_days, result.counted_days) == (D(2025, 3, 19), 0, 15)
