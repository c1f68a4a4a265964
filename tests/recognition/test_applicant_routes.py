"""The applicant's pages through the test client: filing step by step with real uploads, save
and return on another device, field errors (422), submitting twice, and what the employer and
strangers get on the case page and the file links."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone

import pytest

from portal.materials.models import StoredFile
from portal.recognition import service as recognition
from portal.recognition.models import CaseEvent, CaseMaterial, RecognitionCase
from tests.materials import samples
from tests.recognition.filing_fixtures import CAL, INJURY, fill_draft


@pytest.fixture
def clients(app, login_as):
    def _client(who):
        client = app.test_client()
        login_as(client, who)
        return client
    return _client


def _post(client, csrf_token, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def _case_id(response) -> int:
    return int(re.search(r"/cases/(\d+)/", response.headers["Location"]).group(1))


def test_a_worker_files_step_by_step_leaves_and_submits_from_another_device(app, clients, csrf_token):
    phone = clients("worker")
    page = phone.get("/recognition/new")
    assert page.status_code == 200 and "本人申请" in page.get_data(as_text=True)
    response = _post(phone, csrf_token, "/recognition/new", {"applicant_kind": "worker"})
    assert response.status_code == 303
    case_id = _case_id(response)
    base = f"/recognition/cases/{case_id}/file"
    assert "已完成 1 / 4 项" in phone.get(base).get_data(as_text=True)
    response = _post(phone, csrf_token, f"{base}/employer", {"uscc": "91340100MA2N0A1B5X", "name": "安徽皖建建设工程有限公司",
                                                           "county_code": "340104"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "统一社会信用代码校验位不正确" in html and 'value="安徽皖建建设工程有限公司"' in html
    assert _post(phone, csrf_token, f"{base}/employer", {"uscc": "91340100MA2N0A1B5E", "name": "安徽皖建建设工程有限公司",
                                                       "county_code": "340104"}).status_code == 303
    event = {"event_kind": "accident", "event_date": "2099-01-01", "event_time": "09:30", "event_place": "合肥市蜀山区某工地",
             "event_account": "搬运钢管时被砸伤右手。", "injury": INJURY}
    response = _post(phone, csrf_token, f"{base}/event", event)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "日期不能晚于今天" in html and "搬运钢管时被砸伤右手" in html
    today = datetime.now(timezone.utc).date()
    response = _post(phone, csrf_token, f"{base}/event", {**event, "event_date": today.isoformat()})
    assert response.status_code == 303

    # another device: a new session of the same person finds everything saved
    laptop = clients("worker")
    html = laptop.get("/recognition/").get_data(as_text=True)
    assert "继续填写" in html
    html = laptop.get(base).get_data(as_text=True)
    assert "已完成 3 / 4 项" in html
    assert INJURY in laptop.get(f"{base}/event").get_data(as_text=True)
    assert "用人单位应当" not in laptop.get(f"{base}/event").get_data(as_text=True)
    assert "职工或者其近亲属应当自事故伤害发生之日起1年内提出" in laptop.get(f"{base}/event").get_data(as_text=True)

    response = _post(laptop, csrf_token, f"{base}/materials", {"kind": "id_card", "file": (io.BytesIO(samples.gif()), "x.gif")},
                     content_type="multipart/form-data")
    assert response.status_code == 422 and "PDF" in response.get_data(as_text=True)

    for kind, data, name in (("labour_relation", samples.pdf(), "劳动合同.pdf"), ("medical_certificate", samples.png(), "诊断.png"),
                             ("id_card", samples.png(), "身份证.png")):
        response = _post(laptop, csrf_token, f"{base}/materials", {"kind": kind, "file": (io.BytesIO(data), name)},
                         content_type="multipart/form-data")
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
    check = laptop.get(f"{base}/check").get_data(as_text=True)
    assert "340104********1235" in check and "诊断.png" in check and "修改" in check

    response = _post(laptop, csrf_token, f"/recognition/cases/{case_id}/submit")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/cases/{case_id}/submitted")
    # the other tab still shows the check page and submits again: no second submission
    response = _post(phone, csrf_token, f"/recognition/cases/{case_id}/submit")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/recognition/cases/{case_id}")
    with app.extensions["portal.database"].read_session() as sess:
        case = sess.get(RecognitionCase, case_id)
        assert sess.query(CaseEvent).filter_by(case_id=case_id).count() == 1
        reference = case.reference
    done = laptop.get(f"/recognition/cases/{case_id}/submitted").get_data(as_text=True)
    assert reference in done and "下载申请回执" in done
    receipt = laptop.get(f"/recognition/cases/{case_id}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    # a step page of a submitted case sends the reader to the case page
    assert phone.get(f"{base}/event").headers["Location"].endswith(f"/recognition/cases/{case_id}")
    page = laptop.get(f"/recognition/cases/{case_id}").get_data(as_text=True)
    assert reference in page and INJURY in page and "待审查材料" in page and "期限届满日" in page


def _filed_case(app, files_dir, actor_for):
    people_worker = actor_for("worker")
    with app.extensions["portal.database"].write_transaction() as sess:
        today = date(2026, 4, 1)
        case = fill_draft(sess, people_worker, files_dir=files_dir, today=today)
        recognition.submit(sess, people_worker, case.id, today=today, now=datetime(2026, 4, 1, 2, tzinfo=timezone.utc),
                           files_dir=files_dir, case_url="http://localhost/recognition/cases/1", calendar=CAL)
        tokens = {m.kind: sess.get(StoredFile, m.stored_file_id).token
                  for m in sess.query(CaseMaterial).filter_by(case_id=case.id)}
        tokens["receipt"] = sess.get(StoredFile, case.receipt_file_id).token
        return case.id, tokens


def test_the_employer_never_sees_the_injury_or_medical_files(app, clients, actor_for):
    from portal.materials.uploads import files_dir

    employer = clients("employer")
    with app.test_request_context():
        directory = files_dir()
    case_id, tokens = _filed_case(app, directory, actor_for)
    page = employer.get(f"/recognition/cases/{case_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert INJURY not in html and "受伤部位及诊断</dt>" not in html
    assert tokens["medical_certificate"] not in html and tokens["receipt"] not in html
    assert tokens["labour_relation"] in html and "另有材料 1 份" in html
    assert employer.get(f"/files/{tokens['medical_certificate']}").status_code == 404
    assert employer.get(f"/files/{tokens['receipt']}").status_code == 404
    assert employer.get(f"/recognition/cases/{case_id}/receipt.pdf").status_code == 404
    assert employer.get(f"/files/{tokens['labour_relation']}").status_code == 200
    worker = clients("worker")
    assert worker.get(f"/files/{tokens['medical_certificate']}").status_code == 200


def test_strangers_get_404_and_staff_go_to_the_office_page(app, clients, actor_for):
    from portal.materials.uploads import files_dir

    with app.test_request_context():
        directory = files_dir()
    case_id, tokens = _filed_case(app, directory, actor_for)
    for who in ("relative", "employer2"):
        client = clients(who)
        assert client.get(f"/recognition/cases/{case_id}").status_code == 404, who
        assert client.get(f"/files/{tokens['labour_relation']}").status_code == 404, who
        assert client.get(f"/recognition/cases/{case_id}/file").status_code == 404, who
    officer = clients("recognition_officer")
    response = officer.get(f"/recognition/cases/{case_id}")
    assert response.status_code == 303 and f"/office/cases/{case_id}" in response.headers["Location"]
    assert officer.get(f"/files/{tokens['medical_certificate']}").status_code == 200


def test_the_case_page_read_stays_audited_when_a_form_on_it_is_refused(app, clients, csrf_token, actor_for):
    from sqlalchemy import func, select

    from portal.audit.models import AuditEvent
    from portal.materials.uploads import files_dir

    with app.test_request_context():
        directory = files_dir()
    case_id, _tokens = _filed_case(app, directory, actor_for)
    worker = clients("worker")
    response = _post(worker, csrf_token, f"/recognition/cases/{case_id}/urge", {"text": " "})
    assert response.status_code == 422 and "请填写催办内容" in response.get_data(as_text=True)
    with app.extensions["portal.database"].sessions() as sess:
        reads = sess.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "recognition.case_read", AuditEvent.object_id == str(case_id))).scalar_one()
    assert reads == 1
