"""Projects pages over HTTP: enroll, refuse start, roster upload, masked + audited reads, poster,
worker self-check, clerk inbox and provincial overview (both DBs)."""

from __future__ import annotations

import base64
import io
import re
import subprocess

import pypdf
import segno
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.localtime import local_today
from portal.projects import service as projects
from portal.projects.models import Project, ProjectStatus
from tests.frontend.test_pages import check_page

ZHANG_WEI = "340104199003071235"


def _enroll_via_form(client, csrf_token, **extra):
    data = {"csrf_token": csrf_token(client), "name": "合肥市滨湖新区安置房项目", "county_code": "340111",
            "contract_price": "12,345,678.90", "installation_cost": "", "permit_number": "",
            "planned_start": "2026-01-01", "planned_end": "2027-12-31", **extra}
    return client.post("/projects/new", data=data)


def _project_id(response) -> int:
    return int(re.search(r"/projects/(\d+)$", response.headers["Location"]).group(1))


def test_contractor_enrolls_sees_premium_in_capital_and_cannot_start_unpaid(app, client, login_as, csrf_token, tx):
    login_as(client, "employer")
    page = check_page(client.get("/projects/new"))
    assert page.h1 == ["登记新项目"]
    response = _enroll_via_form(client, csrf_token)
    assert response.status_code == 303
    project_id = _project_id(response)
    html = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "18,518.52" in html and "壹万捌仟伍佰壹拾捌元伍角贰分" in html
    assert "1.5‰" in html and "皖人社发〔2023〕21号" in html
    assert client.post(f"/projects/{project_id}/submit", data={"csrf_token": csrf_token(client)}).status_code == 303
    refused = client.post(f"/projects/{project_id}/start",
                          data={"csrf_token": csrf_token(client), "start-day": local_today().isoformat()})
    assert refused.status_code == 409
    assert "先参保、后开工" in refused.get_data(as_text=True)
    check_page(refused)
    assert tx(lambda s: s.get(Project, project_id).status) is ProjectStatus.AWAITING_PAYMENT


def test_enroll_form_errors_sit_by_the_field(client, login_as, csrf_token):
    login_as(client, "employer")
    response = _enroll_via_form(client, csrf_token, contract_price="abc", planned_start="2023-05-01",
                                planned_end="2023-01-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "工程合同价格式不正确" in html and "计划竣工日期应晚于计划开工日期" in html
    early = _enroll_via_form(client, csrf_token, planned_start="2023-05-01", planned_end="2024-05-01")
    assert early.status_code == 422 and "没有适用的政策参数" in early.get_data(as_text=True)


def test_other_employer_and_other_city_get_404(app, client, login_as, covered_project):
    _, project_id = covered_project
    for who in ("employer2", "clerk-wuhu"):
        other = app.test_client()
        login_as(other, who)
        assert other.get(f"/projects/{project_id}").status_code == 404
        assert other.get(f"/projects/{project_id}/roster").status_code == 404
    login_as(client, "clerk")
    assert client.get(f"/projects/{project_id}").status_code == 200


def test_roster_upload_then_masked_and_audited_list(app, client, login_as, csrf_token, covered_project, tx):
    _, project_id = covered_project
    login_as(client, "employer")
    template = client.get("/projects/roster-template.csv")
    assert template.status_code == 200 and template.data.startswith(b"\xef\xbb\xbf\xe5\xa7\x93\xe5\x90\x8d")
    today = local_today().isoformat()
    body = f"姓名,身份证号码,手机号码,工种,班组,进场日期\n张伟,{ZHANG_WEI},13912345678,钢筋工,一班,{today}\n".encode("gbk")
    response = client.post(f"/projects/{project_id}/roster/import", content_type="multipart/form-data",
                           data={"upload-csrf_token": csrf_token(client), "upload-file": (io.BytesIO(body), "名册.csv")})
    assert response.status_code == 303, response.get_data(as_text=True)

    def audits(sess):
        return sess.scalar(select(func.count()).select_from(AuditEvent)
                           .where(AuditEvent.action == "project.read_personal_data"))
    before = tx(audits)
    page = client.get(f"/projects/{project_id}/roster")
    html = page.get_data(as_text=True)
    check_page(page)
    assert "340104********1235" in html and ZHANG_WEI not in html and "139****5678" in html
    assert tx(audits) == before + 1


def test_bad_upload_lists_rows_and_saves_nothing(client, login_as, csrf_token, covered_project):
    _, project_id = covered_project
    login_as(client, "employer")
    body = (f"姓名,身份证号码,手机号码,工种,班组,进场日期\n张伟,{ZHANG_WEI},,钢筋工,,{local_today()}\n"
            f"=cmd,{ZHANG_WEI},,木工,,{local_today()}\n").encode()
    response = client.post(f"/projects/{project_id}/roster/import", content_type="multipart/form-data",
                           data={"upload-csrf_token": csrf_token(client), "upload-file": (io.BytesIO(body), "a.csv")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "第 3 行" in html and "公式" in html
    assert "名册中还没有人员" in html


def test_add_one_worker_and_worker_sees_cover(app, client, login_as, csrf_token, covered_project):
    _, project_id = covered_project
    login_as(client, "employer")
    response = client.post(f"/projects/{project_id}/roster", data={
        "csrf_token": csrf_token(client), "name": "张伟", "id_number": ZHANG_WEI, "phone": "",
        "trade": "钢筋工", "team": "", "entry_date": local_today().isoformat()})
    assert response.status_code == 303, response.get_data(as_text=True)
    bad = client.post(f"/projects/{project_id}/roster", data={
        "csrf_token": csrf_token(client), "name": "李四", "id_number": "340104199003071234", "phone": "",
        "trade": "木工", "team": "", "entry_date": local_today().isoformat()})
    assert bad.status_code == 422 and "身份证号码" in bad.get_data(as_text=True)

    worker = app.test_client()
    login_as(worker, "worker")
    page = worker.get("/projects/my-cover")
    check_page(page)
    html = page.get_data(as_text=True)
    assert "您已登记在合肥市滨湖新区安置房项目名册，自" in html and "起受工伤保险保障" in html
    assert "李四" not in html


def test_worker_not_on_any_roster_is_told_what_to_do(client, login_as):
    login_as(client, "worker")
    html = client.get("/projects/my-cover").get_data(as_text=True)
    assert "不在任何在建项目的实名制花名册中" in html and "12333" in html and "工资发放记录" in html


def test_poster_pdf_embeds_a_cjk_sc_font_and_links_the_self_check(app, client, login_as, covered_project, tmp_path):
    _, project_id = covered_project
    login_as(client, "employer")
    response = client.get(f"/projects/{project_id}/poster.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]))
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                assert "/FontFile2" in descriptor or "/FontFile3" in descriptor or "/FontFile" in descriptor
    assert any("CJK" in f and "SC" in f for f in fonts), fonts
    assert len(fonts) == 1, fonts  # one font for the whole document (portal.documents)
    text = reader.pages[0].extract_text()
    assert "合肥市滨湖新区安置房项目" in text and "http://localhost/projects/my-cover" in text
    # the QR is built from exactly the self-check URL printed under it (no QR decoder is installed
    # here, so the payload is checked as built: segno's matrix for that URL, in the PDF's image)
    uri = projects.qr_data_uri("http://localhost/projects/my-cover")
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    expected = segno.make("http://localhost/projects/my-cover", error="m")
    assert expected.designator and svg == expected.svg_inline(scale=6, border=2, dark="#000")
    assert any("/XObject" in page["/Resources"] for page in reader.pages)
    path = tmp_path / "poster.pdf"
    path.write_bytes(response.data)
    listed = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "CJK" in listed and "yes" in listed


def test_clerk_inbox_filters_and_htmx_fragment(client, login_as, covered_project):
    _, project_id = covered_project
    login_as(client, "clerk")
    page = client.get("/projects/inbox?status=covered")
    check_page(page)
    assert "合肥市滨湖新区安置房项目" in page.get_data(as_text=True)
    assert "合肥市滨湖新区" not in client.get("/projects/inbox?status=started").get_data(as_text=True)
    fragment = client.get("/projects/inbox?name=滨湖", headers={"HX-Request": "true", "HX-Target": "inbox-results"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith("<section id=\"inbox-results\"") and "滨湖" in text
    assert client.get("/projects/inbox?county=abc").status_code == 422


def test_provincial_overview_counts_link_to_lists(client, login_as, covered_project):
    login_as(client, "provincial")
    page = client.get("/projects/overview")
    check_page(page)
    html = page.get_data(as_text=True)
    assert "/projects/inbox?city=340100&amp;status=covered" in html or "/projects/inbox?status=covered&amp;city=340100" in html
    assert "18,518.52" in html
