"""The province's holiday override table (节假日维护) and the years it has completed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, func
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
