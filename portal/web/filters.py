"""Template filters used by every area."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from portal.auth.roles import Role
from portal.localtime import cn_date, to_local


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A UTC timestamp as Beijing time; "—" when there is none."""
    if value is None:
        return "—"
    return to_local(value).strftime(fmt)


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
    from portal.clocks import service as clocks

    # periods come from the policy data the clocks compute with, never typed in a page
    app.add_template_global(clocks.statutory_period, "statutory_period")
