"""Template filters used by every area."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from flask import Flask, g, has_request_context

from portal.auth.roles import Role
from portal.localtime import cn_date, to_local
from portal.regions import province


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


def staff_view() -> bool:
    """Whether the page is shown to staff: only they see confidence codes, 待核实 badges and where a
    figure is kept (issue 13 point 4); the public reads one plain sentence instead."""
    actor = g.get("actor") if has_request_context() else None
    return bool(actor is not None and actor.role is not None and actor.role.is_staff)


#: what policy and catalogue text carries for maintainers only: file references ("shared/domain.md
#: §6", "config/policy/…"), confidence codes (C, U(sec), U(weak), U(none)) and "（…，待核实）" markers
_MARKERS = (re.compile(r"[（(][^（）()]*(?:domain\.md|\.toml)[^（）()]*[）)]"),  # (shared/domain.md §6)
            re.compile(r"(?:shared/)?domain\.md(?:\s*§[\d.]+(?:\s*Q\d+)?(?:、§?[\d.]+(?:\s*Q\d+)?)*)?"),
            re.compile(r"(?:config/)?(?:policy/)?[\w.-]+\.toml"),
            re.compile(r"[（(]\s*U\((?:sec|weak|none)\)\s*[）)]"), re.compile(r"[，,：:]?\s*U\((?:sec|weak|none)\)"),
            re.compile(r"[，,]\s*C(?=[）)])"),
            re.compile(r"[（(]\s*(?:标准|名称)[，,]\s*待核实\s*[）)]"),
            re.compile(r"[，,]\s*(?:待核实|已核实)(?=[）)])"), re.compile(r"[（(]\s*(?:待核实|已核实)\s*[）)]"),
            re.compile(r"待核实"))


def plain(text: str | None, public: bool = False) -> str:
    """Policy or catalogue text as the public reads it: without file references, confidence codes
    or verification markers (staff keep them). The page says once that some figures are decided by
    the agency (``ui.unconfirmed_note``). ``public=True``: whoever asks (a cached PDF is shared)."""
    if not text or (staff_view() and not public):
        return text or ""
    for marker in _MARKERS:
        text = marker.sub("", text)
    return text


def policy_figure(key: str, on=None):
    """The policy figure ``key`` in force on ``on`` (default today), as the services use it: pages
    print rates and amounts from it, never typed (``{{ policy_figure('…').decimal('floor') | percent }}``)."""
    from portal.localtime import local_today
    from portal.policy.figures import figure

    return figure(key, on or local_today())


def percent(value) -> str:
    """0.6 → "60%", 0.015 → "1.5%" (exact, no float)."""
    shown = (Decimal(str(value)) * 100).normalize()
    return f"{shown:f}%"


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(cn_date, "cn_date")
    from portal.clocks import service as clocks

    # periods come from the policy data the clocks compute with, never typed in a page
    app.add_template_global(clocks.statutory_period, "statutory_period")
    # the province's name, offices and platforms come from its configuration, never a page
    # ("served_province": a page's own ``province`` variable must not hide it)
    app.add_template_global(province, "served_province")
    app.add_template_global(province, "province")  # the same, where no page variable hides it
    app.add_template_global(staff_view, "staff_view")
    app.add_template_filter(plain, "plain")
    app.add_template_global(policy_figure, "policy_figure")
    app.add_template_filter(percent, "percent")
