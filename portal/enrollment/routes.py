"""单位参保登记与人员增减: pages for employers, the city clerk's review inbox, provincial counts."""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.enrollment import (
    imports,
    members,
    public_facts,  # noqa: F401  (registers the certificate provider)
    units,
)
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
from portal.enrollment.premiums import CLASS_NAMES, wage_bounds
from portal.errors import NotFoundError, UserInputError
from portal.extensions import db_session, separate_transaction
from portal.policy.figures import figure
from portal.regions import city_name, province
from portal.web.rendering import render_partial_or_page

bp = Blueprint("enrollment", __name__, url_prefix="/enrollment")


def _apply_errors(form, errors: dict[str, str]) -> None:
    """Service field messages next to the form's fields (unknown keys go to the top)."""
    for key, message in errors.items():
        field = getattr(form, key, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


# --- the employer's unit ------------------------------------------------------------------------


@bp.get("/unit")
@requires(Role.EMPLOYER)
def unit():
    """本单位参保登记: status, details, rate, and the timeline with any return reasons."""
    with separate_transaction() as sess:
        view = units.read_own_unit(sess, g.actor)
    return render_template("enrollment/unit.html", view=view, submit_form=SubmitForm())


def _unit_form_page(form, status: int = 200):
    return render_template("enrollment/edit_unit.html", form=form), status


@bp.get("/unit/edit")
@requires(Role.EMPLOYER)
def edit_unit():
    with separate_transaction() as sess:
        data = units.unit_form_data(sess, g.actor)
    return _unit_form_page(UnitForm(data=data))


@bp.post("/unit/edit")
@requires(Role.EMPLOYER)
def save_unit():
    form = UnitForm()
    if form.validate_on_submit():
        try:
            units.save_unit(db_session(), g.actor, uscc=form.uscc.data, name=form.name.data,
                            address=form.address.data, county_code=form.county_code.data,
                            industry_code=form.industry_code.data, contact_name=form.contact_name.data,
                            contact_phone=form.contact_phone.data)
        except units.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            flash("参保登记信息已保存。请核对后点击“提交审核”。", "success")
            return redirect(url_for("enrollment.unit"), 303)
    return _unit_form_page(form, 422)


@bp.post("/unit/submit")
@requires(Role.EMPLOYER)
def submit_unit():
    if not SubmitForm().validate_on_submit():
        flash("页面已过期，请重新提交。", "error")
        return redirect(url_for("enrollment.unit"), 303)
    units.submit_unit(db_session(), g.actor)
    flash("已提交审核，所在地市经办机构将尽快审核。审核结果会显示在办理进度中。", "success")
    return redirect(url_for("enrollment.unit"), 303)


# --- the clerk's review ---------------------------------------------------------------------------


@bp.get("/review")
@requires(Role.CLERK, Role.PROVINCIAL)
def clerk_inbox():
    """待审核参保登记 (and, filtered by status, every unit sent in) of the actor's city."""
    args = request.args.to_dict()
    if "status" not in args:
        args["status"] = UnitStatus.SUBMITTED.value  # the inbox: what waits for a decision
    form = InboxFilterForm(data=None, formdata=_multidict(args))
    context = dict(form=form, is_province=g.actor.role is Role.PROVINCIAL, city_name=city_name,
                   own_city=city_name(g.actor.city_code) if g.actor.city_code else None, params=args)
    if not form.validate():
        return render_template("enrollment/inbox.html", result=None, **context), 422
    result = units.list_units(db_session(), g.actor, city_code=form.city_code.data or None,
                              status=None if form.status.data in ("", "all") else form.status.data, county_code=form.county_code.data or None,
                              q=form.q.data or None, page=form.page.data or 1)
    return render_partial_or_page("enrollment/inbox.html", "enrollment/_inbox_results.html", "inbox-results",
                                  result=result, **context)


def _multidict(args: dict):
    from werkzeug.datastructures import MultiDict

    return MultiDict(args)


def _review_page(unit_id: int, approve_form=None, return_form=None, status: int = 200):
    with separate_transaction() as sess:
        view = units.read_unit_for_review(sess, g.actor, unit_id)
    if approve_form is None:
        approve_form = ApproveForm(data={"risk_class": str(view.rate.risk_class) if view.rate and view.rate.risk_class else "",
                                         "band": "1.0", "effective_date": units.local_today()})
    return render_template("enrollment/review.html", view=view, approve_form=approve_form,
                           return_form=return_form or ReturnForm(), class_names=CLASS_NAMES), status


@bp.get("/review/<int:unit_id>")
@requires(Role.CLERK, Role.PROVINCIAL)
def review_unit(unit_id: int):
    return _review_page(unit_id)


@bp.post("/review/<int:unit_id>/approve")
@requires(Role.CLERK)
def approve_unit(unit_id: int):
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            units.approve_unit(db_session(), g.actor, unit_id, risk_class=form.risk_class.data,
                               band=form.band.data, effective_date=form.effective_date.data)
        except units.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            flash("已审核通过，单位可以开始增减参保人员。", "success")
            return redirect(url_for("enrollment.review_unit", unit_id=unit_id), 303)
    return _review_page(unit_id, approve_form=form, status=422)


@bp.post("/review/<int:unit_id>/return")
@requires(Role.CLERK)
def return_unit(unit_id: int):
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            units.return_unit(db_session(), g.actor, unit_id, reasons=form.reasons.data)
        except units.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            flash("已退回，单位会在办理进度中看到退回原因。", "success")
            return redirect(url_for("enrollment.review_unit", unit_id=unit_id), 303)
    return _review_page(unit_id, return_form=form, status=422)


@bp.get("/review/<int:unit_id>/members")
@requires(Role.CLERK, Role.PROVINCIAL)
def unit_members(unit_id: int):
    return _members_page(unit_id)


# --- insured persons ----------------------------------------------------------------------------------


def _members_page(unit_id: int | None):
    form = MembersFilterForm(request.args)
    if not form.validate():
        form.page.data, form.show.data = 1, "current"
    with separate_transaction() as sess:
        result = members.read_members(sess, g.actor, unit_id=unit_id, show=form.show.data or "current",
                                      page=form.page.data or 1)
    endpoint = "enrollment.members_list" if unit_id is None else "enrollment.unit_members"
    return render_template("enrollment/members.html", result=result, form=form, endpoint=endpoint,
                           unit_id=unit_id, params=request.args.to_dict())


@bp.get("/members")
@requires(Role.EMPLOYER)
def members_list():
    return _members_page(None)


def _new_member_page(form, status: int = 200):
    unit = members.approved_own_unit(db_session(), g.actor)
    today = units.local_today()
    return render_template("enrollment/new_member.html", form=form, unit=unit, bounds=wage_bounds(today),
                           groups=figure("single_insurance_groups", today),
                           age_cap=figure("single_insurance_age_cap", today),
                           retirement=figure("statutory_retirement_age", today)), status


@bp.get("/members/new")
@requires(Role.EMPLOYER)
def new_member():
    return _new_member_page(MemberForm(data={"start_date": units.local_today()}))


@bp.post("/members/new")
@requires(Role.EMPLOYER)
def add_member():
    form = MemberForm()
    if form.validate_on_submit():
        try:
            _, warning = members.add_member(
                db_session(), g.actor, name=form.name.data, id_number=form.id_number.data, phone=form.phone.data,
                wage_base=form.wage_base.data, start_date=form.start_date.data,
                insurance_type=form.insurance_type.data)
        except units.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            flash(f"已增加参保人员 {form.name.data}。", "success")
            if warning:
                flash(warning, "warning")
            return redirect(url_for("enrollment.members_list"), 303)
    return _new_member_page(form, 422)


def _member_page(member_id: int, wage_form=None, remove_form=None, status: int = 200):
    with separate_transaction() as sess:
        row = members.read_member(sess, g.actor, member_id)
    return render_template("enrollment/member.html", row=row, wage_form=wage_form or WageForm(),
                           remove_form=remove_form or RemoveForm(data={"end_date": units.local_today()}),
                           bounds=wage_bounds(units.local_today())), status


@bp.get("/members/<int:member_id>")
@requires(Role.EMPLOYER)
def member(member_id: int):
    return _member_page(member_id)


@bp.post("/members/<int:member_id>/wage-base")
@requires(Role.EMPLOYER)
def change_wage_base(member_id: int):
    form = WageForm()
    if form.validate_on_submit():
        try:
            members.change_wage_base(db_session(), g.actor, member_id, wage_base=form.wage_base.data)
        except units.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            flash("月缴费工资基数已变更。", "success")
            return redirect(url_for("enrollment.member", member_id=member_id), 303)
    return _member_page(member_id, wage_form=form, status=422)


@bp.post("/members/<int:member_id>/remove")
@requires(Role.EMPLOYER)
def remove_member(member_id: int):
    form = RemoveForm()
    if form.validate_on_submit():
        try:
            members.remove_member(db_session(), g.actor, member_id, end_date=form.end_date.data)
        except units.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            flash("已办理减员，该人员的参保记录保留为历史。", "success")
            return redirect(url_for("enrollment.members_list"), 303)
    return _member_page(member_id, remove_form=form, status=422)


# --- bulk import ------------------------------------------------------------------------------------

#: errors shown on the page at most (the count says how many in all)
MAX_ERRORS_SHOWN = 200


def _import_page(form, rejected=None, status: int = 200):
    members.approved_own_unit(db_session(), g.actor)
    return render_template("enrollment/import.html", form=form, rejected=rejected,
                           max_errors=MAX_ERRORS_SHOWN, max_rows=imports.MAX_ROWS,
                           max_mb=imports.MAX_BYTES // (1024 * 1024), headers=imports.HEADERS), status


@bp.get("/members/import")
@requires(Role.EMPLOYER)
def import_members():
    return _import_page(ImportForm())


@bp.post("/members/import")
@requires(Role.EMPLOYER)
def upload_members():
    # Werkzeug spools uploads to a temporary file; only MAX_BYTES + 1 of it is ever read here.
    # (An app-wide MAX_CONTENT_LENGTH would refuse absurd bodies before parsing; CSRF parses the
    # form before any view runs, so a per-view limit cannot.)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [*form.file.errors, "请选择要上传的文件"]
            return _import_page(form, status=422)
        data = upload.stream.read(imports.MAX_BYTES + 1)
        try:
            result = imports.import_members(db_session(), g.actor, upload.filename, data)
        except imports.ImportRejected as exc:
            return _import_page(form, rejected=exc, status=422)
        except UserInputError as exc:
            form.file.errors = [*form.file.errors, exc.message]
            return _import_page(form, status=422)
        flash(f"已导入 {result.added} 名参保人员。", "success")
        if result.warnings:
            flash(f"其中 {len(result.warnings)} 人需经办机构复核（超过单险种年龄上限或其他特定人员），"
                  "可在“需复核人员”中查看。", "warning")
        return redirect(url_for("enrollment.members_list"), 303)
    return _import_page(form, status=422)


@bp.get("/members/template.<string:fmt>")
@requires(Role.EMPLOYER)
def members_template(fmt: str):
    """The import template, made on the fly (表头为中文): .xlsx or .csv."""
    if fmt not in ("xlsx", "csv"):
        raise NotFoundError("没有这种格式的模板")
    if fmt == "xlsx":
        body, mimetype = imports.template_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = imports.template_csv(), "text/csv; charset=utf-8"
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
    rows = units.province_overview(db_session(), g.actor)
    return render_template("enrollment/province.html", rows=rows, province=province(),
                           today=units.local_today())
