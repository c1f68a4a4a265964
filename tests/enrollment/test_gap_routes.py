"""Enrollment pages for issue 13: the industry check on the clerk's review page only, the
contribution bounds naming their year and series, every field's message in one round, and the
employer's inbox after the decision."""

from tests.enrollment.conftest import UNIT_FIELDS
from tests.enrollment.test_routes import (
    assert_page,
    enroll_over_http,
    post,
    text,
    unit_id,
)


def test_industry_check_shows_on_the_review_page_only(app, employer, clerk, csrf_token):
    enroll_over_http(employer, csrf_token, industry_code="N7910")  # 土地管理业: new in GB/T 4754-2017
    review = clerk.get(f"/enrollment/review/{unit_id(app)}")
    assert_page(review, "审核参保登记")
    html = text(review)
    assert "行业分类需人工核实" in html and "2017年版新设大类" in html and "人社部发〔2015〕71号" in html
    mine = text(employer.get("/enrollment/unit"))
    assert "行业分类需人工核实" not in mine and "2017年版新设大类" not in mine


def test_a_plain_division_needs_no_check(app, employer, clerk, csrf_token):
    enroll_over_http(employer, csrf_token)  # E4710 房屋建筑业: one to one
    assert "行业分类需人工核实" not in text(clerk.get(f"/enrollment/review/{unit_id(app)}"))


def test_unit_form_shows_every_fields_message_in_one_round(employer, csrf_token):
    response = post(employer, csrf_token, "/enrollment/unit/edit",
                    {**UNIT_FIELDS, "name": "", "contact_phone": "0551-1234567", "industry_code": "E3311"})
    assert response.status_code == 422
    html = text(response)
    for field in ("name", "contact_phone", "industry_code"):
        assert f'id="{field}-error"' in html, field
    assert "门类字母与大类不符" in html  # the service's check, in the same round as the form's


def test_new_member_page_names_the_year_and_series_of_the_bounds(app, employer, clerk, csrf_token):
    enroll_over_http(employer, csrf_token)
    uid = unit_id(app)
    approved = post(clerk, csrf_token, f"/enrollment/review/{uid}/approve",
                    {"risk_class": "6", "band": "1.0", "effective_date": "2026-01-01"})
    assert approved.status_code == 303, text(approved)
    page = employer.get("/enrollment/members/new")
    assert_page(page, "增加参保人员")
    html = text(page)
    assert "4,226.63 元至 21,133.14 元" in html and "2023年全口径城镇单位就业人员平均工资" in html
    inbox = text(employer.get("/inbox/"))
    assert "单位工伤保险参保登记已审核通过" in inbox
