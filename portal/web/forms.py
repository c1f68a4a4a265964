"""The one form-handling helper: validate → one service call → 303, or the page again with 4xx.

Every POST that takes a form reads the same way::

    @bp.post("/unit/edit")
    @requires(Role.EMPLOYER)
    def save_unit():
        return handle_form(
            UnitForm(),
            lambda f: enrollment.save_unit(db_session(), g.actor, name=f.name.data, ...),
            done=lambda _: see_other("enrollment.unit", flash_message="参保登记信息已保存。"),
            again=lambda f, status: (render_template("enrollment/edit_unit.html", form=f), status))

- The form is validated with its CSRF token (``validate_on_submit``); invalid input answers 422.
- ``run(form)`` calls one service. Its result goes to ``done(result)``, which answers (usually a
  303 to the page that shows the change).
- A POST carrying a submission key (``{{ submission_field() }}`` in the form) that was already
  carried out gets the first answer again and runs nothing; the key is recorded in the request's
  transaction with what the service wrote (``portal.web.submissions``).
- A domain error rolls the request's unit of work back, whatever the response. Its message goes
  beside the field it names (:class:`~portal.errors.InvalidFields`, or ``field_for(error)``), else
  at the top of the form; ``again(form, status)`` shows the page once more with the error's status
  (422 for wrong input, 409 for a state that no longer allows the action …). "Not there / not
  yours" (404, 403) is not a form problem and reaches the error page.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import flash, redirect, url_for
from werkzeug.wrappers import Response

from portal.errors import DomainError, InvalidFields, NotFoundError, PermissionDenied
from portal.web import submissions, unit_of_work

#: the status of a form that did not validate
INVALID = 422


def add_errors(form, errors: dict[str, str]) -> None:
    """Messages beside the fields they name; a name the form does not have goes to its top."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors") and name != "form_errors":
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def handle_form(form, run: Callable[[Any], Any], *, done: Callable[[Any], Any],
                again: Callable[[Any, int], Any],
                field_for: Callable[[DomainError], str | None] | None = None,
                validate: bool = True, check_all: bool = False) -> Any:
    """Validate ``form``, ``run`` one service call, and answer with ``done`` or ``again``.

    ``validate=False`` skips the form's own validation (the caller validated already, e.g. a
    task-list step that reads several forms). ``check_all=True``: when the form's own checks fail
    (a date that is not a date, no choice made), the service's checks still run on the rest, so
    the person sees every field's message in one round, not one more after each fix; whatever
    that run wrote is rolled back."""
    key = submissions.key_of_request()
    if key is not None:
        first = _first_answer(submissions.replay, key, form, again)
        if first is not None:
            return first
    if validate and not form.validate_on_submit():
        if check_all and "csrf_token" not in form.errors:
            _add_service_errors(form, run)
        unit_of_work.abandon()
        return again(form, INVALID)
    if key is not None:
        first = _first_answer(submissions.reserve, key, form, again)
        if first is not None:
            return first
    try:
        result = run(form)
    except (NotFoundError, PermissionDenied):
        raise
    except InvalidFields as exc:
        unit_of_work.abandon()
        add_errors(form, exc.errors)
        return again(form, exc.status)
    except DomainError as exc:
        unit_of_work.abandon()
        name = field_for(exc) if field_for is not None else None
        add_errors(form, {name or "form_errors": exc.message})
        return again(form, exc.status)
    response = done(result)
    if key is not None:
        submissions.remember(key, response)
    return response


def _first_answer(look_up: Callable[[str], Any], key: str, form, again: Callable[[Any, int], Any]) -> Any:
    """The answer already given to this submission key (``replay`` or ``reserve``), the refusal
    when the key is another account's, or None: carry the submission out."""
    try:
        return look_up(key)
    except submissions.KeyOfAnotherAccount:
        return _expired(form, again)


def _expired(form, again: Callable[[Any, int], Any]) -> Any:
    """The submission key belongs to another account's submission: refuse, replay nothing."""
    unit_of_work.abandon()
    form.form_errors.append("页面已过期，请刷新页面后重新提交。")
    return again(form, 409)


def _add_service_errors(form, run: Callable[[Any], Any]) -> None:
    """The service's field messages for the fields the form's own checks left without one."""
    try:
        run(form)
    except InvalidFields as exc:
        add_errors(form, {name: message for name, message in exc.errors.items()
                          if not getattr(getattr(form, name, None), "errors", None)})
    except DomainError:
        pass  # not a field problem: it shows once the fields are right


def see_other(endpoint: str, *, flash_message: str | None = None, category: str = "success",
              **values) -> Response:
    """A 303 to ``endpoint`` (after a POST), with an optional flash message."""
    if flash_message:
        flash(flash_message, category)
    return redirect(url_for(endpoint, **values), 303)


def back_with_errors(form, endpoint: str, **values) -> Response:
    """``again`` for forms that are only buttons (nothing to mark beside a field): the reasons are
    flashed and the person is sent back to the page (303). The unit of work is already rolled
    back by :func:`handle_form`."""
    messages = list(form.form_errors) + [m for field in form for m in (field.errors or [])
                                         if isinstance(m, str)]
    for message in messages or ["页面已过期或提交的内容有误，请刷新页面后重试。"]:
        flash(message, "error")
    return redirect(url_for(endpoint, **values), 303)
