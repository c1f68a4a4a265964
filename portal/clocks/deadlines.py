"""The statutory deadline calculator (法定期限计算) — plain Python, no Flask, no database.

Rules come from ``config/policy/deadlines.toml`` (effective-dated: the version in force on the
start event's date applies). Counting follows 《民法典》201–203 (applied to these administrative
limits as policy, U(weak); shared/domain.md §5, §10 Q19):

* **Start.** Day 1 is the day AFTER the start event (CC 201).
* **Calendar days** (日): the due date is the N-th day after the event.
* **Months / years** (月 / 年): the due date is the same-numbered day of the month N months
  (12·N for years) after the event; without such a day, that month's last day (CC 202) — an
  accident on 2024-02-29 plus one year ends 2025-02-28; one month from 01-31 ends 02-28/29.
* **Working days** (工作日): only working days of :class:`~portal.clocks.calendar.WorkCalendar`
  are counted; the due date is the N-th working day after the event (always a working day).
* **Holiday shift** (CC 203): for rules with ``holiday_shift = true`` a calendar-day, month or
  year period whose last day is not a working day (statutory holiday or rest day) ends on the
  next working day instead. A make-up working day (调休上班) is a working day: no shift.

**Pauses** (中止 suspension, 补正 awaiting supplement, 耽误 tolling, 改期 reschedule) are
date intervals ``Pause(start, end)``, BOTH ends inclusive: every day from ``start`` through
``end`` is not counted, and the clock runs again from ``end + 1``. A case that stopped its clock
on day S (e.g. the suspension notice) and resumed it on day R (e.g. receipt of the arbitration
award) passes ``Pause(S, R)``: neither S nor R counts, as CC 201 starts a period on the day after
its event. Before counting, pauses are clipped to the period (days on or before the start event
are dropped), sorted and merged where they overlap or touch. Then:

* calendar-day, month and year periods: the due date moves later by the number of paused
  calendar days that fall before it (days paused after the clock has already run out move
  nothing) — exactly: the due date is the earliest day E with
  ``E = nominal_due + (paused days in start+1 .. E)``; such an E is never itself paused.
  Example: 30 days from 2025-03-01 end 2025-03-31; with ``Pause(2025-03-10, 2025-03-14)``
  (5 days) they end 2025-04-05. The holiday shift is applied to that extended date.
* working-day periods: paused days are skipped while counting, so the due date moves later by
  the number of WORKING days inside the pause (a pause over a holiday week moves it less than
  its calendar length). Both ends are counted the same way (inclusive, not counted).
* an open pause (``end=None``, the clock is still stopped) that begins on or before the due date
  leaves no due date: ``Deadline.due_date is None`` with ``paused_since`` and ``days_left`` —
  the days that remain when the clock runs again.

**Provisional dates** (暂定): a due date whose counting consulted a year whose holiday
arrangement is not confirmed (see :mod:`portal.clocks.calendar`) is ``provisional``, with the
years and why (``Deadline.provisional_reason``); its explanation ends with the same sentence.
A calendar-day period without a holiday shift never consults the calendar, so it is never
provisional. Only a year no source can give raises ``CalendarUnknown``.
"""

from __future__ import annotations

import calendar as _monthcal
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from portal.choices import LabelledEnum
from portal.clocks.calendar import (
    LIBRARY_ONLY,
    CalendarUnknown,
    WorkCalendar,
    provisional_reason,
)
from portal.config import config_file
from portal.errors import UserInputError
from portal.localtime import cn_date
from portal.policy.dated import EffectiveDated, Sourced, earliest, in_force

#: the rules file, in the province's configuration directory or this project's config/
DEADLINES_FILE = "policy/deadlines.toml"


class Unit(LabelledEnum):
    """The unit a period counts in; the label follows the number (15日, 5个工作日)."""

    CALENDAR_DAYS = "calendar_days", "日"
    WORKING_DAYS = "working_days", "个工作日"
    MONTHS = "months", "个月"
    YEARS = "years", "年"


class Party(LabelledEnum):
    """Whose period a rule is (``party`` in deadlines.toml)."""

    OFFICE = "office", "经办机构的办理期限"
    APPLICANT = "applicant", "申请人的期限"
    NONE = "none", "期间（无须遵守的期限）"


class PauseKind(LabelledEnum):
    SUSPENSION = "suspension", "中止"  #: 如等待仲裁、诉讼结论
    SUPPLEMENT = "supplement", "等待补正材料"
    TOLLING = "tolling", "非本人原因耽误"  #: 因不属于本人原因耽误（法释〔2014〕9号第七条）
    RESCHEDULE = "reschedule", "经批准改期"  #: 劳动能力鉴定


class UnknownRule(UserInputError):
    code = "unknown_deadline_rule"


class RuleNotInForce(UserInputError):
    code = "deadline_rule_not_in_force"


class InvalidPause(UserInputError):
    code = "invalid_pause"


# --- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule(Sourced, EffectiveDated):
    key: str
    ref: str  #: D1..D17 in shared/domain.md §5
    title: str
    length: int
    unit: Unit
    starts: str  #: start event name
    starts_label: str
    pausable_by: tuple[PauseKind, ...]
    holiday_shift: bool
    basis: str  #: short basis as domain.md gives it, e.g. "R 17"
    source: str  #: the legal text, in Chinese
    confidence: str  #: "C", "U(sec)", ...
    valid_from: date
    valid_to: date | None = None
    earliest: bool = False  #: the date is the earliest day to act, not a deadline
    note: str = ""
    #: whose period it is: the office's own, or one the applicant must meet
    party: Party = Party.OFFICE

    @property
    def counts_working_days(self) -> bool:
        return self.unit is Unit.WORKING_DAYS

    @property
    def period_label(self) -> str:
        """e.g. 15日, 5个工作日, 6个月, 1年."""
        return f"{self.length}{self.unit.label}"


@dataclass(frozen=True)
class CountingPolicy(Sourced):
    source: str
    confidence: str
    near_working_days: int


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[tuple[Rule, ...], CountingPolicy]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    rules = tuple(Rule(
        key=e["key"], ref=e["ref"], title=e["title"], length=int(e["length"]), unit=Unit(e["unit"]),
        starts=e["starts"], starts_label=e["starts_label"],
        pausable_by=tuple(PauseKind(k) for k in e.get("pausable_by", [])),
        holiday_shift=bool(e["holiday_shift"]), basis=e["basis"], source=e["source"],
        confidence=e["confidence"], valid_from=e["valid_from"], valid_to=e.get("valid_to"),
        earliest=bool(e.get("earliest", False)), note=e.get("note", ""), party=Party(e["party"]),
    ) for e in data.get("deadline", []))
    counting = data["counting"]
    return rules, CountingPolicy(counting["source"], counting["confidence"], int(counting["near_working_days"]))


def _data() -> tuple[tuple[Rule, ...], CountingPolicy]:
    """The rules of the province in use (cached per file)."""
    return _load(config_file(DEADLINES_FILE))


def counting_policy() -> CountingPolicy:
    return _data()[1]


def rule_keys() -> list[str]:
    """Every rule name, in file order, once."""
    return list(dict.fromkeys(r.key for r in _data()[0]))


def rules(on: date | None = None) -> list[Rule]:
    """One version per rule: the one in force ``on`` (default: the latest), file order."""
    result = []
    for key in rule_keys():
        versions = [r for r in _data()[0] if r.key == key]
        if on is None:
            result.append(max(versions, key=lambda r: r.valid_from))
        else:
            result.extend(v for v in versions if v.covers(on))
    return result


def rule(key: str, on: date) -> Rule:
    """The version of rule ``key`` in force on ``on`` (the start event's date)."""
    versions = [r for r in _data()[0] if r.key == key]
    if not versions:
        raise UnknownRule(f"没有名为“{key}”的期限规则；可用的规则：{'、'.join(rule_keys())}")
    version = in_force(versions, on)
    if version is None:
        raise RuleNotInForce(f"{on:%Y年%m月%d日}没有适用的期限规则（{key}，"
                             f"现有规则自{earliest(versions):%Y年%m月%d日}起施行）")
    return version


# --- pauses -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """The clock is stopped on every day from ``start`` to ``end``, both included; ``end=None``
    means it is still stopped."""

    start: date
    end: date | None = None
    kind: PauseKind = PauseKind.SUSPENSION
    reason: str = ""

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise InvalidPause(f"停止计时的结束日期（{self.end:%Y年%m月%d日}）早于开始日期"
                               f"（{self.start:%Y年%m月%d日}）")

    @property
    def days(self) -> int | None:
        return None if self.end is None else (self.end - self.start).days + 1


@dataclass(frozen=True)
class _Span:
    start: date
    end: date | None  #: inclusive; None = open


def merge_pauses(pauses: Iterable[Pause], after: date) -> list[_Span]:
    """Clip to days after ``after`` (the start event), sort, and merge overlapping or touching
    intervals. An open interval swallows everything that starts after it."""
    spans = []
    for pause in pauses:
        start = max(pause.start, after + timedelta(days=1))
        if pause.end is not None and pause.end < start:
            continue  # wholly on or before the start event
        spans.append(_Span(start, pause.end))
    spans.sort(key=lambda s: s.start)
    merged: list[_Span] = []
    for span in spans:
        if merged:
            last = merged[-1]
            if last.end is None or span.start <= last.end + timedelta(days=1):
                end = None if (last.end is None or span.end is None) else max(last.end, span.end)
                merged[-1] = _Span(last.start, end)
                continue
        merged.append(span)
    return merged


def _paused_calendar_days(spans: Sequence[_Span], first: date, last: date) -> int:
    """Calendar days of closed spans within ``first .. last``."""
    total = 0
    for span in spans:
        assert span.end is not None
        lo, hi = max(span.start, first), min(span.end, last)
        if lo <= hi:
            total += (hi - lo).days + 1
    return total


# --- the calculator ---------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same-numbered day ``months`` later, or that month's last day (CC 202)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _monthcal.monthrange(year, month)[1]))



@dataclass(frozen=True)
class Deadline:
    rule: Rule
    start_event_date: date
    #: the last day of the period (ends 24:00); None while an open pause holds the clock
    due_date: date | None
    #: the legal basis, for people (e.g. 《工伤保险条例》第二十条第一款 …)
    basis: str
    #: days counted from the day after the start event to the due date, paused days excluded —
    #: working days for working-day rules, calendar days otherwise (a holiday shift adds days)
    counted_days: int
    #: paused days that moved the due date (working days for working-day rules)
    paused_days: int
    explanation: str
    #: the due date before the holiday shift (equal to ``due_date`` when nothing moved)
    unshifted_due: date | None = None
    #: an open pause holds the clock since this day
    paused_since: date | None = None
    #: with the clock stopped: days (in the rule's unit) that remain when it runs again
    days_left: int | None = None
    pauses: tuple[_Span, ...] = field(default=())
    #: years whose holiday arrangement is not confirmed that the count went through (暂定)
    provisional_years: tuple[int, ...] = ()

    @property
    def unit(self) -> Unit:
        return self.rule.unit

    @property
    def provisional(self) -> bool:
        """The due date rests on a provisional calendar year and may change when it is confirmed."""
        return bool(self.provisional_years)

    @property
    def provisional_reason(self) -> str | None:
        """e.g. 2027年放假安排尚未公布，暂按法定节假日推算；公布后可能调整"""
        return provisional_reason(self.provisional_years) if self.provisional_years else None

    @property
    def shifted(self) -> bool:
        return self.due_date is not None and self.unshifted_due is not None and self.due_date != self.unshifted_due

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None


def deadline(kind: str | Rule, start_event_date: date, pauses: Iterable[Pause] = (), *,
             calendar: WorkCalendar | None = None) -> Deadline:
    """The due date of rule ``kind`` (a rule name, or a :class:`Rule` itself) for an event on
    ``start_event_date``.

    ``calendar`` is the working-day calendar to count with — pass
    ``portal.clocks.service.work_calendar(sess)`` so the province's overrides apply; the default
    is the library alone. Raises ``CalendarUnknown`` (a day in a year no calendar knows),
    ``UnknownRule`` / ``RuleNotInForce``, ``InvalidPause`` (a pause the rule does not allow).
    """
    cal = calendar or LIBRARY_ONLY
    r = kind if isinstance(kind, Rule) else rule(kind, start_event_date)
    pauses = list(pauses)
    for pause in pauses:
        if pause.kind not in r.pausable_by:
            allowed = "、".join(k.label for k in r.pausable_by) or "无"
            raise InvalidPause(f"期限“{r.title}”不因“{pause.kind.label}”停止计算（可停止计算的情形：{allowed}）")
    spans = merge_pauses(pauses, start_event_date)
    closed = [s for s in spans if s.end is not None]
    open_span = spans[-1] if spans and spans[-1].end is None else None
    if r.counts_working_days:
        return _working_day_deadline(r, start_event_date, spans, cal)
    return _calendar_deadline(r, start_event_date, closed, open_span, spans, cal)


def _nominal_end(r: Rule, start: date) -> date:
    if r.unit is Unit.CALENDAR_DAYS:
        return start + timedelta(days=r.length)
    if r.unit is Unit.MONTHS:
        return add_months(start, r.length)
    return add_months(start, 12 * r.length)


def _next_open_working_day(cal: WorkCalendar, day: date, closed: Sequence[_Span]) -> date:
    """The first working day on or after ``day`` on which the clock is not stopped: a period
    whose last day moves off a holiday cannot end on a day the case is suspended."""
    while True:
        day = cal.next_working_day(day)
        span = next((s for s in closed if s.start <= day <= s.end), None)
        if span is None:
            return day
        day = span.end + timedelta(days=1)


def _calendar_deadline(r: Rule, start: date, closed: list[_Span], open_span: _Span | None,
                       spans: list[_Span], cal: WorkCalendar) -> Deadline:
    first = start + timedelta(days=1)
    nominal = _nominal_end(r, start)
    # least fixed point of E = nominal + paused(first..E): never lands on a paused day
    paused = 0
    while True:
        end = nominal + timedelta(days=paused)
        now_paused = _paused_calendar_days(closed, first, end)
        if now_paused == paused:
            break
        paused = now_paused
    intro = f"自{r.starts_label}（{cn_date(start)}）的次日起算{r.period_label}"
    if open_span is not None and open_span.start <= end:
        days_left = (end - open_span.start).days + 1
        counted = (open_span.start - first).days - _paused_calendar_days(closed, first, open_span.start)
        text = (f"{intro}；自{cn_date(open_span.start)}起停止计算，已计{counted}日，"
                f"恢复计算后还剩{days_left}日。")
        return Deadline(r, start, None, r.source, counted, paused, text, None, open_span.start, days_left,
                        tuple(spans))
    due = end
    parts = [intro]
    years: list[int] = []
    if paused:
        parts.append(f"停止计算的{paused}日不计入，期限相应顺延")
    if r.holiday_shift:
        due = _next_open_working_day(cal, end, closed)
        years = cal.provisional_years_between(end, due)
        if due != end:
            name = cal.info(end).name
            reason = f"（{name}）" if name else ""
            parts.append(f"期间最后一日{cn_date(end)}为法定休假日{reason}，顺延至休假日结束的次日{cn_date(due)}")
    verb = "最早可于" if r.earliest else "至"
    tail = "起申请" if r.earliest else "届满"
    text = "；".join(parts) + f"；{verb}{cn_date(due)}{tail}。" + _provisional_note(years)
    counted = (due - start).days - paused
    return Deadline(r, start, due, r.source, counted, paused, text, end, None, None, tuple(spans),
                    tuple(years))


def _provisional_note(years: Sequence[int]) -> str:
    return f"（暂定：{provisional_reason(years)}。）" if years else ""


def _working_day_deadline(r: Rule, start: date, spans: list[_Span], cal: WorkCalendar) -> Deadline:
    counted = paused = 0
    day = start
    intro = f"自{r.starts_label}（{cn_date(start)}）的次日起算{r.period_label}"
    span_index = 0
    while counted < r.length:
        day += timedelta(days=1)
        while span_index < len(spans) and spans[span_index].end is not None and spans[span_index].end < day:
            span_index += 1
        span = spans[span_index] if span_index < len(spans) else None
        if span is not None and span.start <= day and (span.end is None or day <= span.end):
            if span.end is None:  # the clock is stopped and has not run again yet
                days_left = r.length - counted
                years = cal.provisional_years_between(start + timedelta(days=1), span.start)
                text = (f"{intro}；自{cn_date(span.start)}起停止计算，已计{counted}个工作日，"
                        f"恢复计算后还剩{days_left}个工作日。") + _provisional_note(years)
                return Deadline(r, start, None, r.source, counted, paused, text, None, span.start,
                                days_left, tuple(spans), tuple(years))
            if cal.is_working_day(day):
                paused += 1
            continue
        if cal.is_working_day(day):
            counted += 1
    parts = [intro, "法定节假日和休息日不计入，调休上班日计入"]
    if paused:
        parts.append(f"停止计算期间的{paused}个工作日不计入，期限相应顺延")
    years = cal.provisional_years_between(start + timedelta(days=1), day)
    text = "；".join(parts) + f"；至{cn_date(day)}届满。" + _provisional_note(years)
    return Deadline(r, start, day, r.source, counted, paused, text, day, None, None, tuple(spans),
                    tuple(years))


# --- status -----------------------------------------------------------------------------------


class ClockState(LabelledEnum):
    OK = "ok", "正常"
    NEAR = "near", "即将到期"
    OVERDUE = "overdue", "已超期"
    PAUSED = "paused", "已停止计时"


@dataclass(frozen=True)
class ClockStatus:
    state: ClockState
    due_date: date | None
    #: calendar days from today to the due date (negative when overdue); None when paused
    days_remaining: int | None
    #: working days after today up to and including the due date; None when overdue, paused,
    #: or too far off to matter in a year no calendar knows yet
    working_days_remaining: int | None
    #: with the clock stopped: what remains when it runs again (the rule's unit)
    days_left_when_resumed: int | None = None

    @property
    def label(self) -> str:
        return self.state.label


def status(dl: Deadline, today: date, *, near_working_days: int | None = None,
           calendar: WorkCalendar | None = None) -> ClockStatus:
    """ok | near (at most N working days after today up to the due date; the due day itself
    still counts as "near", the period ends at 24:00) | overdue (today is after the due date) |
    paused (an open pause holds the clock). N defaults to ``near_working_days`` in
    deadlines.toml."""
    if dl.rule.earliest:
        raise ValueError(f"{dl.rule.key} gives an earliest date, not a deadline")
    if dl.due_date is None:
        return ClockStatus(ClockState.PAUSED, None, None, None, dl.days_left)
    cal = calendar or LIBRARY_ONLY
    near = counting_policy().near_working_days if near_working_days is None else near_working_days
    days = (dl.due_date - today).days
    if days < 0:
        return ClockStatus(ClockState.OVERDUE, dl.due_date, days, None)
    try:
        working = cal.working_days_between(today, dl.due_date)
    except CalendarUnknown:
        # No run of rest days in the official arrangements is longer than 9 days, so a due date
        # this far off has more than `near` working days before it whatever the unknown year
        # holds; closer than that, the answer needs the calendar and the error stands.
        if days > 7 * (near + 1) + 14:
            return ClockStatus(ClockState.OK, dl.due_date, days, None)
        raise
    state = ClockState.NEAR if working <= near else ClockState.OK
    return ClockStatus(state, dl.due_date, days, working)
