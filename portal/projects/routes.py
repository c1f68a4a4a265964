"""按项目参保 and 实名制花名册: the contractor enrolls and runs its projects, the city clerk
handles them, provincial staff see the totals, a site worker checks their own cover."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.db import set_write_intent
from portal.errors import DomainError, UserInputError
from portal.extensions import db_session, separate_transaction
from portal.projects import overview as overview_service
from portal.projects import (
    poster,
    projects,
    public_facts,  # noqa: F401  (registers the certificate provider)
    roster,
    roster_import,
)
from portal.projects.forms import (
    BasisForm,
    CompleteForm,
    ExitForm,
    ExtendForm,
    InboxFilterForm,
    PermitForm,
    PriceForm,
    ProjectForm,
    RosterUploadForm,
    StartForm,
    WorkerForm,
)
from portal.projects.models import PremiumBasis
from portal.regions import city_name, province
from portal.web.rendering import render_partial_or_page

bp = Blueprint("projects", __name__, url_prefix="/projects")

STAFF = (Role.CLERK, Role.PROVINCIAL)


# --- contractor: list and enroll ----------------------------------------------------------------


@bp.get("/")
@requires(Role.EMPLOYER)
def index():
    return render_template("projects/index.html", projects=projects.my_projects(db_session(), g.actor))


@bp.get("/new")
@requires(Role.EMPLOYER)
def new():
    return render_template("projects/new.html", form=ProjectForm(), cities=province().cities)


@bp.post("/new")
@requires(Role.EMPLOYER)
def create():
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            project = projects.enroll_project(
                db_session(), g.actor, name=form.name.data, county_code=form.county_code.data,
                permit_number=form.permit_number.data, contract_price=form.contract_price.amount,
                installation_cost=form.installation_cost.amount, planned_start=form.planned_start.data,
                planned_end=form.planned_end.data)
        except UserInputError as exc:
            target = form.planned_start if exc.code == "policy_data_missing" else (
                form.county_code if "代码" in exc.message or "行政区划" in exc.message else form.name)
            target.errors = [*target.errors, exc.message]
        else:
            flash(f"项目已登记（项目编号 {project.code}）。请核对应缴保费后提交。", "success")
            return redirect(url_for("projects.show", project_id=project.id), 303)
    return render_template("projects/new.html", form=form, cities=province().cities), 422


# --- one project --------------------------------------------------------------------------------


def _render_show(project_id: int, status: int = 200, error: str | None = None, **forms):
    view = projects.project_view(db_session(), g.actor, project_id)
    context = dict(view=view, p=view.project, error=error, city_name=city_name,
                   start_form=StartForm(prefix="start"), complete_form=CompleteForm(prefix="complete"),
                   price_form=PriceForm(prefix="price"), extend_form=ExtendForm(prefix="extend"),
                   permit_form=PermitForm(prefix="permit"),
                   basis_form=BasisForm(prefix="basis", basis=view.project.premium_basis.value),
                   bill_url=_bill_url)
    context.update(forms)
    return render_template("projects/show.html", **context), status


@bp.get("/<int:project_id>")
@requires(Role.EMPLOYER, *STAFF)
def show(project_id: int):
    return _render_show(project_id)


def _act(project_id: int, form, run, success: str, form_name: str):
    """Validate, run one service call, redirect; or show the page again with the reason."""
    if not form.validate_on_submit():
        db_session().rollback()
        return _render_show(project_id, 422, "请根据提示修改后重新提交。", **{form_name: form})
    try:
        run(form)
    except DomainError as exc:
        if exc.status == 404:
            raise
        db_session().rollback()
        return _render_show(project_id, exc.status, exc.message, **{form_name: form})
    flash(success, "success")
    return redirect(url_for("projects.show", project_id=project_id), 303)


def _bill_url(bill) -> str | None:
    """The payments area's page for a bill (pay / status), when it has one."""
    for endpoint in ("payments.show_bill", "payments.bill", "payments.show"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, bill_id=bill.id)
    return None


@bp.post("/<int:project_id>/submit")
@requires(Role.EMPLOYER)
def submit(project_id: int):
    return _act(project_id, FlaskForm(),
                lambda f: projects.submit_project(db_session(), g.actor, project_id),
                "已提交并开具缴费单，请按缴费单缴纳保费；缴费成功后项目即为已参保。", "submit_form")


@bp.post("/<int:project_id>/start")
@requires(Role.EMPLOYER)
def start(project_id: int):
    return _act(project_id, StartForm(prefix="start"),
                lambda f: projects.start_project(db_session(), g.actor, project_id, started_on=f.day.data),
                "已登记开工。", "start_form")


@bp.post("/<int:project_id>/complete")
@requires(Role.EMPLOYER)
def complete(project_id: int):
    return _act(project_id, CompleteForm(prefix="complete"),
                lambda f: projects.complete_project(db_session(), g.actor, project_id, completed_on=f.day.data),
                "已登记竣工，项目工伤保险保障至竣工当日结束。", "complete_form")


@bp.post("/<int:project_id>/contract-price")
@requires(Role.EMPLOYER)
def change_price(project_id: int):
    return _act(project_id, PriceForm(prefix="price"),
                lambda f: projects.change_contract_price(
                    db_session(), g.actor, project_id, contract_price=f.contract_price.amount,
                    installation_cost=f.installation_cost.amount),
                "合同价变更已记录；如需补缴，已开具补缴单。", "price_form")


@bp.post("/<int:project_id>/extension")
@requires(Role.EMPLOYER)
def extend(project_id: int):
    return _act(project_id, ExtendForm(prefix="extend"),
                lambda f: projects.extend_project(db_session(), g.actor, project_id,
                                                  planned_end=f.planned_end.data, reason=f.reason.data),
                "工期延长已记录。", "extend_form")


@bp.post("/<int:project_id>/permit")
@requires(Role.EMPLOYER)
def permit(project_id: int):
    return _act(project_id, PermitForm(prefix="permit"),
                lambda f: projects.record_permit(db_session(), g.actor, project_id,
                                                 permit_number=f.permit_number.data),
                "施工许可证号已登记。", "permit_form")


@bp.post("/<int:project_id>/basis")
@requires(Role.CLERK)
def switch_basis(project_id: int):
    return _act(project_id, BasisForm(prefix="basis"),
                lambda f: projects.switch_basis(db_session(), g.actor, project_id, basis=PremiumBasis(f.basis.data)),
                "缴费基数已调整，已重新开具缴费单。", "basis_form")


@bp.get("/<int:project_id>/poster.pdf")
@requires(Role.EMPLOYER)
def poster_pdf(project_id: int):
    set_write_intent(True)  # the download is audited
    pdf = poster.poster_pdf(db_session(), g.actor, project_id,
                            self_check_url=url_for("projects.my_cover", _external=True),
                            render_html=render_template)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="project-{project_id}-poster.pdf"'})


# --- roster ---------------------------------------------------------------------------------------


def _render_roster(project_id: int, status: int = 200, **extra):
    page = request.args.get("page", 1, type=int) or 1
    show = request.args.get("show", "active")
    db_session().rollback()
    with separate_transaction() as sess:  # the read of ID and phone numbers is audited first
        data = roster.read_roster(sess, g.actor, project_id, page=page, show=show)
    context = dict(data=data, p=data.project, show=show, worker_form=WorkerForm(), upload_form=RosterUploadForm(prefix="upload"),
                   exit_form=ExitForm(), import_errors=None, error_total=0, max_rows=roster_import.MAX_ROWS,
                   staff=g.actor.role in STAFF, today=projects.local_today())
    context.update(extra)
    return render_partial_or_page("projects/roster.html", "projects/_roster_table.html", "roster-table",
                                  **context), status


@bp.get("/<int:project_id>/roster")
@requires(Role.EMPLOYER, *STAFF)
def roster_page(project_id: int):
    return _render_roster(project_id)


@bp.post("/<int:project_id>/roster")
@requires(Role.EMPLOYER)
def add_worker(project_id: int):
    form = WorkerForm()
    if form.validate_on_submit():
        try:
            entry = roster.add_worker(db_session(), g.actor, project_id, roster.WorkerInput(
                name=form.name.data, id_number=form.id_number.data, phone=form.phone.data or "",
                trade=form.trade.data, team=form.team.data or "", entry_date=form.entry_date.data))
        except roster.RosterRejected as exc:
            target = {"身份证": form.id_number, "手机": form.phone, "进场": form.entry_date,
                      "姓名": form.id_number, "工种": form.trade, "班组": form.team}
            field = next((f for key, f in target.items() if key in exc.message), form.name)
            field.errors = [*field.errors, exc.message]
        except DomainError as exc:
            if exc.status == 404:
                raise
            return _render_roster(project_id, exc.status, worker_form=form, roster_error=exc.message)
        else:
            when = roster.local_date(entry.cover_from)
            flash(f"已登记 {entry.name} 进场，自 {when:%Y年%m月%d日} 起受本项目工伤保险保障。", "success")
            return redirect(url_for("projects.roster_page", project_id=project_id), 303)
    return _render_roster(project_id, 422, worker_form=form)


@bp.post("/<int:project_id>/roster/import")
@requires(Role.EMPLOYER)
def import_roster(project_id: int):
    form = RosterUploadForm(prefix="upload")
    if (request.content_length or 0) > roster_import.MAX_BYTES + 64 * 1024:
        return _render_roster(project_id, 413, upload_form=form,
                              roster_error=f"文件超过 {roster_import.MAX_BYTES // 1024 // 1024} MB，请分成几个文件上传")
    if not form.validate_on_submit():
        return _render_roster(project_id, 422, upload_form=form)
    upload = form.file.data
    try:
        rows = roster_import.read_upload(upload.filename, upload.read(roster_import.MAX_BYTES + 1))
        outcome = roster.import_workers(db_session(), g.actor, project_id, rows, max_rows=roster_import.MAX_ROWS)
    except roster.RosterRejected as exc:
        return _render_roster(project_id, 422, upload_form=form, import_errors=exc.errors, error_total=exc.total,
                              roster_error=exc.message)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _render_roster(project_id, exc.status, upload_form=form, roster_error=exc.message)
    flash(f"已导入 {outcome.imported} 名人员，均自登记之时起受本项目工伤保险保障。", "success")
    return redirect(url_for("projects.roster_page", project_id=project_id), 303)


@bp.post("/<int:project_id>/roster/<int:entry_id>/exit")
@requires(Role.EMPLOYER)
def remove_worker(project_id: int, entry_id: int):
    form = ExitForm()
    if form.validate_on_submit():
        try:
            roster.remove_worker(db_session(), g.actor, project_id, entry_id, exit_date=form.exit_date.data)
        except DomainError as exc:
            if exc.status == 404:
                raise
            return _render_roster(project_id, exc.status, roster_error=exc.message)
        flash("已登记退场，名册保留该人员的进退场记录。", "success")
        return redirect(url_for("projects.roster_page", project_id=project_id), 303)
    return _render_roster(project_id, 422, roster_error="请填写退场日期，格式如 2024-03-01")


@bp.get("/roster-template.<fmt>")
@requires(Role.EMPLOYER)
def roster_template(fmt: str):
    if fmt not in ("xlsx", "csv"):
        abort(404)
    if fmt == "xlsx":
        return Response(roster_import.template_xlsx(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="roster-template.xlsx"'})
    return Response(roster_import.template_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="roster-template.csv"'})


# --- worker self-check ------------------------------------------------------------------------------


@bp.get("/my-cover")
@requires(Role.WORKER)
def my_cover():
    return render_template("projects/my_cover.html", lines=roster.my_cover(db_session(), g.actor),
                           local_date=roster.local_date)


# --- staff ---------------------------------------------------------------------------------------------


@bp.get("/inbox")
@requires(*STAFF)
def inbox():
    form = InboxFilterForm(request.args)
    if not form.validate():
        return render_template("projects/inbox.html", form=form, result=None, city_name=city_name,
                               cities=province().cities), 422
    result = projects.inbox(db_session(), g.actor, status=form.status.data or None,
                            county=form.county.data or None, name=form.name.data or None,
                            city=form.city.data or None, page=form.page.data or 1)
    return render_partial_or_page("projects/inbox.html", "projects/_inbox_results.html", "inbox-results",
                                  form=form, result=result, city_name=city_name, cities=province().cities)


@bp.get("/overview")
@requires(Role.PROVINCIAL)
def overview():
    return render_template("projects/overview.html", rows=overview_service.per_city(db_session(), g.actor),
                           city_name=city_name)
