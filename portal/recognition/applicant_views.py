"""The applicant's pages of work-injury recognition: 我的工伤认定, filing as a task list (saved on
the server after every step), check your answers and submit, the case page of the parties with
its clock, supplement, 催办 and withdrawal."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, request, url_for

from portal.audit import service as audit
from portal.auth.access import requires
from portal.auth.roles import Role
from portal.clocks.service import work_calendar
from portal.db import set_write_intent
from portal.errors import ConflictError, NotFoundError, UserInputError
from portal.extensions import db_session, separate_transaction
from portal.materials import service as materials
from portal.materials.routes import FileResponse
from portal.materials.uploads import files_dir, read_upload, upload_limit
from portal.recognition import (
    access,  # noqa: F401  (registers who may read case files)
    applicant,
    filing,
    policy,
)
from portal.recognition.forms import (
    EmployerForm,
    EventForm,
    NewCaseForm,
    ReuseForm,
    StartForm,
    SupplementUploadForm,
    UploadForm,
    UrgeForm,
    WithdrawForm,
    WorkerForm,
)
from portal.recognition.models import ApplicantKind, EventKind
from portal.recognition.routes import bp
from portal.recognition.states import OFFICE_ROLES
from portal.security.masking import mask_id_number

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
PARTIES = (Role.WORKER, Role.EMPLOYER)


@bp.app_template_global("recognition_office_name")
def recognition_office_name(city_code: str | None) -> str:
    from portal.recognition.states import office_name

    return office_name(city_code)


def _today():
    return datetime.now(LOCAL_TZ).date()


def _apply_errors(form, errors: dict[str, str]) -> None:
    for key, message in errors.items():
        field = getattr(form, key, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*(field.errors or []), message]
        else:
            form.form_errors.append(message)


def _expired() -> None:
    flash("页面已过期，请重新提交。", "error")


# --- 我的工伤认定 ------------------------------------------------------------------------------------


@bp.get("/")
@requires(*PARTIES)
def index():
    """我的工伤认定: drafts to continue first, then submitted cases with stage and due date."""
    sess = db_session()
    drafts, submitted = applicant.list_cases(sess, g.actor, today=_today(), calendar=work_calendar(sess))
    return render_template("recognition/index.html", drafts=drafts, submitted=submitted,
                           start_form=StartForm())


@bp.get("/new")
@requires(*PARTIES)
def new_case():
    return render_template("recognition/new.html", form=NewCaseForm(), start_form=StartForm(),
                           window_rules=_window_rules())


def _window_rules():
    return {kind: policy.applicant_rule(kind) for kind in ("employer", "worker")}


@bp.post("/new")
@requires(*PARTIES)
def create_case():
    if g.actor.role is Role.EMPLOYER:
        form = StartForm()
        if not form.validate_on_submit():
            _expired()
            return redirect(url_for("recognition.new_case"), 303)
        case = filing.create_draft(db_session(), g.actor, applicant_kind="employer")
    else:
        form = NewCaseForm()
        if form.validate_on_submit():
            try:
                case = filing.create_draft(db_session(), g.actor, applicant_kind=form.applicant_kind.data,
                                           relation=form.relation.data or None)
            except filing.InvalidFields as exc:
                _apply_errors(form, exc.errors)
            else:
                flash("申请已创建并保存。请逐项填写，每一步保存后可以随时离开，换一台设备登录后继续。", "success")
                return redirect(url_for("recognition.task_list", case_id=case.id), 303)
        return render_template("recognition/new.html", form=form, start_form=StartForm(),
                               window_rules=_window_rules()), 422
    flash("申请已创建并保存。请逐项填写，每一步保存后可以随时离开，换一台设备登录后继续。", "success")
    return redirect(url_for("recognition.task_list", case_id=case.id), 303)


# --- the task list ------------------------------------------------------------------------------------


def _draft_or_case_page(case_id: int):
    """The actor's draft; a submitted case sends the reader to its case page instead."""
    try:
        return filing.load_draft(db_session(), g.actor, case_id), None
    except filing.AlreadySubmitted:
        return None, redirect(url_for("recognition.case_page", case_id=case_id), 303)


@bp.get("/cases/<int:case_id>/file")
@requires(*PARTIES)
def task_list(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    sess = db_session()
    steps = filing.step_states(sess, case)
    return render_template("recognition/task_list.html", case=case, steps=steps,
                           all_done=all(s.done for s in steps), discard_form=StartForm())


def _worker_context(case):
    sess = db_session()
    return dict(case=case, members=filing.member_choices(sess, g.actor),
                own_name=case.worker.name if case.worker else None,
                own_id=mask_id_number(case.worker.id_number) if case.worker else None)


@bp.get("/cases/<int:case_id>/file/worker")
@requires(*PARTIES)
def worker_step(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    data = {}
    if case.worker is not None and case.applicant_kind is not ApplicantKind.WORKER:
        data = {"name": case.worker.name, "id_number": case.worker.id_number}
    form = WorkerForm(data=data)
    return _worker_page(form, case)


def _worker_page(form, case, status: int = 200):
    context = _worker_context(case)
    from portal.recognition.forms import options

    form.member_id.choices = options([("", "不选择，手工填写")] + [(str(m.member_id), f"{m.name}（{m.masked_id}）")
                                                               for m in context["members"]])
    return render_template("recognition/step_worker.html", form=form, **context), status


@bp.post("/cases/<int:case_id>/file/worker")
@requires(*PARTIES)
def save_worker_step(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    form = WorkerForm()
    if form.validate_on_submit():
        member = form.member_id.data
        try:
            filing.save_worker(db_session(), g.actor, case_id, name=form.name.data, id_number=form.id_number.data,
                               member_id=int(member) if member and member.isdigit() else None, today=_today())
        except filing.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            return _next(case_id, "worker")
    return _worker_page(form, case, 422)


def _next(case_id: int, step: str):
    flash(f"“{filing.STEP_TITLES[step]}”已保存。", "success")
    return redirect(url_for("recognition.task_list", case_id=case_id), 303)


@bp.get("/cases/<int:case_id>/file/employer")
@requires(*PARTIES)
def employer_step(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    data = {}
    if case.employer is not None:
        data = {"uscc": case.employer.uscc, "name": case.employer.name, "county_code": case.county_code}
    return _employer_page(EmployerForm(data=data), case)


def _employer_page(form, case, status: int = 200):
    from portal.recognition.filing import _own_unit
    from portal.regions import city_name

    unit = None
    if case.applicant_kind is ApplicantKind.EMPLOYER:
        unit = _own_unit(db_session(), case.applicant_organisation_id)
    return render_template("recognition/step_employer.html", form=form, case=case, unit=unit,
                           city=city_name(case.city_code) if case.city_code else None), status


@bp.post("/cases/<int:case_id>/file/employer")
@requires(*PARTIES)
def save_employer_step(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    form = EmployerForm()
    if form.validate_on_submit():
        try:
            filing.save_employer(db_session(), g.actor, case_id, uscc=form.uscc.data, name=form.name.data,
                                 county_code=form.county_code.data)
        except filing.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            return _next(case_id, "employer")
    return _employer_page(form, case, 422)


def _window_for(case, kind=None, day=None):
    kind = kind or (case.event_kind.value if case.event_kind else None)
    day = day or case.event_date
    if not kind or not day:
        return None
    try:
        return filing.filing_window(case.applicant_kind.value, kind, day, calendar=work_calendar(db_session()),
                                    today=_today())
    except UserInputError:
        return None


@bp.get("/cases/<int:case_id>/file/event")
@requires(*PARTIES)
def event_step(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    form = EventForm(data={
        "event_kind": case.event_kind.value if case.event_kind else None, "event_date": case.event_date,
        "event_time": case.event_time, "event_place": case.event_place, "event_account": case.event_account,
        "injury": case.injury, "died": case.died, "death_date": case.death_date, "late_reason": case.late_reason})
    return _event_page(form, case, _window_for(case))


def _event_page(form, case, window, status: int = 200):
    return render_template("recognition/step_event.html", form=form, case=case, window=window,
                           rules=_window_rules(), kinds=list(EventKind)), status


@bp.post("/cases/<int:case_id>/file/event")
@requires(*PARTIES)
def save_event_step(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    form = EventForm()
    window = None
    if form.validate_on_submit():
        sess = db_session()
        try:
            window = filing.save_event(
                sess, g.actor, case_id, event_kind=form.event_kind.data, event_date=form.event_date.data,
                event_time=form.event_time.data, event_place=form.event_place.data,
                event_account=form.event_account.data, injury=form.injury.data, died=form.died.data,
                death_date=form.death_date.data, late_reason=form.late_reason.data, today=_today(),
                calendar=work_calendar(sess))
        except filing.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            if window is not None and window.late:
                flash(f"已保存。注意：本申请已超过申请时限（{window.statement}）。", "warning")
                return redirect(url_for("recognition.task_list", case_id=case_id), 303)
            return _next(case_id, "event")
    if form.event_date.data and form.event_kind.data in {k.value for k in EventKind}:
        window = _window_for(case, form.event_kind.data, form.event_date.data)
        if window is not None and form.event_date.data > _today():
            window = None
    return _event_page(form, case, window, 422)


# --- materials -------------------------------------------------------------------------------------


def _materials_page(case, *, upload_errors: dict[str, list[str]] | None = None, status: int = 200):
    sess = db_session()
    slots = filing.material_slots(sess, g.actor, case)
    return render_template("recognition/step_materials.html", case=case, slots=slots,
                           upload_form=UploadForm(), reuse_form=ReuseForm(), remove_form=StartForm(),
                           upload_errors=upload_errors or {},
                           employer_view=g.actor.role is Role.EMPLOYER), status


@bp.get("/cases/<int:case_id>/file/materials")
@requires(*PARTIES)
def materials_step(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    if case.worker_person_id is None:
        flash("请先填写受伤害职工，再上传申请材料。", "warning")
        return redirect(url_for("recognition.task_list", case_id=case_id), 303)
    return _materials_page(case)


@bp.post("/cases/<int:case_id>/file/materials")
@requires(*PARTIES)
def upload_material(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    form = UploadForm()
    kind = form.kind.data or ""
    if not form.validate_on_submit():
        return _materials_page(case, upload_errors={kind: ["页面已过期，请重新选择文件上传"]}, status=422)
    try:
        data, filename = read_upload(form.file.data)
        filing.add_material(db_session(), g.actor, case_id, kind=kind, data=data, filename=filename,
                            files_dir=files_dir(), max_bytes=upload_limit())
    except filing.InvalidFields as exc:
        return _materials_page(case, upload_errors={kind: list(exc.errors.values())}, status=422)
    except UserInputError as exc:
        return _materials_page(case, upload_errors={kind: [exc.message]}, status=422)
    flash(f"“{filing.material_label(kind)}”已上传。", "success")
    return redirect(url_for("recognition.materials_step", case_id=case_id, _anchor=f"slot-{kind}"), 303)


@bp.post("/cases/<int:case_id>/file/materials/reuse")
@requires(*PARTIES)
def reuse_material(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    form = ReuseForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for("recognition.materials_step", case_id=case_id), 303)
    material = filing.reuse_material(db_session(), g.actor, case_id, stored_file_id=form.stored_file_id.data)
    flash(f"已使用已有材料“{filing.material_label(material.kind)}”，无需重新上传。", "success")
    return redirect(url_for("recognition.materials_step", case_id=case_id, _anchor=f"slot-{material.kind}"), 303)


@bp.post("/cases/<int:case_id>/file/materials/<int:material_id>/remove")
@requires(*PARTIES)
def remove_material(case_id: int, material_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    if not StartForm().validate_on_submit():
        _expired()
        return redirect(url_for("recognition.materials_step", case_id=case_id), 303)
    filing.remove_material(db_session(), g.actor, case_id, material_id)
    flash("已移除该文件。", "success")
    return redirect(url_for("recognition.materials_step", case_id=case_id), 303)


# --- check your answers and submit ---------------------------------------------------------------


def _check_page(case, problems=None, status: int = 200):
    sess = db_session()
    slots = filing.material_slots(sess, g.actor, case, offer_reuse=False)
    return render_template(
        "recognition/check.html", case=case, slots=slots, window=_window_for(case),
        problems=problems if problems is not None else filing.problems(sess, case),
        applicant=filing.applicant_name(sess, case),
        worker_id=mask_id_number(case.worker.id_number) if case.worker else None,
        employer_view=g.actor.role is Role.EMPLOYER, submit_form=StartForm(),
        relation=policy.relations().get(case.relation or "")), status


@bp.get("/cases/<int:case_id>/file/check")
@requires(*PARTIES)
def check_answers(case_id: int):
    case, elsewhere = _draft_or_case_page(case_id)
    if elsewhere:
        return elsewhere
    return _check_page(case)


@bp.post("/cases/<int:case_id>/submit")
@requires(*PARTIES)
def submit_case(case_id: int):
    if not StartForm().validate_on_submit():
        _expired()
        return redirect(url_for("recognition.check_answers", case_id=case_id), 303)
    sess = db_session()
    try:
        filing.submit(sess, g.actor, case_id, today=_today(), now=datetime.now(timezone.utc),
                      files_dir=files_dir(), calendar=work_calendar(sess),
                      case_url=url_for("recognition.case_page", case_id=case_id, _external=True))
    except filing.AlreadySubmitted:
        # a second click or another tab: the first submission stands; show the case
        return redirect(url_for("recognition.case_page", case_id=case_id), 303)
    except filing.IncompleteFiling as exc:
        case = filing.load_draft(sess, g.actor, case_id)
        return _check_page(case, exc.problems, 422)
    return redirect(url_for("recognition.submitted", case_id=case_id), 303)


@bp.post("/cases/<int:case_id>/discard")
@requires(*PARTIES)
def discard_draft(case_id: int):
    if not StartForm().validate_on_submit():
        _expired()
        return redirect(url_for("recognition.task_list", case_id=case_id), 303)
    try:
        filing.discard_draft(db_session(), g.actor, case_id)
    except filing.AlreadySubmitted:
        return redirect(url_for("recognition.case_page", case_id=case_id), 303)
    flash("已删除这份未提交的申请。", "success")
    return redirect(url_for("recognition.index"), 303)


@bp.get("/cases/<int:case_id>/submitted")
@requires(*PARTIES)
def submitted(case_id: int):
    """申请已提交: the reference number and the receipt."""
    sess = db_session()
    case = applicant.load_party_case(sess, g.actor, case_id)
    receipt = sess.get(materials.StoredFile, case.receipt_file_id) if case.receipt_file_id else None
    return render_template("recognition/submitted.html", case=case, receipt=receipt)


# --- the case page of the parties ------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@requires(Role.WORKER, Role.EMPLOYER, Role.RECOGNITION_OFFICER, Role.PROVINCIAL)
def case_page(case_id: int):
    """The case as the parties see it; staff are sent to the office's page of the case."""
    if g.actor.role in OFFICE_ROLES:
        return redirect(url_for("recognition.office_case", case_id=case_id), 303)
    return _case_page(case_id)


def _case_page(case_id: int, *, urge_form=None, supplement_errors=None, status: int = 200):
    # The read of personal (and, for the worker's side, medical) data is audited in the request's
    # own unit of work: rendering runs queries of its own (the inbox counts in the navigation) on
    # that same session, which a separate write transaction would hold up on SQLite.
    set_write_intent(True)
    sess = db_session()
    case = applicant.load_party_case(sess, g.actor, case_id)
    view = applicant.case_view(sess, g.actor, case, today=_today(), calendar=work_calendar(sess))
    audit.record(sess, g.actor, "recognition.case_read", object_type="recognition_case", object_id=str(case.id),
                 city_code=case.city_code, detail={"medical": view.show_medical})
    worker_id = mask_id_number(case.worker.id_number) if case.worker else None
    return render_template("recognition/case.html", view=view, case=case, worker_id=worker_id,
                           clock=view.clock, urge_form=urge_form or UrgeForm(),
                           supplement_form=SupplementUploadForm(), send_form=StartForm(),
                           supplement_errors=supplement_errors or {},
                           employer_view=g.actor.role is Role.EMPLOYER), status


@bp.get("/cases/<int:case_id>/receipt.pdf")
@requires(*PARTIES)
def receipt_pdf(case_id: int):
    """The application receipt (申请回执) as a PDF, for those who may read it."""
    with separate_transaction() as sess:
        case = applicant.load_party_case(sess, g.actor, case_id)
        stored = sess.get(materials.StoredFile, case.receipt_file_id) if case.receipt_file_id else None
        if stored is None:
            raise NotFoundError("该案件没有申请回执")
        data = materials.read_content(sess, g.actor, stored, files_dir=files_dir())
    return FileResponse(data, stored, "attachment" if request.args.get("download") == "1" else "inline")


@bp.post("/cases/<int:case_id>/supplement/<int:item_id>")
@requires(*PARTIES)
def upload_supplement(case_id: int, item_id: int):
    form = SupplementUploadForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for("recognition.case_page", case_id=case_id, _anchor="supplement"), 303)
    try:
        data, filename = read_upload(form.file.data)
        applicant.upload_supplement(db_session(), g.actor, case_id, item_id, data=data, filename=filename,
                                    files_dir=files_dir(), max_bytes=upload_limit())
    except (ConflictError, NotFoundError):
        raise
    except UserInputError as exc:
        return _case_page(case_id, supplement_errors={item_id: [exc.message]}, status=422)
    flash("文件已上传。全部补正事项都上传后，请点击“提交补正材料”。", "success")
    return redirect(url_for("recognition.case_page", case_id=case_id, _anchor=f"item-{item_id}"), 303)


@bp.post("/cases/<int:case_id>/supplement")
@requires(*PARTIES)
def send_supplement(case_id: int):
    if not StartForm().validate_on_submit():
        _expired()
        return redirect(url_for("recognition.case_page", case_id=case_id, _anchor="supplement"), 303)
    sess = db_session()
    try:
        applicant.supply(sess, g.actor, case_id, today=_today(), now=datetime.now(timezone.utc))
    except applicant.SupplementIncomplete as exc:
        flash(exc.message, "error")
        return redirect(url_for("recognition.case_page", case_id=case_id, _anchor="supplement"), 303)
    except ConflictError:
        flash("补正材料已经提交，无需重复提交。", "info")
        return redirect(url_for("recognition.case_page", case_id=case_id), 303)
    flash("补正材料已提交。工伤认定部门将自收到之日起15日内作出是否受理的决定。", "success")
    return redirect(url_for("recognition.case_page", case_id=case_id), 303)


@bp.post("/cases/<int:case_id>/urge")
@requires(*PARTIES)
def urge_case(case_id: int):
    form = UrgeForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for("recognition.case_page", case_id=case_id, _anchor="urge"), 303)
    sess = db_session()
    try:
        applicant.urge(sess, g.actor, case_id, text=form.text.data, today=_today(), calendar=work_calendar(sess))
    except filing.InvalidFields as exc:
        _apply_errors(form, exc.errors)
        return _case_page(case_id, urge_form=form, status=422)
    flash("催办已提交。工伤认定部门将书面答复，答复会显示在本页并发送到您的收件箱。", "success")
    return redirect(url_for("recognition.case_page", case_id=case_id, _anchor="urge"), 303)


@bp.get("/cases/<int:case_id>/withdraw")
@requires(*PARTIES)
def withdraw_form(case_id: int):
    case = applicant.load_party_case(db_session(), g.actor, case_id)
    if not applicant.may_withdraw(g.actor, case):
        raise ConflictError("该申请现在不能撤回（只有申请人可以在作出认定决定前撤回）")
    return render_template("recognition/withdraw.html", case=case, form=WithdrawForm())


@bp.post("/cases/<int:case_id>/withdraw")
@requires(*PARTIES)
def withdraw_case(case_id: int):
    form = WithdrawForm()
    sess = db_session()
    if form.validate_on_submit():
        try:
            applicant.withdraw(sess, g.actor, case_id, reason=form.reason.data, today=_today())
        except filing.InvalidFields as exc:
            _apply_errors(form, exc.errors)
        else:
            flash("申请已撤回，案件办结。", "success")
            return redirect(url_for("recognition.case_page", case_id=case_id), 303)
    case = applicant.load_party_case(sess, g.actor, case_id)
    return render_template("recognition/withdraw.html", case=case, form=form), 422
