"""北京时间: the one definition of the portal's local time zone.

Timestamps are stored in UTC (``portal.db.UTCDateTime``); the dates people type and read, and the
statutory periods counted in days, are Beijing calendar dates (China has no daylight saving).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

#: 北京时间 (UTC+8)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_now() -> datetime:
    """Now, as an aware Beijing-time datetime."""
    return datetime.now(LOCAL_TZ)


def local_today() -> date:
    """Today's Beijing calendar date."""
    return local_now().date()


def cn_date(value: date | None) -> str:
    """2026年1月5日, as letters, explanations and pages write a date; "—" when there is none."""
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日"


def to_local(value: datetime) -> datetime:
    """An aware (or UTC-naive) timestamp as Beijing time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TZ)
