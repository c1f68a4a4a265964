"""Template filters used by every area."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import Flask

from portal.auth.roles import Role

#: 北京时间: how applicants and staff read times (no daylight saving)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A UTC timestamp as Beijing time; "—" when there is none."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def cn_date(value: date | None) -> str:
    """2026年1月5日; "—" when there is none."""
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日"


def role_label(value: str | Role | None) -> str:
    if not value:
        return "未登录"
    try:
        return Role(value).label
    except ValueError:
        return str(value)


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(cn_date, "cn_date")
