"""The public estimator takes birth date, sex and category as an alternative to the years to
retirement age; wrong combinations get messages beside their fields."""

from __future__ import annotations

import re
from urllib.parse import urlencode

LEAVING_7 = {"date": "2025-03-10", "outcome": "disability", "grade": "7", "own_monthly_wage": "6000",
             "average_monthly_wage": "8000", "ends_employment": "y", "leaving_date": "2026-06-30"}


def page(client, **params):
    response = client.get(f"/benefits/estimate?{urlencode({**LEAVING_7, **params})}")
    return response.status_code, response.get_data(as_text=True)


def slot(html: str, name: str) -> str:
    found = re.search(rf'<p class="field__error" id="err-{re.escape(name)}"([^>]*)>(.*?)</p>', html, re.DOTALL)
    assert found and "hidden" not in found.group(1), name
    return found.group(2)


def test_estimator_offers_birth_date_sex_and_category(client):
    status, html = page(client)
    assert status == 200
    for name in ("birth_date", "sex", "original_retirement_age"):
        assert f'name="{name}"' in html and f'id="err-{name}"' in html, name
    assert "按国家渐进式延迟法定退休年龄的规定计算" in html


def test_birth_date_and_sex_reduce_the_employment_subsidy(client):
    # man born 1968-05-20: 60y11m, reached 2029-04-20; 2y9m after leaving: 70 % of 20 × 8,000
    status, html = page(client, birth_date="1968-05-20", sex="male")
    assert status == 200, html[:300]
    assert "112,000.00" in html and "法定退休年龄60周岁11个月，2029年4月20日达到" in html
    status, html = page(client, birth_date="1976-03-01", sex="female", original_retirement_age="50")
    assert status == 200 and "48,000.00" in html and "原法定退休年龄为50周岁的女职工" in html


def test_wrong_combinations_are_explained_beside_the_fields(client):
    status, html = page(client, birth_date="1968-05-20", sex="male", original_retirement_age="55",
                        years_to_retirement="3")
    assert status == 422
    assert "只适用于女职工" in slot(html, "original_retirement_age")
    assert "只填一种" in slot(html, "years_to_retirement")
    status, html = page(client, birth_date="1976-03-01", sex="female")
    assert status == 422 and "女职工请选择原法定退休年龄" in slot(html, "original_retirement_age")
    status, html = page(client, sex="female", original_retirement_age="50")
    assert status == 422 and "请填写出生日期" in slot(html, "birth_date")
