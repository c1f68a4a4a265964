"""The 增员 page states the statutory retirement age rule from policy data (2025 gradual reform),
and a 超龄人员 too young for it is refused beside the field."""

from __future__ import annotations

from datetime import date

from tests.enrollment.conftest import make_id
from tests.enrollment.test_routes import approve_over_http, assert_page, post, text


def test_new_member_page_states_the_rule_and_refuses_a_man_short_of_it(app, employer, clerk, csrf_token):
    approve_over_http(employer, clerk, app, csrf_token)
    page = employer.get("/enrollment/members/new")
    assert_page(page, "增加参保人员")
    body = text(page)
    for line in ("男职工：1964年12月及以前出生的60周岁；1965年1月起，出生时间每4个月延迟1个月；1976年9月及以后出生的63周岁",
                 "原法定退休年龄为50周岁的女职工：1974年12月及以前出生的50周岁",
                 "1984年11月及以后出生的55周岁"):
        assert line in body, line
    assert "男 60 周岁" not in body
    # a man born in 1976-01 reaches 62y10m in 2038: not yet 超龄
    data = {"name": "李明", "id_number": make_id(birth="19760115", seq=503), "phone": "", "wage_base": "8000",
            "start_date": date.today().isoformat(), "insurance_type": "retired_age"}
    bad = post(employer, csrf_token, "/enrollment/members/new", data)
    assert bad.status_code == 422
    assert "未达到法定退休年龄（男职工，1976年1月出生，法定退休年龄62周岁10个月，2038年11月15日达到）" in text(bad)
