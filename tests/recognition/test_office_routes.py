"""The recognition office's pages over HTTP (both databases): queue, case page, every action's
POST with CSRF, double posts, scope (another city's officer gets 404), and the overview."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.recognition.models import (
    CaseEvent,
    CaseStatus,
    InvestigationNote,
    RecognitionCase,
    Urge,
)
from tests.recognition import factories
from tests.recognition.factories import People, submitted_case

#: fixtures shared by the recognition tests
people, files_dir = factories.people, factories.files_dir


@pytest.fixture
def app_overrides(tmp_path):
    return {"files_dir": str(tmp_path / "files")}


def _make(app, people: People, **kwargs) -> int:
    with app.extensions["portal.database"].write_transaction() as s:
        return submitted_case(s, people, **kwargs).id


def _case(app, case_id: int) -> RecognitionCase:
    with app.extensions["portal.database"].sessions() as s:
        case = s.get(RecognitionCase, case_id)
        s.expunge(case)
        return case


def _events(app, case_id: int) -> list[str]:
    with app.extensions["portal.database"].sessions() as s:
        return list(s.execute(select(CaseEvent.action).where(CaseEvent.case_id == case_id)
                              .order_by(CaseEvent.id)).scalars())


def _post(client, csrf_token, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def test_officer_handles_a_case_from_queue_to_service(app, client, login_as, csrf_token, people):
    case_id = _make(app, people, received_on=date.today())
    login_as(client, "officer")
    queue = client.get("/recognition/office/")
    assert queue.status_code == 200
    page = queue.get_data(as_text=True)
    assert _case(app, case_id).reference in page and "张伟" in page

    shown = client.get(f"/recognition/office/cases/{case_id}")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200, html
    assert "左手食指近节指骨骨折" in html  # medical details: staff see them
    assert "一次性告知补正" in html and "受理并出具受理决定书" in html

    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/accept", simplified="no")
    assert r.status_code == 303, r.get_data(as_text=True)
    assert _case(app, case_id).status is CaseStatus.ACCEPTED
    again = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/accept", simplified="no")
    assert again.status_code == 303
    follow = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "不能办理“受理”" in follow
    assert _events(app, case_id).count("accept") == 1

    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/notes", kind="employer_view",
              text="单位称事故发生在工作时间，对工伤无异议。")
    assert r.status_code == 303
    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/decide", outcome="recognised",
              ground_code="r14_1", reasoning="在工作时间和工作场所内因工作原因受伤。")
    assert r.status_code == 303
    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/serve")
    assert r.status_code == 303
    final = client.get(f"/recognition/office/cases/{case_id}").get_data(as_text=True)
    assert "送达记录" in final and "安徽皖建建设工程有限公司" in final
    assert _case(app, case_id).status is CaseStatus.SERVED
    token = re.search(r'/files/([A-Za-z0-9_-]{16,64})"', final).group(1)
    pdf = client.get(f"/files/{token}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def _login_as_wuhu_officer(app, client, login_as) -> None:
    """The demo register has no recognition officer outside Hefei: reuse 芜湖's clerk login with
    the officer's role, as a staff assignment for Wuhu would give it."""
    import secrets

    from portal.auth.models import WebSession
    from portal.auth.session_store import token_id
    from portal.db import utcnow

    snapshot = dict(login_as(app.test_client(), "clerk-wuhu"), role="recognition_officer",
                    office="芜湖市人力资源和社会保障局 工伤保险处")
    token = secrets.token_urlsafe(32)
    with app.extensions["portal.database"].write_transaction() as s:
        s.add(WebSession(id=token_id(token), account_id=snapshot["account_id"], role=snapshot["role"],
                         data=snapshot, created_at=utcnow(), last_seen_at=utcnow()))
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], token)


def test_another_citys_officer_gets_not_found_and_the_province_sees_all(app, client, login_as, csrf_token,
                                                                        people):
    hefei = _make(app, people)
    wuhu = _make(app, people, city_code="340200")
    _login_as_wuhu_officer(app, client, login_as)
    assert client.get(f"/recognition/office/cases/{hefei}").status_code == 404
    r = _post(client, csrf_token, f"/recognition/office/cases/{hefei}/accept", simplified="no")
    assert r.status_code == 404 and _case(app, hefei).status is CaseStatus.SUBMITTED
    queue = client.get("/recognition/office/").get_data(as_text=True)
    assert _case(app, wuhu).reference in queue and _case(app, hefei).reference not in queue

    province = app.test_client()
    login_as(province, "provincial")
    html = province.get("/recognition/office/?status=all").get_data(as_text=True)
    assert _case(app, wuhu).reference in html and _case(app, hefei).reference in html
    only_wuhu = province.get("/recognition/office/?city_code=340200").get_data(as_text=True)
    assert _case(app, wuhu).reference in only_wuhu and _case(app, hefei).reference not in only_wuhu
    assert province.get(f"/recognition/office/cases/{hefei}").status_code == 200


def test_invalid_input_is_shown_beside_the_fields_and_nothing_changes(app, client, login_as, csrf_token,
                                                                      people):
    case_id = _make(app, people)
    login_as(client, "officer")
    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/supplement-request")
    assert r.status_code == 422 and "请至少列出一项需要补正的材料" in r.get_data(as_text=True)
    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/accept", simplified="yes",
              simplified_reason="")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="simplified_reason-error"' in html
    assert "适用简易程序的，请填写理由" in html
    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/refuse")
    assert r.status_code == 422 and "请至少选择或填写一项不予受理的理由" in r.get_data(as_text=True)
    assert _case(app, case_id).status is CaseStatus.SUBMITTED
    # without the CSRF token nothing happens
    r = client.post(f"/recognition/office/cases/{case_id}/accept", data={"simplified": "no"})
    assert r.status_code in (303, 400) and _case(app, case_id).status is CaseStatus.SUBMITTED

    _post(client, csrf_token, f"/recognition/office/cases/{case_id}/accept", simplified="no")
    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/decide", outcome="recognised",
              ground_code="r16_1", reasoning="")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "所选认定依据与认定结论不一致" in html and "请填写认定的事实和理由" in html
    assert _case(app, case_id).status is CaseStatus.ACCEPTED


def test_supplement_suspension_and_urges_through_the_pages(app, client, login_as, csrf_token, people):
    case_id = _make(app, people)
    login_as(client, "officer")
    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/supplement-request",
              kind=["labour_relation", "id_card"], **{"description-labour_relation": "请提供劳动合同",
                                                      "description-id_card": "请提供身份证正反面",
                                                      "other-1": "请提供现场照片"})
    assert r.status_code == 303
    page = client.get(f"/recognition/office/cases/{case_id}").get_data(as_text=True)
    assert "一次性告知补正清单" in page and "请提供现场照片" in page and "补正材料通知书" in page
    assert ">发出补正材料通知书</button>" not in page  # no second notice offered

    other = _make(app, people)
    _post(client, csrf_token, f"/recognition/office/cases/{other}/accept", simplified="no")
    r = _post(client, csrf_token, f"/recognition/office/cases/{other}/suspend", reason="劳动关系争议待仲裁")
    assert r.status_code == 303 and _case(app, other).status is CaseStatus.SUSPENDED
    assert "中止通知书" in client.get(f"/recognition/office/cases/{other}").get_data(as_text=True)
    r = _post(client, csrf_token, f"/recognition/office/cases/{other}/resume", note="仲裁裁决书已生效")
    assert r.status_code == 303 and _case(app, other).status is CaseStatus.ACCEPTED

    with app.extensions["portal.database"].write_transaction() as s:
        urge = Urge(case_id=other, by_account_id=people.employer.account_id, text="请加快办理。")
        s.add(urge)
        s.flush()
        urge_id = urge.id
    queue = client.get("/recognition/office/").get_data(as_text=True)
    assert "有催办" in queue
    r = _post(client, csrf_token, f"/recognition/office/urges/{urge_id}/answer", **{f"urge-{urge_id}-answer": ""})
    assert r.status_code == 422 and "请填写答复内容" in r.get_data(as_text=True)
    r = _post(client, csrf_token, f"/recognition/office/urges/{urge_id}/answer",
              **{f"urge-{urge_id}-answer": "已恢复认定，将在期限内作出决定。"})
    assert r.status_code == 303
    again = _post(client, csrf_token, f"/recognition/office/urges/{urge_id}/answer",
                  **{f"urge-{urge_id}-answer": "第二次"})
    assert "已经答复过" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert client.post("/recognition/office/urges/999999/answer",
                       data={"csrf_token": csrf_token(client)}).status_code == 404
    with app.extensions["portal.database"].sessions() as s:
        assert s.execute(select(func.count()).select_from(InvestigationNote)).scalar_one() == 0
        assert s.get(Urge, urge_id).answer == "已恢复认定，将在期限内作出决定。"


def test_htmx_gets_fragments(app, client, login_as, csrf_token, people):
    case_id = _make(app, people)
    login_as(client, "officer")
    fragment = client.get(f"/recognition/office/cases/{case_id}",
                          headers={"HX-Request": "true", "HX-Target": "case-workspace"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="case-workspace">') and "<h1" not in fragment
    results = client.get("/recognition/office/?clock=overdue",
                         headers={"HX-Request": "true", "HX-Target": "queue-results"}).get_data(as_text=True)
    assert results.lstrip().startswith('<section id="queue-results"') and "<h1" not in results
    # an action posted by htmx: the redirect's page is swapped in, with the message inside it
    r = client.post(f"/recognition/office/cases/{case_id}/accept",
                    data={"csrf_token": csrf_token(client), "simplified": "no"},
                    headers={"HX-Request": "true", "HX-Target": "case-workspace"})
    assert r.status_code == 303
    swapped = client.get(r.headers["Location"], headers={"HX-Request": "true", "HX-Target": "case-workspace"})
    assert "已受理，受理决定书已生成" in swapped.get_data(as_text=True)


def test_the_provincial_overview_and_a_citys_list(app, client, login_as, people):
    overdue = _make(app, people, received_on=date(2025, 9, 1))
    login_as(client, "provincial")
    html = client.get("/recognition/office/overview").get_data(as_text=True)
    assert "工伤认定超期监督" in html and html.count('href="/recognition/office/overview/34') == 16
    city = client.get("/recognition/office/overview/340100")
    assert city.status_code == 200 and _case(app, overdue).reference in city.get_data(as_text=True)
    assert "已超期" in city.get_data(as_text=True)
    assert client.get("/recognition/office/overview/999999").status_code == 404
    officer = app.test_client()
    login_as(officer, "officer")
    assert officer.get("/recognition/office/overview").status_code == 403


def _audited(app, action: str, case_id: int) -> int:
    from portal.audit.models import AuditEvent

    with app.extensions["portal.database"].sessions() as s:
        return s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.object_id == str(case_id))).scalar_one()


def test_the_read_of_medical_data_stays_audited_when_an_action_is_refused(app, client, login_as, csrf_token,
                                                                          people):
    case_id = _make(app, people)
    login_as(client, "officer")
    r = _post(client, csrf_token, f"/recognition/office/cases/{case_id}/accept", simplified="yes",
              simplified_reason="")
    assert r.status_code == 422 and "左手食指近节指骨骨折" in r.get_data(as_text=True)
    # the page shown again with the 422 read medical data: its audit row is kept
    assert _audited(app, "recognition.read_medical_data", case_id) == 1
    assert _case(app, case_id).status is CaseStatus.SUBMITTED
