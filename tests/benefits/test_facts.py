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


LEAVING = {"grade": 7, "ends_employment": True}


@pytest.mark.parametrize("changes,field,fragment", [
    ({**LEAVING, "birth_date": "1970-05-20", "sex": "male", "years_to_retirement": "3"},
     "years_to_retirement", "只填一种"),
    ({**LEAVING, "birth_date": "1970-05-20", "sex": "male", "original_retirement_age": 55},
     "original_retirement_age", "只适用于女职工"),
    ({**LEAVING, "birth_date": "1970-05-20", "sex": "male", "original_retirement_age": 60},
     "original_retirement_age", "只能是50周岁或55周岁"),
    ({**LEAVING, "birth_date": "1975-05-20", "sex": "female"}, "original_retirement_age", "请选择原法定退休年龄"),
    ({**LEAVING, "birth_date": "1975-05-20", "sex": "female", "original_retirement_age": "52"},
     "original_retirement_age", "只能是50周岁或55周岁"),
    ({**LEAVING, "birth_date": "1975-05-20", "sex": "female", "original_retirement_age": "五十"},
     "original_retirement_age", "应为整数"),
    ({**LEAVING, "birth_date": "1975-05-20", "sex": "F", "original_retirement_age": 50}, "sex", "male（男）或 female"),
    ({**LEAVING, "birth_date": "1975-05-20"}, "sex", "请选择性别"),
    ({**LEAVING, "sex": "male"}, "birth_date", "请填写出生日期"),
    ({**LEAVING, "birth_date": "20/05/1975", "sex": "male"}, "birth_date", "格式不正确"),
    ({**LEAVING, "birth_date": "2010-01-01", "sex": "male"}, "birth_date", "未满16周岁"),
    ({**LEAVING, "birth_date": "1900-01-01", "sex": "male"}, "birth_date", "没有适用的法定退休年龄规定"),
    ({"grade": 7, "birth_date": "1970-05-20", "sex": "male"}, "birth_date", "只在解除或终止劳动关系时"),
    ({"oops": 1}, "oops", "不认识的字段 oops"),
    ({"outcome": "death", "grade": ..., "dependants": [{"relation": "child", "age": 3}]}, "dependants.0",
     "不认识的字段 age"),
])
def test_retirement_and_unknown_field_messages(changes, field, fragment):
    found = errors(**changes)
    assert field in found, found
    assert any(fragment in m for m in found[field]), found[field]


def test_birth_date_sex_and_category_are_kept():
    facts = parse_facts({**GOOD, **LEAVING, "birth_date": "1975-05-20", "sex": "female",
                         "original_retirement_age": "55"}, today=TODAY)
    assert (facts.birth_date, facts.sex, facts.original_retirement_age) == (date(1975, 5, 20), "female", 55)
    assert facts.years_to_retirement is None
    assert parse_facts({**GOOD, **LEAVING, "birth_date": "1975-05-20", "sex": "male", "original_retirement_age": "",
                        "years_to_retirement": ""}, today=TODAY).sex == "male"


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
