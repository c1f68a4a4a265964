"""北京时间: the one definition of the portal's local time zone.

Timestamps are stored in UTC (``portal.db.UTCDateTime``); the dates people type and read, and the
statutory periods counted in days, are Beijing calendar dates (China has no daylight saving).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

#: 北京时间 (UTC+8)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
#: a time of day as people type it: 9:30, 09:30, 9：30 (after NFKC, full-width digits are plain)
_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")


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


def clock_time(text: str) -> str:
    """A typed time of day as ``HH:MM`` (24-hour): "9:30", "09:30", "９：３０" all give "09:30".

    Raises ``ValueError`` for anything else (e.g. "24:00", "9:5", "930")."""
    match = _CLOCK_TIME.match(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        raise ValueError(text)
    return f"{int(match.group(1)):02d}:{match.group(2)}"
