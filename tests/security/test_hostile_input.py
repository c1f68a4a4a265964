"""Hostile input (issue 12, point 5), on SQLite and PostgreSQL.

- NUL, C0/C1 controls and bidi overrides are refused at the door with 422 and a clear message —
  in query strings (the unauthenticated /verify), HTTP Basic credentials and the URL path of the
  API, JSON bodies and form fields — never a 500 (PostgreSQL refuses NUL in text), never stored
  (SQLite would keep them). Tab and newline stay in multi-line text; "·" stays in names.
- Names starting with = + - @ are refused on every path that takes one (forms and imports).
- Database errors carry no SQL parameters; the API document states the guard (pattern, 422 code).
"""

from __future__ import annotations

import base64
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select, text

from portal.accounts.models import Person
from portal.enrollment.models import EnrolledUnit, UnitMember
from portal.localtime import local_today
from portal.projects.models import Project
from portal.recognition.models import RecognitionCase
from tests.conftest import sign_in_up_front
from tests.enrollment.conftest import UNIT_FIELDS, make_id
from tests.enrollment.test_routes import post as _post
from tests.enrollment.test_routes import text as _html

MESSAGE = "提交的内容含有不可见的控制字符，请删除后重新提交"
NAME_MESSAGE = "不能以 = + - @ 开头"

#: one of each kind the guard refuses
HOSTILE = {"nul": "\x00", "bell": "\x07", "escape": "\x1b", "del": "\x7f", "c1-nel": "\x85",
           "rlo": "\u202e", "lro": "\u202d", "rli": "\u2067", "pdi": "\u2069", "rlm": "\u200f",
           "alm": "\u061c"}


@pytest.fixture
def actor_for(actor_for):
    return sign_in_up_front(actor_for, "employer", "clerk", "worker")


@pytest.fixture
def signed_in(app, login_as):
    """``signed_in("employer")``: a test client with that demo login's session."""
    return lambda who: _with_login(app.test_client(), login_as, who)


def _with_login(client, login_as, who: str):
    login_as(client, who)
    return client


def _count(app, model) -> int:
    with app.extensions["portal.database"].read_session() as s:
        return s.scalar(select(func.count()).select_from(model))


def _approved_unit(app, actor_for) -> None:
    from portal.enrollment import service as enrollment

    employer, clerk = actor_for("employer"), actor_for("clerk")
    with app.app_context(), app.extensions["portal.database"].write_transaction() as s:
        unit = enrollment.save_unit(s, employer, **UNIT_FIELDS)
        enrollment.submit_unit(s, employer)
        enrollment.approve_unit(s, clerk, unit.id, risk_class=unit.risk_class or 5, band="1.0",
                                effective_date=date(2026, 1, 1))


def _covered_project(app, actor_for) -> int:
    from portal.projects import service as projects
    from tests.projects.conftest import enroll, pay_open_bills

    employer = actor_for("employer")
    with app.app_context(), app.extensions["portal.database"].write_transaction() as s:
        project = enroll(s, employer)
        projects.submit_project(s, employer, project.id)
        pay_open_bills(s, project.id)
        return project.id


# --- at the door: every kind of input ---------------------------------------------------------


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_control_characters_in_the_verify_query_are_refused_not_500(client, char):
    response = client.get("/verify", query_string={"n": f"GZ2026{char}0001", "c": "ABCD"})
    assert response.status_code == 422
    assert MESSAGE in _html(response) and "<html" in _html(response)


def test_json_clients_get_a_json_error_with_a_code(client):
    response = client.get("/verify", query_string={"n": "\x00"}, headers={"Accept": "application/json"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_characters" and error["message"] == MESSAGE


def test_a_normal_verify_query_still_works(client):
    response = client.get("/verify", query_string={"n": "GZ20260001", "c": "ABCD"})
    assert response.status_code == 200


def _basic(raw: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


@pytest.mark.parametrize("raw", ["client\x00:secret", "client:sec\x00ret", "cli\u202eent:secret"],
                         ids=["nul-in-id", "nul-in-secret", "rlo-in-id"])
def test_control_characters_in_api_credentials_are_refused_not_500(client, raw):
    response = client.get("/api/v1/projects/GS2026000001/cover", query_string={"id_number": "340104199003071235"},
                          headers=_basic(raw))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_characters"


def test_plain_unknown_api_credentials_still_get_401(client):
    response = client.get("/api/v1/projects/GS2026000001/cover", headers=_basic("nobody:wrong"))
    assert response.status_code == 401
    malformed = client.get("/api/v1/projects/GS2026000001/cover", headers={"Authorization": "Basic %%%"})
    assert malformed.status_code == 401


def test_a_nul_in_the_api_path_is_refused_not_500(client):
    response = client.get("/api/v1/projects/GS%00/cover", headers=_basic("nobody:wrong"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_characters"


def test_a_nul_in_a_json_body_is_refused_before_the_view(client):
    response = client.post("/api/payments/tax-callback", json={"message_id": "m\x00", "reference": "R1"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_characters"


def test_a_bidi_override_in_a_form_field_is_refused_and_nothing_is_stored(app, signed_in, csrf_token):
    employer = signed_in("employer")
    for field in ("name", "contact_name", "address"):
        response = _post(employer, csrf_token, "/enrollment/unit/edit",
                         {**UNIT_FIELDS, field: "安徽\u202e皖建\x00"})
        assert response.status_code == 422 and MESSAGE in _html(response)
    assert _count(app, EnrolledUnit) == 0
    assert _post(employer, csrf_token, "/enrollment/unit/edit", UNIT_FIELDS).status_code == 303


def test_a_hostile_form_field_name_is_refused_too(signed_in, csrf_token):
    response = _post(signed_in("employer"), csrf_token, "/enrollment/unit/edit", {**UNIT_FIELDS, "x\x00": "1"})
    assert response.status_code == 422


def test_uploaded_file_parts_are_not_text_fields(app, signed_in, csrf_token, actor_for):
    """A file's bytes may hold anything: the guard leaves them to the file checks."""
    _approved_unit(app, actor_for)
    employer = signed_in("employer")
    body = ("姓名,身份证号码,手机号码,月缴费工资基数,参保日期,参保类型\r\n王芳,%s,,8000,%s,\r\n"
            % (make_id(seq=502), local_today().isoformat())).encode("utf-16")  # NUL bytes galore
    response = _post(employer, csrf_token, "/enrollment/members/import",
                     {"file": (io.BytesIO(body), "x.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422 and MESSAGE not in _html(response)


# --- what is kept -------------------------------------------------------------------------------


def _new_case(worker, csrf_token, **who) -> str:
    response = _post(worker, csrf_token, "/recognition/new", who or {"applicant_kind": "worker"})
    assert response.status_code == 303
    case_id = int(re.search(r"/cases/(\d+)/", response.headers["Location"]).group(1))
    return f"/recognition/cases/{case_id}/file"


def test_tab_and_newline_are_kept_in_multi_line_text(app, signed_in, csrf_token):
    worker = signed_in("worker")
    base = _new_case(worker, csrf_token)
    account = "搬运钢管时\r\n\t被砸伤右手。\n送医。"
    response = _post(worker, csrf_token, f"{base}/event", {
        "event_kind": "accident", "event_date": local_today().isoformat(), "event_time": "09:30",
        "event_place": "合肥市蜀山区某工地", "event_account": account, "injury": "右手挤压伤"})
    assert response.status_code == 303, _html(response)
    with app.extensions["portal.database"].read_session() as s:
        stored = s.scalar(select(RecognitionCase.event_account))
    assert "\t被砸伤右手" in stored and "\n送医" in stored


def test_a_middle_dot_in_a_minority_name_is_accepted(app, signed_in, csrf_token, actor_for):
    _approved_unit(app, actor_for)
    employer = signed_in("employer")
    response = _post(employer, csrf_token, "/enrollment/members/new", {
        "name": "阿依古丽·买买提", "id_number": make_id(seq=501), "phone": "", "wage_base": "8000",
        "start_date": local_today().isoformat(), "insurance_type": "regular"})
    assert response.status_code == 303, _html(response)
    with app.extensions["portal.database"].read_session() as s:
        name = s.scalar(select(Person.name).join(UnitMember, UnitMember.person_id == Person.id))
    assert name == "阿依古丽·买买提"


# --- names starting with = + - @ on every path ------------------------------------------------


@pytest.mark.parametrize("field,label", [("name", "单位名称"), ("contact_name", "联系人")])
def test_formula_names_are_refused_on_the_unit_form(app, signed_in, csrf_token, field, label):
    for value in ("=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", " =cmd"):
        response = _post(signed_in("employer"), csrf_token, "/enrollment/unit/edit", {**UNIT_FIELDS, field: value})
        assert response.status_code == 422 and f"{label}{NAME_MESSAGE}" in _html(response), value
    assert _count(app, EnrolledUnit) == 0


def test_formula_names_are_refused_on_the_member_form_and_import(app, signed_in, csrf_token, actor_for):
    _approved_unit(app, actor_for)
    employer = signed_in("employer")
    member = {"id_number": make_id(seq=501), "phone": "", "wage_base": "8000",
              "start_date": local_today().isoformat(), "insurance_type": "regular"}
    response = _post(employer, csrf_token, "/enrollment/members/new", {**member, "name": "=cmd"})
    assert response.status_code == 422 and f"姓名{NAME_MESSAGE}" in _html(response)
    for name in ("=cmd", "王\u202e芳"):
        rows = "姓名,身份证号码,手机号码,月缴费工资基数,参保日期,参保类型\r\n%s,%s,,8000,%s,\r\n" % (
            name, make_id(seq=503), local_today().isoformat())
        response = _post(employer, csrf_token, "/enrollment/members/import",
                         {"file": (io.BytesIO(rows.encode("utf-8")), "x.csv")}, content_type="multipart/form-data")
        assert response.status_code == 422 and "第 2 行" in _html(response), name
    assert "不可见的控制字符" in _html(response)
    assert _count(app, UnitMember) == 0


def test_formula_names_are_refused_on_the_project_and_roster_paths(app, signed_in, csrf_token, actor_for):
    project_id = _covered_project(app, actor_for)
    employer = signed_in("employer")
    response = _post(employer, csrf_token, "/projects/new", {
        "name": "+合肥项目", "county_code": "340111", "contract_price": "12,345,678.90", "installation_cost": "",
        "permit_number": "", "planned_start": "2026-01-01", "planned_end": "2027-12-31"})
    assert response.status_code == 422 and f"项目名称{NAME_MESSAGE}" in _html(response)
    assert _count(app, Project) == 1
    response = _post(employer, csrf_token, f"/projects/{project_id}/roster", {
        "name": "-cmd", "id_number": "340104199003071235", "phone": "", "trade": "钢筋工", "team": "",
        "entry_date": local_today().isoformat()})
    assert response.status_code == 422 and f"姓名{NAME_MESSAGE}" in _html(response)
    for name in ("@cmd", "张\u202e伟"):
        body = f"姓名,身份证号码,手机号码,工种,班组,进场日期\n{name},340104199003071235,,钢筋工,,{local_today()}\n"
        response = employer.post(f"/projects/{project_id}/roster/import", content_type="multipart/form-data",
                                 data={"upload-csrf_token": csrf_token(employer),
                                       "upload-file": (io.BytesIO(body.encode()), "a.csv")})
        assert response.status_code == 422 and "第 2 行" in _html(response), name
    assert "名册中还没有人员" in _html(response)


def test_formula_names_are_refused_on_the_recognition_steps(app, signed_in, csrf_token):
    worker = signed_in("worker")  # a close relative applies: the injured worker's name is typed in
    base = _new_case(worker, csrf_token, applicant_kind="relative", relation="spouse")
    response = _post(worker, csrf_token, f"{base}/worker", {"member_id": "", "name": "=cmd",
                                                           "id_number": "340104199003071235"})
    assert response.status_code == 422 and f"受伤害职工姓名{NAME_MESSAGE}" in _html(response)
    response = _post(worker, csrf_token, f"{base}/employer", {"uscc": "91340100MA2N0A1B5E", "name": "@单位",
                                                             "county_code": "340104"})
    assert response.status_code == 422 and f"用人单位名称{NAME_MESSAGE}" in _html(response)
    with app.extensions["portal.database"].read_session() as s:
        case = s.scalars(select(RecognitionCase)).one()
        assert not (case.completed_steps or "").count("worker") and not (case.completed_steps or "").count("employer")


# --- logs -------------------------------------------------------------------------------------


def test_database_errors_carry_no_sql_parameters(app):
    engine = app.extensions["portal.database"].engine
    with pytest.raises(Exception) as caught, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table WHERE x = :p"), {"p": "张伟的病情：右手骨折"})
    assert "张伟的病情" not in str(caught.value)
    assert "parameters hidden" in str(caught.value)


def test_the_api_contract_says_what_the_guard_refuses(client):
    doc = client.get("/api/openapi.json").get_json()
    cover = doc["paths"]["/api/v1/projects/{code}/cover"]["get"]
    assert "invalid_characters" in cover["responses"]["422"]["description"]
    code = next(p for p in cover["parameters"] if p["name"] == "code")
    assert re.fullmatch(code["schema"]["pattern"], "XM340100202600001")
    assert not re.fullmatch(code["schema"]["pattern"], "XM34\u202e0001")
    callback = doc["paths"]["/api/payments/tax-callback"]["post"]["responses"]["422"]["description"]
    assert "invalid_payload" in callback and "invalid_characters" in callback


def test_the_refusal_is_logged_without_the_value(client):
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        client.get("/verify", query_string={"n": "张伟340104199003071235\u202e"})
    refused = [entry for entry in logs if entry["event"] == "input.refused"]
    assert refused and refused[0]["where"] == "query"
    assert "340104199003071235" not in repr(logs) and "张伟" not in repr(logs)


# --- exports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [
    ("=cmd", "'=cmd"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), (" =cmd", "' =cmd"),
    ("\t=cmd", "'\t=cmd"), ("王\u202e芳", "王芳"), ("\u202e=cmd", "'=cmd"), ("阿依古丽·买买提", "阿依古丽·买买提"),
    (8000, 8000), (None, None),
])
def test_exports_neutralise_formulas_and_invisible_controls(value, expected):
    from portal.spreadsheets import neutralise

    assert neutralise(value) == expected


def test_a_name_stored_with_a_bidi_override_before_the_guard_prints_without_it(app, client, login_as, db):
    """Rows written before the input guard existed: every page and document prints them clean."""
    person_id = login_as(client, "worker")["person_id"]
    db.execute(text("UPDATE person SET name = :n WHERE id = :i"), {"n": "张\u202e三", "i": person_id})
    db.commit()
    page = client.get("/my/profile")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "张三" in body and "\u202e" not in body
    from portal.recognition.service.documents import document_environment

    letter = document_environment().from_string("{{ name }}|{{ safe }}")
    from markupsafe import Markup
    assert letter.render(name="3401\u202e04", safe=Markup("<b>a\u2066b</b>")) == "340104|<b>ab</b>"
