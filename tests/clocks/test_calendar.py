"""The working-day calendar against the State Council holiday arrangements 2024–2026, and the
override table's order of precedence (pure: no database)."""

from datetime import date

import pytest

from portal.clocks.calendar import (
    CalendarUnknown,
    DayKind,
    WorkCalendar,
    is_working_day,
    library_covers,
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


def test_unknown_year_fails_clearly():
    with pytest.raises(CalendarUnknown) as caught:
        is_working_day(date(2027, 1, 4))
    assert isinstance(caught.value, UserInputError) and caught.value.status == 422
    assert caught.value.year == 2027
    assert "2027年的法定节假日安排尚未录入" in caught.value.message
    assert "请省级管理员在节假日维护中录入" in caught.value.message


def test_override_comes_first_even_in_a_library_year():
    cal = WorkCalendar({date(2026, 12, 31): DayKind.HOLIDAY, date(2024, 2, 10): DayKind.WORKDAY},
                       names={date(2026, 12, 31): "测试更正"})
    assert cal.is_working_day(date(2026, 12, 31)) is False
    assert cal.info(date(2026, 12, 31)).name == "测试更正" and cal.info(date(2026, 12, 31)).source == "override"
    assert cal.is_working_day(date(2024, 2, 10)) is True
    assert cal.info(date(2024, 2, 12)).name == "春节"


def test_overrides_alone_do_not_make_a_year_known():
    cal = WorkCalendar({date(2027, 1, 1): DayKind.HOLIDAY})
    assert cal.is_working_day(date(2027, 1, 1)) is False  # that one date is stated
    assert not cal.knows_year(2027)
    with pytest.raises(CalendarUnknown):
        cal.is_working_day(date(2027, 1, 4))  # every other date is not


def test_a_year_marked_complete_follows_the_weekday_rule_after_its_overrides():
    cal = WorkCalendar({date(2027, 1, 1): DayKind.HOLIDAY, date(2027, 2, 6): DayKind.WORKDAY},
                       complete_years=[2027])
    assert cal.knows_year(2027)
    assert cal.is_working_day(date(2027, 1, 1)) is False  # Friday, holiday override
    assert cal.is_working_day(date(2027, 1, 2)) is False  # Saturday
    assert cal.is_working_day(date(2027, 1, 4)) is True  # Monday
    assert cal.is_working_day(date(2027, 2, 6)) is True  # Saturday, make-up working day
    assert cal.info(date(2027, 1, 4)).source == "weekday_rule"
    with pytest.raises(CalendarUnknown):
        cal.is_working_day(date(2028, 1, 3))


def test_next_working_day_and_counting():
    assert WorkCalendar().next_working_day(date(2024, 10, 1)) == date(2024, 10, 8)
    assert WorkCalendar().next_working_day(date(2024, 2, 18)) == date(2024, 2, 18)
    # 2024-09-27 (Fri) .. 2024-10-12 (Sat): 09-29, 09-30, 10-08..11, 10-12
    assert WorkCalendar().working_days_between(date(2024, 9, 27), date(2024, 10, 12)) == 7
    assert WorkCalendar().working_days_between(date(2024, 9, 27), date(2024, 9, 27)) == 0
