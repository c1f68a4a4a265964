"""The estimator page, its htmx fragment, field messages (422), the PDF, the tables page and the
prefill from a recognition case."""

from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import urlencode

from pypdf import PdfReader

from portal.recognition.models import (
    ApplicantKind,
    CaseStatus,
    EventKind,
    Outcome,
    RecognitionCase,
)
from tests.renders.helpers import assert_one_cjk_sc_font, fetch_rendered

GRADE_4 = {"date": "2024-05-10", "outcome": "disability", "grade": "4", "own_monthly_wage": "5432.17",
           "average_monthly_wage": "8000", "care_level": "partial"}
DEATH = {"date": "2024-05-10", "outcome": "death", "own_monthly_wage": "6000", "average_monthly_wage": "8000",
         "dependants-0-relation": "spouse", "dependants-1-relation": "child", "dependants-2-relation": "child",
         "dependants-3-relation": "parent"}
FRAGMENT = {"HX-Request": "true", "HX-Target": "estimate-results"}


def url(params: dict, path: str = "/benefits/estimate") -> str:
    return f"{path}?{urlencode(params)}"


def note(html: str, name: str) -> str:
    """The hint in a field's slot: a figure missing or provisional, the estimate still shown."""
    found = re.search(rf'<p class="field__hint field__note" id="err-{re.escape(name)}"([^>]*)>(.*?)</p>', html, re.DOTALL)
    assert found, name
    return found.group(2)


def slot(html: str, name: str) -> str:
    """The messages in a field's error slot; the slot must be shown (not ``hidden``)."""
    found = re.search(rf'<p class="field__error" id="err-{re.escape(name)}"([^>]*)>(.*?)</p>', html, re.DOTALL)
    assert found, name
    assert "hidden" not in found.group(1), name
    return found.group(2)


def test_empty_page_has_the_form_and_no_result(client):
    response = client.get("/benefits/estimate")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<h1") == 1 and "<title>待遇测算" in html
    assert 'hx-target="#estimate-results"' in html and 'id="estimate-results"' in html
    assert "填写上面的内容后" in html and "field--error" not in html


def test_page_shows_items_totals_explanations_factors_and_estimate_label(client):
    response = client.get(url(GRADE_4))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("114,075.57", "4,074.13", "2,400.00", "6,474.13", "估算，不是待遇核定决定", "为什么是这个金额",
                 "影响结果最多的因素", "工伤保险基金", "《工伤保险条例》第三十五条", "第三十四条", "打印测算结果（PDF）"):
        assert text in html, text
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_configured_average_wage_names_its_year_and_series(client):
    html = client.get(url({**GRADE_4, "average_monthly_wage": ""})).get_data(as_text=True)
    assert "8,640.67" in html and "2023年全省城镇非私营单位就业人员平均工资" in html


def test_death_page_lists_each_dependant(client):
    html = client.get(url(DEATH)).get_data(as_text=True)
    for text in ("48,000.00", "1,036,420.00", "1,846.15", "1,384.62", "1,384.61", "第4位：父母"):
        assert text in html, text


def test_htmx_gets_the_results_fragment_with_out_of_band_error_slots(client):
    response = client.get(url(GRADE_4), headers=FRAGMENT)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="estimate-results"') and "<html" not in html
    assert 'id="err-grade" hidden hx-swap-oob="true"' in html
    assert 'id="live-region"' in html and "一次性待遇合计 114,075.57 元" in html


def test_bad_input_gives_422_with_messages_beside_the_fields(client):
    bad = {**GRADE_4, "grade": "11", "own_monthly_wage": "-5", "ends_employment": "y", "date": "2099-01-01"}
    response = client.get(url(bad))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "伤残等级应为一级至十级" in slot(html, "grade")
    assert "本人月工资应大于零" in slot(html, "own_monthly_wage")
    assert "不能晚于今天" in slot(html, "date")
    assert 'aria-invalid="true"' in html and "请修改以下内容" in html
    fragment = client.get(url(bad), headers=FRAGMENT)
    assert fragment.status_code == 422
    text = fragment.get_data(as_text=True)
    assert 'id="err-grade" hx-swap-oob="true"' in text and "伤残等级应为一级至十级" in text


def test_ends_employment_for_grade_2_is_explained(client):
    html = client.get(url({**GRADE_4, "grade": "2", "ends_employment": "y"})).get_data(as_text=True)
    assert "一至四级伤残职工保留劳动关系" in slot(html, "ends_employment")


def test_dependant_error_lands_on_its_row(client):
    params = {**DEATH, "dependants-1-relation": "", "dependants-2-relation": "cousin"}
    response = client.get(url(params))
    assert response.status_code == 422
    assert "亲属关系只能是" in slot(response.get_data(as_text=True), "dependants-2")


def test_a_2025_injury_without_a_typed_wage_is_estimated_with_the_figure_named_at_its_field(client):
    response = client.get(url({**GRADE_4, "date": "2025-03-01", "average_monthly_wage": ""}))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "114,075.57" in html
    hint = note(html, "average_monthly_wage")
    assert "2024年全省城镇非私营单位就业人员平均工资" in hint and "暂按2023年" in hint
    assert "经办机构重新核定，差额补发" in html  # the one plain sentence
    assert "2,592.20" in html  # care allowance 30 % × 8,640.67, provisional


def test_missing_city_figure_is_named_at_the_field_and_the_rest_is_computed(client):
    params = {**DEATH, "date": "2021-06-01", "average_monthly_wage": ""}
    response = client.get(url(params))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "876,680.00" in html  # 20 × 43,834 (2020)
    assert "请选择受伤时用人单位所在的市" in note(html, "city")
    assert "丧葬补助金" not in html.split('id="estimate-results"')[1].split("</table>")[0]


def test_city_gives_the_base_before_provincial_pooling_and_the_minimum_wage(client):
    params = {**GRADE_4, "date": "2023-06-01", "average_monthly_wage": "", "city": "340100", "care_level": ""}
    html = client.get(url(params)).get_data(as_text=True)
    assert "9,334.92" in html  # 112,019 ÷ 12, 合肥 2022
    assert "合肥市区第1档" in html


def test_nothing_computable_is_a_field_message_not_a_500(client):
    response = client.get(url({**GRADE_4, "date": "2010-03-01", "average_monthly_wage": ""}))
    assert response.status_code == 422
    assert "所在的市" in slot(response.get_data(as_text=True), "city")


def test_review_appraisal_fields(client):
    params = {**GRADE_4, "review_grade": "2", "review_date": "2026-03-15"}
    html = client.get(url(params)).get_data(as_text=True)
    assert "2026年4月1日起按二级计发" in html and "114,075.57" in html


def test_pdf_has_cjk_fonts_and_the_amounts(client):
    response = fetch_rendered(client, url(DEATH, "/benefits/estimate.pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert_one_cjk_sc_font(response.data)
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "工伤保险待遇测算" in text and "1,036,420.00" in text and "估算" in text


def test_pdf_of_bad_input_is_the_page_with_messages(client):
    response = client.get(url({**GRADE_4, "grade": "0"}, "/benefits/estimate.pdf"))
    assert response.status_code == 422 and response.mimetype == "text/html"


def test_tables_show_every_version_with_source_and_confidence(client, login_as):
    login_as(client, "provincial")
    html = client.get("/benefits/tables").get_data(as_text=True)
    for text in ("上一年度全国城镇居民人均可支配收入", "47412", "56502", "19109", "U(weak)", "城镇非私营单位就业人员平均工资",
                 "《工伤保险条例》第六十四条", "badge--unconfirmed", "（现行）"):
        assert text in html, text


def _recognised_case(app, worker, *, died=False) -> int:
    with app.extensions["portal.database"].write_transaction() as s:
        case = RecognitionCase(status=CaseStatus.SERVED, applicant_kind=ApplicantKind.WORKER,
                               applicant_account_id=worker.account_id, applicant_person_id=worker.person_id,
                               worker_person_id=worker.person_id, city_code="340100", county_code="340104",
                               event_kind=EventKind.ACCIDENT, event_date=date(2024, 5, 10), died=died,
                               death_date=date(2024, 6, 2) if died else None, outcome=Outcome.RECOGNISED,
                               reference="RD-340100-2024-000077" if not died else "RD-340100-2024-000078")
        s.add(case)
        s.flush()
        return case.id


def test_worker_opens_the_estimator_prefilled_from_a_recognised_case(app, client, actor_for, login_as):
    worker = actor_for("worker")
    injured = _recognised_case(app, worker)
    died = _recognised_case(app, worker, died=True)
    login_as(client, "worker")
    page = client.get("/benefits/estimate").get_data(as_text=True)
    assert "从我的工伤认定案件填入" in page and f"case={injured}" in page
    html = client.get(f"/benefits/estimate?case={injured}").get_data(as_text=True)
    assert 'value="2024-05-10"' in html and "RD-340100-2024-000077" in html
    assert re.search(r'<input[^>]*checked[^>]*value="disability"|<input[^>]*value="disability"[^>]*checked', html)
    html = client.get(f"/benefits/estimate?case={died}").get_data(as_text=True)
    assert 'value="2024-06-02"' in html


def test_a_case_the_actor_may_not_see_is_not_found(app, client, actor_for, login_as):
    case_id = _recognised_case(app, actor_for("worker"))
    login_as(client, "employer2")
    assert client.get(f"/benefits/estimate?case={case_id}").status_code == 404
    anonymous = app.test_client().get(f"/benefits/estimate?case={case_id}")
    assert anonymous.status_code == 200 and "登录后才能" in anonymous.get_data(as_text=True)
