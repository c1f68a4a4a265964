"""单位参保登记与人员增减: pages for employers, the city clerk's review inbox, provincial counts."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, g, render_template, request
from werkzeug.datastructures import MultiDict

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.enrollment import service as enrollment
from portal.enrollment.forms import (
    ApproveForm,
    ImportForm,
    InboxFilterForm,
    MemberForm,
    MembersFilterForm,
    RemoveForm,
    ReturnForm,
    SubmitForm,
    UnitForm,
    WageForm,
)
from portal.enrollment.models import UnitStatus
from portal.errors import DomainError, InvalidFields, NotFoundError
from portal.extensions import db_session
from portal.localtime import local_today
from portal.policy.figures import figure
from portal.policy.retirement import rule_summary as retirement_rule
from portal.regions import city_name, province
from portal.web.forms import back_with_errors, handle_form, see_other
from portal.web.rendering import render_partial_or_page

bp = Blueprint("enrollment", __name__, url_prefix="/enrollment")


# --- the employer's unit ------------------------------------------------------------------------


@bp.get("/unit")
@requires(Role.EMPLOYER)
def unit():
    """本单位参保登记: status, details, rate, and the timeline with any return reasons."""
    view = enrollment.read_own_unit(db_session(), g.actor)
    return render_template("enrollment/unit.html", view=view, submit_form=SubmitForm())


def _unit_form_page(form, status: int = 200):
    return render_template("enrollment/edit_unit.html", form=form), status


@bp.get("/unit/edit")
@requires(Role.EMPLOYER)
def edit_unit():
    return _unit_form_page(UnitForm(data=enrollment.unit_form_data(db_session(), g.actor)))


@bp.post("/unit/edit")
@requires(Role.EMPLOYER)
def save_unit():
    return handle_form(
        UnitForm(),
        lambda f: enrollment.save_unit(
            db_session(), g.actor, uscc=f.uscc.data, name=f.name.data, address=f.address.data,
            county_code=f.county_code.data, industry_code=f.industry_code.data,
            contact_name=f.contact_name.data, contact_phone=f.contact_phone.data),
        done=lambda _: see_other("enrollment.unit", flash_message="参保登记信息已保存。请核对后点击“提交审核”。"),
        again=_unit_form_page, check_all=True)


@bp.post("/unit/submit")
@requires(Role.EMPLOYER)
def submit_unit():
    return handle_form(
        SubmitForm(), lambda _: enrollment.submit_unit(db_session(), g.actor),
        done=lambda _: see_other("enrollment.unit", flash_message=(
            "已提交审核，所在地市经办机构将尽快审核。审核结果会显示在办理进度中。")),
        again=lambda f, _: back_with_errors(f, "enrollment.unit"))


# --- the clerk's review ---------------------------------------------------------------------------


@bp.get("/review")
@requires(Role.CLERK, Role.PROVINCIAL)
def clerk_inbox():
    """待审核参保登记 (and, filtered by status, every unit sent in) of the actor's city."""
    args = request.args.to_dict()
    if "status" not in args:
        args["status"] = UnitStatus.SUBMITTED.value  # the inbox: what waits for a decision
    form = InboxFilterForm(data=None, formdata=MultiDict(args))
    context = dict(form=form, is_province=g.actor.role is Role.PROVINCIAL, city_name=city_name,
                   own_city=city_name(g.actor.city_code) if g.actor.city_code else None, params=args)
    if not form.validate():
        return render_template("enrollment/inbox.html", result=None, **context), 422
    result = enrollment.list_units(
        db_session(), g.actor, city_code=form.city_code.data or None,
        status=None if form.status.data in ("", "all") else form.status.data,
        county_code=form.county_code.data or None, q=form.q.data or None, page=form.page.data or 1)
    return render_partial_or_page("enrollment/inbox.html", "enrollment/_inbox_results.html", "inbox-results",
                                  result=result, **context)


def _review_page(unit_id: int, status: int = 200, *, approve_form=None, return_form=None):
    view = enrollment.read_unit_for_review(db_session(), g.actor, unit_id)
    if approve_form is None:
        approve_form = ApproveForm(data={"risk_class": str(view.rate.risk_class) if view.rate and view.rate.risk_class else "",
                                         "band": "1.0", "effective_date": local_today()})
    return render_template("enrollment/review.html", view=view, approve_form=approve_form,
                           return_form=return_form or ReturnForm(), class_names=enrollment.CLASS_NAMES,
                           industry_sources=enrollment.industry_sources()), status


@bp.get("/review/<int:unit_id>")
@requires(Role.CLERK, Role.PROVINCIAL)
def review_unit(unit_id: int):
    return _review_page(unit_id)


def _decide(unit_id: int, form, decide, message: str):
    """审核通过 or 退回: one decision, then back to the review page (or the page again, with the
    form's messages beside its fields)."""
    shown_as = "approve_form" if isinstance(form, ApproveForm) else "return_form"
    return handle_form(form, decide,
                       done=lambda _: see_other("enrollment.review_unit", flash_message=message, unit_id=unit_id),
                       again=lambda f, status: _review_page(unit_id, status, **{shown_as: f}), check_all=True)


@bp.post("/review/<int:unit_id>/approve")
@requires(Role.CLERK)
def approve_unit(unit_id: int):
    return _decide(unit_id, ApproveForm(), lambda f: enrollment.approve_unit(
        db_session(), g.actor, unit_id, risk_class=f.risk_class.data, band=f.band.data,
        effective_date=f.effective_date.data), "已审核通过，单位可以开始增减参保人员。")


@bp.post("/review/<int:unit_id>/return")
@requires(Role.CLERK)
def return_unit(unit_id: int):
    return _decide(unit_id, ReturnForm(), lambda f: enrollment.return_unit(
        db_session(), g.actor, unit_id, reasons=f.reasons.data), "已退回，单位会在办理进度中看到退回原因。")


@bp.get("/review/<int:unit_id>/members")
@requires(Role.CLERK, Role.PROVINCIAL)
def unit_members(unit_id: int):
    return _members_page(unit_id)


# --- insured persons ----------------------------------------------------------------------------------


def _members_page(unit_id: int | None):
    form = MembersFilterForm(request.args)
    if not form.validate():
        form.page.data, form.show.data = 1, "current"
    result = enrollment.read_members(db_session(), g.actor, unit_id=unit_id, show=form.show.data or "current",
                                     page=form.page.data or 1)
    endpoint = "enrollment.members_list" if unit_id is None else "enrollment.unit_members"
    return render_template("enrollment/members.html", result=result, form=form, endpoint=endpoint,
                           unit_id=unit_id, params=request.args.to_dict())


@bp.get("/members")
@requires(Role.EMPLOYER)
def members_list():
    return _members_page(None)


def _to_members(message: str, warning: str | None = None):
    """After 增员 (one person or a file): back to the list, with what the clerk will review."""
    flash(message, "success")
    if warning:
        flash(warning, "warning")
    return see_other("enrollment.members_list")


def _new_member_page(form, status: int = 200):
    unit = enrollment.approved_own_unit(db_session(), g.actor)
    today = local_today()
    return render_template("enrollment/new_member.html", form=form, unit=unit, bounds=enrollment.wage_bounds(today),
                           groups=figure("single_insurance_groups", today),
                           age_cap=figure("single_insurance_age_cap", today),
                           retirement=retirement_rule(today)), status


@bp.get("/members/new")
@requires(Role.EMPLOYER)
def new_member():
    return _new_member_page(MemberForm(data={"start_date": local_today()}))


@bp.post("/members/new")
@requires(Role.EMPLOYER)
def add_member():
    form = MemberForm()
    return handle_form(
        form,
        lambda f: enrollment.add_member(
            db_session(), g.actor, name=f.name.data, id_number=f.id_number.data, phone=f.phone.data,
            wage_base=f.wage_base.data, start_date=f.start_date.data, insurance_type=f.insurance_type.data),
        done=lambda added: _to_members(f"已增加参保人员 {form.name.data}。", warning=added[1]),
        again=_new_member_page, check_all=True)


def _member_page(member_id: int, status: int = 200, *, wage_form=None, remove_form=None):
    row = enrollment.read_member(db_session(), g.actor, member_id)
    return render_template("enrollment/member.html", row=row, wage_form=wage_form or WageForm(),
                           remove_form=remove_form or RemoveForm(data={"end_date": local_today()}),
                           bounds=enrollment.wage_bounds(local_today())), status


@bp.get("/members/<int:member_id>")
@requires(Role.EMPLOYER)
def member(member_id: int):
    return _member_page(member_id)


@bp.post("/members/<int:member_id>/wage-base")
@requires(Role.EMPLOYER)
def change_wage_base(member_id: int):
    return handle_form(
        WageForm(), lambda f: enrollment.change_wage_base(db_session(), g.actor, member_id, wage_base=f.wage_base.data),
        done=lambda _: see_other("enrollment.member", flash_message="月缴费工资基数已变更。", member_id=member_id),
        again=lambda f, status: _member_page(member_id, status, wage_form=f))


@bp.post("/members/<int:member_id>/remove")
@requires(Role.EMPLOYER)
def remove_member(member_id: int):
    return handle_form(
        RemoveForm(), lambda f: enrollment.remove_member(db_session(), g.actor, member_id, end_date=f.end_date.data),
        done=lambda _: see_other("enrollment.members_list", flash_message="已办理减员，该人员的参保记录保留为历史。"),
        again=lambda f, status: _member_page(member_id, status, remove_form=f))


# --- bulk import ------------------------------------------------------------------------------------

def _import_page(form, status: int = 200, rejected: enrollment.ImportRejected | None = None):
    enrollment.approved_own_unit(db_session(), g.actor)
    return render_template("enrollment/import.html", form=form, rejected=rejected,
                           max_rows=enrollment.MAX_ROWS,
                           max_mb=enrollment.MAX_BYTES // (1024 * 1024), headers=enrollment.HEADERS), status


@bp.get("/members/import")
@requires(Role.EMPLOYER)
def import_members():
    return _import_page(ImportForm())


def _uploaded(field) -> tuple[str, bytes]:
    """The file's name and at most MAX_BYTES + 1 of its bytes.

    Werkzeug spools uploads to a temporary file; only this much of it is ever read. (An app-wide
    MAX_CONTENT_LENGTH would refuse absurd bodies before parsing; CSRF parses the form before any
    view runs, so a per-view limit cannot.)"""
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        raise InvalidFields({field.name: "请选择要上传的文件"})
    return upload.filename, upload.stream.read(enrollment.MAX_BYTES + 1)


@bp.post("/members/import")
@requires(Role.EMPLOYER)
def upload_members():
    refused: list[enrollment.ImportRejected] = []

    def shown_at(exc: DomainError) -> str | None:
        # a refused file lists its bad rows above the form; a file that cannot be read says so by the field
        if isinstance(exc, enrollment.ImportRejected):
            refused.append(exc)
            return None
        return "file"

    return handle_form(
        ImportForm(), lambda f: enrollment.import_members(db_session(), g.actor, *_uploaded(f.file)),
        done=lambda result: _to_members(f"已导入 {result.added} 名参保人员。", warning=(
            f"其中 {len(result.warnings)} 人需经办机构复核（超过单险种年龄上限或其他特定人员），"
            "可在“需复核人员”中查看。") if result.warnings else None),
        again=lambda f, status: _import_page(f, status, rejected=refused[0] if refused else None),
        field_for=shown_at)


@bp.get("/members/template.<string:fmt>")
@requires(Role.EMPLOYER)
def members_template(fmt: str):
    """The import template, made on the fly (表头为中文): .xlsx or .csv."""
    if fmt not in ("xlsx", "csv"):
        raise NotFoundError("没有这种格式的模板")
    if fmt == "xlsx":
        body, mimetype = enrollment.template_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = enrollment.template_csv(), "text/csv; charset=utf-8"
    name = f"参保人员名单模板.{fmt}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"members-template.{fmt}\"; filename*=UTF-8''{quote(name)}")
    return response


# --- provincial counts ----------------------------------------------------------------------------------


@bp.get("/province")
@requires(Role.PROVINCIAL)
def province_overview():
    """各市参保情况: units by status, insured persons, monthly premium due; each a link."""
    rows = enrollment.province_overview(db_session(), g.actor)
    return render_template("enrollment/province.html", rows=rows, province=province(), today=local_today())
