"""The recognition office's pages (工伤认定部门): the case queue, the case page with its action
panel, written answers to 催办, and the provincial overdue overview. Routes hang on the area's
blueprint under ``/recognition/office/``.

Every action is a POST with the CSRF token: one service call in ``handling`` (which locks the
case), then 303 back to the case page. Forms carry htmx attributes that swap the case's working
area (``#case-workspace``); without JavaScript they post and reload. A second click on an action
already done answers with the Chinese conflict message on the case page, nothing done twice.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy import select

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.errors import ConflictError
from portal.extensions import db_session, separate_transaction
from portal.materials.uploads import files_dir
from portal.recognition import handling, policy, supervision
from portal.recognition.office_forms import (
    AcceptForm,
    DecideForm,
    NoteForm,
    QueueFilterForm,
    RefuseForm,
    ResumeForm,
    ServeForm,
    SupplementForm,
    SuspendForm,
    UrgeAnswerForm,
)
from portal.recognition.routes import bp
from portal.regions import city_name, province
from portal.web.filters import cn_date
from portal.web.rendering import render_partial_or_page, wants_fragment

OFFICE = (Role.RECOGNITION_OFFICER, Role.PROVINCIAL)
WORKSPACE = "case-workspace"


# --- the queue ------------------------------------------------------------------------------------


@bp.get("/office/")
@requires(*OFFICE)
def office_queue():
    """工伤认定案件: the cases of the actor's city (provincial staff: all), overdue first."""
    form = QueueFilterForm(request.args)
    is_province = g.actor.role is Role.PROVINCIAL
    params = {k: v for k, v in request.args.items() if v}
    context = dict(form=form, is_province=is_province, params=params,
                   own_city=city_name(g.actor.city_code) if g.actor.city_code else None)
    if not form.validate():
        return render_partial_or_page("recognition/office/queue.html", "recognition/office/_queue_results.html",
                                      "queue-results", result=None, **context), 422
    # a plain read in the request's session: names and stages only, no medical data to audit
    result = handling.list_queue(db_session(), g.actor, status=form.status.data or handling.STATUS_OPEN,
                                 clock=form.clock.data or None, q=form.q.data or None,
                                 city_code=(form.city_code.data or None) if is_province else None,
                                 page=form.page.data or 1)
    html = render_partial_or_page("recognition/office/queue.html", "recognition/office/_queue_results.html",
                                  "queue-results", result=result, **context)
    return html, 200, {"Vary": "HX-Request"}


# --- the case page --------------------------------------------------------------------------------


def _forms(view: handling.OfficeCaseView, given: dict) -> dict:
    forms = {
        "supplement": SupplementForm(formdata=None),
        "accept": AcceptForm(formdata=None),
        "refuse": RefuseForm(formdata=None),
        "note": NoteForm(formdata=None),
        "suspend": SuspendForm(formdata=None),
        "resume": ResumeForm(formdata=None),
        "decide": DecideForm(formdata=None),
        "serve": ServeForm(formdata=None),
    }
    forms.update(given)
    forms["urges"] = {u.id: given.get(f"urge-{u.id}") or UrgeAnswerForm(formdata=None, prefix=f"urge-{u.id}")
                      for u in view.urges if u.answer is None}
    return forms


def _case_page(case_id: int, given: dict | None = None, status: int = 200, supplement_values: dict | None = None):
    with separate_transaction() as sess:
        view = handling.read_case(sess, g.actor, case_id)
    fragment = wants_fragment(WORKSPACE)
    html = render_partial_or_page("recognition/office/case.html", "recognition/office/_workspace.html", WORKSPACE,
                                  view=view, case=view.case, clock=view.clock, forms=_forms(view, given or {}),
                                  supplement_values=supplement_values or {}, fragment=fragment,
                                  note_kinds=handling.NOTE_KINDS, city_name=city_name,
                                  relation_label=lambda code: policy.relations().get(code, code),
                                  decision_file=view.decision_file, appeal=view.appeal,
                                  today_label=cn_date(handling.local_today()))
    return html, status, {"Vary": "HX-Request"}


@bp.get("/office/cases/<int:case_id>")
@requires(*OFFICE)
def office_case(case_id: int):
    """The case as the office handles it, medical details included (the read is audited)."""
    return _case_page(case_id)


def _done(case_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("recognition.office_case", case_id=case_id), 303)


def _conflict(case_id: int, exc: ConflictError):
    db_session().rollback()
    flash(exc.message, "error")
    return redirect(url_for("recognition.office_case", case_id=case_id), 303)


def _invalid(case_id: int, key: str, form, exc: handling.InvalidFields, **extra):
    for name, message in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors") and name != "items":
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
    return _case_page(case_id, {key: form}, 422, **extra)


def _csrf_failed(form) -> bool:
    return "csrf_token" in form.errors


def _stale(case_id: int):
    flash("页面已过期或表单校验失败，请重新提交。", "error")
    return redirect(url_for("recognition.office_case", case_id=case_id), 303)


@bp.post("/office/cases/<int:case_id>/supplement-request")
@requires(*OFFICE)
def office_request_supplement(case_id: int):
    form = SupplementForm()
    values = {key: request.form.get(key, "") for key in request.form if key.startswith(("description-", "other-"))}
    values["kind"] = request.form.getlist("kind")
    if not form.validate_on_submit():
        return _stale(case_id)
    items = [handling.SupplementRequest(kind, request.form.get(f"description-{kind}", ""))
             for kind in request.form.getlist("kind")]
    for n in range(1, SupplementForm.OTHER_LINES + 1):
        text = (request.form.get(f"other-{n}") or "").strip()
        if text:
            items.append(handling.SupplementRequest(handling.OTHER_ITEM, text))
    try:
        handling.request_supplement(db_session(), g.actor, case_id, items=items, files_dir=files_dir())
    except handling.InvalidFields as exc:
        return _invalid(case_id, "supplement", form, exc, supplement_values=values)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, f"已发出补正材料通知书（共{len(items)}项），审查期限停止计算，等待申请人补正。")


@bp.post("/office/cases/<int:case_id>/accept")
@requires(*OFFICE)
def office_accept(case_id: int):
    form = AcceptForm()
    if not form.validate_on_submit():
        if _csrf_failed(form):
            return _stale(case_id)
        return _case_page(case_id, {"accept": form}, 422)
    try:
        handling.accept_case(db_session(), g.actor, case_id, simplified=form.simplified.data == "yes",
                             simplified_reason=form.simplified_reason.data, files_dir=files_dir())
    except handling.InvalidFields as exc:
        return _invalid(case_id, "accept", form, exc)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, "已受理，受理决定书已生成并送达当事人收件箱。")


@bp.post("/office/cases/<int:case_id>/refuse")
@requires(*OFFICE)
def office_refuse(case_id: int):
    form = RefuseForm()
    if not form.validate_on_submit():
        if _csrf_failed(form):
            return _stale(case_id)
        return _case_page(case_id, {"refuse": form}, 422)
    try:
        handling.refuse_case(db_session(), g.actor, case_id, reasons=form.combined(), files_dir=files_dir())
    except handling.InvalidFields as exc:
        return _invalid(case_id, "refuse", form, exc)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, "已作出不予受理决定，决定书已送达当事人收件箱，案件办结。")


@bp.post("/office/cases/<int:case_id>/notes")
@requires(*OFFICE)
def office_add_note(case_id: int):
    form = NoteForm()
    if not form.validate_on_submit():
        if _csrf_failed(form):
            return _stale(case_id)
        return _case_page(case_id, {"note": form}, 422)
    try:
        handling.add_note(db_session(), g.actor, case_id, kind=form.kind.data, text=form.text.data)
    except handling.InvalidFields as exc:
        return _invalid(case_id, "note", form, exc)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, f"已记录{handling.NOTE_KINDS[form.kind.data]}。")


@bp.post("/office/cases/<int:case_id>/suspend")
@requires(*OFFICE)
def office_suspend(case_id: int):
    form = SuspendForm()
    if not form.validate_on_submit():
        if _csrf_failed(form):
            return _stale(case_id)
        return _case_page(case_id, {"suspend": form}, 422)
    try:
        handling.suspend_case(db_session(), g.actor, case_id, reason=form.reason.data, files_dir=files_dir())
    except handling.InvalidFields as exc:
        return _invalid(case_id, "suspend", form, exc)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, "已中止工伤认定，认定期限停止计算；中止通知书已送达当事人。")


@bp.post("/office/cases/<int:case_id>/resume")
@requires(*OFFICE)
def office_resume(case_id: int):
    form = ResumeForm()
    if not form.validate_on_submit():
        if _csrf_failed(form):
            return _stale(case_id)
        return _case_page(case_id, {"resume": form}, 422)
    try:
        handling.resume_case(db_session(), g.actor, case_id, note=form.note.data)
    except handling.InvalidFields as exc:
        return _invalid(case_id, "resume", form, exc)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, "已恢复工伤认定，认定期限自今日起继续计算。")


@bp.post("/office/cases/<int:case_id>/decide")
@requires(*OFFICE)
def office_decide(case_id: int):
    form = DecideForm()
    if not form.validate_on_submit():
        if _csrf_failed(form):
            return _stale(case_id)
        return _case_page(case_id, {"decide": form}, 422)
    try:
        handling.decide_case(db_session(), g.actor, case_id, outcome=form.outcome.data,
                             ground_code=form.ground_code.data, reasoning=form.reasoning.data,
                             files_dir=files_dir())
    except handling.InvalidFields as exc:
        return _invalid(case_id, "decide", form, exc)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, "已作出认定决定，决定书已生成。请核对后送达。")


@bp.post("/office/cases/<int:case_id>/serve")
@requires(*OFFICE)
def office_serve(case_id: int):
    if not ServeForm().validate_on_submit():
        return _stale(case_id)
    try:
        handling.serve_case(db_session(), g.actor, case_id)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, "认定决定书已送达申请人、职工和用人单位的收件箱，案件办结。")


@bp.post("/office/urges/<int:urge_id>/answer")
@requires(*OFFICE)
def office_answer_urge(urge_id: int):
    from portal.recognition.models import Urge

    case_id = db_session().execute(
        select(Urge.case_id).where(Urge.id == urge_id)).scalar_one_or_none()
    if case_id is None:
        abort(404)
    form = UrgeAnswerForm(prefix=f"urge-{urge_id}")
    if not form.validate_on_submit():
        if _csrf_failed(form):
            return _stale(case_id)
        return _case_page(case_id, {f"urge-{urge_id}": form}, 422)
    try:
        handling.answer_urge(db_session(), g.actor, urge_id, form.answer.data)
    except handling.InvalidFields as exc:
        db_session().rollback()
        form.answer.errors = [*form.answer.errors, *exc.errors.values()]
        return _case_page(case_id, {f"urge-{urge_id}": form}, 422)
    except ConflictError as exc:
        return _conflict(case_id, exc)
    return _done(case_id, "已答复催办，答复已送达催办人的收件箱。")


# --- provincial supervision -----------------------------------------------------------------------


@bp.get("/office/overview")
@requires(Role.PROVINCIAL)
def office_overview():
    """超期监督: open, near-due, overdue and suspended cases and open 催办 in every city."""
    rows = supervision.city_overview(db_session(), g.actor)
    return render_partial_or_page("recognition/office/overview.html", "recognition/office/overview.html",
                                  "overview", rows=rows, province=province(),
                                  totals=supervision.totals(rows), today=handling.local_today())


@bp.get("/office/overview/<string:city_code>")
@requires(Role.PROVINCIAL)
def office_city_due(city_code: str):
    """One city's overdue and near-due cases."""
    if province().city(city_code) is None:
        abort(404)
    rows = supervision.due_cases(db_session(), g.actor, city_code)
    return render_partial_or_page("recognition/office/city_due.html", "recognition/office/city_due.html",
                                  "city-due", rows=rows, city=city_name(city_code), city_code=city_code,
                                  today=handling.local_today())
