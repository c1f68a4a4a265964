"""The request's unit of work: commit at the edge, a domain error always rolls back, writes that
must persist are independent, and outbox messages asked for "after commit" are delivered right
after the commit, in-process, and only then."""

from __future__ import annotations

import pytest
from flask import render_template_string
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from portal.auth.access import public
from portal.db import independent_transaction, will_write
from portal.errors import ConflictError, InvalidFields, NotFoundError
from portal.extensions import csrf, db_session
from portal.outbox import service as outbox
from portal.outbox.models import OutboxMessage
from portal.web.forms import handle_form, see_other

TOPIC = "test.after_commit"


class NameForm(FlaskForm):
    name = StringField("名称")


def _write(key: str, *, after_commit: bool = False) -> None:
    outbox.enqueue(db_session(), topic=TOPIC, aggregate="test", key=key, payload={"key": key},
                   after_commit=after_commit)


def _keys(db) -> set[str]:
    db.rollback()
    try:
        return set(db.scalars(select(OutboxMessage.key)))
    finally:
        db.rollback()  # hold no SQLite lock while the next request writes


@pytest.fixture
def routes(app):
    """Throwaway views that write one outbox row each, then answer in different ways."""

    def again(form, status):
        return render_template_string("<h1>再填</h1>{{ errors }}", errors=form.form_errors + form.name.errors), status

    def run(form):
        _write(f"form:{form.name.data}")
        if form.name.data == "conflict":
            raise ConflictError("已处理，不能重复办理")
        if form.name.data == "invalid":
            raise InvalidFields({"name": "名称格式不正确", "elsewhere": "另一条提示"})
        if form.name.data == "missing":
            raise NotFoundError("不存在")
        return form.name.data

    def form_view():
        return handle_form(NameForm(meta={"csrf": False}), run,
                           done=lambda name: see_other("home.index", flash_message=f"已保存{name}"), again=again)

    def raises():
        _write("raises")
        raise ConflictError("状态已变化")

    def audited_then_refused():
        with independent_transaction(db_session()) as own:
            outbox.enqueue(own, topic=TOPIC, aggregate="test", key="audited", payload={})
        _write("refused")
        raise InvalidFields({"name": "不对"})

    def get_that_writes():
        will_write(db_session())
        _write("get")
        return "ok"

    def delivers():
        _write("deliver-me", after_commit=True)
        return "ok"

    def delivers_then_fails():
        _write("never-delivered", after_commit=True)
        raise ConflictError("不行")

    for rule, view, methods in [("/t/form", form_view, ["POST"]), ("/t/raises", raises, ["POST"]),
                                ("/t/audited", audited_then_refused, ["POST"]),
                                ("/t/get", get_that_writes, ["GET"]), ("/t/deliver", delivers, ["POST"]),
                                ("/t/deliver-fail", delivers_then_fails, ["POST"])]:
        app.add_url_rule(rule, view.__name__, csrf.exempt(public(view)), methods=methods)
    delivered: list[dict] = []
    outbox.register_handler(TOPIC, lambda payload: delivered.append(payload) or {"ok": True})
    yield delivered
    outbox._HANDLERS.pop(TOPIC, None)


def test_a_form_that_succeeds_commits_and_answers_303(client, db, routes):
    response = client.post("/t/form", data={"name": "甲"})
    assert response.status_code == 303
    assert _keys(db) == {"form:甲"}


def test_a_domain_error_rolls_back_and_shows_the_form_again_with_its_status(client, db, routes):
    response = client.post("/t/form", data={"name": "conflict"})
    assert response.status_code == 409
    assert "已处理，不能重复办理" in response.get_data(as_text=True)
    assert _keys(db) == set()


def test_field_messages_go_beside_the_field_and_unknown_names_to_the_top(client, db, routes):
    response = client.post("/t/form", data={"name": "invalid"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "名称格式不正确" in body and "另一条提示" in body
    assert _keys(db) == set()


def test_not_found_is_not_a_form_problem(client, db, routes):
    response = client.post("/t/form", data={"name": "missing"})
    assert response.status_code == 404
    assert _keys(db) == set()


def test_a_domain_error_reaching_the_error_page_rolls_back(client, db, routes):
    assert client.post("/t/raises").status_code == 409
    assert _keys(db) == set()


def test_an_independent_transaction_persists_when_the_request_fails(client, db, routes):
    assert client.post("/t/audited").status_code == 422
    assert _keys(db) == {"audited"}


def test_a_service_may_write_on_a_get_when_it_says_so(client, db, routes):
    assert client.get("/t/get").status_code == 200
    assert _keys(db) == {"get"}


def test_after_commit_messages_are_delivered_right_after_the_commit(client, db, routes):
    assert client.post("/t/deliver").status_code == 200
    assert routes == [{"key": "deliver-me"}]
    db.rollback()
    message = db.scalar(select(OutboxMessage).where(OutboxMessage.key == "deliver-me"))
    assert message.delivered_at is not None


def test_after_commit_messages_of_a_rolled_back_request_are_never_sent(client, db, routes):
    assert client.post("/t/deliver-fail").status_code == 409
    assert routes == []
    assert _keys(db) == set()
    # and they do not leak into the next request's commit
    assert client.post("/t/deliver").status_code == 200
    assert routes == [{"key": "deliver-me"}]
