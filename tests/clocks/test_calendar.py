"""The working-day calendar against the State Council holiday arrangements 2024–2026, the
provisional years after them, and the override table's order of precedence (pure: no database)."""

from datetime import date

import pytest

from portal.clocks.calendar import (
    CalendarUnknown,
    DayKind,
    WorkCalendar,
    is_working_day,
    library_covers,
    library_last_year,
    statutory_holidays,
)
from portal.errors import UserInputError

# (day, working?) from 国务院办公厅关于2024/2025/2026年部分节假日安排的通知
OFFICIAL = [
    # 2024 春节 02-10..17 off; Sundays 02-04 and 02-18 are working days; 除夕 02-09 is a working day
    ("2024-02-04", True), ("2024-02-09", True), ("2024-02-10", False), ("2024-02-12", False),
    ("2024-02-17", False), ("2024-02-18", True),
    # 2024 国庆 10-01..07 off; 09-29 (Sun) and 10-12 (Sat) working; 09-28 (Sat) rest
    ("2024-09-28", False), ("2024-09-29", True), ("2024-10-01", False), ("2024-10-07", False),
    ("2024-10-08", True), ("2024-10-12", True),
    # 2025 春节 01-28..02-04 off; 01-26 (Sun) and 02-08 (Sat) working
    ("2025-01-26", True), ("2025-01-28", False), ("2025-02-04", False), ("2025-02-05", True),
    ("2025-02-08", True),
    # 2025 国庆+中秋 10-01..08 off; 09-28 (Sun) and 10-11 (Sat) working
    ("2025-09-28", True), ("2025-10-01", False), ("2025-10-08", False), ("2025-10-09", True),
    ("2025-10-11", True),
    # 2025 劳动节 05-01..05 off; 04-27 (Sun) working
    ("2025-04-27", True), ("2025-05-05", False), ("2025-05-06", True),
    # 2026 元旦 01-01..03 off, 01-04 (Sun) working; 春节 02-15..23 off, 02-14 and 02-28 (Sat) working;
    # 国庆 10-01..07 off, 09-20 (Sun) and 10-10 (Sat) working
    ("2026-01-01", False), ("2026-01-04", True), ("2026-02-14", True), ("2026-02-15", False),
    ("2026-02-23", False), ("2026-02-24", True), ("2026-02-28", True), ("2026-09-20", True),
    ("2026-10-01", False), ("2026-10-07", False), ("2026-10-08", True), ("2026-10-10", True),
    # ordinary weekends and weekdays
    ("2024-03-09", False), ("2024-03-11", True), ("2026-12-31", True),
]


@pytest.mark.parametrize("day,working", OFFICIAL)
def test_official_arrangements(day, working):
    assert is_working_day(date.fromisoformat(day)) is working


def test_library_years():
    assert library_covers(2024) and library_covers(2026)
    assert not library_covers(2027) and not library_covers(2003)


def test_a_year_no_source_covers_fails_clearly_without_a_staff_instruction_in_the_message():
    with pytest.raises(CalendarUnknown) as caught:
        is_working_day(date(2101, 1, 4))  # beyond the holidays package's range
    assert isinstance(caught.value, UserInputError) and caught.value.status == 422
    assert caught.value.year == 2101
    assert "2101年的法定节假日无法确定" in caught.value.message
    assert "管理员" not in caught.value.message  # the message may reach workers
    assert "请省级管理员在节假日维护中录入2101年" in caught.value.staff_hint


# 2027 under the rules in force from 2025 (《全国年节及纪念日放假办法》, 13 days)
STATUTORY_2027 = {
    "2027-01-01": "元旦", "2027-02-05": "春节", "2027-02-06": "春节", "2027-02-07": "春节",
    "2027-02-08": "春节", "2027-04-05": "清明节", "2027-05-01": "劳动节", "2027-05-02": "劳动节",
    "2027-06-09": "端午节", "2027-09-15": "中秋节", "2027-10-01": "国庆节", "2027-10-02": "国庆节",
    "2027-10-03": "国庆节",
}


def test_the_13_statutory_holidays_of_2027_with_their_lunar_dates():
    assert {d.isoformat(): n for d, n in statutory_holidays(2027).items()} == STATUTORY_2027


def test_statutory_holidays_leave_out_the_make_up_rest_days_of_a_published_year():
    days = statutory_holidays(2025)
    assert len(days) == 13 and date(2025, 1, 28) in days  # 除夕, statutory from 2025
    assert date(2025, 2, 3) not in days and date(2025, 2, 4) not in days  # 调休放假, not statutory
    assert date(2025, 10, 8) not in days


def test_2027_is_provisional_weekends_rest_and_no_make_up_days_are_guessed():
    cal = WorkCalendar()
    assert library_last_year() == 2026 and cal.is_provisional_year(2027) and not cal.is_provisional_year(2026)
    for day, name in STATUTORY_2027.items():
        info = cal.info(date.fromisoformat(day))
        assert (info.working, info.name, info.provisional, info.source) == (False, name, True, "provisional")
    # the weekday after 春节 is a working day: no guessed extra rest days (the real notice may add them)
    assert cal.info(date(2027, 2, 9)).working and cal.info(date(2027, 2, 9)).provisional
    # the Sunday before 春节 is a rest day: no guessed make-up working day
    assert not cal.is_working_day(date(2027, 1, 31))
    assert cal.is_working_day(date(2027, 1, 4)) and not cal.is_working_day(date(2027, 1, 9))
    assert cal.info(date(2026, 12, 31)).provisional is False


def test_an_override_beats_the_provisional_rule():
    cal = WorkCalendar({date(2027, 2, 9): DayKind.HOLIDAY, date(2027, 2, 20): DayKind.WORKDAY},
                       names={date(2027, 2, 9): "春节", date(2027, 2, 20): "春节"})
    assert not cal.is_working_day(date(2027, 2, 9)) and cal.info(date(2027, 2, 9)).source == "override"
    assert cal.is_working_day(date(2027, 2, 20))  # Saturday made a working day
    assert cal.info(date(2027, 2, 20)).provisional  # the year is still unconfirmed


def test_provisional_years_are_computed_once_per_year(monkeypatch):
    import portal.clocks.calendar as calendar_module

    calls = []
    real = calendar_module.statutory_holidays

    def counting(year):
        calls.append(year)
        return real(year)

    monkeypatch.setattr(calendar_module, "statutory_holidays", counting)
    cal = WorkCalendar()
    # 01-02 .. 12-31: 364 days, 104 weekend days, 6 weekday holidays (01-01 is not counted)
    assert cal.working_days_between(date(2027, 1, 1), date(2027, 12, 31)) == 364 - 104 - 6
    assert calls == [2027]


def test_override_comes_first_even_in_a_library_year():
    cal = WorkCalendar({date(2026, 12, 31): DayKind.HOLIDAY, date(2024, 2, 10): DayKind.WORKDAY},
                       names={date(2026, 12, 31): "测试更正"})
    assert cal.is_working_day(date(2026, 12, 31)) is False
    assert cal.info(date(2026, 12, 31)).name == "测试更正" and cal.info(date(2026, 12, 31)).source == "override"
    assert cal.is_working_day(date(2024, 2, 10)) is True
    assert cal.info(date(2024, 2, 12)).name == "春节"


def test_overrides_alone_do_not_confirm_a_year():
    cal = WorkCalendar({date(2027, 1, 1): DayKind.HOLIDAY})
    assert cal.is_working_day(date(2027, 1, 1)) is False  # that one date is stated
    assert not cal.knows_year(2027) and cal.is_provisional_year(2027)
    assert cal.info(date(2027, 1, 4)).provisional  # every other date is provisional


def test_a_year_marked_complete_follows_the_weekday_rule_after_its_overrides():
    cal = WorkCalendar({date(2027, 1, 1): DayKind.HOLIDAY, date(2027, 2, 6): DayKind.WORKDAY},
                       complete_years=[2027])
    assert cal.knows_year(2027)
    assert cal.is_working_day(date(2027, 1, 1)) is False  # Friday, holiday override
    assert cal.is_working_day(date(2027, 1, 2)) is False  # Saturday
    assert cal.is_working_day(date(2027, 1, 4)) is True  # Monday
    assert cal.is_working_day(date(2027, 2, 6)) is True  # Saturday, make-up working day
    assert cal.info(date(2027, 1, 4)).source == "weekday_rule" and not cal.info(date(2027, 1, 4)).provisional
    # a confirmed year has no provisional holidays: 2027-02-08 (春节, Monday) was not entered
    assert cal.is_working_day(date(2027, 2, 8)) is True
    assert cal.info(date(2028, 1, 3)).provisional


def test_next_working_day_and_counting():
    assert WorkCalendar().next_working_day(date(2024, 10, 1)) == date(2024, 10, 8)
    assert WorkCalendar().next_working_day(date(2024, 2, 18)) == date(2024, 2, 18)
    # 2024-09-27 (Fri) .. 2024-10-12 (Sat): 09-29, 09-30, 10-08..11, 10-12
    assert WorkCalendar().working_days_between(date(2024, 9, 27), date(2024, 10, 12)) == 7
    assert WorkCalendar().working_days_between(date(2024, 9, 27), date(2024, 9, 27)) == 0
