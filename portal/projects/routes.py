"""按项目参保 and 实名制花名册: the contractor enrolls and runs its projects, the city clerk
handles them, provincial staff see the totals, a site worker checks their own cover."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.errors import DomainError
from portal.extensions import db_session
from portal.localtime import local_today, to_local
from portal.projects import service as projects
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
from portal.web.forms import handle_form, see_other
from portal.web.rendering import render_partial_or_page

bp = Blueprint("projects", __name__, url_prefix="/projects")

STAFF = (Role.CLERK, Role.PROVINCIAL)


# --- contractor: list and enroll ----------------------------------------------------------------


@bp.get("/")
@requires(Role.EMPLOYER)
def index():
    return render_template("projects/index.html", projects=projects.my_projects(db_session(), g.actor))


def _new_page(form: ProjectForm, status: int = 200):
    return render_template("projects/new.html", form=form, cities=province().cities), status


@bp.get("/new")
@requires(Role.EMPLOYER)
def new():
    return _new_page(ProjectForm())


@bp.post("/new")
@requires(Role.EMPLOYER)
def create():
    return handle_form(
        ProjectForm(),
        lambda f: projects.enroll_project(
            db_session(), g.actor, name=f.name.data, county_code=f.county_code.data,
            permit_number=f.permit_number.data, contract_price=getattr(f.contract_price, "amount", None),
            installation_cost=getattr(f.installation_cost, "amount", None), planned_start=f.planned_start.data,
            planned_end=f.planned_end.data),
        done=lambda project: see_other("projects.show", project_id=project.id,
                                       flash_message=f"项目已登记（项目编号 {project.code}）。请核对应缴保费后提交。"),
        again=_new_page, check_all=True)


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


def _project_form(project_id: int, form_name: str, form, success: str, run):
    """A form on the project's page, through :func:`handle_form`: back to the page with ``success``;
    or the page once more with the form (as ``form_name``) and, above it, why it was refused."""
    return handle_form(
        form, run, done=lambda _: see_other("projects.show", project_id=project_id, flash_message=success),
        again=lambda f, status: _render_show(
            project_id, status, "；".join(f.form_errors) or "请根据提示修改后重新提交。", **{form_name: f}))


def _bill_url(bill) -> str | None:
    """The payments area's page for a bill (pay / status), when it has one."""
    for endpoint in ("payments.show_bill", "payments.bill", "payments.show"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, bill_id=bill.id)
    return None


@bp.post("/<int:project_id>/submit")
@requires(Role.EMPLOYER)
def submit(project_id: int):
    return _project_form(project_id, "submit_form", FlaskForm(),
                         "已提交并开具缴费单，请按缴费单缴纳保费；缴费成功后项目即为已参保。",
                         lambda f: projects.submit_project(db_session(), g.actor, project_id))


@bp.post("/<int:project_id>/start")
@requires(Role.EMPLOYER)
def start(project_id: int):
    return _project_form(project_id, "start_form", StartForm(prefix="start"), "已登记开工。",
                         lambda f: projects.start_project(db_session(), g.actor, project_id, started_on=f.day.data))


@bp.post("/<int:project_id>/complete")
@requires(Role.EMPLOYER)
def complete(project_id: int):
    return _project_form(project_id, "complete_form", CompleteForm(prefix="complete"),
                         "已登记竣工，项目工伤保险保障至竣工当日结束。",
                         lambda f: projects.complete_project(db_session(), g.actor, project_id, completed_on=f.day.data))


@bp.post("/<int:project_id>/contract-price")
@requires(Role.EMPLOYER)
def change_price(project_id: int):
    return _project_form(project_id, "price_form", PriceForm(prefix="price"),
                         "合同价变更已记录；如需补缴，已开具补缴单。",
                         lambda f: projects.change_contract_price(db_session(), g.actor, project_id,
                                                                  contract_price=f.contract_price.amount,
                                                                  installation_cost=f.installation_cost.amount))


@bp.post("/<int:project_id>/extension")
@requires(Role.EMPLOYER)
def extend(project_id: int):
    return _project_form(project_id, "extend_form", ExtendForm(prefix="extend"), "工期延长已记录。",
                         lambda f: projects.extend_project(db_session(), g.actor, project_id,
                                                           planned_end=f.planned_end.data, reason=f.reason.data))


@bp.post("/<int:project_id>/permit")
@requires(Role.EMPLOYER)
def permit(project_id: int):
    return _project_form(project_id, "permit_form", PermitForm(prefix="permit"), "施工许可证号已登记。",
                         lambda f: projects.record_permit(db_session(), g.actor, project_id,
                                                          permit_number=f.permit_number.data))


@bp.post("/<int:project_id>/basis")
@requires(Role.CLERK)
def switch_basis(project_id: int):
    return _project_form(project_id, "basis_form", BasisForm(prefix="basis"), "缴费基数已调整，已重新开具缴费单。",
                         lambda f: projects.switch_basis(db_session(), g.actor, project_id,
                                                         basis=PremiumBasis(f.basis.data)))


@bp.get("/<int:project_id>/poster.pdf")
@requires(Role.EMPLOYER)
def poster_pdf(project_id: int):
    pdf = projects.poster_pdf(db_session(), g.actor, project_id,
                              self_check_url=url_for("projects.my_cover", _external=True),
                              render_html=render_template)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="project-{project_id}-poster.pdf"'})


# --- roster ---------------------------------------------------------------------------------------


def _render_roster(project_id: int, status: int = 200, **extra):
    """The roster page; ``roster_error`` (with the file's ``import_errors``) stands above it."""
    page = request.args.get("page", 1, type=int) or 1
    show = request.args.get("show", "active")
    data = projects.read_roster(db_session(), g.actor, project_id, page=page, show=show)
    context = dict(data=data, p=data.project, show=show, worker_form=WorkerForm(), upload_form=RosterUploadForm(prefix="upload"),
                   import_errors=None, error_total=0, max_rows=projects.MAX_ROWS,
                   staff=g.actor.role in STAFF, today=local_today())
    context.update(extra)
    return render_partial_or_page("projects/roster.html", "projects/_roster_table.html", "roster-table",
                                  **context), status


def _refusal(form) -> str | None:
    """A refusal about no field, taken from ``form`` to stand above the roster page (a project
    no longer insured shows no roster forms)."""
    errors, form.form_errors = list(form.form_errors), []
    return "；".join(errors) or None


@bp.get("/<int:project_id>/roster")
@requires(Role.EMPLOYER, *STAFF)
def roster_page(project_id: int):
    return _render_roster(project_id)


@bp.post("/<int:project_id>/roster")
@requires(Role.EMPLOYER)
def add_worker(project_id: int):
    return handle_form(
        WorkerForm(),
        lambda f: projects.add_worker(db_session(), g.actor, project_id, projects.WorkerInput(
            name=f.name.data, id_number=f.id_number.data, phone=f.phone.data or "",
            trade=f.trade.data, team=f.team.data or "", entry_date=f.entry_date.data)),
        done=lambda entry: see_other(
            "projects.roster_page", project_id=project_id,
            flash_message=f"已登记 {entry.name} 进场，自 {to_local(entry.cover_from):%Y年%m月%d日} 起受本项目工伤保险保障。"),
        again=lambda f, status: _render_roster(project_id, status, worker_form=f, roster_error=_refusal(f)),
        field_for=lambda exc: exc.field if isinstance(exc, projects.RosterRejected) else None, check_all=True)


@bp.post("/<int:project_id>/roster/import")
@requires(Role.EMPLOYER)
def import_roster(project_id: int):
    form = RosterUploadForm(prefix="upload")
    if (request.content_length or 0) > projects.MAX_BYTES + 64 * 1024:
        return _render_roster(project_id, 413, upload_form=form,
                              roster_error=f"文件超过 {projects.MAX_BYTES // 1024 // 1024} MB，请分成几个文件上传")
    refused: list[projects.RosterRejected] = []

    def listed_above(exc: DomainError) -> None:
        # a refused file lists its bad rows above the page
        if isinstance(exc, projects.RosterRejected):
            refused.append(exc)

    def import_file(f):
        upload = f.file.data
        rows = projects.read_upload(upload.filename, upload.read(projects.MAX_BYTES + 1))
        return projects.import_workers(db_session(), g.actor, project_id, rows, max_rows=projects.MAX_ROWS)

    return handle_form(
        form, import_file,
        done=lambda outcome: see_other("projects.roster_page", project_id=project_id,
                                       flash_message=f"已导入 {outcome.imported} 名人员，均自登记之时起受本项目工伤保险保障。"),
        again=lambda f, status: _render_roster(
            project_id, status, upload_form=f, roster_error=_refusal(f),
            import_errors=refused[0].errors if refused else None, error_total=refused[0].total if refused else 0),
        field_for=listed_above)


@bp.post("/<int:project_id>/roster/<int:entry_id>/exit")
@requires(Role.EMPLOYER)
def remove_worker(project_id: int, entry_id: int):
    return handle_form(
        ExitForm(),
        lambda f: projects.remove_worker(db_session(), g.actor, project_id, entry_id, exit_date=f.exit_date.data),
        done=lambda _: see_other("projects.roster_page", project_id=project_id,
                                 flash_message="已登记退场，名册保留该人员的进退场记录。"),
        again=lambda f, status: _render_roster(
            project_id, status, roster_error=_refusal(f) or "请填写退场日期，格式如 2024-03-01"))


@bp.get("/roster-template.<fmt>")
@requires(Role.EMPLOYER)
def roster_template(fmt: str):
    if fmt not in ("xlsx", "csv"):
        abort(404)
    if fmt == "xlsx":
        return Response(projects.template_xlsx(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="roster-template.xlsx"'})
    return Response(projects.template_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="roster-template.csv"'})


# --- worker self-check ------------------------------------------------------------------------------


@bp.get("/my-cover")
@requires(Role.WORKER)
def my_cover():
    return render_template("projects/my_cover.html", cover=projects.worker_cover(db_session(), g.actor))


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
    return render_template("projects/overview.html", rows=projects.per_city(db_session(), g.actor),
                           city_name=city_name)
