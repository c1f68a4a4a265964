"""Input checking shared by the page and the command line: field-level Chinese messages."""

from __future__ import annotations

from datetime import date

import pytest

from portal.benefits.facts import InvalidFacts, parse_facts

TODAY = date(2026, 11, 23)
GOOD = {"date": "2024-05-10", "outcome": "disability", "grade": 5, "own_monthly_wage": "6000.00"}


def errors(**changes):
    data = {**GOOD, **changes}
    data = {k: v for k, v in data.items() if v is not ...}
    with pytest.raises(InvalidFacts) as caught:
        parse_facts(data, today=TODAY)
    return caught.value.by_field()


@pytest.mark.parametrize("changes,field,fragment", [
    ({"grade": 0}, "grade", "一级至十级"),
    ({"grade": 11}, "grade", "一级至十级"),
    ({"grade": "三"}, "grade", "应为整数"),
    ({"grade": True}, "grade", "应为整数"),
    ({"grade": ...}, "grade", "请填写伤残等级"),
    ({"outcome": "death", "grade": 3}, "grade", "因工死亡不填写伤残等级"),
    ({"outcome": "injury"}, "outcome", "disability"),
    ({"outcome": ...}, "outcome", "请选择"),
    ({"own_monthly_wage": "-100"}, "own_monthly_wage", "应大于零"),
    ({"own_monthly_wage": "0"}, "own_monthly_wage", "应大于零"),
    ({"own_monthly_wage": "1000000.01"}, "own_monthly_wage", "超出合理范围"),
    ({"own_monthly_wage": "12,34a"}, "own_monthly_wage", "格式不正确"),
    ({"own_monthly_wage": "NaN"}, "own_monthly_wage", "格式不正确"),
    ({"own_monthly_wage": "6000.001"}, "own_monthly_wage", "两位小数"),
    ({"own_monthly_wage": ...}, "own_monthly_wage", "请填写本人月工资"),
    ({"average_monthly_wage": "-1"}, "average_monthly_wage", "应大于零"),
    ({"average_monthly_wage": "99999999"}, "average_monthly_wage", "超出合理范围"),
    ({"date": "2003-12-31"}, "date", "2004年1月1日"),
    ({"date": "2026-11-24"}, "date", "不能晚于今天"),
    ({"date": "2024-02-30"}, "date", "格式不正确"),
    ({"date": ...}, "date", "请填写"),
    ({"care_level": "some"}, "care_level", "生活护理等级只能是"),
    ({"outcome": "death", "grade": ..., "care_level": "full"}, "care_level", "因工死亡不适用"),
    ({"grade": 3, "ends_employment": True}, "ends_employment", "一至四级伤残职工保留劳动关系"),
    ({"outcome": "death", "grade": ..., "ends_employment": True}, "ends_employment", "因工死亡"),
    ({"ends_employment": "maybe"}, "ends_employment", "true 或 false"),
    ({"paid_leave_days": 731}, "paid_leave_days", "24个月"),
    ({"grade": 7, "suitable_work": True}, "suitable_work", "五级、六级"),
    ({"leaving_date": "2024-06-01"}, "leaving_date", "只有勾选"),
    ({"ends_employment": True, "leaving_date": "2024-01-01"}, "leaving_date", "不能早于受伤日期"),
    ({"ends_employment": True, "years_to_retirement": "-1"}, "years_to_retirement", "0 至 60"),
    ({"after_paid_leave": True}, "after_paid_leave", "因工死亡"),
    ({"dependants": [{"relation": "spouse"}]}, "dependants", "只在因工死亡时"),
    ({"outcome": "death", "grade": ..., "dependants": [{"relation": "cousin"}]}, "dependants.0", "第1位供养亲属"),
    ({"outcome": "death", "grade": ..., "dependants": [{"relation": "spouse"}, {"relation": "spouse"}]},
     "dependants", "配偶只能有一位"),
    ({"outcome": "death", "grade": ..., "dependants": "spouse"}, "dependants", "应为列表"),
])
def test_field_messages(changes, field, fragment):
    found = errors(**changes)
    assert field in found, found
    assert any(fragment in m for m in found[field]), found[field]


def test_all_errors_at_once():
    found = errors(grade=12, own_monthly_wage="-1", date="2030-01-01")
    assert set(found) == {"grade", "own_monthly_wage", "date"}


def test_grade_1_to_4_may_say_ends_employment_false_and_death_may_send_nulls():
    assert parse_facts({**GOOD, "grade": 2, "ends_employment": False}, today=TODAY).grade == 2
    facts = parse_facts({"date": "2024-05-10", "outcome": "death", "grade": None, "own_monthly_wage": "6000",
                         "care_level": None, "ends_employment": False, "dependants": []}, today=TODAY)
    assert facts.grade is None and facts.dependants == ()


def test_not_an_object():
    with pytest.raises(InvalidFacts) as caught:
        parse_facts([1, 2], today=TODAY)  # type: ignore[arg-type]
    assert caught.value.errors[0].field == "case"
