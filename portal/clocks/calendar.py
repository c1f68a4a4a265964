"""The Chinese working-day calendar (工作日历): official holidays and make-up working days.

Which days are working days is answered, in this order:

1. the province's **override table** (节假日维护, ``HolidayOverride`` rows: a date marked 放假
   ``holiday`` or 调休上班 ``workday``) — it corrects the library and adds years it lacks;
2. the ``chinese_calendar`` library (State Council arrangements; data for 2004–2026 only — it
   raises ``NotImplementedError`` for any other year);
3. for a year the library does not cover: Monday–Friday work and weekends rest, but ONLY when
   provincial staff have marked that year's arrangement complete (``YearCompleteness``) after
   entering its holidays and make-up days as overrides. The table lists only exceptions, so a
   year without that mark is unknown, and asking about it raises :class:`CalendarUnknown` —
   never a silent guess from weekdays.

A year is therefore **known** when the library covers it OR the province has marked it complete.
Plain Python, no Flask and no database: the service builds a :class:`WorkCalendar` from the
table (``portal.clocks.service.work_calendar(sess)``); without one, the library alone answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from portal.choices import LabelledEnum
from portal.errors import UserInputError


class CalendarUnknown(UserInputError):
    """A day whose year neither the library nor the province's override table knows."""

    code = "calendar_unknown"

    def __init__(self, year: int) -> None:
        super().__init__(f"{year}年的法定节假日安排尚未录入，无法计算工作日期限；请省级管理员在节假日维护中录入"
                         f"{year}年的放假和调休上班日期，并确认全年安排已录入完整")
        self.year = year


class DayKind(LabelledEnum):
    HOLIDAY = "holiday", "放假"  #: 法定节假日或调休放假
    WORKDAY = "workday", "调休上班"

#: the library's holiday names in Chinese
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@lru_cache(maxsize=256)
def library_covers(year: int) -> bool:
    """True when ``chinese_calendar`` has the State Council arrangement for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class DayInfo:
    day: date
    working: bool
    name: str | None  #: holiday name (e.g. 春节 / Spring Festival), when there is one
    source: str  #: "override" | "library" | "weekday_rule"


class WorkCalendar:
    """Working days from overrides (first), the library, then — for years marked complete —
    the Monday–Friday rule."""

    def __init__(self, overrides: Mapping[date, DayKind] | None = None,
                 complete_years: Iterable[int] = (), names: Mapping[date, str] | None = None) -> None:
        self._overrides = {day: DayKind(kind) for day, kind in (overrides or {}).items()}
        self._names = dict(names or {})
        self._complete = frozenset(complete_years)

    def knows_year(self, year: int) -> bool:
        return library_covers(year) or year in self._complete

    def override_years(self) -> set[int]:
        return {day.year for day in self._overrides}

    def info(self, day: date) -> DayInfo:
        kind = self._overrides.get(day)
        if kind is not None:
            return DayInfo(day, kind is DayKind.WORKDAY, self._names.get(day), "override")
        if library_covers(day.year):
            _, name = chinese_calendar.get_holiday_detail(day)
            return DayInfo(day, chinese_calendar.is_workday(day), HOLIDAY_NAMES.get(name, name), "library")
        if day.year in self._complete:
            return DayInfo(day, day.weekday() < 5, None, "weekday_rule")
        raise CalendarUnknown(day.year)

    def is_working_day(self, day: date) -> bool:
        return self.info(day).working

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def working_days_between(self, after: date, until: date) -> int:
        """Working days ``d`` with ``after < d <= until`` (0 when ``until <= after``)."""
        count = 0
        day = after + timedelta(days=1)
        while day <= until:
            if self.is_working_day(day):
                count += 1
            day += timedelta(days=1)
        return count


#: the library alone, for callers without the override table (pure tests, the command line
#: before the database is reachable)
LIBRARY_ONLY = WorkCalendar()


def is_working_day(day: date, calendar: WorkCalendar | None = None) -> bool:
    """Is ``day`` a working day? Raises :class:`CalendarUnknown` for an unknown year."""
    return (calendar or LIBRARY_ONLY).is_working_day(day)
