"""Field messages of the facts parser, word for word (mutation testing: a label, a field name
or a bound changed in portal/benefits/facts.py must fail a test). One case, one message."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.benefits.facts import (
    FIELD_LABELS,
    Dependant,
    Facts,
    FieldError,
    InvalidFacts,
    Outcome,
    Relation,
    parse_facts,
)

TODAY = date(2026, 11, 23)
GOOD = {"date": "2024-05-10", "outcome": "disability", "grade": 5, "own_monthly_wage": "6000.00"}
DEATH = {"date": "2024-05-10", "outcome": "death", "own_monthly_wage": "6000.00"}
FORMAT_DATE = "格式不正确，请按 2026-01-31 的格式填写"
FORMAT_MONEY = "格式不正确，请填写数字，如 6000.00"
YES_NO = "只能填“是”或“否”（true 或 false）"
LEAVE_RANGE = ("停工留薪期一般不超过12个月，经确认延长的不超过24个月（《工伤保险条例》第三十三条），"
               "请填写 0 至 730 天")
CITY = "所在市请从列表中选择（设区的市的6位行政区划代码，如 340100）"
WHO_1 = "第1位供养亲属"

ERRORS = [
    pytest.param({**GOOD, "date": "2024/05/10"},
                 [('date', '受伤或死亡日期' + FORMAT_DATE)], id='date-format'),
    pytest.param({**GOOD, "date": 20240510},
                 [('date', '受伤或死亡日期' + FORMAT_DATE)], id='date-type'),
    pytest.param({**GOOD, "date": "  "},
                 [('date', '请填写受伤或死亡日期')], id='date-missing'),
    pytest.param({**GOOD, "date": "2003-12-31"},
                 [('date', '日期早于《工伤保险条例》施行日期（2004年1月1日），本测算不适用')], id='law-start'),
    pytest.param({**GOOD, "date": "2026-11-24"},
                 [('date', '受伤或死亡日期不能晚于今天（2026年11月23日）')], id='future'),
    pytest.param({**GOOD, "own_monthly_wage": True},
                 [('own_monthly_wage', '本人月工资' + FORMAT_MONEY)], id='wage-type'),
    pytest.param({**GOOD, "own_monthly_wage": [1]},
                 [('own_monthly_wage', '本人月工资' + FORMAT_MONEY)], id='wage-list'),
    pytest.param({**GOOD, "own_monthly_wage": "abc"},
                 [('own_monthly_wage', '本人月工资' + FORMAT_MONEY)], id='wage-text'),
    pytest.param({**GOOD, "own_monthly_wage": "Infinity"},
                 [('own_monthly_wage', '本人月工资' + FORMAT_MONEY)], id='wage-inf'),
    pytest.param({**GOOD, "own_monthly_wage": "0"},
                 [('own_monthly_wage', '本人月工资应大于零')], id='wage-zero'),
    pytest.param({**GOOD, "own_monthly_wage": "1000000.01"},
                 [('own_monthly_wage', '本人月工资超出合理范围：请填写每月的金额（元），不超过 1,000,000 元')], id='wage-high'),
    pytest.param({**GOOD, "own_monthly_wage": "6000.001"},
                 [('own_monthly_wage', '本人月工资最多保留两位小数（到分）')], id='wage-fen'),
    pytest.param({**GOOD, "average_monthly_wage": "x"},
                 [('average_monthly_wage', '上年度职工月平均工资' + FORMAT_MONEY)], id='avg-text'),
    pytest.param({**GOOD, "minimum_wage": "x"},
                 [('minimum_wage', '当地最低工资标准' + FORMAT_MONEY)], id='min-text'),
    pytest.param({**GOOD, "ends_employment": "maybe"},
                 [('ends_employment', '解除或终止劳动关系' + YES_NO)], id='flag-bad'),
    pytest.param({**GOOD, "suitable_work": 2},
                 [('suitable_work', '用人单位已安排适当工作' + YES_NO)], id='flag-suitable-bad'),
    pytest.param({**DEATH, "after_paid_leave": "x"},
                 [('after_paid_leave', '一至四级伤残职工停工留薪期满后死亡' + YES_NO)], id='flag-after-bad'),
    pytest.param({**GOOD, "grade": True},
                 [('grade', '伤残等级应为整数')], id='grade-bool'),
    pytest.param({**GOOD, "grade": 5.5},
                 [('grade', '伤残等级应为整数')], id='grade-float'),
    pytest.param({**GOOD, "paid_leave_days": "x"},
                 [('paid_leave_days', '停工留薪期天数应为整数')], id='leave-text'),
    pytest.param({**GOOD, "paid_leave_days": 731},
                 [('paid_leave_days', LEAVE_RANGE)], id='leave-high'),
    pytest.param({**GOOD, "paid_leave_days": -1},
                 [('paid_leave_days', LEAVE_RANGE)], id='leave-neg'),
    pytest.param({**GOOD, "ends_employment": True, "leaving_date": "x"},
                 [('leaving_date', '解除或终止劳动关系日期' + FORMAT_DATE)], id='leaving-format'),
    pytest.param({**GOOD, "ends_employment": True, "leaving_date": "2026-11-24"},
                 [('leaving_date', '解除或终止劳动关系日期不能晚于今天（2026年11月23日）')], id='leaving-future'),
    pytest.param({**GOOD, "ends_employment": True, "years_to_retirement": "abc"},
                 [('years_to_retirement', '距法定退休年龄的年数格式不正确，请填写数字，如 3.5')], id='years-text'),
    pytest.param({**GOOD, "ends_employment": True, "years_to_retirement": True},
                 [('years_to_retirement', '距法定退休年龄的年数格式不正确，请填写数字，如 3.5')], id='years-bool'),
    pytest.param({**GOOD, "ends_employment": True, "years_to_retirement": "NaN"},
                 [('years_to_retirement', '距法定退休年龄的年数格式不正确，请填写数字，如 3.5')], id='years-nan'),
    pytest.param({**GOOD, "ends_employment": True, "years_to_retirement": "60.01"},
                 [('years_to_retirement', '距法定退休年龄的年数应在 0 至 60 之间（已到退休年龄填 0）')], id='years-high'),
    pytest.param({**GOOD, "years_to_retirement": "3"},
                 [('years_to_retirement', '距法定退休年龄的年数只在解除或终止劳动关系时使用，请勾选或不填')], id='years-not-ending'),
    pytest.param({**GOOD, "suitable_work": True, "ends_employment": True},
                 [('suitable_work', '已解除或终止劳动关系的，不能同时选择“用人单位已安排适当工作”')], id='suitable-and-ends'),
    pytest.param({**DEATH, "dependants": ["spouse"]},
                 [('dependants.0', '第1位供养亲属应写明 relation（亲属关系）和 alone（是否孤寡老人或孤儿）')], id='dep-not-mapping'),
    pytest.param({**DEATH, "dependants": [{"relation": "spouse", "age": 3, "name": "x"}]},
                 [('dependants.0', '第1位供养亲属：不认识的字段 age、name，每位只写 relation（亲属关系）和 alone（是否孤寡老人或孤儿）')], id='dep-extra'),
    pytest.param({**DEATH, "dependants": [{"relation": " "}]},
                 [('dependants.0', '第1位供养亲属：请选择亲属关系')], id='dep-no-relation'),
    pytest.param({**DEATH, "dependants": [{"relation": "child", "alone": "maybe"}]},
                 [('dependants.0', '第1位供养亲属：是否孤寡老人或孤儿' + YES_NO)], id='dep-alone-bad'),
    pytest.param({**DEATH, "dependants": [{"relation": "child"}] * 21},
                 [('dependants', '供养亲属最多填写 20 位')], id='dep-too-many'),
    pytest.param({**GOOD, "grde": 5},
                 [('grde', '不认识的字段 grde，请删去或改正（可以填写的字段：' + '、'.join(FIELD_LABELS) + '）')], id='unknown'),
    pytest.param(["x"],
                 [('case', '测算数据应为一个 JSON 对象（{...}）')], id='not-mapping'),
    pytest.param({**DEATH, "review_grade": 3, "review_date": "2025-01-01"},
                 [('review_grade', '因工死亡不适用复查鉴定，请不要填写复查鉴定的内容')], id='review-death'),
    pytest.param({**GOOD, "review_date": "2025-01-01"},
                 [('review_grade', '填写了复查鉴定结论作出日期的，请同时填写复查鉴定后的伤残等级')], id='review-date-only'),
    pytest.param({**GOOD, "review_grade": 4},
                 [('review_date', '请填写复查鉴定结论作出日期')], id='review-grade-only'),
    pytest.param({**GOOD, "review_grade": 4, "review_date": "2024-05-09"},
                 [('review_date', '复查鉴定结论作出日期不能早于受伤日期')], id='review-before'),
    pytest.param({**GOOD, "review_grade": 4, "review_date": "2026-11-24"},
                 [('review_date', '复查鉴定结论作出日期不能晚于今天（2026年11月23日）')], id='review-future'),
    pytest.param({**GOOD, "review_grade": 11, "review_date": "2025-01-01"},
                 [('review_grade', '复查鉴定后的伤残等级应为一级至十级（1 至 10）')], id='review-range'),
    pytest.param({**GOOD, "city": "999999"},
                 [('city', CITY)], id='city-bad'),
    pytest.param({**GOOD, "city": 340100},
                 [('city', CITY)], id='city-type'),
    pytest.param({**GOOD, "ends_employment": True, "birth_date": "1970-01-01"},
                 [('sex', '请选择性别')], id='retire-no-sex'),
    pytest.param({**GOOD, "ends_employment": True, "birth_date": "1970-01-01", "sex": "x"},
                 [('sex', '性别只能是 male（男）或 female（女）')], id='retire-bad-sex'),
    pytest.param({**GOOD, "ends_employment": True, "birth_date": "1970-01-01", "sex": "female", "original_retirement_age": 52},
                 [('original_retirement_age', '原法定退休年龄只能是50周岁或55周岁')], id='retire-age'),
    pytest.param({**GOOD, "ends_employment": True, "birth_date": "1970-01-01", "sex": "male", "years_to_retirement": "3"},
                 [('years_to_retirement', '距法定退休年龄的年数与出生日期、性别只填一种：填写出生日期和性别后，按渐进式延迟法定退休年龄的规定计算，请删去距法定退休年龄的年数')], id='retire-with-years'),
    pytest.param({**GOOD, "birth_date": "1970-01-01", "sex": "male"},
                 [('birth_date', '出生日期、性别只在解除或终止劳动关系时用于计算距法定退休年龄的时间，请勾选或不填')], id='retire-not-ending'),
    pytest.param({**GOOD, "ends_employment": True, "birth_date": "2008-05-11", "sex": "male"},
                 [('birth_date', '按出生日期，受伤时未满16周岁，本测算不适用（使用童工造成伤亡的，按《非法用工单位伤亡人员一次性赔偿办法》处理）')], id='retire-child'),
    pytest.param({**GOOD, "ends_employment": True, "birth_date": "1970-01-01", "sex": "male", "original_retirement_age": 55},
                 [('original_retirement_age', '原法定退休年龄（50或55周岁）只适用于女职工，男职工请不要填写')], id='retire-male-original'),
]


@pytest.mark.parametrize("data,expected", ERRORS)
def test_each_mistake_gets_its_own_message_at_its_own_field(data, expected):
    with pytest.raises(InvalidFacts) as caught:
        parse_facts(data, today=TODAY)
    assert [(e.field, e.message) for e in caught.value.errors] == expected


def test_all_messages_in_one_round_joined_for_one_line_places():
    with pytest.raises(InvalidFacts) as caught:
        parse_facts({"outcome": "x", "own_monthly_wage": "0", "grade": 11}, today=TODAY)
    error = caught.value
    assert error.by_field() == {"date": ["请填写受伤或死亡日期"],
                                "outcome": ["伤残或死亡只能是 disability（致残）或 death（因工死亡）"],
                                "grade": ["伤残等级应为一级至十级（1 至 10）"],
                                "own_monthly_wage": ["本人月工资应大于零"]}
    assert error.message == "；".join(e.message for e in error.errors)
    assert error.code == "invalid_benefit_facts"
    assert FieldError("grade", "x").as_dict() == {"field": "grade", "message": "x"}


def test_form_strings_are_read_like_json_values():
    facts = parse_facts({**GOOD, "grade": "5", "own_monthly_wage": " ¥6,000.50元 ", "ends_employment": "是",
                         "leaving_date": "2024-06-01", "paid_leave_days": "30", "years_to_retirement": "2.5"},
                        today=TODAY)
    assert facts == Facts(date=date(2024, 5, 10), outcome=Outcome.DISABILITY, own_monthly_wage=Decimal("6000.50"),
                          grade=5, ends_employment=True, leaving_date=date(2024, 6, 1), paid_leave_days=30,
                          years_to_retirement=Decimal("2.5"))


def test_json_numbers_and_flags():
    facts = parse_facts({**GOOD, "grade": Decimal("6"), "own_monthly_wage": 6000, "ends_employment": 1,
                         "suitable_work": "false", "average_monthly_wage": Decimal("8000.10"),
                         "paid_leave_days": 730}, today=TODAY)
    assert facts == Facts(date=date(2024, 5, 10), outcome=Outcome.DISABILITY, own_monthly_wage=Decimal("6000"),
                          grade=6, average_monthly_wage=Decimal("8000.10"), ends_employment=True,
                          paid_leave_days=730)


def test_a_death_with_dependants():
    facts = parse_facts({**DEATH, "after_paid_leave": "on", "minimum_wage": "2060",
                         "dependants": [{"relation": " spouse ", "alone": "否"}, {"relation": "parent", "alone": True}]},
                        today=TODAY)
    assert facts == Facts(date=date(2024, 5, 10), outcome=Outcome.DEATH, own_monthly_wage=Decimal("6000.00"),
                          minimum_wage=Decimal("2060"), after_paid_leave=True,
                          dependants=(Dependant(Relation.SPOUSE, False), Dependant(Relation.PARENT, True)))


def test_retirement_facts_and_a_review_are_kept():
    retired = parse_facts({**GOOD, "ends_employment": "y", "birth_date": "1970-01-01", "sex": "female",
                           "original_retirement_age": "55"}, today=TODAY)
    assert (retired.birth_date, retired.sex, retired.original_retirement_age) == (date(1970, 1, 1), "female", 55)
    reviewed = parse_facts({**GOOD, "review_grade": "4", "review_date": "2025-01-01", "date": date(2024, 5, 10)},
                           today=TODAY)
    assert (reviewed.review_grade, reviewed.review_date, reviewed.date) == (4, date(2025, 1, 1), date(2024, 5, 10))


def test_the_bounds_themselves_are_accepted():
    facts = parse_facts({**GOOD, "date": "2004-01-01", "own_monthly_wage": "1000000", "paid_leave_days": 0,
                         "grade": 10}, today=TODAY)
    assert (facts.date, facts.own_monthly_wage, facts.paid_leave_days, facts.grade) == (
        date(2004, 1, 1), Decimal("1000000"), 0, 10)
    assert parse_facts({**GOOD, "date": TODAY.isoformat()}, today=TODAY).date == TODAY
    ends = parse_facts({**GOOD, "ends_employment": True, "years_to_retirement": "60", "leaving_date": "2026-11-23"},
                       today=TODAY)
    assert (ends.years_to_retirement, ends.leaving_date) == (Decimal("60"), TODAY)
    assert parse_facts({**GOOD, "ends_employment": True, "years_to_retirement": 0}, today=TODAY).years_to_retirement == 0


def test_edges_that_are_allowed():
    """The day itself is allowed at each date bound; the lowest grade and the smallest wage too."""
    facts = parse_facts({**GOOD, "review_grade": 1, "review_date": "2024-05-10", "own_monthly_wage": "0.50",
                         "ends_employment": 0}, today=TODAY)
    assert (facts.review_grade, facts.review_date, facts.own_monthly_wage, facts.ends_employment) == (
        1, date(2024, 5, 10), Decimal("0.50"), False)
    assert parse_facts({**GOOD, "review_grade": 6, "review_date": TODAY.isoformat()}, today=TODAY).review_date == TODAY
    same_day = parse_facts({**GOOD, "ends_employment": True, "leaving_date": "2024-05-10"}, today=TODAY)
    assert same_day.leaving_date == date(2024, 5, 10)
    from datetime import datetime

    assert parse_facts({**GOOD, "date": datetime(2024, 5, 10, 9, 30)}, today=TODAY).date == date(2024, 5, 10)
    sixteen = parse_facts({**GOOD, "ends_employment": True, "birth_date": "2008-05-10", "sex": "male"}, today=TODAY)
    assert sixteen.birth_date == date(2008, 5, 10)


@pytest.mark.parametrize("data,expected", [
    pytest.param({**GOOD, "grade": 5, "review_grade": 4, "review_date": "2025-01-01", "ends_employment": True},
                 [("ends_employment", "一至四级伤残职工保留劳动关系、退出工作岗位（《工伤保险条例》第三十五条），"
                                      "不适用解除或终止劳动关系，没有一次性工伤医疗补助金和一次性伤残就业补助金")],
                 id="review-grade-4-keeps-the-job"),
    pytest.param({**GOOD, "ends_employment": True, "birth_date": "1970-01-01", "sex": "female",
                   "original_retirement_age": 56}, [("original_retirement_age", "原法定退休年龄只能是50周岁或55周岁")],
                 id="original-age-56"),
    pytest.param({**GOOD, "ends_employment": True, "birth_date": "1970-01-01", "sex": "female",
                   "original_retirement_age": "x"}, [("original_retirement_age", "原法定退休年龄应为整数")],
                 id="original-age-text"),
    pytest.param({**GOOD, "review_grade": "x", "review_date": "2025-01-01"},
                 [("review_grade", "复查鉴定后的伤残等级应为整数")], id="review-grade-text"),
    pytest.param({**GOOD, "date": "x", "ends_employment": True, "birth_date": TODAY.isoformat(), "sex": "male"},
                 [("date", "受伤或死亡日期" + FORMAT_DATE),
                  ("birth_date", "按出生日期，现在未满16周岁，本测算不适用（使用童工造成伤亡的，按《非法用工单位伤亡人员一次性赔偿办法》处理）")],
                 id="child-without-an-injury-date"),
    pytest.param({**DEATH, "dependants": [{"relation": 1}]},
                 [("dependants.0", "第1位供养亲属：亲属关系只能是配偶、子女、父母、祖父母或外祖父母、孙子女或外孙子女、兄弟姐妹"
                                   "（spouse、child、parent、grandparent、grandchild、sibling）")], id="relation-number"),
])
def test_more_messages(data, expected):
    with pytest.raises(InvalidFacts) as caught:
        parse_facts(data, today=TODAY)
    assert [(e.field, e.message) for e in caught.value.errors] == expected
