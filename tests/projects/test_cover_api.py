"""住建 checks a project's cover by code through the machine API; contractors print a certificate."""

import base64
import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.api import clients
from portal.auth.roles import Actor
from portal.projects.models import Project

OPERATOR = Actor(role=None, display_name="测试管理员")


def _basic(issued) -> dict:
    token = base64.b64encode(f"{issued.client_id}:{issued.secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def bureau(tx):
    """The Hefei housing-construction bureau's credential, and a province-wide one."""
    def _make(sess):
        hefei = clients.create_client(sess, OPERATOR, client_id="zj-340100", name="合肥市住房和城乡建设局",
                                      scopes=["project_cover:read"], city_code="340100")
        wuhu = clients.create_client(sess, OPERATOR, client_id="zj-340200", name="芜湖市住房和城乡建设局",
                                     scopes=["project_cover:read"], city_code="340200")
        return hefei, wuhu

    return tx(_make)


def _code(app, project_id):
    with app.extensions["portal.database"].read_session() as sess:
        return sess.get(Project, project_id).code


def test_bureau_sees_cover_of_a_paid_project(app, client, covered_project, bureau):
    _, project_id = covered_project
    hefei, _ = bureau
    code = _code(app, project_id)
    response = client.get(f"/api/v1/projects/{code}/cover", headers=_basic(hefei))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["project_code"] == code and body["covered"] is True and body["status"] == "已参保"
    assert body["contractor"] == "安徽皖建建设工程有限公司" and body["city_code"] == "340100"
    assert "340104" not in response.get_data(as_text=True)  # no personal data
    with app.extensions["portal.database"].read_session() as sess:
        actions = sess.execute(sa.text("SELECT action, actor_label FROM audit_event WHERE action LIKE 'api.%'")).all()
    assert ("api.project_cover.read", "接口：合肥市住房和城乡建设局（zj-340100）") in [tuple(a) for a in actions]


def test_other_city_bureau_unknown_code_and_bad_credentials(app, client, covered_project, bureau):
    _, project_id = covered_project
    hefei, wuhu = bureau
    code = _code(app, project_id)
    assert client.get(f"/api/v1/projects/{code}/cover", headers=_basic(wuhu)).status_code == 404
    missing = client.get("/api/v1/projects/XM000/cover", headers=_basic(hefei))
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    unauthenticated = client.get(f"/api/v1/projects/{code}/cover")
    assert unauthenticated.status_code == 401 and unauthenticated.json["error"]["code"] == "unauthorized"
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Basic")
    with app.extensions["portal.database"].read_session() as sess:
        audited = sess.execute(sa.text("SELECT count(*) FROM audit_event WHERE action IN "
                                       "('api.project_cover.read', 'api.refused')")).scalar_one()
    assert audited == 3  # the two misses and the refusal are on record too


def test_contractor_prints_a_project_certificate_that_verifies(app, client, login_as, csrf_token, covered_project):
    _, project_id = covered_project
    login_as(client, "employer")
    issued = client.post(f"/certificates/project/{project_id}", data={"csrf_token": csrf_token(client)})
    assert issued.status_code == 303
    pdf = client.get(issued.headers["Location"])
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "项目参保证明" in text and _code(app, project_id) in text
    number = issued.headers["Location"].rsplit("/", 1)[1].removesuffix(".pdf")
    code = text.split("校验码：")[1][:16]
    page = app.test_client().get("/verify", query_string={"n": number, "c": code}).get_data(as_text=True)
    assert "核验通过：证明有效" in page
