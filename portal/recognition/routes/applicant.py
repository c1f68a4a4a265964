"""The applicant's pages of work-injury recognition: 我的工伤认定, filing as a task list (saved on
the server after every step), check your answers and submit, the case page of the parties with
its clock, supplement, 催办 and withdrawal."""

from __future__ import annotations

import functools
from datetime import datetime, timezone

from flask import flash, g, redirect, render_template, request, url_for

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.clocks.service import statutory_period, work_calendar
from portal.errors import ConflictError, UserInputError
from portal.extensions import db_session
from portal.localtime import local_today
from portal.materials.uploads import FileResponse, files_dir, read_upload, upload_limit
from portal.recognition import service
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
from portal.recognition.routes.blueprint import bp
from portal.regions import city_name
from portal.security.masking import mask_id_number
from portal.web.fields import options
from portal.web.forms import back_with_errors, handle_form, see_other

PARTIES = (Role.WORKER, Role.EMPLOYER)
EXPIRED = "页面已过期，请重新提交。"


def _back(endpoint: str, **values):
    """``again`` of a form that is only buttons: an expired page says so, any other refusal gives
    its reasons; both go back to the page (303)."""
    def again(form, _status):
        if "csrf_token" in form.errors:
            flash(EXPIRED, "error")
            return redirect(url_for(endpoint, **values), 303)
        return back_with_errors(form, endpoint, **values)
    return again


# --- 我的工伤认定 ------------------------------------------------------------------------------------


@bp.get("/")
@requires(*PARTIES)
def index():
    """我的工伤认定: drafts to continue first, then submitted cases with stage and due date."""
    sess = db_session()
    drafts, submitted = service.list_cases(sess, g.actor, today=local_today(), calendar=work_calendar(sess))
    return render_template("recognition/index.html", drafts=drafts, submitted=submitted,
                           start_form=StartForm())


@bp.get("/new")
@requires(*PARTIES)
def new_case():
    return _new_page(NewCaseForm())


def _new_page(form, status: int = 200):
    rules = {kind: service.applicant_rule(kind) for kind in ("employer", "worker")}
    return render_template("recognition/new.html", form=form, start_form=StartForm(), window_rules=rules), status


@bp.post("/new")
@requires(*PARTIES)
def create_case():
    """An employer starts for its worker with one button; a worker says who applies."""
    employer = g.actor.role is Role.EMPLOYER
    form = StartForm() if employer else NewCaseForm()

    def run(f):
        if employer:
            return service.create_draft(db_session(), g.actor, applicant_kind="employer")
        return service.create_draft(db_session(), g.actor, applicant_kind=f.applicant_kind.data,
                                    relation=f.relation.data or None)

    return handle_form(
        form, run,
        done=lambda case: see_other(
            "recognition.task_list", case_id=case.id,
            flash_message="申请已创建并保存。请逐项填写，每一步保存后可以随时离开，换一台设备登录后继续。"),
        again=_back("recognition.new_case") if employer else _new_page)


# --- the task list ------------------------------------------------------------------------------------


def draft_page(view):
    """The view gets the actor's draft; a submitted case sends the reader to its case page."""
    @functools.wraps(view)
    def with_draft(case_id: int, **values):
        try:
            case = service.load_draft(db_session(), g.actor, case_id)
        except service.AlreadySubmitted:
            return redirect(url_for("recognition.case_page", case_id=case_id), 303)
        return view(case, **values)
    return with_draft


def _step_saved(case, step: str):
    return see_other("recognition.task_list", flash_message=f"“{service.STEP_TITLES[step]}”已保存。",
                     case_id=case.id)


@bp.get("/cases/<int:case_id>/file")
@requires(*PARTIES)
@draft_page
def task_list(case):
    steps = service.step_states(db_session(), case)
    return render_template("recognition/task_list.html", case=case, steps=steps,
                           all_done=all(s.done for s in steps), discard_form=StartForm())


@bp.get("/cases/<int:case_id>/file/worker")
@requires(*PARTIES)
@draft_page
def worker_step(case):
    data = {}
    if case.worker is not None and case.applicant_kind is not ApplicantKind.WORKER:
        data = {"name": case.worker.name, "id_number": case.worker.id_number}
    return _worker_page(WorkerForm(data=data), case)


def _worker_page(form, case, status: int = 200):
    members = service.member_choices(db_session(), g.actor)
    form.member_id.choices = options([("", "不选择，手工填写")] + [(str(m.member_id), f"{m.name}（{m.masked_id}）")
                                                               for m in members])
    return render_template("recognition/step_worker.html", form=form, case=case, members=members,
                           own_name=case.worker.name if case.worker else None,
                           own_id=mask_id_number(case.worker.id_number) if case.worker else None), status


@bp.post("/cases/<int:case_id>/file/worker")
@requires(*PARTIES)
@draft_page
def save_worker_step(case):
    def run(f):
        member = f.member_id.data
        return service.save_worker(db_session(), g.actor, case.id, name=f.name.data, id_number=f.id_number.data,
                                   member_id=int(member) if member and member.isdigit() else None,
                                   today=local_today())

    return handle_form(WorkerForm(), run, done=lambda _: _step_saved(case, "worker"),
                       again=lambda f, status: _worker_page(f, case, status), check_all=True)


@bp.get("/cases/<int:case_id>/file/employer")
@requires(*PARTIES)
@draft_page
def employer_step(case):
    data = {}
    if case.employer is not None:
        data = {"uscc": case.employer.uscc, "name": case.employer.name, "county_code": case.county_code}
    return _employer_page(EmployerForm(data=data), case)


def _employer_page(form, case, status: int = 200):
    unit = None
    if case.applicant_kind is ApplicantKind.EMPLOYER:
        unit = service.own_unit(db_session(), case.applicant_organisation_id)
    return render_template("recognition/step_employer.html", form=form, case=case, unit=unit,
                           city=city_name(case.city_code) if case.city_code else None), status


@bp.post("/cases/<int:case_id>/file/employer")
@requires(*PARTIES)
@draft_page
def save_employer_step(case):
    return handle_form(
        EmployerForm(),
        lambda f: service.save_employer(db_session(), g.actor, case.id, uscc=f.uscc.data, name=f.name.data,
                                        county_code=f.county_code.data),
        done=lambda _: _step_saved(case, "employer"),
        again=lambda f, status: _employer_page(f, case, status), check_all=True)


def _window_for(case, kind=None, day=None):
    kind = kind or (case.event_kind.value if case.event_kind else None)
    day = day or case.event_date
    if not kind or not day:
        return None
    try:
        return service.filing_window(case.applicant_kind.value, kind, day, calendar=work_calendar(db_session()),
                                     today=local_today(), relied=service.relied_on(case, day))
    except UserInputError:
        return None


@bp.get("/cases/<int:case_id>/file/event")
@requires(*PARTIES)
@draft_page
def event_step(case):
    form = EventForm(data={
        "event_kind": case.event_kind.value if case.event_kind else None, "event_date": case.event_date,
        "event_time": case.event_time, "event_place": case.event_place, "event_account": case.event_account,
        "injury": case.injury, "died": case.died, "death_date": case.death_date, "late_reason": case.late_reason})
    return _event_page(form, case, _window_for(case))


def _event_page(form, case, window, status: int = 200):
    return render_template("recognition/step_event.html", form=form, case=case, window=window,
                           rules={kind: service.applicant_rule(kind) for kind in ("employer", "worker")},
                           kinds=list(EventKind)), status


def _event_again(case):
    """The step shown again with the filing window of the date typed (none for a future date)."""
    def again(form, status):
        window = None
        if form.event_date.data and form.event_kind.data in {k.value for k in EventKind}:
            window = _window_for(case, form.event_kind.data, form.event_date.data)
            if window is not None and form.event_date.data > local_today():
                window = None
        return _event_page(form, case, window, status)
    return again


def _event_saved(case, window):
    if window is not None and window.late:
        return see_other("recognition.task_list", flash_message=f"已保存。注意：本申请已超过申请时限（{window.statement}）。",
                         category="warning", case_id=case.id)
    return _step_saved(case, "event")


@bp.post("/cases/<int:case_id>/file/event")
@requires(*PARTIES)
@draft_page
def save_event_step(case):
    def run(f):
        sess = db_session()
        return service.save_event(
            sess, g.actor, case.id, event_kind=f.event_kind.data, event_date=f.event_date.data,
            event_time=f.event_time.data, event_place=f.event_place.data, event_account=f.event_account.data,
            injury=f.injury.data, died=f.died.data, death_date=f.death_date.data, late_reason=f.late_reason.data,
            today=local_today(), calendar=work_calendar(sess))

    return handle_form(EventForm(), run, done=lambda window: _event_saved(case, window), again=_event_again(case),
                       check_all=True)


# --- materials -------------------------------------------------------------------------------------


def _materials_page(case, *, upload_errors: dict[str, list[str]] | None = None, status: int = 200):
    slots = service.material_slots(db_session(), g.actor, case)
    return render_template("recognition/step_materials.html", case=case, slots=slots,
                           upload_form=UploadForm(), reuse_form=ReuseForm(), remove_form=StartForm(),
                           upload_errors=upload_errors or {},
                           employer_view=g.actor.role is Role.EMPLOYER), status


@bp.get("/cases/<int:case_id>/file/materials")
@requires(*PARTIES)
@draft_page
def materials_step(case):
    if case.worker_person_id is None:
        flash("请先填写受伤害职工，再上传申请材料。", "warning")
        return redirect(url_for("recognition.task_list", case_id=case.id), 303)
    return _materials_page(case)


@bp.post("/cases/<int:case_id>/file/materials")
@requires(*PARTIES)
@draft_page
def upload_material(case):
    form = UploadForm()
    kind = form.kind.data or ""

    def run(f):
        data, filename = read_upload(f.file.data)
        return service.add_material(db_session(), g.actor, case.id, kind=kind, data=data, filename=filename,
                                    files_dir=files_dir(), max_bytes=upload_limit())

    def again(f, status):
        if "csrf_token" in f.errors:
            messages = ["页面已过期，请重新选择文件上传"]
        else:
            messages = [*f.form_errors, *f.kind.errors, *f.file.errors]
        return _materials_page(case, upload_errors={kind: messages}, status=status)

    return handle_form(
        form, run, again=again, field_for=lambda _exc: "file",
        done=lambda _: see_other("recognition.materials_step", flash_message=f"“{service.material_label(kind)}”已上传。",
                                 case_id=case.id, _anchor=f"slot-{kind}"))


@bp.post("/cases/<int:case_id>/file/materials/reuse")
@requires(*PARTIES)
@draft_page
def reuse_material(case):
    return handle_form(
        ReuseForm(),
        lambda f: service.reuse_material(db_session(), g.actor, case.id, stored_file_id=f.stored_file_id.data),
        done=lambda material: see_other(
            "recognition.materials_step", case_id=case.id, _anchor=f"slot-{material.kind}",
            flash_message=f"已使用已有材料“{service.material_label(material.kind)}”，无需重新上传。"),
        again=_back("recognition.materials_step", case_id=case.id))


@bp.post("/cases/<int:case_id>/file/materials/<int:material_id>/remove")
@requires(*PARTIES)
@draft_page
def remove_material(case, material_id: int):
    return handle_form(
        StartForm(), lambda _f: service.remove_material(db_session(), g.actor, case.id, material_id),
        done=lambda _: see_other("recognition.materials_step", flash_message="已移除该文件。", case_id=case.id),
        again=_back("recognition.materials_step", case_id=case.id))


# --- check your answers and submit ---------------------------------------------------------------


def _check_page(case, problems=None, status: int = 200):
    sess = db_session()
    slots = service.material_slots(sess, g.actor, case, offer_reuse=False)
    return render_template(
        "recognition/check.html", case=case, slots=slots, window=_window_for(case),
        problems=problems if problems is not None else service.problems(sess, case),
        applicant=service.applicant_name(sess, case),
        worker_id=mask_id_number(case.worker.id_number) if case.worker else None,
        employer_view=g.actor.role is Role.EMPLOYER, submit_form=StartForm(),
        relation=service.relations().get(case.relation or "")), status


@bp.get("/cases/<int:case_id>/file/check")
@requires(*PARTIES)
@draft_page
def check_answers(case):
    return _check_page(case)


@bp.post("/cases/<int:case_id>/submit")
@requires(*PARTIES)
def submit_case(case_id: int):
    def run(_f):
        sess = db_session()
        return service.submit(sess, g.actor, case_id, today=local_today(), now=datetime.now(timezone.utc),
                              files_dir=files_dir(), calendar=work_calendar(sess),
                              case_url=url_for("recognition.case_page", case_id=case_id, _external=True))

    def again(form, status):
        if status == ConflictError.status:
            # a second click or another tab: the first submission stands; show the case
            return redirect(url_for("recognition.case_page", case_id=case_id), 303)
        if "csrf_token" in form.errors:
            return _back("recognition.check_answers", case_id=case_id)(form, status)
        # what is still missing (service.IncompleteFiling), one line each
        return _check_page(service.load_draft(db_session(), g.actor, case_id), form.form_errors, status)

    return handle_form(StartForm(), run, again=again,
                       done=lambda _: see_other("recognition.submitted", case_id=case_id))


@bp.post("/cases/<int:case_id>/discard")
@requires(*PARTIES)
def discard_draft(case_id: int):
    def again(form, status):
        if status == ConflictError.status:  # submitted meanwhile: there is nothing to discard
            return redirect(url_for("recognition.case_page", case_id=case_id), 303)
        return _back("recognition.task_list", case_id=case_id)(form, status)

    return handle_form(StartForm(), lambda _f: service.discard_draft(db_session(), g.actor, case_id),
                       done=lambda _: see_other("recognition.index", flash_message="已删除这份未提交的申请。"),
                       again=again)


@bp.get("/cases/<int:case_id>/submitted")
@requires(*PARTIES)
def submitted(case_id: int):
    """申请已提交: the reference number and the receipt."""
    case, receipt = service.submitted_case(db_session(), g.actor, case_id)
    return render_template("recognition/submitted.html", case=case, receipt=receipt)


# --- the case page of the parties ------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@requires(Role.WORKER, Role.EMPLOYER, Role.RECOGNITION_OFFICER, Role.PROVINCIAL)
def case_page(case_id: int):
    """The case as the parties see it; staff are sent to the office's page of the case."""
    if g.actor.role in service.OFFICE_ROLES:
        return redirect(url_for("recognition.office_case", case_id=case_id), 303)
    return _case_page(case_id)


def _case_page(case_id: int, *, urge_form=None, supplement_errors=None, status: int = 200):
    # the read of personal (for the worker's side also medical) data is audited by the service
    view = service.read_party_case(db_session(), g.actor, case_id, today=local_today())
    return render_template("recognition/case.html", view=view, case=view.case, worker_id=view.worker_id_masked,
                           clock=view.clock, urge_form=urge_form or UrgeForm(),
                           supplement_form=SupplementUploadForm(), send_form=StartForm(),
                           supplement_errors=supplement_errors or {},
                           employer_view=g.actor.role is Role.EMPLOYER), status


@bp.get("/cases/<int:case_id>/receipt.pdf")
@requires(*PARTIES)
def receipt_pdf(case_id: int):
    """The application receipt (申请回执) as a PDF, for those who may read it."""
    data, stored = service.read_receipt(db_session(), g.actor, case_id, files_dir=files_dir())
    return FileResponse(data, stored, "attachment" if request.args.get("download") == "1" else "inline")


@bp.post("/cases/<int:case_id>/supplement/<int:item_id>")
@requires(*PARTIES)
def upload_supplement(case_id: int, item_id: int):
    def run(f):
        data, filename = read_upload(f.file.data)
        return service.upload_supplement(db_session(), g.actor, case_id, item_id, data=data, filename=filename,
                                         files_dir=files_dir(), max_bytes=upload_limit())

    def again(form, status):
        if "csrf_token" in form.errors or status != UserInputError.status:
            return _back("recognition.case_page", case_id=case_id, _anchor="supplement")(form, status)
        return _case_page(case_id, supplement_errors={item_id: [*form.form_errors, *form.file.errors]}, status=status)

    return handle_form(
        SupplementUploadForm(), run, again=again, field_for=lambda _exc: "file",
        done=lambda _: see_other("recognition.case_page", case_id=case_id, _anchor=f"item-{item_id}",
                                 flash_message="文件已上传。全部补正事项都上传后，请点击“提交补正材料”。"))


@bp.post("/cases/<int:case_id>/supplement")
@requires(*PARTIES)
def send_supplement(case_id: int):
    def again(form, status):
        if status == ConflictError.status:
            flash("补正材料已经提交，无需重复提交。", "info")
            return redirect(url_for("recognition.case_page", case_id=case_id), 303)
        return _back("recognition.case_page", case_id=case_id, _anchor="supplement")(form, status)

    return handle_form(
        StartForm(),
        lambda _f: service.supply(db_session(), g.actor, case_id, today=local_today(), now=datetime.now(timezone.utc)),
        done=lambda _: see_other("recognition.case_page", case_id=case_id,
                                 flash_message="补正材料已提交。工伤认定部门将自收到之日起"
                                 f"{statutory_period('supplement_review')}内作出是否受理的决定。"),
        again=again)


@bp.post("/cases/<int:case_id>/urge")
@requires(*PARTIES)
def urge_case(case_id: int):
    def run(f):
        sess = db_session()
        return service.urge(sess, g.actor, case_id, text=f.text.data, today=local_today(),
                            calendar=work_calendar(sess))

    def again(form, status):
        if "csrf_token" in form.errors or status != UserInputError.status:
            return _back("recognition.case_page", case_id=case_id, _anchor="urge")(form, status)
        return _case_page(case_id, urge_form=form, status=status)

    return handle_form(
        UrgeForm(), run, again=again,
        done=lambda _: see_other("recognition.case_page", case_id=case_id, _anchor="urge",
                                 flash_message="催办已提交。工伤认定部门将书面答复，答复会显示在本页并发送到您的收件箱。"))


@bp.get("/cases/<int:case_id>/withdraw")
@requires(*PARTIES)
def withdraw_form(case_id: int):
    return _withdraw_page(case_id, WithdrawForm())


def _withdraw_page(case_id: int, form, status: int = 200):
    case = service.load_party_case(db_session(), g.actor, case_id)
    if status == 200 and not service.may_withdraw(g.actor, case):
        raise ConflictError("该申请现在不能撤回（只有申请人可以在作出认定决定前撤回）")
    return render_template("recognition/withdraw.html", case=case, form=form), status


@bp.post("/cases/<int:case_id>/withdraw")
@requires(*PARTIES)
def withdraw_case(case_id: int):
    return handle_form(
        WithdrawForm(),
        lambda f: service.withdraw(db_session(), g.actor, case_id, reason=f.reason.data, today=local_today()),
        done=lambda _: see_other("recognition.case_page", flash_message="申请已撤回，案件办结。", case_id=case_id),
        again=lambda f, status: _withdraw_page(case_id, f, status))
