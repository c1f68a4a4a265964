"""办事指南 for every item (issue 13 point 5): where, whom to call, what it costs, the steps, the forms
to download, and "在线办理" only where the item is online here (otherwise where and how offline);
the contact details in the footer, on error pages and on /contact; /verify linked."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from portal.public import catalogue as catalogue_module
from portal.public.service import catalogue, contacts
from portal.regions import province
from tests.helpers import parse

#: the items this portal serves online, and the page each starts on
ONLINE = {"unit-enrollment": "/enrollment/unit", "project-enrollment": "/projects/",
          "roster-change": "/enrollment/members", "injury-recognition": "/recognition/"}


@pytest.fixture
def public_client(app):
    return app.test_client()


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- the data ----------------------------------------------------------------------------------


def test_every_item_has_place_fee_steps_and_an_offline_way():
    for item in catalogue().items:
        assert item.place and item.fee and item.offline, item.code
        assert len(item.steps) >= 2, item.code
        assert item.fee.startswith("不收费"), item.code  # work-injury services are free


def test_the_forms_the_law_prescribes_are_offered():
    shipped = catalogue()
    assert [f.title for f in shipped.get("injury-recognition").forms][:1] == ["工伤认定申请表"]
    assert "劳动能力鉴定申请表" in [f.title for f in shipped.get("work-ability-appraisal").forms]
    assert shipped.form("injury-recognition", "work-ability-appraisal-application") is None


def test_every_city_of_the_province_has_a_number_and_a_place():
    info = contacts("12333", "人力资源社会保障服务热线")
    assert [o.city_code for o in info.offices] == [c.code for c in province().cities]
    for office in info.offices:
        assert re.fullmatch(r"0\d{2,3}-12333", office.phone), office
        assert office.city in office.address and office.office.startswith(office.city)


def test_a_form_code_the_catalogue_does_not_define_is_refused():
    data = {"source": "x", "items": [{
        "code": "a", "name": "事项", "applicants": "x", "materials": ["x"], "time_limit": "x",
        "legal_basis": ["x"], "outcome": "x", "confidence": "C", "notes": "", "place": "x", "fee": "不收费。",
        "steps": ["x"], "offline": "x", "forms": ["nope"], "online": "Not An Endpoint", "online_note": 3}]}
    with pytest.raises(catalogue_module.CatalogueError) as caught:
        catalogue_module.parse_catalogue(data)
    text = str(caught.value)
    assert "nope" in text and "online 应为本门户的页面" in text and "online_note" in text


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [item.code for item in catalogue().items])
def test_every_item_page_shows_the_guide(public_client, code):
    response = public_client.get(f"/services/{code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for heading in ("办理地点", "办理流程", "收费标准", "咨询电话", "办理方式"):
        assert heading in html, heading
    assert "12333" in html
    page = parse(html)
    online_links = [a.get("href") for a in page.find("a") if a.get("class") == "button button--start"]
    if code in ONLINE:
        assert online_links == [ONLINE[code]], online_links
        assert "可以在本门户在线办理" in html
    else:
        assert online_links == []
        assert "线下办理" in html and "可以在本门户在线办理" not in html
    item = catalogue().get(code)
    for form in item.forms:
        assert f"/services/{code}/forms/{form.code}.pdf" in html
    if item.city_offices:
        assert "各市办理地点和咨询电话" in html and "0551-12333" in html


def test_the_recognition_application_form_downloads_as_a_pdf(public_client):
    response = public_client.get("/services/injury-recognition/forms/injury-recognition-application.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    for label in ("工伤认定申请表", "事故时间", "受伤害部位", "申请人签字", province().name):
        assert label in text, label
    again = public_client.get("/services/injury-recognition/forms/injury-recognition-application.pdf")
    assert again.data == response.data  # the same blank form from the cache
    appraisal = public_client.get("/services/work-ability-appraisal/forms/work-ability-appraisal-application.pdf")
    assert appraisal.status_code == 200 and "劳动能力鉴定申请表" in _pdf_text(appraisal.data)


@pytest.mark.parametrize("url", ["/services/injury-recognition/forms/nope.pdf",
                                 "/services/benefit-claim/forms/injury-recognition-application.pdf",
                                 "/services/nope/forms/power-of-attorney.pdf"])
def test_a_form_an_item_does_not_offer_is_not_found(public_client, url):
    response = public_client.get(url)
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)


def test_the_contact_page_lists_every_city(public_client):
    response = public_client.get("/contact")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for office in contacts("12333").offices:
        assert office.city in html and office.phone in html
    assert 'href="/verify"' in html


def test_the_footer_gives_the_hotline_and_links_contact_and_verify(public_client):
    for url in ("/", "/services/search", "/benefits/estimate", "/verify"):
        html = public_client.get(url).get_data(as_text=True)
        footer = html[html.index('<footer'):]
        assert "咨询电话" in footer and "12333" in footer, url
        assert 'href="/verify"' in footer and 'href="/contact"' in footer, url


def test_error_pages_say_whom_to_call(public_client):
    response = public_client.get("/services/no-such-item")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    main = html[html.index("<main"):html.index("</main>")]
    assert "需要帮助" in main and "12333" in main and 'href="/contact"' in main


def test_the_hotline_is_a_setting(app_overrides, database_url, tmp_path):
    from portal import create_app
    from tests.conftest import settings_for_tests

    other = create_app(settings_for_tests(database_url, tmp_path, contact_hotline="96123"))
    html = other.test_client().get("/").get_data(as_text=True)
    assert "96123" in html[html.index("<footer"):]
