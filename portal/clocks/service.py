"""Statutory clocks (法定期限): the one door routes and other areas use.

Its own functions keep the holiday overrides (节假日维护) provincial staff maintain, and build the
calendar from them. Plain Python, no Flask. Every change is audited in the same transaction.

It also gives the two pure modules beside it: the working-day calendar
(:mod:`portal.clocks.calendar`: :class:`WorkCalendar`, :class:`CalendarUnknown`) and the deadline
calculator (:mod:`portal.clocks.deadlines`: :func:`deadline`, :func:`status`, :class:`Pause`, the
rules of ``config/policy/deadlines.toml``). Other areas get the working-day calendar with
:func:`work_calendar` and pass it on: ``clocks.deadline(..., calendar=clocks.work_calendar(sess))``.

Due dates stored on cases (:mod:`portal.clocks.due`: the :class:`DueDates` mixin,
:func:`store_due_dates`, :func:`overdue`, :func:`due_this_week`) follow every change of the
calendar: an area registers its recompute function once (:func:`register_due_dates_recompute`,
wired in ``portal._wire_areas`` — clocks never imports the areas), and every override entered or
removed, and every year confirmed or unconfirmed, calls it in the same transaction, audited.

The calendar is kept between requests per process and version token (:func:`work_calendar`);
each of those changes writes a new token (:func:`calendar_changed`), so every node sees it on its
next call after the commit.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.clocks.calendar import (
    LIBRARY_ONLY,
    CalendarUnknown,
    DayKind,
    WorkCalendar,
    is_working_day,
    library_covers,
    library_last_year,
    provisional_reason,
    statutory_holidays,
)
from portal.clocks.deadlines import (
    ClockState,
    ClockStatus,
    CountingPolicy,
    Deadline,
    InvalidPause,
    Party,
    Pause,
    PauseKind,
    Rule,
    RuleNotInForce,
    Unit,
    UnknownRule,
    add_months,
    cn_date,
    counting_policy,
    deadline,
    rule,
    rule_keys,
    rules,
    status,
)
from portal.clocks.due import (
    DueChange,
    due_this_week,
    overdue,
    store_due_dates,
    week_end,
)
from portal.clocks.models import (
    CalendarVersion,
    DueDates,
    HolidayOverride,
    YearCompleteness,
)
from portal.db import utcnow
from portal.errors import NotFoundError, PermissionDenied, UserInputError
from portal.localtime import local_today

__all__ = [
    # the working-day calendar
    "LIBRARY_ONLY", "CalendarUnknown", "DayKind", "WorkCalendar", "is_working_day", "library_covers",
    "library_last_year", "provisional_reason", "statutory_holidays",
    # the deadline calculator
    "ClockState", "ClockStatus", "CountingPolicy", "Deadline", "InvalidPause", "Party", "Pause", "PauseKind", "Rule",
    "RuleNotInForce", "Unit", "UnknownRule", "add_months", "counting_policy", "deadline", "rule",
    "rule_keys", "rules", "status", "statutory_period",
    # the holiday override table
    "FIRST_YEAR", "LAST_YEAR", "NAME_MAX", "SOURCE_MAX", "InvalidOverride", "YearOverview",
    "add_override", "list_overrides", "mark_year_complete", "remove_override", "unmark_year_complete",
    "work_calendar", "year_overview", "missing_statutory_holidays", "calendar_changed", "calendar_token",
    "next_near_day",
    # due dates stored on cases
    "DueChange", "DueDates", "due_this_week", "overdue", "recompute_due_dates", "register_due_dates_recompute",
    "store_due_dates", "week_end",
]

#: years staff may maintain (the library starts in 2004)
FIRST_YEAR, LAST_YEAR = 2004, 2099
NAME_MAX, SOURCE_MAX = 100, 300


class InvalidOverride(UserInputError):
    code = "invalid_holiday_override"


def statutory_period(key: str, on: date | None = None) -> str:
    """The period of deadline rule ``key`` in force on ``on`` (default today), as pages and
    documents write it ("30日", "5个工作日"): from the policy data the clocks compute with."""
    return rule(key, on or local_today()).period_label


#: ``recompute(sess, actor, reason) -> int``: an area brings its cases' stored due dates up to
#: date with the current calendar and returns how many changed (registered by ``_wire_areas``)
DueDatesRecompute = Callable[[Session, Actor, str], int]
_RECOMPUTERS: list[DueDatesRecompute] = []


def register_due_dates_recompute(recompute: DueDatesRecompute) -> None:
    """Called once per area at start-up; idempotent (tests build many apps)."""
    if recompute not in _RECOMPUTERS:
        _RECOMPUTERS.append(recompute)


def recompute_due_dates(sess: Session, actor: Actor, *, reason: str) -> int:
    """Every registered area recomputes its stored due dates; audited with the count."""
    sess.flush()
    changed = sum(recompute(sess, actor, reason) for recompute in list(_RECOMPUTERS))
    audit.record(sess, actor, "clocks.due_dates_recomputed", object_type="holiday_calendar",
                 object_id=reason[:60], detail={"reason": reason, "changed": changed})
    return changed


def _require_provincial(actor: Actor) -> None:
    if actor.role is not Role.PROVINCIAL:
        raise PermissionDenied("只有省级管理人员可以维护节假日安排")


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidOverride(f"年度应在{FIRST_YEAR}年至{LAST_YEAR}年之间")


def _text(value: str | None, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidOverride(f"请填写{what}")
    if len(value) > limit:
        raise InvalidOverride(f"{what}不能超过{limit}个字")
    return value


# --- reading ----------------------------------------------------------------------------------


#: calendars built on this process, by (database, version token): a node keeps what it built
#: until the stamp in the database changes (a change made on any node), see :func:`work_calendar`
_CALENDARS: OrderedDict[tuple[str, str], WorkCalendar] = OrderedDict()
_CALENDARS_KEPT = 4
_CALENDARS_LOCK = threading.Lock()


def calendar_token(sess: Session) -> str | None:
    """The calendar's version token in the database (None: no stamp row, nothing is cached)."""
    return sess.execute(select(CalendarVersion.token).where(CalendarVersion.id == 1)).scalar_one_or_none()


def work_calendar(sess: Session) -> WorkCalendar:
    """The working-day calendar with the province's overrides and completed years.

    One small query (the version stamp) per call; the calendar itself is built from the tables
    once per process and version and then shared (it answers each day from per-year tables). A
    change through this module writes a new token in its own transaction, so every node's next
    call, after that transaction commits, builds the new calendar; inside the changing
    transaction the new token is already visible and the calendar includes the change."""
    token = calendar_token(sess)
    key = (_database_key(sess), token or "")
    if token is not None:
        with _CALENDARS_LOCK:
            found = _CALENDARS.get(key)
            if found is not None:
                _CALENDARS.move_to_end(key)
                return found
    # the stamp is read before the rows: a calendar kept under a token is never older than it
    rows = sess.execute(select(HolidayOverride.day, HolidayOverride.kind, HolidayOverride.name)).all()
    years = sess.execute(select(YearCompleteness.year)).scalars().all()
    calendar = WorkCalendar({r.day: r.kind for r in rows}, complete_years=years,
                            names={r.day: r.name for r in rows})
    if token is not None:
        with _CALENDARS_LOCK:
            _CALENDARS[key] = calendar
            while len(_CALENDARS) > _CALENDARS_KEPT:
                _CALENDARS.popitem(last=False)
    return calendar


def _database_key(sess: Session) -> str:
    """Which database a token belongs to (tests and tools open several in one process)."""
    return sess.get_bind().url.render_as_string(hide_password=True)


def calendar_changed(sess: Session) -> None:
    """Write a new version token (and count the version up) in ``sess``'s transaction: called by
    every change of the override table or of a year's confirmation. On PostgreSQL the UPDATE
    locks the stamp row, so two changes in parallel are applied one after the other."""
    token = uuid.uuid4().hex
    updated = sess.execute(update(CalendarVersion).where(CalendarVersion.id == 1)
                           .values(version=CalendarVersion.version + 1, token=token, changed_at=utcnow())
                           .execution_options(synchronize_session=False)).rowcount
    if not updated:
        sess.add(CalendarVersion(id=1, version=1, token=token))
    sess.flush()


def next_near_day(today: date, calendar: WorkCalendar, *, near_working_days: int | None = None) -> date:
    """The last due date that :func:`status` calls NEAR (即将到期) on ``today``: a due date from
    today up to this day is near, an earlier one overdue. Lists filter on it in SQL
    (``today <= due_on <= next_near_day(...)``) and mean what each case's clock means."""
    near = counting_policy().near_working_days if near_working_days is None else near_working_days
    return calendar.last_day_within(today, near)


def list_overrides(sess: Session, year: int) -> list[HolidayOverride]:
    return list(sess.execute(
        select(HolidayOverride)
        .where(HolidayOverride.day >= date(year, 1, 1), HolidayOverride.day <= date(year, 12, 31))
        .order_by(HolidayOverride.day)
    ).scalars())


def missing_statutory_holidays(overrides: list[HolidayOverride], year: int) -> list[tuple[date, str]]:
    """The statutory holidays of ``year`` (rules in force) not entered as 放假: (date, name)."""
    entered = {o.day for o in overrides if o.kind is DayKind.HOLIDAY}
    return [(day, name) for day, name in statutory_holidays(year).items() if day not in entered]


@dataclass(frozen=True)
class YearOverview:
    year: int
    library_covers: bool  #: chinese_calendar has this year
    completeness: YearCompleteness | None  #: the province marked the year complete
    overrides: list[HolidayOverride]
    #: the statutory holidays of the year under the rules in force (provisional calendar)
    statutory: list[tuple[date, str]] = ()  # type: ignore[assignment]
    #: those of them not yet entered as 放假
    missing: list[tuple[date, str]] = ()  # type: ignore[assignment]

    @property
    def provisional(self) -> bool:
        """Deadlines through this year are computed provisionally (暂定)."""
        return not self.known and bool(self.statutory)

    @property
    def known(self) -> bool:
        return self.library_covers or self.completeness is not None

    @property
    def holidays(self) -> int:
        return sum(1 for o in self.overrides if o.kind is DayKind.HOLIDAY)

    @property
    def can_mark_complete(self) -> bool:
        return not self.library_covers and self.completeness is None


def year_overview(sess: Session, year: int) -> YearOverview:
    _check_year(year)
    completeness = sess.execute(select(YearCompleteness).where(YearCompleteness.year == year)).scalar_one_or_none()
    overrides = list_overrides(sess, year)
    covered = library_covers(year)
    statutory = [] if covered else list(statutory_holidays(year).items())
    missing = [] if covered else missing_statutory_holidays(overrides, year)
    return YearOverview(year, covered, completeness, overrides, statutory, missing)


# --- changing ---------------------------------------------------------------------------------


def add_override(sess: Session, actor: Actor, day: date, kind: DayKind | str, name: str,
                 source: str) -> HolidayOverride:
    """Record that ``day`` is a holiday (放假) or a make-up working day (调休上班)."""
    _require_provincial(actor)
    _check_year(day.year)
    try:
        kind = DayKind(kind)
    except ValueError:
        raise InvalidOverride("请选择“放假”或“调休上班”") from None
    name = _text(name, "节日名称", NAME_MAX)
    source = _text(source, "依据", SOURCE_MAX)
    existing = sess.execute(select(HolidayOverride).where(HolidayOverride.day == day)).scalar_one_or_none()
    if existing is not None:
        raise InvalidOverride(f"{cn_date(day)}已有维护记录（{existing.kind.label}，{existing.name}）；"
                              "如需修改，请先删除原记录")
    override = HolidayOverride(day=day, kind=kind, name=name, source=source,
                               created_by=actor.account_id)
    sess.add(override)
    sess.flush()
    calendar_changed(sess)
    audit.record(sess, actor, "clocks.override_added", object_type="holiday_override",
                 object_id=override.id, detail={"day": day.isoformat(), "kind": kind.value, "name": name})
    recompute_due_dates(sess, actor, reason=f"override_added:{day.isoformat()}")
    return override


def remove_override(sess: Session, actor: Actor, override_id: int) -> HolidayOverride:
    _require_provincial(actor)
    override = sess.get(HolidayOverride, override_id)
    if override is None:
        raise NotFoundError("未找到该节假日维护记录")
    audit.record(sess, actor, "clocks.override_removed", object_type="holiday_override",
                 object_id=override.id,
                 detail={"day": override.day.isoformat(), "kind": override.kind.value, "name": override.name})
    sess.delete(override)
    sess.flush()
    calendar_changed(sess)
    recompute_due_dates(sess, actor, reason=f"override_removed:{override.day.isoformat()}")
    return override


def mark_year_complete(sess: Session, actor: Actor, year: int, source: str) -> YearCompleteness:
    """State that every holiday and make-up working day of ``year`` (a year the library lacks)
    is in the table: its other days then follow the Monday–Friday rule."""
    _require_provincial(actor)
    _check_year(year)
    source = _text(source, "依据", SOURCE_MAX)
    if library_covers(year):
        raise InvalidOverride(f"{year}年的放假安排已包含在系统日历数据中，无需确认；个别日期有误时请录入维护记录更正")
    if sess.execute(select(YearCompleteness).where(YearCompleteness.year == year)).scalar_one_or_none():
        raise InvalidOverride(f"{year}年已确认全年安排录入完整")
    overrides = list_overrides(sess, year)
    if not any(o.kind is DayKind.HOLIDAY for o in overrides):
        raise InvalidOverride(f"{year}年还没有录入任何放假日期；请先按国务院办公厅的放假安排通知录入放假和调休上班日期")
    missing = missing_statutory_holidays(overrides, year)
    if missing:
        listed = "、".join(f"{name} {day.isoformat()}" for day, name in missing)
        raise InvalidOverride(f"{year}年的法定节假日尚未全部录入为放假，不能确认录入完整。缺少：{listed}")
    mark = YearCompleteness(year=year, source=source, marked_by=actor.account_id)
    sess.add(mark)
    sess.flush()
    calendar_changed(sess)
    audit.record(sess, actor, "clocks.year_marked_complete", object_type="holiday_year", object_id=year,
                 detail={"year": year})
    recompute_due_dates(sess, actor, reason=f"year_confirmed:{year}")
    return mark


def unmark_year_complete(sess: Session, actor: Actor, year: int) -> None:
    """Withdraw the mark: the year is provisional again until it is re-confirmed."""
    _require_provincial(actor)
    mark = sess.execute(select(YearCompleteness).where(YearCompleteness.year == year)).scalar_one_or_none()
    if mark is None:
        raise NotFoundError(f"{year}年没有“全年安排已录入完整”的确认")
    sess.delete(mark)
    sess.flush()
    calendar_changed(sess)
    audit.record(sess, actor, "clocks.year_unmarked", object_type="holiday_year", object_id=year,
                 detail={"year": year})
    recompute_due_dates(sess, actor, reason=f"year_unconfirmed:{year}")
