"""Issue 13 point 5: the filing steps show every field's message in one round, and a time of day
is accepted as people type it ("9:30")."""

from __future__ import annotations

import re

import pytest

from portal.localtime import clock_time
from portal.recognition.models import RecognitionCase


@pytest.mark.parametrize(("typed", "stored"), [("9:30", "09:30"), ("09:30", "09:30"), ("9：30", "09:30"),
                                               ("９：３０", "09:30"), (" 23:59 ", "23:59"), ("0:05", "00:05")])
def test_a_time_of_day_is_read_as_people_type_it(typed, stored):
    assert clock_time(typed) == stored


@pytest.mark.parametrize("typed", ["24:00", "9:5", "930", "9:60", "", "九点半", "-1:30"])
def test_a_time_that_is_not_one_is_refused(typed):
    with pytest.raises(ValueError):
        clock_time(typed)


def _post(client, csrf_token, url, data=None):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})})


@pytest.fixture
def draft(app, login_as, csrf_token):
    client = app.test_client()
    login_as(client, "worker")
    response = _post(client, csrf_token, "/recognition/new", {"applicant_kind": "worker"})
    assert response.status_code == 303
    case_id = int(re.search(r"/cases/(\d+)/", response.headers["Location"]).group(1))
    return client, f"/recognition/cases/{case_id}/file", case_id


def test_the_event_step_lists_every_problem_at_once(draft, csrf_token):
    client, base, _ = draft
    # no kind chosen and a date that is not a date: the form's own checks fail, yet the empty
    # place, account and injury are reported in the same answer
    response = _post(client, csrf_token, f"{base}/event", {"event_date": "2026-13-01", "event_time": "25:00"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in ("请选择伤害类别", "格式不正确，请按 2026-01-31 的格式填写", "时间格式不正确",
                    "请填写事故发生地点", "请填写经过", "请填写受伤部位及诊断"):
        assert message in html, message
    assert "请填写日期" not in html  # the date has its own message already


def test_the_event_step_takes_a_time_without_its_leading_zero(app, draft, csrf_token):
    client, base, case_id = draft
    response = _post(client, csrf_token, f"{base}/event", {
        "event_kind": "accident", "event_date": "2026-03-02", "event_time": "9:30", "event_place": "工地",
        "event_account": "搬运钢管时被砸伤右手。", "injury": "右手食指骨折", "late_reason": "住院治疗"})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    with app.extensions["portal.database"].read_session() as sess:
        assert sess.get(RecognitionCase, case_id).event_time == "09:30"


def test_the_employer_step_lists_every_problem_at_once(app, login_as, csrf_token):
    client = app.test_client()
    login_as(client, "worker")
    response = _post(client, csrf_token, "/recognition/new", {"applicant_kind": "relative", "relation": "spouse"})
    assert response.status_code == 303
    base = re.search(r"(/recognition/cases/\d+/file)", response.headers["Location"]).group(1)
    # a formula in the name fails the form's own check; the USCC and county are still checked
    response = _post(client, csrf_token, f"{base}/employer", {"uscc": "123", "name": "=1+1", "county_code": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "统一社会信用代码" in html and "请填写用人单位所在县（区）行政区划代码" in html
    # and the worker step: a formula name and a bad ID number, both in one answer
    response = _post(client, csrf_token, f"{base}/worker", {"name": "=cmd", "id_number": "123"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count('class="field__error"') >= 2
