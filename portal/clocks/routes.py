"""节假日维护: provincial staff keep the holiday override table the deadline clocks count with."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.clocks import service
from portal.clocks.forms import ConfirmForm, OverrideForm, YearCompleteForm
from portal.extensions import db_session
from portal.localtime import local_today
from portal.web.forms import back_with_errors, handle_form, see_other
from portal.web.rendering import render_partial_or_page, wants_fragment

bp = Blueprint("clocks", __name__, url_prefix="/clocks")

LIST_ID = "holiday-year"


def _year_arg(default: int) -> int:
    raw = request.values.get("year", "")
    if raw.isdigit() and service.FIRST_YEAR <= int(raw) <= service.LAST_YEAR:
        return int(raw)
    return default


def _page(year: int, form: OverrideForm | None = None, year_form: YearCompleteForm | None = None,
          status: int = 200, notice: str | None = None):
    overview = service.year_overview(db_session(), year)
    if form is None:
        form = OverrideForm(formdata=None, data={"kind": "holiday"})
    context = {"overview": overview, "form": form,
               "year_form": year_form or YearCompleteForm(formdata=None, prefix="complete"),
               "confirm_form": ConfirmForm(), "this_year": local_today().year, "list_id": LIST_ID,
               "notice": notice, "library_last_year": service.library_last_year()}
    if status == 200:
        return render_partial_or_page("clocks/holidays.html", "clocks/_year.html", LIST_ID, **context)
    return render_template("clocks/holidays.html", **context), status


def _back(year: int, message: str):
    """After a change: the year's fragment (with the message) for htmx, else the message is
    flashed and the browser goes back to the page (303)."""
    if wants_fragment(LIST_ID):
        return _page(year, notice=message)
    return see_other("clocks.holidays", flash_message=message, year=year)


@bp.get("/holidays")
@requires(Role.PROVINCIAL)
def holidays():
    """A year's overrides, whether the year is known, and the form to add one."""
    return _page(_year_arg(local_today().year))


@bp.post("/holidays")
@requires(Role.PROVINCIAL)
def add_holiday():
    form = OverrideForm()
    year = form.day.data.year if form.day.data else _year_arg(local_today().year)
    if not service.FIRST_YEAR <= year <= service.LAST_YEAR:
        year = local_today().year
    return handle_form(
        form,
        lambda f: service.add_override(db_session(), g.actor, f.day.data, f.kind.data, f.name.data, f.source.data),
        done=lambda o: see_other("clocks.holidays", year=o.day.year,
                                 flash_message=f"已录入：{o.day:%Y-%m-%d} {o.kind.label}（{o.name}）。"),
        again=lambda f, status: _page(year, form=f, status=status))


@bp.post("/holidays/<int:override_id>/remove")
@requires(Role.PROVINCIAL)
def remove_holiday(override_id: int):
    return handle_form(
        ConfirmForm(),
        lambda _: service.remove_override(db_session(), g.actor, override_id),
        done=lambda o: _back(o.day.year, f"已删除：{o.day:%Y-%m-%d} {o.kind.label}（{o.name}）。"),
        again=lambda f, _: back_with_errors(f, "clocks.holidays", year=_year_arg(local_today().year)))


@bp.post("/holidays/year/<int:year>/complete")
@requires(Role.PROVINCIAL)
def mark_year_complete(year: int):
    return handle_form(
        YearCompleteForm(prefix="complete"),
        lambda f: service.mark_year_complete(db_session(), g.actor, year, f.source.data),
        done=lambda _: _back(year, f"已确认{year}年放假安排录入完整；涉及该年度的案件期限已重新计算，不再是暂定。"),
        again=lambda f, status: _page(year, year_form=f, status=status))


@bp.post("/holidays/year/<int:year>/incomplete")
@requires(Role.PROVINCIAL)
def unmark_year_complete(year: int):
    return handle_form(
        ConfirmForm(),
        lambda _: service.unmark_year_complete(db_session(), g.actor, year),
        done=lambda _: _back(year, f"已撤销{year}年“全年安排已录入完整”的确认；涉及该年度的案件期限已重新计算，恢复为暂定。"),
        again=lambda f, _: back_with_errors(f, "clocks.holidays", year=year))
