"""A second province (issue 13 point 3): the province's name, offices, platforms and service item
codes come from its configuration directory (``config_dir`` / ``PORTAL_CONFIG_DIR``). An app built
on a minimal second province shows no Anhui text on its public, personal and staff pages.

The second province here is fictional (示例省, one city): its regions.toml is written out in
full; its service catalogue, contact list and the policy files whose figures or sources are
Anhui's own (wages, minimum wages, benefit standards, enrollment rates: ``policy/*.toml``) are
Anhui's, renamed, as a province would start. Every other file (deadlines, material kinds,
retirement ages: national rules) is this project's, through the same fallback.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from portal import config as portal_config
from portal.config import CONFIG_DIR, ConfigError, load_settings, validate
from tests.conftest import settings_for_tests
from tests.renders.helpers import fetch_rendered

ANHUI = re.compile(r"安徽|合肥|皖")

REGIONS = """\
[province]
code = "990000"
name = "示例省"
abbreviation = "示"
source = "测试用虚构省份"
confidence = "C"
portal_name = "示例省工伤保险公共服务门户"
hrss_department = "示例省人力资源和社会保障厅"
tax_bureau = "国家税务总局示例省税务局"
gov_platform = "示例省政务服务网"
implementing_measures = "《示例省工伤保险实施办法》"
implementing_measures_short = "示例办法"
recognition_office = "{city}人力资源和社会保障局"
agency = "{city}社会保险经办机构"
government = "{city}人民政府"
document_prefix = "{city_short}人社"

[province.pooling]
document = "示人社发〔2024〕1号"
title = "《示例省工伤保险省级统筹实施方案》"
in_force = 2025-01-01
summary = "全省统一参保范围、缴费费率和待遇标准。"

[province.example]
county_code = "990102"
county_name = "甲市东区"

[[cities]]
code = "990100"
name = "甲市"
recognition_office = "甲市人力资源和社会保障局（工伤认定科）"

[province.platform_items]
recognition = { code = "990000-GS-RD-001", name = "工伤认定" }
"""

#: how a province starts from Anhui's texts: every Anhui name replaced by its own
RENAME = (("安徽省", "示例省"), ("安徽", "示例"), ("合肥市", "甲市"), ("合肥", "甲"),
          ("皖人社发〔2023〕21号", "示人社发〔2024〕1号"), ("皖", "示"), ("3401", "9901"), ("340000", "990000"))


def _renamed(text: str) -> str:
    for old, new in RENAME:
        text = text.replace(old, new)
    return text


@pytest.fixture
def province_dir(tmp_path) -> Path:
    directory = tmp_path / "province"
    directory.mkdir()
    (directory / "regions.toml").write_text(REGIONS, "utf-8")
    for name in ("service_catalogue.toml", "contacts.toml"):
        if (CONFIG_DIR / name).is_file():
            (directory / name).write_text(_renamed((CONFIG_DIR / name).read_text("utf-8")), "utf-8")
    # the province's own policy data: each file of config/policy/ that holds Anhui's figures
    (directory / "policy").mkdir()
    for path in sorted((CONFIG_DIR / "policy").glob("*.toml")):
        text = path.read_text("utf-8")
        if ANHUI.search(text):
            (directory / "policy" / path.name).write_text(_renamed(text), "utf-8")
    # the staff register: provincial staff, and the staff of the one city
    with (CONFIG_DIR / "demo_staff.toml").open("rb") as fh:
        staff = [e for e in tomllib.load(fh)["staff"] if e.get("city_code") in (None, "340100")]
    lines = []
    for entry in staff:
        lines.append("[[staff]]")
        lines += [f"{key} = {json.dumps(_renamed(str(value)), ensure_ascii=False)}" for key, value in entry.items()]
    (directory / "demo_staff.toml").write_text("\n".join(lines) + "\n", "utf-8")
    return directory


@pytest.fixture
def second_app(database_url, tmp_path, province_dir):
    from portal import create_app

    previous = portal_config.config_dir()
    app = create_app(settings_for_tests(database_url, tmp_path, config_dir=str(province_dir),
                                        province_code="990000"))
    try:
        yield app
    finally:
        app.extensions["portal.database"].dispose()
        portal_config.use_config_dir(previous)


def _no_anhui(response, url: str, own_names: tuple[str, ...] = ()) -> str:
    """No Anhui text, apart from the signed-in person's or unit's own name (the sign-in platform's
    demo identities are Anhui's: they are data, not the portal's wording)."""
    html = response.get_data(as_text=True)
    for name in own_names:
        html = html.replace(name, "")
    found = sorted({html[max(0, m.start() - 15):m.end() + 15] for m in ANHUI.finditer(html)})
    assert not found, f"{url} shows Anhui text: {found}"
    return html


PUBLIC_PAGES = ("/", "/services/search", "/services/injury-recognition", "/services/project-enrollment",
                "/benefits/estimate", "/verify", "/contact", "/login", "/no-such-page")


def test_public_pages_of_the_second_province(second_app):
    client = second_app.test_client()
    for url in PUBLIC_PAGES:
        response = client.get(url)
        # /login without the sign-in platform: the Chinese 503 page, checked like the others
        assert response.status_code in (200, 302, 404, 503), (url, response.status_code)
        html = _no_anhui(response, url)
        if response.status_code != 302:
            assert "示例省" in html, url
    home = client.get("/").get_data(as_text=True)
    assert "示例省工伤保险公共服务门户" in home
    assert "示人社发〔2024〕1号《示例省工伤保险省级统筹实施方案》" in home
    assert "2025年1月1日" in home and "示例省政务服务网" in home


ESTIMATES = (
    # a death: the grants' figures are national
    "/benefits/estimate?outcome=death&date=2025-03-01&own_monthly_wage=6000&average_monthly_wage=7000",
    # disability grades: the province's wage statistics, benefit standards and its 实施办法
    "/benefits/estimate?outcome=disability&grade=5&date=2025-03-01&own_monthly_wage=6000",
    "/benefits/estimate?outcome=disability&grade=7&date=2026-03-01&own_monthly_wage=9000"
    "&ends_employment=y&leaving_date=2026-06-01",
    "/benefits/estimate?outcome=disability&grade=3&date=2025-05-01&own_monthly_wage=2000",
)


@pytest.mark.parametrize("url", ESTIMATES)
def test_estimate_results_of_the_second_province(second_app, url):
    """Every figure, source and note of the results is the province's (policy/*.toml in its
    directory), with the amounts computed from them."""
    client = second_app.test_client()
    response = client.get(url)
    assert response.status_code == 200, url
    html = _no_anhui(response, url)
    assert "示例省" in html and "元" in html


def test_estimate_pdf_of_the_second_province(second_app):
    from io import BytesIO

    from pypdf import PdfReader

    url = "/benefits/estimate.pdf?outcome=disability&grade=7&date=2026-03-01&own_monthly_wage=9000&ends_employment=y"
    response = fetch_rendered(second_app.test_client(), url)  # rendered by the background worker
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    assert "伤残" in text  # the text layer is readable, so the check below means something
    assert not ANHUI.search(text), ANHUI.findall(text)


@pytest.mark.parametrize("who, pages", [
    ("provincial", ("/home/province", "/audit/", "/clocks/holidays", "/benefits/tables",
                    "/recognition/office/", "/enrollment/province", "/projects/overview")),
    ("worker", ("/home/worker", "/recognition/new", "/my/profile", "/projects/my-cover")),
    ("employer", ("/home/employer", "/enrollment/unit/edit", "/projects/new")),
])
def test_signed_in_pages_of_the_second_province(second_app, who, pages):
    client = second_app.test_client()
    snapshot = _sign_in(second_app, client, who)
    own = tuple(v for k, v in snapshot.items() if k in ("display_name", "org_name", "name") and isinstance(v, str) and v)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        _no_anhui(response, url, own)


def test_recognition_case_pages_of_the_second_province(second_app, tmp_path):
    """A case accepted by the province's officer: the officer's and the applicant's case pages
    (deadlines, the acceptance decision's office and number, the legal grounds) name no Anhui
    office, city or rule."""
    from datetime import date, datetime, timezone

    from portal.recognition import service as recognition
    from portal.recognition.models import (
        ApplicantKind,
        CaseAction,
        EventKind,
        RecognitionCase,
    )
    from portal.recognition.service import cases as case_repo
    from portal.recognition.service import states
    from portal.web.hooks import actor_from_session

    officer_client, employer_client = second_app.test_client(), second_app.test_client()
    snapshots = {who: _sign_in(second_app, client, who) for who, client in (
        ("recognition_officer", officer_client), ("employer", employer_client), ("worker", second_app.test_client()))}
    officer, employer, worker = (actor_from_session(snapshots[who], "127.0.0.1", "test")
                                 for who in ("recognition_officer", "employer", "worker"))
    assert officer.city_code == "990100"
    received = date(2026, 11, 20)
    with second_app.app_context(), second_app.extensions["portal.database"].write_transaction() as sess:
        case = RecognitionCase(
            applicant_account_id=employer.account_id, applicant_kind=ApplicantKind.EMPLOYER,
            applicant_organisation_id=employer.organisation_id, city_code="990100", county_code="990102",
            worker_person_id=worker.person_id, employer_organisation_id=employer.organisation_id,
            event_kind=EventKind.ACCIDENT, event_date=date(2026, 11, 16), event_time="09:30",
            event_place="甲市东区某工地3号楼", event_account="在脚手架上搬运钢管时被滑落的钢管砸伤左手。",
            injury="左手食指近节指骨骨折", late=False, late_reason=None)
        sess.add(case)
        sess.flush()
        case.received_on = received
        case.submitted_at = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
        case_repo.assign_reference(case, received.year)
        sess.flush()
        states.apply(sess, employer, case, CaseAction.SUBMIT, on=received, note="申请人在线提交工伤认定申请。")
        recognition.accept_case(sess, officer, case.id, files_dir=tmp_path / "files", on=received)
        case_id = case.id
    own = tuple(v for snapshot in snapshots.values() for k, v in snapshot.items()
                if k in ("display_name", "org_name", "name") and isinstance(v, str) and v)
    for client, url in ((officer_client, f"/recognition/office/cases/{case_id}"),
                        (employer_client, f"/recognition/cases/{case_id}")):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = _no_anhui(response, url, own)
        # the acceptance decision, numbered and issued by the city's own office
        assert "受理决定书" in html and "甲人社" in html and "甲市人力资源和社会保障局" in html, url


def _sign_in(app, client, who):
    import secrets

    from portal.accounts import service as accounts
    from portal.auth.models import WebSession
    from portal.auth.session_store import token_id
    from portal.db import utcnow
    from portal.demo import DEMO_LOGIN_FOR_ROLE, demo_identity, load_staff_register

    database = app.extensions["portal.database"]
    with app.app_context(), database.write_transaction() as sess:
        load_staff_register(sess, portal_config.config_file("demo_staff.toml"))
        snapshot = accounts.sign_in(sess, demo_identity(DEMO_LOGIN_FOR_ROLE.get(who, who)), "127.0.0.1", "test")
        token = secrets.token_urlsafe(32)
        now = utcnow()
        sess.add(WebSession(id=token_id(token), account_id=snapshot["account_id"], role=snapshot["role"],
                            data=snapshot, created_at=now, last_seen_at=now))
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], token)
    return snapshot


def test_offices_and_document_numbers_come_from_the_province(second_app):
    from portal.recognition.service.cases import office_name
    from portal.regions import province

    p = province()
    assert p.name == "示例省" and [c.code for c in p.cities] == ["990100"]
    assert office_name("990100") == "甲市人力资源和社会保障局（工伤认定科）"  # the city's own name
    assert p.office("government", "990100") == "甲市人民政府"
    assert p.office("document_prefix", "990100") == "甲人社"
    assert office_name(None) == "工伤认定部门"
    assert p.platform_item("recognition") == ("990000-GS-RD-001", "工伤认定")
    with pytest.raises(KeyError, match="platform_items"):
        p.platform_item("no-such-item")


def test_default_province_is_anhui(app):
    from portal.recognition.service.cases import office_name
    from portal.regions import province

    assert province().name == "安徽省"
    assert office_name("340100") == "合肥市人力资源和社会保障局"
    assert province().office("document_prefix", "340100") == "合肥人社"
    from adapters.gov_platform.service_items import ServiceItem

    # every item the portal reports has the province's 事项编码
    assert province().platform_item("recognition") == ("340000-GS-RD-001", "工伤认定")
    assert all(province().platform_item(item.value)[0].startswith("340000-") for item in ServiceItem)


def test_config_dir_setting(tmp_path, province_dir):
    settings = load_settings(environ={"PORTAL_CONFIG_DIR": str(province_dir), "PORTAL_PROVINCE_CODE": "990000"})
    assert settings.config_dir == str(province_dir)
    validate(settings, environ={})
    assert load_settings(environ={}).config_dir == str(CONFIG_DIR)
    with pytest.raises(ConfigError, match="province_code"):
        validate(load_settings(environ={"PORTAL_CONFIG_DIR": str(province_dir)}), environ={})
    with pytest.raises(ConfigError, match="config_dir"):
        validate(load_settings(environ={"PORTAL_CONFIG_DIR": str(tmp_path / "missing")}), environ={})


def test_a_file_the_province_lacks_is_the_projects_own(province_dir):
    previous = portal_config.use_config_dir(province_dir)
    try:
        assert portal_config.config_file("regions.toml") == province_dir / "regions.toml"
        assert portal_config.config_file("policy", "deadlines.toml") == CONFIG_DIR / "policy" / "deadlines.toml"
    finally:
        portal_config.use_config_dir(previous)
