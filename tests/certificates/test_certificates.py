"""Proof of cover: issued by the holder, verified by anyone, forgery and staleness detected."""

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.certificates import service
from portal.certificates.models import Certificate
from portal.certificates.subjects import PublicFacts, SubjectProvider, register

#: a stand-in subject area: one project whose facts the test changes
STATE = {}


def _facts(sess, subject_id):
    if subject_id != 1:
        return None
    return PublicFacts(title="合肥某安置房项目", holder="安徽皖建建设工程有限公司", reference="XM3401002025000001",
                       period_from=date(2025, 3, 1), period_to=STATE["end"], status=STATE["status"],
                       covered=STATE["status"] == "已参保", city_code="340100")


def _may_issue(sess, actor, subject_id):
    return actor.organisation_id is not None and actor.display_name == "安徽皖建建设工程有限公司"


@pytest.fixture(autouse=True)
def fake_subject():
    STATE.update(end=date(2026, 12, 31), status="已参保")
    register(SubjectProvider("testproject", "项目参保证明", _facts, _may_issue))


def _issue(client, csrf_token) -> str:
    response = client.post("/certificates/testproject/1", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    return response.headers["Location"]


def test_holder_downloads_a_pdf_with_cjk_fonts_and_a_qr(client, login_as, csrf_token):
    login_as(client, "employer")
    pdf = client.get(_issue(client, csrf_token))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in f and "SC" in f for f in fonts), fonts
    assert len(fonts) == 1, fonts  # one font for the whole document (portal.documents)
    text = reader.pages[0].extract_text()
    assert "项目参保证明" in text and "合肥某安置房项目" in text and "校验码" in text


def test_other_employers_cannot_issue_or_download(client, login_as, csrf_token, app):
    login_as(client, "employer")
    location = _issue(client, csrf_token)
    other = app.test_client()
    login_as(other, "employer2")
    assert other.post("/certificates/testproject/1", data={"csrf_token": csrf_token(other)}).status_code == 404
    assert other.get(location).status_code == 404


def _verify_link(app, client):
    with app.extensions["portal.database"].read_session() as sess:
        certificate = sess.execute(sa.select(Certificate)).scalar_one()
        return certificate.number, service.check_code(certificate)


def test_public_verification_valid_outdated_and_forged(app, client, login_as, csrf_token):
    login_as(client, "employer")
    _issue(client, csrf_token)
    number, code = _verify_link(app, client)
    public = app.test_client()
    valid = public.get("/verify", query_string={"n": number, "c": code}).get_data(as_text=True)
    assert "核验通过：证明有效" in valid and "合肥某安置房项目" in valid
    assert "340104" not in valid  # nothing personal is shown

    STATE["status"] = "已竣工"
    outdated = public.get("/verify", query_string={"n": number, "c": code}).get_data(as_text=True)
    assert "内容已过时" in outdated and "已竣工" in outdated

    wrong_code = public.get("/verify", query_string={"n": number, "c": "0" * 16}).get_data(as_text=True)
    assert "证明无效" in wrong_code
    unknown = public.get("/verify", query_string={"n": "CB2099", "c": code}).get_data(as_text=True)
    assert "证明无效" in unknown


def test_a_certificate_edited_in_the_database_no_longer_verifies(app, client, login_as, csrf_token):
    login_as(client, "employer")
    _issue(client, csrf_token)
    number, code = _verify_link(app, client)
    with app.extensions["portal.database"].write_transaction() as sess:
        certificate = sess.execute(sa.select(Certificate)).scalar_one()
        certificate.facts = {**certificate.facts, "period_to": "2030-12-31"}
    page = app.test_client().get("/verify", query_string={"n": number, "c": code}).get_data(as_text=True)
    assert "证明无效" in page


def test_issuing_is_audited(app, client, login_as, csrf_token):
    login_as(client, "employer")
    _issue(client, csrf_token)
    with app.extensions["portal.database"].read_session() as sess:
        actions = sess.execute(sa.text("SELECT action FROM audit_event")).scalars().all()
    assert "certificate.issue" in actions


def test_check_code_shape(app, client, login_as, csrf_token):
    login_as(client, "employer")
    _issue(client, csrf_token)
    number, code = _verify_link(app, client)
    assert re.fullmatch(r"CB\d{16}", number) and re.fullmatch(r"[0-9a-f]{16}", code)
