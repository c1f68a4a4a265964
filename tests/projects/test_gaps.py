"""What a contractor and a worker missed (issue 13 point 5): a project's enrollment reported to the
provincial platform, every field's message in one round, every problem of a roster row at once,
and 查参保 with the worker's unit cover beside the project cover."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.errors import InvalidFields
from portal.localtime import local_today
from portal.outbox.gov_items import TOPIC_EVENT, TOPIC_ITEM
from portal.outbox.models import OutboxMessage
from portal.projects import service as projects
from portal.projects.service import roster
from tests.frontend.test_pages import check_page
from tests.projects.conftest import enroll, pay_open_bills


def _platform(sess, item_no):
    return sess.execute(select(OutboxMessage).where(OutboxMessage.aggregate == item_no)
                        .order_by(OutboxMessage.id)).scalars().all()


def test_submission_and_cover_are_reported_as_one_item(actor_for, tx):
    employer = actor_for("employer")

    def run(sess):
        project = enroll(sess, employer)
        assert _platform(sess, project.code) == []  # a draft is not reported
        projects.submit_project(sess, employer, project.id)
        pay_open_bills(sess, project.id)
        return [(m.topic, m.data) for m in _platform(sess, project.code)], project.code, project.organisation_id

    sent, code, organisation_id = tx(run)
    assert [topic for topic, _ in sent] == [TOPIC_ITEM, TOPIC_EVENT, TOPIC_EVENT]
    assert sent[0][1]["item"]["item_name"] == "建筑项目工伤保险参保登记" and sent[0][1]["item"]["item_no"] == code
    assert sent[1][1]["event"]["stage"] == "received"
    done = sent[2][1]
    assert done["event"]["completed"] and done["event"]["result"] == "已参保"
    assert done["notify"]["organisation_id"] == organisation_id


def test_project_details_give_every_problem_at_once():
    with pytest.raises(InvalidFields) as caught:
        projects.check_project_details(name=" ", county_code="320102", permit_number="x" * 65,
                                       contract_price=None, installation_cost=None,
                                       planned_start=date(2026, 5, 1), planned_end=date(2026, 4, 1))
    assert set(caught.value.errors) == {"name", "county_code", "permit_number", "contract_price", "planned_end"}


def test_a_roster_row_reports_every_problem_of_the_row():
    raw = projects.WorkerInput(name="", id_number="340104199003071234", phone="123", trade="", team="",
                               entry_date="2026-13-01", row_number=7)
    with pytest.raises(roster.BadRow) as caught:
        roster.clean_worker(raw, None, local_today())
    assert list(caught.value.problems) == ["name", "id_number", "phone", "trade", "entry_date"]
    assert str(caught.value).startswith("请填写姓名；身份证号码：")


def test_a_bad_file_lists_each_row_with_all_its_reasons(covered_project, tx):
    employer, project_id = covered_project
    rows = [projects.WorkerInput(name="", id_number="340104199003071234", phone="", trade="", team="",
                                 entry_date="2026-13-01", row_number=n) for n in range(2, 6)]
    with pytest.raises(projects.RosterRejected) as caught:
        tx(lambda s: projects.import_workers(s, employer, project_id, rows, max_rows=100))
    assert [e.row_number for e in caught.value.errors] == [2, 3, 4, 5]
    assert all("请填写姓名" in e.message and "请填写工种" in e.message and "进场日期" in e.message
               for e in caught.value.errors)


def _post(client, csrf_token, url, data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def test_project_form_shows_every_fields_message_in_one_round(app, client, login_as, csrf_token):
    login_as(client, "employer")
    response = _post(client, csrf_token, "/projects/new", {
        "name": "", "county_code": "320102", "contract_price": "-5", "installation_cost": "",
        "permit_number": "", "planned_start": "2026-01-01", "planned_end": "2025-01-01"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    check_page(response)
    for field in ("name", "county_code", "contract_price", "planned_end"):
        assert f'id="{field}-error"' in html, field
    assert "不是安徽省的行政区划代码" in html  # the service's check, in the same round as the form's


def test_worker_form_shows_every_fields_message_in_one_round(app, client, login_as, csrf_token, covered_project):
    _, project_id = covered_project
    login_as(client, "employer")
    response = _post(client, csrf_token, f"/projects/{project_id}/roster", {
        "name": "张伟", "id_number": "340104199003071234", "phone": "123", "trade": "钢筋工", "team": "",
        "entry_date": (local_today()).isoformat()})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="id_number-error"' in html and 'id="phone-error"' in html


def test_cover_page_shows_unit_cover_and_project_cover(app, client, login_as):
    login_as(client, "worker")
    response = client.get("/projects/my-cover")
    page = check_page(response)
    html = response.get_data(as_text=True)
    assert page.h1 == ["我的参保情况"]
    assert "单位参保" in html and "建筑项目参保" in html
    assert "没有查到单位为您办理的工伤保险参保记录" in html
    assert "您目前不在任何在建项目的实名制花名册中" in html
