"""The province's holiday override table (节假日维护) and the years it has completed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.clocks.calendar import DayKind
from portal.db import Base, enum_column, utcnow


class HolidayOverride(Base):
    """One date whose working status the province states, overriding ``chinese_calendar``:
    放假 (``holiday``) or 调休上班 (``workday``). Only exceptions are listed; see
    ``portal.clocks.calendar`` for how weekdays are treated in years the library lacks."""

    __tablename__ = "holiday_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 日期
    day: Mapped[date] = mapped_column(Date, unique=True)
    #: 类型：放假 / 调休上班
    kind: Mapped[DayKind] = mapped_column(enum_column(DayKind, length=10))
    #: 节日名称，如 元旦、春节
    name: Mapped[str] = mapped_column(String(100))
    #: 依据，如 国务院办公厅关于2027年部分节假日安排的通知
    source: Mapped[str] = mapped_column(String(300))
    #: 录入人（账号）
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    #: 录入时间
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class YearCompleteness(Base):
    """A year the library does not cover whose whole arrangement the province has entered:
    from then on its days are known (overrides first, then Monday–Friday work)."""

    __tablename__ = "holiday_year_complete"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 年度
    year: Mapped[int] = mapped_column(Integer, unique=True)
    #: 依据（放假安排通知）
    source: Mapped[str] = mapped_column(String(300))
    #: 确认人（账号）
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    #: 确认时间
    marked_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class DueDates:
    """Mixin: the due dates of a case, stored on its row so lists can sort and filter on them
    (``portal.clocks.due``: :func:`~portal.clocks.due.store_due_dates` keeps them, the query
    helpers there read them). Two periods at most run at once:

    - the **office's** (经办机构的办理期限: e.g. 60 days to decide): a date moved earlier by a
      calendar confirmation holds, and staff are alerted (``office_due_was``);
    - the **applicant's** (申请人应遵守的期限: the filing window, 申请行政复议的期限): the
      applicant relied on the date shown, so for the same rule and start event it never moves
      earlier.

    Each with whether it rests on a provisional calendar year (暂定) and the rule key of
    config/policy/deadlines.toml. Appraisal and benefit claims reuse it by inheriting it."""

    #: 经办机构办理期限届满日
    office_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: 经办机构办理期限是否暂定（涉及放假安排尚未确认的年度）
    office_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: 经办机构办理期限的规则（deadlines.toml 的 key）
    office_due_rule: Mapped[str | None] = mapped_column(String(40))
    #: 确认放假安排后办理期限提前时，原来的届满日（提醒经办人员；下次环节变化时清除）
    office_due_was: Mapped[date | None] = mapped_column(Date)
    #: 申请人期限届满日（如申请时限、申请行政复议期限）
    applicant_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: 申请人期限是否暂定
    applicant_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: 申请人期限的规则（deadlines.toml 的 key）
    applicant_due_rule: Mapped[str | None] = mapped_column(String(40))
    #: 申请人期限的起算事件日期
    applicant_due_from: Mapped[date | None] = mapped_column(Date)


class CalendarVersion(Base):
    """The calendar's version stamp (日历版本), one row (``id = 1``): every change of the override
    table or of a year's confirmation writes a new ``token`` in the same transaction, and every
    node keeps the calendar it built for a token until the token changes
    (``service.work_calendar``). A random token, not only a counter: a change rolled back never
    leaves a number behind that a later, different change could reuse."""

    __tablename__ = "holiday_calendar_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 版本号（每次变更加一，便于查看）
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: 版本标记（每次变更随机生成；缓存以此为准）
    token: Mapped[str] = mapped_column(String(32))
    #: 最近变更时间
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
