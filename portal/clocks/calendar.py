"""The Chinese working-day calendar (工作日历): official holidays and make-up working days.

Which days are working days is answered, in this order:

1. the province's **override table** (节假日维护, ``HolidayOverride`` rows: a date marked 放假
   ``holiday`` or 调休上班 ``workday``) — it corrects the library and adds years it lacks;
2. the ``chinese_calendar`` library (State Council arrangements; data for 2004–2026 only — it
   raises ``NotImplementedError`` for any other year);
3. for a year the library does not cover whose arrangement provincial staff have confirmed
   (``YearCompleteness``, after entering its holidays and make-up days as overrides):
   Monday–Friday work and weekends rest;
4. otherwise, **provisionally** (暂定): that year's statutory holidays under the rules in force
   (《全国年节及纪念日放假办法》, from 2025 thirteen days: 元旦1, 春节4 (除夕、初一至初三),
   清明1, 劳动节2, 端午1, 中秋1, 国庆3), with the lunar dates of the ``holidays`` package,
   plus the overrides already entered, weekends rest, and NO guessed observed or make-up days.
   Every answer from such a year says ``provisional``; deadlines counted through it are shown
   and stored as 暂定 until staff confirm the year.

Only a year no source can give (outside the ``holidays`` package's range) raises
:class:`CalendarUnknown` — never a silent guess from weekdays.
Plain Python, no Flask and no database: the service builds a :class:`WorkCalendar` from the
table (``portal.clocks.service.work_calendar(sess)``); without one, the library alone answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
import holidays as holiday_rules

from portal.choices import LabelledEnum
from portal.errors import UserInputError


class CalendarUnknown(UserInputError):
    """A day in a year no source gives holidays for (outside the ``holidays`` package's range,
    not confirmed by the province). ``message`` is for anyone; ``staff_hint`` (what provincial
    staff can do about it) only for staff pages."""

    code = "calendar_unknown"

    def __init__(self, year: int) -> None:
        super().__init__(f"{year}年的法定节假日无法确定，暂无法计算按工作日或节假日顺延的期限")
        self.year = year
        self.staff_hint = (f"请省级管理员在节假日维护中录入{year}年的放假和调休上班日期，"
                           "并确认全年安排已录入完整")


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


#: the ``holidays`` package's names of the statutory holidays (《全国年节及纪念日放假办法》);
#: anything else it lists (e.g. "Day off (substituted from …)", a make-up rest day of a published
#: arrangement) is not a statutory holiday and is left out of a provisional year
STATUTORY_NAMES = {
    "New Year's Day": "元旦",
    "Chinese New Year's Eve": "春节",
    "Chinese New Year (Spring Festival)": "春节",
    "Tomb-Sweeping Day": "清明节",
    "Labor Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-Autumn Festival": "中秋节",
    "National Day": "国庆节",
}


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> Mapping[date, str]:
    """The statutory holidays of ``year`` under the rules in force that year (date → Chinese
    name), without observed or make-up days; empty when the ``holidays`` package cannot say
    (outside its range, 1950–2100 in 0.109)."""
    try:
        found = holiday_rules.China(years=year, observed=False, language="en_US")
    except (NotImplementedError, ValueError, KeyError):
        return {}
    return dict(sorted((day, STATUTORY_NAMES[name]) for day, name in found.items()
                       if name in STATUTORY_NAMES and day.year == year))


def provisional_reason(years: Iterable[int]) -> str:
    """Why a date is 暂定, for anyone: e.g. 2027年放假安排尚未公布，暂按法定节假日推算；公布后可能调整."""
    listed = "、".join(f"{y}年" for y in sorted(set(years)))
    return f"{listed}放假安排尚未公布，暂按法定节假日推算；公布后可能调整"


@lru_cache(maxsize=256)
def library_covers(year: int) -> bool:
    """True when ``chinese_calendar`` has the State Council arrangement for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=1)
def library_last_year() -> int:
    """The last year ``chinese_calendar`` has the State Council arrangement for."""
    year = 2004  # the library's first year
    while library_covers(year + 1):
        year += 1
    return year


@dataclass(frozen=True)
class DayInfo:
    day: date
    working: bool
    name: str | None  #: holiday name (e.g. 春节 / Spring Festival), when there is one
    source: str  #: "override" | "library" | "weekday_rule" | "provisional"
    #: the year's arrangement is not confirmed: the answer is the provisional calendar's (暂定)
    provisional: bool = False


class WorkCalendar:
    """Working days from overrides (first), the library, then — for years marked complete —
    the Monday–Friday rule, else the provisional statutory-holiday rule (see the module).

    Each year is answered whole the first time one of its days is asked (a dict of 365 answers),
    so a calendar kept between requests (``service.work_calendar``) answers from memory. Safe to
    share between threads: a year is built into a new dict and then assigned."""

    def __init__(self, overrides: Mapping[date, DayKind] | None = None,
                 complete_years: Iterable[int] = (), names: Mapping[date, str] | None = None) -> None:
        self._overrides = {day: DayKind(kind) for day, kind in (overrides or {}).items()}
        self._names = dict(names or {})
        self._complete = frozenset(complete_years)
        #: year → its provisional statutory holidays (date → name), computed once per year
        self._provisional: dict[int, Mapping[date, str]] = {}
        #: year → the answer for each of its days, computed once per year (:meth:`_year_days`)
        self._years: dict[int, Mapping[date, DayInfo]] = {}

    def knows_year(self, year: int) -> bool:
        """Confirmed: the library's data or the province's confirmation (not provisional)."""
        return library_covers(year) or year in self._complete

    def is_provisional_year(self, year: int) -> bool:
        """Neither the library nor the province's confirmation covers ``year``: its days come
        from the provisional rule (raises :class:`CalendarUnknown` when no source can give it)."""
        if self.knows_year(year):
            return False
        self._provisional_holidays(year)
        return True

    def provisional_years_between(self, first: date, last: date) -> list[int]:
        """The provisional years among those of ``first .. last`` (both included)."""
        return [y for y in range(first.year, last.year + 1) if self.is_provisional_year(y)]

    def override_years(self) -> set[int]:
        return {day.year for day in self._overrides}

    def _provisional_holidays(self, year: int) -> Mapping[date, str]:
        found = self._provisional.get(year)
        if found is None:
            found = statutory_holidays(year)
            if not found:
                raise CalendarUnknown(year)
            self._provisional[year] = found
        return found

    def _year_days(self, year: int) -> Mapping[date, DayInfo]:
        """Every day of ``year`` answered once (the library's tables are scanned per day looked
        up, so a year is asked once and kept: a calendar answers any later day from a dict)."""
        found = self._years.get(year)
        if found is None:
            day, found = date(year, 1, 1), {}
            while day.year == year:
                found[day] = self._answer(day)
                day += timedelta(days=1)
            self._years[year] = found
        return found

    def _answer(self, day: date) -> DayInfo:
        kind = self._overrides.get(day)
        if kind is not None:
            return DayInfo(day, kind is DayKind.WORKDAY, self._names.get(day), "override",
                           provisional=not self.knows_year(day.year))
        if library_covers(day.year):
            _, name = chinese_calendar.get_holiday_detail(day)
            return DayInfo(day, chinese_calendar.is_workday(day), HOLIDAY_NAMES.get(name, name), "library")
        if day.year in self._complete:
            return DayInfo(day, day.weekday() < 5, None, "weekday_rule")
        name = self._provisional_holidays(day.year).get(day)
        return DayInfo(day, name is None and day.weekday() < 5, name, "provisional", provisional=True)

    def info(self, day: date) -> DayInfo:
        try:
            return self._year_days(day.year)[day]
        except CalendarUnknown:
            return self._answer(day)  # an override still answers in a year no source gives

    def is_working_day(self, day: date) -> bool:
        return self.info(day).working

    def last_day_within(self, after: date, working_days: int) -> date:
        """The last day ``D`` with at most ``working_days`` working days in ``after < d <= D``:
        the day before the (``working_days`` + 1)-th working day after ``after``."""
        count, day = 0, after
        while True:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
                if count > working_days:
                    return day - timedelta(days=1)

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
