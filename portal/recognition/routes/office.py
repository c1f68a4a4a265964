"""The recognition office's pages (工伤认定部门): the case queue, the case page with its action
panel, written answers to 催办, and the provincial overdue overview. Routes hang on the area's
blueprint under ``/recognition/office/``.

Every action is a POST with the CSRF token: one service call (which locks the case), then 303
back to the case page. Forms carry htmx attributes that swap the case's working area
(``#case-workspace``); without JavaScript they post and reload. Wrong input shows the case page
again with the messages beside the fields (422); a second click on an action already done, or an
expired page, goes back to the case page with the Chinese reason: nothing is done twice.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.clocks import service as clocks
from portal.errors import UserInputError
from portal.extensions import db_session
from portal.localtime import cn_date, local_today
from portal.materials.uploads import files_dir
from portal.recognition import service
from portal.recognition.forms import (
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
from portal.recognition.routes.blueprint import bp
from portal.regions import city_name, province
from portal.web.forms import back_with_errors, handle_form, see_other
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
    result = service.list_queue(db_session(), g.actor, status=form.status.data or service.STATUS_OPEN,
                                clock=form.clock.data or None, q=form.q.data or None,
                                city_code=(form.city_code.data or None) if is_province else None,
                                page=form.page.data or 1)
    html = render_partial_or_page("recognition/office/queue.html", "recognition/office/_queue_results.html",
                                  "queue-results", result=result, **context)
    return html, 200, {"Vary": "HX-Request"}


# --- the case page --------------------------------------------------------------------------------


def _forms(view: service.OfficeCaseView, given: dict) -> dict:
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
    # the read of medical data is audited by the service, whatever this page answers
    view = service.read_case(db_session(), g.actor, case_id)
    html = render_partial_or_page("recognition/office/case.html", "recognition/office/_workspace.html", WORKSPACE,
                                  view=view, case=view.case, clock=view.clock, forms=_forms(view, given or {}),
                                  supplement_values=supplement_values or {}, fragment=wants_fragment(WORKSPACE),
                                  note_kinds=service.NOTE_KINDS, city_name=city_name,
                                  decision_file=view.decision_file, appeal=view.appeal,
                                  today_label=cn_date(local_today()))
    return html, status, {"Vary": "HX-Request"}


@bp.get("/office/cases/<int:case_id>")
@requires(*OFFICE)
def office_case(case_id: int):
    """The case as the office handles it, medical details included (the read is audited)."""
    return _case_page(case_id)


def _act(case_id: int, key: str, form, run, message, **page):
    """One action of the panel: the service call ``run(form)``, then back to the case page with
    ``message`` (a string, or made from the result). Wrong input shows the case page again with
    the form's messages (422); an expired page or a move no longer possible (409) goes back to
    the case page with the reason."""
    def again(f, status):
        if "csrf_token" in f.errors:
            flash("页面已过期或表单校验失败，请重新提交。", "error")
            return redirect(url_for("recognition.office_case", case_id=case_id), 303)
        if status != UserInputError.status:
            return back_with_errors(f, "recognition.office_case", case_id=case_id)
        return _case_page(case_id, {key: f}, status, **page)

    return handle_form(form, run, again=again,
                       done=lambda result: see_other("recognition.office_case", case_id=case_id,
                                                     flash_message=message(result) if callable(message) else message))


@bp.post("/office/cases/<int:case_id>/supplement-request")
@requires(*OFFICE)
def office_request_supplement(case_id: int):
    values = {key: request.form.get(key, "") for key in request.form if key.startswith(("description-", "other-"))}
    values["kind"] = request.form.getlist("kind")
    items = [service.SupplementRequest(kind, request.form.get(f"description-{kind}", ""))
             for kind in request.form.getlist("kind")]
    for n in range(1, SupplementForm.OTHER_LINES + 1):
        text = (request.form.get(f"other-{n}") or "").strip()
        if text:
            items.append(service.SupplementRequest(service.OTHER_ITEM, text))
    return _act(case_id, "supplement", SupplementForm(),
                lambda _f: service.request_supplement(db_session(), g.actor, case_id, items=items,
                                                      files_dir=files_dir()),
                f"已发出补正材料通知书（共{len(items)}项），审查期限停止计算，等待申请人补正。",
                supplement_values=values)


@bp.post("/office/cases/<int:case_id>/accept")
@requires(*OFFICE)
def office_accept(case_id: int):
    return _act(case_id, "accept", AcceptForm(),
                lambda f: service.accept_case(db_session(), g.actor, case_id, simplified=f.simplified.data == "yes",
                                              simplified_reason=f.simplified_reason.data, files_dir=files_dir()),
                "已受理，受理决定书已生成并送达当事人收件箱。")


@bp.post("/office/cases/<int:case_id>/refuse")
@requires(*OFFICE)
def office_refuse(case_id: int):
    return _act(case_id, "refuse", RefuseForm(),
                lambda f: service.refuse_case(db_session(), g.actor, case_id, reasons=f.combined(),
                                              files_dir=files_dir()),
                "已作出不予受理决定，决定书已送达当事人收件箱，案件办结。")


@bp.post("/office/cases/<int:case_id>/notes")
@requires(*OFFICE)
def office_add_note(case_id: int):
    return _act(case_id, "note", NoteForm(),
                lambda f: service.add_note(db_session(), g.actor, case_id, kind=f.kind.data, text=f.text.data),
                lambda note: f"已记录{service.NOTE_KINDS[note.kind]}。")


@bp.post("/office/cases/<int:case_id>/suspend")
@requires(*OFFICE)
def office_suspend(case_id: int):
    return _act(case_id, "suspend", SuspendForm(),
                lambda f: service.suspend_case(db_session(), g.actor, case_id, reason=f.reason.data,
                                               files_dir=files_dir()),
                "已中止工伤认定，认定期限停止计算；中止通知书已送达当事人。")


@bp.post("/office/cases/<int:case_id>/resume")
@requires(*OFFICE)
def office_resume(case_id: int):
    return _act(case_id, "resume", ResumeForm(),
                lambda f: service.resume_case(db_session(), g.actor, case_id, note=f.note.data),
                "已恢复工伤认定，认定期限自今日起继续计算。")


@bp.post("/office/cases/<int:case_id>/decide")
@requires(*OFFICE)
def office_decide(case_id: int):
    return _act(case_id, "decide", DecideForm(),
                lambda f: service.decide_case(db_session(), g.actor, case_id, outcome=f.outcome.data,
                                              ground_code=f.ground_code.data, reasoning=f.reasoning.data,
                                              files_dir=files_dir()),
                "已作出认定决定，决定书已生成。请核对后送达。")


@bp.post("/office/cases/<int:case_id>/serve")
@requires(*OFFICE)
def office_serve(case_id: int):
    return _act(case_id, "serve", ServeForm(), lambda _f: service.serve_case(db_session(), g.actor, case_id),
                "认定决定书已送达申请人、职工和用人单位的收件箱，案件办结。")


@bp.post("/office/urges/<int:urge_id>/answer")
@requires(*OFFICE)
def office_answer_urge(urge_id: int):
    key = f"urge-{urge_id}"
    case_id = service.urge_case_id(db_session(), urge_id)
    return _act(case_id, key, UrgeAnswerForm(prefix=key),
                lambda f: service.answer_urge(db_session(), g.actor, urge_id, f.answer.data),
                "已答复催办，答复已送达催办人的收件箱。")


# --- provincial supervision -----------------------------------------------------------------------


@bp.get("/office/overview")
@requires(Role.PROVINCIAL)
def office_overview():
    """超期监督: open, near-due, overdue and suspended cases and open 催办 in every city."""
    rows = service.city_overview(db_session(), g.actor)
    return render_partial_or_page("recognition/office/overview.html", "recognition/office/overview.html",
                                  "overview", rows=rows, province=province(),
                                  totals=service.overview_totals(rows), today=local_today(),
                                  near_working_days=clocks.counting_policy().near_working_days)


@bp.get("/office/overview/<string:city_code>")
@requires(Role.PROVINCIAL)
def office_city_due(city_code: str):
    """One city's overdue and near-due cases."""
    if province().city(city_code) is None:
        abort(404)
    page = request.args.get("page", 1, type=int) or 1
    result = service.due_cases(db_session(), g.actor, city_code, page=max(1, min(page, 10_000)))
    return render_partial_or_page("recognition/office/city_due.html", "recognition/office/city_due.html",
                                  "city-due", result=result, rows=result.rows, city=city_name(city_code),
                                  city_code=city_code, today=local_today())
