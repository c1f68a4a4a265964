"""节假日维护: provincial staff keep the holiday override table the deadline clocks count with."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.clocks import service
from portal.clocks.forms import ConfirmForm, OverrideForm, YearCompleteForm
from portal.errors import UserInputError
from portal.extensions import db_session
from portal.web.rendering import render_partial_or_page, wants_fragment

bp = Blueprint("clocks", __name__, url_prefix="/clocks")

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
LIST_ID = "holiday-year"


def _today():
    return datetime.now(LOCAL_TZ).date()


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
               "confirm_form": ConfirmForm(), "this_year": _today().year, "list_id": LIST_ID,
               "notice": notice}
    if status == 200:
        return render_partial_or_page("clocks/holidays.html", "clocks/_year.html", LIST_ID, **context)
    return render_template("clocks/holidays.html", **context), status


def _back(year: int, message: str):
    """After a change: the year's fragment (with the message) for htmx, else the message is
    flashed and the browser goes back to the page (303)."""
    if wants_fragment(LIST_ID):
        return _page(year, notice=message)
    flash(message, "success")
    return redirect(url_for("clocks.holidays", year=year), 303)


@bp.get("/holidays")
@requires(Role.PROVINCIAL)
def holidays():
    """A year's overrides, whether the year is known, and the form to add one."""
    return _page(_year_arg(_today().year))


@bp.post("/holidays")
@requires(Role.PROVINCIAL)
def add_holiday():
    form = OverrideForm()
    year = form.day.data.year if form.day.data else _year_arg(_today().year)
    if form.validate_on_submit():
        try:
            override = service.add_override(db_session(), g.actor, form.day.data, form.kind.data,
                                            form.name.data, form.source.data)
        except UserInputError as exc:
            form.form_errors.append(exc.message)
        else:
            flash(f"已录入：{override.day:%Y-%m-%d} {override.kind.label}（{override.name}）。", "success")
            return redirect(url_for("clocks.holidays", year=override.day.year), 303)
    return _page(year if service.FIRST_YEAR <= year <= service.LAST_YEAR else _today().year, form=form,
                 status=422)


@bp.post("/holidays/<int:override_id>/remove")
@requires(Role.PROVINCIAL)
def remove_holiday(override_id: int):
    year = _year_arg(_today().year)
    if not ConfirmForm().validate_on_submit():
        flash("页面已过期，请重新操作。", "error")
        return redirect(url_for("clocks.holidays", year=year), 303)
    removed = service.remove_override(db_session(), g.actor, override_id)
    return _back(removed.day.year, f"已删除：{removed.day:%Y-%m-%d} {removed.kind.label}（{removed.name}）。")


@bp.post("/holidays/year/<int:year>/complete")
@requires(Role.PROVINCIAL)
def mark_year_complete(year: int):
    form = YearCompleteForm(prefix="complete")
    if form.validate_on_submit():
        try:
            service.mark_year_complete(db_session(), g.actor, year, form.source.data)
        except UserInputError as exc:
            form.form_errors.append(exc.message)
        else:
            return _back(year, f"已确认{year}年放假安排录入完整，该年度的工作日期限可以计算了。")
    return _page(year, year_form=form, status=422)


@bp.post("/holidays/year/<int:year>/incomplete")
@requires(Role.PROVINCIAL)
def unmark_year_complete(year: int):
    if not ConfirmForm().validate_on_submit():
        flash("页面已过期，请重新操作。", "error")
        return redirect(url_for("clocks.holidays", year=year), 303)
    service.unmark_year_complete(db_session(), g.actor, year)
    return _back(year, f"已撤销{year}年“全年安排已录入完整”的确认，该年度的工作日期限暂不能计算。")
