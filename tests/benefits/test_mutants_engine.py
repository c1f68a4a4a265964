"""The engine at its edges (mutation testing of portal/benefits/engine.py): amounts written to the
fen, the largest-remainder split of a capped total, and whole explanations (formula, article,
inputs, figures, parts, notes) of cases worked by hand. Pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from portal.benefits.engine import (
    InputUse,
    PolicyGap,
    estimate,
    largest_remainder,
    yuan,
)
from portal.benefits.facts import parse_facts

Y = Decimal


@pytest.mark.parametrize("amount,text", [
    (Y("12345.6"), "12,345.60"), (Y("0"), "0.00"), (Y("999.995"), "1,000.00"), (Y("1000000"), "1,000,000.00"),
    (Y("-1234.5"), "-1,234.50"), (Y("0.01"), "0.01"),
])
def test_yuan_writes_two_decimals_with_thousands_separators(amount, text):
    assert yuan(amount) == text


@pytest.mark.parametrize("shares,target,expected", [
    # three equal thirds of 100.00: the single fen left goes to the first (ties: list order)
    ([Y("33.335"), Y("33.335"), Y("33.335")], Y("100.00"), [Y("33.34"), Y("33.33"), Y("33.33")]),
    # the largest remainder wins, not the first
    ([Y("10.001"), Y("10.009"), Y("10.005")], Y("30.02"), [Y("10.00"), Y("10.01"), Y("10.01")]),
    ([Y("10.001"), Y("10.009"), Y("10.005")], Y("30.01"), [Y("10.00"), Y("10.01"), Y("10.00")]),
    # nothing left over: plain floors, and never more than the floors when the target is below them
    ([Y("12.50"), Y("7.50")], Y("20.00"), [Y("12.50"), Y("7.50")]),
    ([Y("12.509"), Y("7.509")], Y("19.90"), [Y("12.50"), Y("7.50")]),
    ([Y("5.555")], Y("5.56"), [Y("5.56")]),
    ([], Y("0"), []),
])
def test_largest_remainder(shares, target, expected):
    result = largest_remainder(shares, target)
    assert result == expected
    assert all(r == r.quantize(Y("0.01")) and r.as_tuple().exponent == -2 for r in result)


# --- whole explanations, worked by hand (A = 8,000.00 and W = 6,000.00 typed unless a case says) ---
# Each explanation must let a person redo the sum and find the article it rests on: the cited
# article differs between grades 1–4 (条例第三十五条), 5–6 (第三十六条) and 7–10 (第三十七条), and
# before 2011-01-01 the 2004 numbering applies (第三十三/三十四/三十五条, 第三十七条 for death).

TODAY = date(2026, 11, 23)
OWN_INPUTS = [("own_monthly_wage", "本人月工资", "6,000.00", "您填写的数字：受伤前12个月平均月缴费工资"),
              ("average_monthly_wage", "上年度职工月平均工资 A", "8,000.00", "您填写的数字（代替系统配置的数字）"),
              ("own_wage", "本人工资 W（计发基数）", "6,000", "在上年度职工月平均工资的60%至300%之间，按填写的数字计算")]
TYPED_A = ("average_monthly_wage", "上年度职工月平均工资 A", "8,000.00", "您填写的数字（代替系统配置的数字）")
BOUNDS = ("benefits.own_wage_bounds", "下限 60%、上限 300%")
ROUNDING = ("benefits.rounding", "四舍五入到分")
GRADE_NOTE_5_6 = ("五、六级伤残职工保留与用人单位的劳动关系，由用人单位安排适当工作；难以安排工作的，由用人单位按月"
                  "发给伤残津贴，并为其缴纳各项社会保险费。本项按“难以安排工作”估算。")
GRADE_NOTE_1_4 = "一至四级伤残职工保留劳动关系，退出工作岗位；伤残津贴由工伤保险基金按月支付。"
RETIRED_NOTE_1_4 = ("达到退休年龄并办理退休手续后，停发伤残津贴，享受基本养老保险待遇；基本养老保险待遇低于伤残津贴的，"
                    "由工伤保险基金补足差额。以伤残津贴为基数缴纳基本医疗保险费。")


def estimated(**fields):
    data = {"date": "2024-05-10", "outcome": "disability", "own_monthly_wage": "6000", "average_monthly_wage": "8000"}
    data.update(fields)
    return estimate(parse_facts({k: v for k, v in data.items() if v is not None}, today=TODAY), as_of=TODAY)


def explained(item):
    x = item.explanation
    return {"code": item.code, "amount": str(item.amount), "payer": item.payer, "period": item.period,
            "title": x.title, "formula": x.formula, "basis": x.basis,
            "parts": [(p.label, str(p.amount)) for p in x.parts],
            "inputs": [(u.name, u.label, u.value, u.source) for u in x.inputs],
            "figures": [(f.figure.key, f.shown) for f in x.figures], "notes": list(x.notes),
            "provisional": x.provisional}


def subsidy(grade_name, months, amount, article, inputs=None, figures=(), notes=()):
    return {"code": "one_off_disability_subsidy", "amount": amount, "payer": "fund", "period": "one_off",
            "title": "一次性伤残补助金", "formula": f"{months} 个月 × 本人工资 6,000 = {yuan(Y(amount))} 元",
            "basis": f"《工伤保险条例》{article}第一款第（一）项；本人工资见第六十四条",
            "parts": [(f"{months} 个月 × 本人工资", amount)],
            "inputs": inputs or [("grade", "伤残等级", grade_name, "您填写的伤残等级（以劳动能力鉴定结论为准）")] + OWN_INPUTS,
            "figures": [("benefits.disability_subsidy_months", f"{grade_name}：{months} 个月"), BOUNDS, *figures, ROUNDING],
            "notes": list(notes), "provisional": ""}


def test_grade_4_is_paid_by_the_fund_under_article_35_and_an_equal_minimum_wage_adds_nothing():
    result = estimated(grade="4", minimum_wage="4500")  # 0.75 × 6,000 = 4,500.00 = M: no top-up part
    assert [explained(i) for i in result.items] == [
        subsidy("四级", 21, "126000.00", "第三十五条"),
        {"code": "disability_allowance", "amount": "4500.00", "payer": "fund", "period": "monthly", "title": "伤残津贴",
         "formula": "75% × 本人工资 6,000 = 4,500.00 元", "basis": "《工伤保险条例》第三十五条第一款第（二）项、第二款",
         "parts": [("75% × 本人工资", "4500.00")],
         "inputs": [("grade", "伤残等级", "四级", "您填写的伤残等级（以劳动能力鉴定结论为准）"), *OWN_INPUTS,
                    ("minimum_wage", "当地最低工资标准", "4,500.00", "您填写的数字")],
         "figures": [("benefits.disability_allowance_rate", "四级：本人工资的75%"), BOUNDS, ROUNDING],
         "notes": [GRADE_NOTE_1_4, "伤残津贴实际金额低于当地最低工资标准的，由工伤保险基金补足差额；已按填写的最低工资标准比较。",
                   RETIRED_NOTE_1_4], "provisional": ""}]
    assert list(result.notes) == [] and list(result.field_notes) == []


def test_grade_5_is_paid_by_the_employer_under_article_36():
    result = estimated(grade="5", minimum_wage="4200")  # 0.70 × 6,000 = 4,200.00 = M
    assert [explained(i) for i in result.items] == [
        subsidy("五级", 18, "108000.00", "第三十六条"),
        {"code": "disability_allowance", "amount": "4200.00", "payer": "employer", "period": "monthly", "title": "伤残津贴",
         "formula": "70% × 本人工资 6,000 = 4,200.00 元", "basis": "《工伤保险条例》第三十六条第一款第（二）项",
         "parts": [("70% × 本人工资", "4200.00")],
         "inputs": [("grade", "伤残等级", "五级", "您填写的伤残等级（以劳动能力鉴定结论为准）"), *OWN_INPUTS,
                    ("minimum_wage", "当地最低工资标准", "4,200.00", "您填写的数字")],
         "figures": [("benefits.disability_allowance_rate", "五级：本人工资的70%"), BOUNDS, ROUNDING],
         "notes": [GRADE_NOTE_5_6, "伤残津贴实际金额低于当地最低工资标准的，由用人单位补足差额；已按填写的最低工资标准比较。"],
         "provisional": ""}]


@pytest.mark.parametrize("grade,name,months,amount,article", [
    ("1", "一级", 27, "162000.00", "第三十五条"), ("6", "六级", 16, "96000.00", "第三十六条"),
    ("7", "七级", 13, "78000.00", "第三十七条"), ("10", "十级", 7, "42000.00", "第三十七条"),
])
def test_the_subsidy_cites_the_article_of_its_grade(grade, name, months, amount, article):
    assert explained(estimated(grade=grade).items[0]) == subsidy(name, months, amount, article)


@pytest.mark.parametrize("grade,original", [("4", "第三十三条"), ("5", "第三十四条"), ("6", "第三十四条"),
                                            ("7", "第三十五条")])
def test_before_2011_the_subsidy_cites_the_2004_numbering(grade, original):
    item = estimated(grade=grade, date="2010-06-01", own_monthly_wage="2500", average_monthly_wage="3000").items[0]
    assert item.explanation.basis == ("《工伤保险条例》（国务院令第375号，2011年1月1日修订前）"
                                      f"{original}第一款第（一）项；本人工资见第六十一条")


def test_grade_5_with_suitable_work_is_told_why_there_is_no_allowance():
    result = estimated(grade="5", suitable_work="1")
    assert [i.code for i in result.items] == ["one_off_disability_subsidy"]
    assert result.notes == ("五级伤残职工由用人单位安排了适当工作，领取工资，不发伤残津贴（第三十六条第一款第（二）项）。",)
    six = estimated(grade="6", suitable_work="1")
    assert [i.code for i in six.items] == ["one_off_disability_subsidy"]
    assert list(six.notes) == ["六级伤残职工由用人单位安排了适当工作，领取工资，不发伤残津贴（第三十六条第一款第（二）项）。"]


def test_grade_7_staying_gets_no_allowance_and_grade_6_leaving_gets_the_subsidies_instead():
    assert [i.code for i in estimated(grade="7").items] == ["one_off_disability_subsidy"]
    assert [i.code for i in estimated(grade="6", ends_employment="1").items] == [
        "one_off_disability_subsidy", "one_off_medical_subsidy", "one_off_employment_subsidy"]


REVIEW_BASIS = "人社部发〔2025〕62号第十一条"


def test_a_review_from_grade_6_to_4_changes_the_allowance_and_care_from_the_next_month_not_the_subsidy():
    result = estimated(grade="6", review_grade="4", review_date="2025-12-15", care_level="partial", minimum_wage="2000")
    subsidy_item, allowance, care = (explained(i) for i in result.items)
    assert subsidy_item == subsidy(
        "六级", 16, "96000.00", "第三十六条", figures=[("benefits.review_adjustment", "一次性伤残补助金不作调整")],
        notes=[f"复查鉴定后伤残等级为四级，一次性伤残补助金仍按初次鉴定的六级计发，不作调整（{REVIEW_BASIS}）。"])
    assert allowance == {
        "code": "disability_allowance", "amount": "4500.00", "payer": "fund", "period": "monthly", "title": "伤残津贴",
        "formula": "75% × 本人工资 6,000 = 4,500.00 元", "basis": "《工伤保险条例》第三十五条第一款第（二）项、第二款",
        "parts": [("75% × 本人工资", "4500.00")],
        "inputs": [("review_grade", "复查鉴定后的伤残等级", "四级", "您填写的复查鉴定结论（2025年12月15日作出）"), *OWN_INPUTS,
                   ("minimum_wage", "当地最低工资标准", "2,000.00", "您填写的数字")],
        "figures": [("benefits.disability_allowance_rate", "四级：本人工资的75%"), BOUNDS,
                    ("benefits.review_adjustment", "结论作出的次月起调整"), ROUNDING],
        "notes": [f"按复查鉴定结论，伤残津贴自2026年1月1日起按四级计发（结论作出的次月起调整），此前按初次鉴定的六级计发（{REVIEW_BASIS}）。",
                  GRADE_NOTE_1_4, "伤残津贴实际金额低于当地最低工资标准的，由工伤保险基金补足差额；已按填写的最低工资标准比较。",
                  RETIRED_NOTE_1_4], "provisional": ""}
    assert care == {
        "code": "care_allowance", "amount": "2400.00", "payer": "fund", "period": "monthly", "title": "生活护理费",
        "formula": "30% × 上年度职工月平均工资 8,000 = 2,400.00 元", "basis": "《工伤保险条例》第三十四条",
        "parts": [("30% × 上年度职工月平均工资", "2400.00")],
        "inputs": [("care_level", "生活护理等级", "生活部分不能自理", "您选择的等级（以劳动能力鉴定委员会确认为准）"), TYPED_A],
        "figures": [("benefits.care_allowance_rate", "生活部分不能自理：30%"), ROUNDING],
        "notes": ["经劳动能力鉴定委员会确认需要生活护理的，从工伤保险基金按月支付；按统筹地区上年度职工月平均工资计发，随之调整。",
                  "按复查鉴定结论，生活护理费自2026年1月1日起按复查鉴定确认的生活自理障碍等级计发（结论作出的次月起调整），"
                  f"此前按原护理等级计发（{REVIEW_BASIS}）。"], "provisional": ""}


@pytest.mark.parametrize("day,starts", [("2025-12-01", "2026年1月1日"), ("2025-11-30", "2025年12月1日"),
                                        ("2026-01-31", "2026年2月1日")])
def test_a_review_takes_effect_on_the_first_day_of_the_next_month(day, starts):
    allowance = estimated(grade="5", review_grade="6", review_date=day).items[1]
    assert allowance.explanation.notes[0].startswith(f"按复查鉴定结论，伤残津贴自{starts}起按六级计发")
    assert (str(allowance.amount), allowance.payer) == ("3600.00", "employer")  # 0.60 × 6,000


def test_a_review_to_grade_5_leaving_gets_the_leaving_subsidies_of_grade_5():
    result = estimated(grade="4", review_grade="5", review_date="2025-12-15", ends_employment="1")
    assert [(i.code, str(i.amount)) for i in result.items] == [
        ("one_off_disability_subsidy", "126000.00"),  # 21 × 6,000: the first grade, not adjusted
        ("one_off_medical_subsidy", "192000.00"), ("one_off_employment_subsidy", "320000.00")]  # 24 / 40 × 8,000
    assert result.items[1].explanation.inputs[0].name == "review_grade"


def test_the_configured_minimum_wage_of_the_city_tops_up_the_allowance():
    item = estimated(grade="6", own_monthly_wage="3000", average_monthly_wage="4000", city="340100").items[1]
    assert explained(item) == {
        "code": "disability_allowance", "amount": "2060.00", "payer": "employer", "period": "monthly", "title": "伤残津贴",
        "formula": "60% × 本人工资 3,000，补足至最低工资标准 2,060.00 = 2,060.00 元",
        "basis": "《工伤保险条例》第三十六条第一款第（二）项",
        "parts": [("60% × 本人工资", "1800.00"), ("低于当地最低工资标准，由用人单位补足差额", "260.00")],
        "inputs": [("grade", "伤残等级", "六级", "您填写的伤残等级（以劳动能力鉴定结论为准）"),
                   ("own_monthly_wage", "本人月工资", "3,000.00", "您填写的数字：受伤前12个月平均月缴费工资"),
                   ("average_monthly_wage", "上年度职工月平均工资 A", "4,000.00", "您填写的数字（代替系统配置的数字）"),
                   ("own_wage", "本人工资 W（计发基数）", "3,000", "在上年度职工月平均工资的60%至300%之间，按填写的数字计算"),
                   ("minimum_wage", "当地最低工资标准", "2,060.00",
                    "系统配置：合肥市区第1档（2023年3月1日起）；县（市）可能适用较低的档次，以当地标准为准，可直接填写")],
        "figures": [("benefits.disability_allowance_rate", "六级：本人工资的60%"), BOUNDS,
                    ("wages.minimum_monthly", "合肥市区 第1档：2,060.00 元/月"), ROUNDING],
        "notes": [GRADE_NOTE_5_6, "伤残津贴实际金额低于当地最低工资标准的，由用人单位补足差额；已按所在市市区的最低工资标准比较。"],
        "provisional": ""}


def test_without_city_or_minimum_wage_the_allowance_is_not_compared_and_the_field_says_so():
    result = estimated(grade="6", own_monthly_wage="3000", average_monthly_wage="4000")
    assert str(result.items[1].amount) == "1800.00" and len(result.items[1].explanation.parts) == 1
    assert [n.field for n in result.field_notes] == ["minimum_wage"]
    assert result.field_notes[0].message == "选择所在市或填写当地最低工资标准后，伤残津贴才与最低工资标准比较，低于的补足差额"
    assert result.items[1].explanation.notes[1].startswith(
        "伤残津贴实际金额低于当地最低工资标准的，由用人单位补足差额；未填写当地最低工资标准，未作比较（")


def test_the_employment_subsidy_three_years_before_retirement_is_paid_at_80_percent():
    result = estimated(grade="7", ends_employment="1", years_to_retirement="3", leaving_date="2025-06-30")
    medical, employment = (explained(i) for i in result.items[1:])
    grade_input = ("grade", "伤残等级", "七级", "您填写的伤残等级（以劳动能力鉴定结论为准）")
    ends = ("ends_employment", "解除或终止劳动关系", "是", "您的选择")
    basis = "《工伤保险条例》第三十七条第一款第（二）项；《安徽省实施〈工伤保险条例〉办法》（标准，待核实）"
    trigger = "劳动、聘用合同期满终止，或者职工本人提出解除劳动、聘用合同的"
    assert medical == {
        "code": "one_off_medical_subsidy", "amount": "80000.00", "payer": "fund", "period": "one_off",
        "title": "一次性工伤医疗补助金", "formula": "10 个月 × 上年度职工月平均工资 8,000 = 80,000.00 元", "basis": basis,
        "parts": [("10 个月 × 上年度职工月平均工资", "80000.00")], "inputs": [grade_input, ends, TYPED_A],
        "figures": [("benefits.medical_subsidy_months", "七级：10 个月"), ROUNDING],
        "notes": [f"{trigger}，由工伤保险基金支付。"], "provisional": ""}
    assert employment == {
        "code": "one_off_employment_subsidy", "amount": "128000.00", "payer": "employer", "period": "one_off",
        "title": "一次性伤残就业补助金", "formula": "20 个月 × 上年度职工月平均工资 8,000 × 80% = 128,000.00 元",
        "basis": basis,
        "parts": [("20 个月 × 上年度职工月平均工资", "160000.00"), ("距法定退休年龄不足4年，按80%支付", "-32000.00")],
        "inputs": [grade_input, ends, TYPED_A, ("years_to_retirement", "距法定退休年龄", "3 年", "您填写的数字")],
        "figures": [("benefits.employment_subsidy_months", "七级：20 个月"),
                    ("benefits.employment_subsidy_age_reduction", "距退休不足1/2/3/4/5年：30%/60%/70%/80%/90%"),
                    ROUNDING],
        "notes": [f"{trigger}，由用人单位支付。"], "provisional": ""}


def test_grade_6_leaving_cites_article_36_paragraph_2():
    result = estimated(grade="6", ends_employment="1", years_to_retirement="10")
    medical, employment = result.items[1:]
    basis = "《工伤保险条例》第三十六条第二款；《安徽省实施〈工伤保险条例〉办法》（标准，待核实）"
    assert medical.explanation.basis == employment.explanation.basis == basis
    assert medical.explanation.notes == ("经工伤职工本人提出，与用人单位解除或者终止劳动关系的，由工伤保险基金支付。",)
    assert employment.explanation.notes == ("经工伤职工本人提出，与用人单位解除或者终止劳动关系的，由用人单位支付。",)
    assert [p.amount for p in employment.explanation.parts] == [Y("272000.00")]  # 34 × 8,000 in full


def test_the_2010_death_follows_the_2004_text():
    result = estimated(outcome="death", date="2010-06-01", average_monthly_wage="3000", own_monthly_wage="2500")
    funeral, grant = (explained(i) for i in result.items)
    before = "《工伤保险条例》（国务院令第375号，2011年1月1日修订前）"
    date_input = ("date", "死亡日期", "2010年6月1日", "您填写的日期")
    a = ("average_monthly_wage", "上年度职工月平均工资 A", "3,000.00", "您填写的数字（代替系统配置的数字）")
    assert funeral == {
        "code": "funeral_grant", "amount": "18000.00", "payer": "fund", "period": "one_off", "title": "丧葬补助金",
        "formula": "6 个月 × 上年度职工月平均工资 3,000 = 18,000.00 元", "basis": f"{before}第三十七条第一款第（一）项",
        "parts": [("6 个月 × 上年度职工月平均工资", "18000.00")], "inputs": [date_input, a],
        "figures": [("benefits.funeral_grant_months", "6 个月"), ROUNDING], "notes": [], "provisional": ""}
    assert grant == {
        "code": "death_grant", "amount": "144000.00", "payer": "fund", "period": "one_off", "title": "一次性工亡补助金",
        "formula": "48 个月 × 上年度职工月平均工资 3,000 = 144,000.00 元", "basis": f"{before}第三十七条第一款第（三）项",
        "parts": [("48 个月 × 上年度职工月平均工资", "144000.00")],
        "inputs": [("date", "死亡日期", "2010年6月1日", "您填写的日期：2011年1月1日前死亡，适用修订前的标准"), a],
        "figures": [("benefits.death_grant_months", "48至60个月，按48个月估算"), ROUNDING],
        "notes": ["修订前的条例规定为48至60个月的统筹地区上年度职工月平均工资，具体月数由省规定；按60个月为 180,000.00 元。"
                  "以经办机构核定为准。"], "provisional": ""}
    assert result.notes == ("未填写供养亲属：供养亲属抚恤金发给由因工死亡职工生前提供主要生活来源、无劳动能力的亲属。",)


def test_a_2024_death_with_a_spouse_and_an_orphan():
    result = estimated(outcome="death", dependants=[{"relation": "spouse"}, {"relation": "child", "alone": True}])
    funeral, grant, spouse, child = (explained(i) for i in result.items)
    assert funeral["basis"] == "《工伤保险条例》第三十九条第一款第（一）项"
    assert funeral["inputs"] == [("date", "死亡日期", "2024年5月10日", "您填写的日期"), TYPED_A]
    assert grant == {
        "code": "death_grant", "amount": "1036420.00", "payer": "fund", "period": "one_off", "title": "一次性工亡补助金",
        "formula": "20 倍 × 2023年全国城镇居民人均可支配收入 51,821 = 1,036,420.00 元",
        "basis": "《工伤保险条例》第三十九条第一款第（三）项",
        "parts": [("20 × 2023年全国城镇居民人均可支配收入", "1036420.00")],
        "inputs": [("date", "死亡日期", "2024年5月10日", "您填写的日期：取死亡的上一年度（2023年）的全国数字")],
        "figures": [("benefits.death_grant_multiple", "20 倍"), ("benefits.national_urban_income", "2023年：51,821 元"),
                    ROUNDING],
        "notes": ["职工在停工留薪期内因工伤死亡的，同样享受本项；因工外出或抢险救灾中下落不明、被宣告死亡的，适用第四十一条"
                  "（生活有困难的，可先预支本项的50%）。"], "provisional": ""}
    common_figures = [("benefits.dependant_pension_cap", "合计不高于本人工资；超过时按比例缩减、最大余额法分配尾差"),
                      BOUNDS, ROUNDING]
    note = "发给由因工死亡职工生前提供主要生活来源、无劳动能力的亲属；范围按《因工死亡职工供养亲属范围规定》（待核实），条件消失时停发。"
    assert spouse == {
        "code": "dependant_pension", "amount": "2400.00", "payer": "fund", "period": "monthly",
        "title": "供养亲属抚恤金（第1位：配偶）", "formula": "40% × 本人工资 6,000 = 2,400.00 元",
        "basis": "《工伤保险条例》第三十九条第一款第（二）项", "parts": [("40% × 本人工资", "2400.00")],
        "inputs": [("dependants", "供养亲属", "第1位：配偶", "您填写的亲属关系"), *OWN_INPUTS],
        "figures": [("benefits.dependant_pension_rate", "配偶 40%，其他亲属 30%"), *common_figures],
        "notes": [note], "provisional": ""}
    assert child["title"] == "供养亲属抚恤金（第2位：子女（孤寡老人或孤儿））"
    assert child["formula"] == "40% × 本人工资 6,000 = 2,400.00 元"  # 30 % + 10 points
    assert child["figures"] == [("benefits.dependant_pension_rate", "配偶 40%，其他亲属 30%"),
                                ("benefits.dependant_pension_alone_increase", "加 10%（百分点）"), *common_figures]
    assert list(result.notes) == []


def test_after_paid_leave_a_death_gets_no_death_grant():
    result = estimated(outcome="death", after_paid_leave="1")
    assert [i.code for i in result.items] == ["funeral_grant"]
    assert result.notes[0] == ("一至四级伤残职工在停工留薪期满后死亡的，其近亲属享受丧葬补助金和供养亲属抚恤金，"
                               "不享受一次性工亡补助金（《工伤保险条例》第三十九条第三款）。")


CONFIGURED_2023 = ("wages.non_private_average", "8,640.67 元/月（2023年全省城镇非私营单位就业人员平均工资 103,688 元 ÷ 12）")


def test_the_configured_average_wage_says_which_year_and_why():
    hurt = estimated(date="2024-03-01", grade="10", average_monthly_wage=None).items[0].explanation
    assert hurt.inputs[2] == InputUse("average_monthly_wage", "上年度职工月平均工资 A", "8,640.67",
                                      "系统配置，按受伤日期2024年3月1日取2023年的数字")
    assert [(f.figure.key, f.shown) for f in hurt.figures][2] == CONFIGURED_2023
    died = estimated(outcome="death", date="2024-03-01", average_monthly_wage=None)
    funeral = died.items[0]
    assert str(funeral.amount) == "51844.02"  # 6 × 8,640.67
    assert funeral.explanation.inputs[1] == InputUse("average_monthly_wage", "上年度职工月平均工资 A", "8,640.67",
                                                     "系统配置，按死亡日期2024年3月1日取2023年的数字")
    assert [(f.figure.key, f.shown) for f in funeral.explanation.figures][1] == CONFIGURED_2023
    assert died.facts.date == date(2024, 3, 1) and died.as_of == TODAY and died.base == Y("8640.67")


def test_before_provincial_pooling_the_city_is_asked_for():
    with pytest.raises(PolicyGap) as caught:
        estimated(date="2019-03-01", grade="10", average_monthly_wage=None)
    assert [(e.field, e.message) for e in caught.value.errors] == [(
        "city", "2023年12月31日以前各市分别统筹，待遇基数是所在市的上年度职工月平均工资：请选择受伤时用人单位所在的市，"
                "或填写当地公布的上年度职工月平均工资")]


def test_a_date_without_a_rounding_rule_is_a_policy_gap_named_at_the_date():
    from portal.benefits import engine

    policy = _Without("benefits.rounding")
    facts = parse_facts({"date": "2024-05-10", "outcome": "disability", "grade": "5", "own_monthly_wage": "6000",
                         "average_monthly_wage": "8000"}, today=TODAY)
    with pytest.raises(PolicyGap) as caught:
        engine.estimate(facts, policy, as_of=TODAY)
    [error] = caught.value.errors
    assert error.field == "date" and error.message == engine._gap_message(policy.real, "benefits.rounding", date(2024, 5, 10))
    assert error.message.startswith("2024年5月10日没有适用的“")


@pytest.mark.parametrize("fields,share,shown,source,age", [
    # 1966-03 man: 60 years 4 months (2025 reform), reached 2026-07-15: 2 years 0 months left → 不足3年 70 %
    ({"birth_date": "1966-03-15", "sex": "male"}, "70%",
     "男职工，1966年3月出生，法定退休年龄60周岁4个月，2026年7月15日达到；按解除或终止劳动关系日期2024年6月30日计，还有 2 年 0 个月",
     "按您填写的出生日期、性别计算", "男职工：60周岁4个月"),
    ({"birth_date": "1972-01-10", "sex": "female", "original_retirement_age": "55", "leaving_date": "2025-01-31"}, "70%",
     "原法定退休年龄为55周岁的女职工，1972年1月出生，法定退休年龄55周岁7个月，2027年8月10日达到；"
     "按解除或终止劳动关系日期2025年1月31日计，还有 2 年 6 个月",
     "按您填写的出生日期、性别和原法定退休年龄计算", "原法定退休年龄为55周岁的女职工：55周岁7个月"),
])
def test_the_years_to_retirement_from_the_birth_date_are_shown(fields, share, shown, source, age):
    data = {"grade": "7", "ends_employment": "1", "leaving_date": "2024-06-30", **fields}
    item = estimated(**data).items[-1]
    assert item.code == "one_off_employment_subsidy"
    assert item.explanation.formula.startswith(f"20 个月 × 上年度职工月平均工资 8,000 × {share} = ")
    assert item.explanation.inputs[-1] == InputUse("birth_date", "距法定退休年龄", shown, source)
    assert [(f.figure.key, f.shown) for f in item.explanation.figures][-2] == ("statutory_retirement_age", age)


def test_retirement_reached_on_the_leaving_day_ends_the_leaving_subsidies():
    result = estimated(grade="7", ends_employment="1", birth_date="1964-06-30", sex="male", leaving_date="2024-06-30")
    assert [i.code for i in result.items] == ["one_off_disability_subsidy"]
    assert list(result.notes) == ["已达到法定退休年龄（男职工，1964年6月出生，法定退休年龄60周岁，2024年6月30日达到）的，"
                                  "不享受一次性工伤医疗补助金和一次性伤残就业补助金（安徽办法第二十七条，待核实）。"]
    typed = estimated(grade="7", ends_employment="1", years_to_retirement="0")
    assert [i.code for i in typed.items] == ["one_off_disability_subsidy"]
    assert list(typed.notes)[0].startswith("已达到法定退休年龄（距退休 0 年）的，")


def test_a_birth_date_without_sex_counts_as_not_given():
    # parse_facts asks for the sex; facts built otherwise (e.g. a stored case) must not guess it
    facts = parse_facts({"date": "2024-05-10", "outcome": "disability", "grade": "7", "own_monthly_wage": "6000",
                         "average_monthly_wage": "8000", "ends_employment": "1", "birth_date": "1966-03-15",
                         "sex": "male"}, today=TODAY)
    item = estimate(replace(facts, sex=None), as_of=TODAY).items[-1]
    assert (item.code, str(item.amount)) == ("one_off_employment_subsidy", "160000.00")  # 20 × 8,000 in full
    assert item.explanation.notes[1].startswith("未填写距法定退休年龄的年数（或出生日期、性别），按全额估算")


def test_dependants_at_exactly_the_own_wage_are_not_reduced():
    # 40 % + 30 % + 30 % = 100 % of W: the cap (合计不高于本人工资) is reached, not exceeded
    result = estimated(outcome="death", dependants=[{"relation": "spouse"}, {"relation": "child"}, {"relation": "parent"}])
    pensions = [i for i in result.items if i.code == "dependant_pension"]
    assert [(str(i.amount), i.explanation.formula) for i in pensions] == [
        ("2400.00", "40% × 本人工资 6,000 = 2,400.00 元"), ("1800.00", "30% × 本人工资 6,000 = 1,800.00 元"),
        ("1800.00", "30% × 本人工资 6,000 = 1,800.00 元")]
    assert all(len(i.explanation.parts) == 1 and len(i.explanation.notes) == 1 for i in pensions)


def test_dependants_over_the_own_wage_are_reduced_in_proportion_and_told_so():
    # 40 % + (30 + 10) % + (30 + 10) % = 120 % of 6,000 = 7,200 → each × 6,000 / 7,200 = 2,000.00
    result = estimated(outcome="death", dependants=[{"relation": "spouse"}, {"relation": "child", "alone": True},
                                                    {"relation": "parent", "alone": True}])
    pensions = [i for i in result.items if i.code == "dependant_pension"]
    assert [i.explanation.title for i in pensions] == [
        "供养亲属抚恤金（第1位：配偶）", "供养亲属抚恤金（第2位：子女（孤寡老人或孤儿））", "供养亲属抚恤金（第3位：父母（孤寡老人或孤儿））"]
    for item in pensions:
        x = item.explanation
        assert str(item.amount) == "2000.00"
        assert x.formula == ("40% × 本人工资 6,000 × 缩减比例（本人工资 6,000 ÷ 3 位供养亲属按比例合计 7,200），"
                             "舍去不足一分的部分后，余下的分按尾数从大到小分配 = 2,000.00 元")
        assert [(p.label, str(p.amount)) for p in x.parts] == [
            ("40% × 本人工资", "2400.00"), ("各供养亲属抚恤金之和超过本人工资，按比例缩减", "-400.00")]
        assert x.notes[1] == "3 位供养亲属按比例合计 7,200.00 元，超过本人工资 6,000.00 元，全部按同一比例缩减，合计正好等于 6,000.00 元。"


def test_a_death_during_paid_leave_also_lists_the_wages_of_the_leave():
    result = estimated(outcome="death", paid_leave_days="20")
    leave = explained(result.items[-1])
    assert leave == {
        "code": "paid_leave_wages", "amount": "6000.00", "payer": "employer", "period": "monthly", "title": "停工留薪期工资",
        "formula": "原工资福利待遇不变：每月 6,000.00 = 6,000.00 元", "basis": "《工伤保险条例》第三十三条第一款",
        "parts": [("原工资（不受60%至300%上下限调整）", "6000.00")],
        "inputs": [("own_monthly_wage", "本人月工资（原工资）", "6,000.00", "您填写的数字"),
                   ("paid_leave_days", "停工留薪期", "20 天（约 0.7 个月）", "您填写的数字")],
        "figures": [ROUNDING],
        "notes": ["停工留薪期内由所在单位按月支付，共 20 天；期满后停发，改享受伤残待遇。",
                  "停工留薪期一般不超过12个月，经设区的市级劳动能力鉴定委员会确认可以延长，延长后合计不超过24个月。",
                  "生活不能自理的，停工留薪期内的护理由所在单位负责（第三十三条第三款）。"], "provisional": ""}


def test_missing_figures_are_named_at_their_field_and_the_rest_is_computed():
    # 2010: no configured minimum wage (the table starts 2015-11-01); the allowance is still computed
    old = estimated(date="2010-06-01", grade="5", city="340100", own_monthly_wage="2500", average_monthly_wage="3000")
    assert [(i.code, str(i.amount)) for i in old.items] == [("one_off_disability_subsidy", "40000.00"),  # 16 × 2,500
                                                            ("disability_allowance", "1750.00")]
    assert [(n.field, n.message) for n in old.field_notes] == [
        ("minimum_wage", "本系统没有2010年6月1日所在市的最低工资标准，伤残津贴未与之比较；请填写当地最低工资标准")]
    # a review before 人社部发〔2025〕62号: the first grade holds, and the field says why
    early = estimated(grade="5", review_grade="6", review_date="2025-03-03", minimum_wage="2000")
    assert str(early.items[1].amount) == "4200.00"
    assert [(n.field, n.message) for n in early.field_notes] == [
        ("review_date", "2025年3月3日作出的复查鉴定结论，待遇按当时当地的规定调整，本测算没有该规定，按初次鉴定的伤残等级计算")]


def test_care_with_the_configured_average_wage_shows_that_figure():
    care = estimated(date="2024-03-01", grade="10", average_monthly_wage=None, care_level="full").items[1]
    assert [(f.figure.key, f.shown) for f in care.explanation.figures] == [
        ("benefits.care_allowance_rate", "生活完全不能自理：50%"), CONFIGURED_2023, ROUNDING]


def test_gap_messages_name_the_figure_and_the_dates_its_data_cover():
    from portal.benefits.engine import _gap_message
    from portal.benefits.policy import benefit_policy

    policy = benefit_policy()
    assert _gap_message(policy, "benefits.rounding", date(2003, 5, 1)) == (
        "2003年5月1日没有适用的“金额舍入规则”数据（已有数据适用于2004年1月1日起），本项无法测算")
    assert _gap_message(policy, "benefits.death_grant_months", date(2012, 5, 1)) == (
        "2012年5月1日没有适用的“一次性工亡补助金（2011年前：上年度职工月平均工资的月数）”数据"
        "（已有数据适用于2004年1月1日至2010年12月31日），本项无法测算")
    assert _gap_message(policy, "no.such.key", date(2012, 5, 1)) == "未配置政策数据：no.such.key"


def test_as_dict_carries_every_amount_as_text():
    result = estimated(grade="4", care_level="partial", minimum_wage="2000")
    data = result.as_dict()
    assert data["totals"] == {"one_off": "126000.00", "monthly": "6900.00"}  # 4,500 + 2,400
    assert data["notes"] == [] and data["provisional"] is False and data["field_notes"] == []
    allowance = data["items"][1]
    assert (allowance["code"], allowance["amount"], allowance["period"], allowance["payer"]) == (
        "disability_allowance", "4500.00", "monthly", "fund")
    x = allowance["explanation"]
    assert x["parts"] == [{"label": "75% × 本人工资", "amount": "4500.00"}]
    assert x["legal_basis"] == "《工伤保险条例》第三十五条第一款第（二）项、第二款"
    assert x["notes"][0] == GRADE_NOTE_1_4 and x["provisional"] is None
    rate = x["figures"][0]
    assert (rate["key"], rate["value"], rate["valid_from"]) == ("benefits.disability_allowance_rate", "四级：本人工资的75%",
                                                                "2004-01-01")
    assert rate["label"] and rate["label"] != rate["key"] and rate["valid_to"] is None
    old = estimated(outcome="death", date="2010-06-01", average_monthly_wage="3000", own_monthly_wage="2500")
    grant = old.as_dict()["items"][1]["explanation"]["figures"][0]
    assert (grant["key"], grant["valid_from"], grant["valid_to"]) == ("benefits.death_grant_months", "2004-01-01",
                                                                      "2010-12-31")


# --- figures not yet published or not entered (人社部发〔2013〕34号第十四条) ----------------------------

PENDING_2024 = ("2024年全省城镇非私营单位就业人员平均工资尚未公布（一般于2025年7月31日前公布），按规定暂按2023年的数字核定，"
                "公布后重新核定、补发差额（人社部发〔2013〕34号第十四条）")
NOT_ENTERED_2024 = ("2024年全省城镇非私营单位就业人员平均工资本系统尚未录入，暂按2023年的数字估算；经办机构按2024年的数字核定，"
                    "以核定为准。您知道该数字的，可以在此填写")


def death_on(day, as_of, **fields):
    facts = parse_facts({"date": day, "outcome": "death", "own_monthly_wage": "6000", **fields}, today=as_of)
    return estimate(facts, as_of=as_of)


@pytest.mark.parametrize("as_of,why", [(date(2025, 3, 20), PENDING_2024), (date(2025, 7, 30), PENDING_2024),
                                       (date(2025, 7, 31), NOT_ENTERED_2024)])  # due by 07-31: then it is late
def test_a_base_not_yet_published_is_provisional_on_the_year_before(as_of, why):
    result = death_on("2025-03-15", as_of)
    funeral = result.items[0]
    assert str(funeral.amount) == "51844.02"  # 6 × 8,640.67 (2023), re-determined once 2024 is known
    assert funeral.explanation.provisional == why
    assert funeral.explanation.notes[-1] == f"暂定金额：{why}。"
    assert funeral.explanation.inputs[1] == InputUse("average_monthly_wage", "上年度职工月平均工资 A", "8,640.67",
                                                     "系统配置，按死亡日期2025年3月15日取2024年的数字；暂按2023年")
    assert [(n.field, n.message) for n in result.field_notes] == [("average_monthly_wage", why)]
    assert result.provisional and result.provisional_note


def test_a_national_income_not_entered_is_named_at_the_date_without_asking_to_type_it():
    result = death_on("2027-03-01", date(2027, 3, 1), average_monthly_wage="8000")
    grant = result.items[1]
    why = "2026年全国城镇居民人均可支配收入本系统尚未录入，暂按2025年的数字估算；经办机构按2026年的数字核定，以核定为准"
    assert (grant.code, grant.explanation.provisional) == ("death_grant", why)
    assert grant.explanation.inputs[0].source == "您填写的日期：取死亡的上一年度（2026年）的全国数字；暂按2025年"
    assert [(n.field, n.message) for n in result.field_notes] == [("date", why)]


def test_a_city_missing_from_the_year_table_is_asked_for_not_guessed():
    with pytest.raises(PolicyGap) as caught:
        estimated(date="2020-06-01", grade="10", average_monthly_wage=None, city="340600")
    assert [(e.field, e.message) for e in caught.value.errors] == [(
        "average_monthly_wage", "本系统没有2019年淮北市城镇非私营单位就业人员平均工资，需要它的项目无法测算；请填写经办机构公布的数字")]
    hefei = estimated(date="2023-06-01", grade="10", average_monthly_wage=None, city="340100").items[0]
    assert str(hefei.amount) == "42000.00"  # W = 6,000 within 60 %–300 % of 9,334.92
    assert hefei.explanation.inputs[2] == InputUse("average_monthly_wage", "上年度职工月平均工资 A", "9,334.92",
                                                   "系统配置，按受伤日期2023年6月1日取2022年的数字")
    assert [(f.figure.key, f.shown) for f in hefei.explanation.figures][2] == (
        "wages.city_non_private_average", "9,334.92 元/月（2022年合肥市城镇非私营单位就业人员平均工资 112,019 元 ÷ 12）")


class _Without:
    """The real benefit policy with some keys taken away (a figure not configured)."""

    def __init__(self, *keys):
        from portal.benefits.policy import benefit_policy

        self.real, self.keys = benefit_policy(), keys

    def __getattr__(self, name):
        return getattr(self.real, name)

    def at(self, key, on):
        return None if key in self.keys else self.real.at(key, on)


def test_a_figure_not_configured_leaves_out_its_items_and_is_named_at_its_field():
    from portal.benefits.engine import _gap_message

    policy = _Without("benefits.care_allowance_rate", "benefits.medical_subsidy_months")
    facts = parse_facts({"date": "2024-05-10", "outcome": "disability", "grade": "7", "own_monthly_wage": "6000",
                         "average_monthly_wage": "8000", "care_level": "full", "ends_employment": "1"}, today=TODAY)
    result = estimate(facts, policy, as_of=TODAY)
    assert [i.code for i in result.items] == ["one_off_disability_subsidy"]
    assert [(n.field, n.message) for n in result.field_notes] == [
        ("date", _gap_message(policy.real, "benefits.care_allowance_rate", date(2024, 5, 10))),
        ("ends_employment", _gap_message(policy.real, "benefits.medical_subsidy_months", date(2024, 5, 10)))]
    assert result.field_notes[0].message.startswith("2024年5月10日没有适用的“")

    no_series = _Without("benefits.base_series")
    facts = parse_facts({"date": "2024-05-10", "outcome": "disability", "grade": "7", "own_monthly_wage": "6000"},
                        today=TODAY)
    with pytest.raises(PolicyGap) as caught:
        estimate(facts, no_series, as_of=TODAY)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("average_monthly_wage", _gap_message(no_series.real, "benefits.base_series", date(2024, 5, 10)))]


def test_a_death_on_2011_01_01_follows_the_revised_text():
    result = estimated(outcome="death", date="2011-01-01", average_monthly_wage="3000", own_monthly_wage="2500")
    funeral, grant = result.items
    assert funeral.explanation.basis == "《工伤保险条例》第三十九条第一款第（一）项"
    assert (grant.code, str(grant.amount), grant.explanation.basis) == (
        "death_grant", "382180.00", "《工伤保险条例》第三十九条第一款第（三）项")  # 20 × 19,109 (2010)
    pension = estimated(outcome="death", date="2010-06-01", average_monthly_wage="3000", own_monthly_wage="2500",
                        dependants=[{"relation": "spouse"}]).items[-1]
    assert (str(pension.amount), pension.explanation.basis) == (
        "1000.00", "《工伤保险条例》（国务院令第375号，2011年1月1日修订前）第三十七条第一款第（二）项")


def test_a_pension_on_the_floor_of_a_provisional_base_is_provisional_too():
    # W = 60 % × 8,640.67 (2023, 2024 not yet published) = 5,184.402; 40 % = 2,073.76
    result = death_on("2025-03-15", date(2025, 3, 20), own_monthly_wage="3000", dependants=[{"relation": "spouse"}])
    pension = result.items[-1]
    assert (pension.code, str(pension.amount)) == ("dependant_pension", "2073.76")
    assert pension.explanation.provisional == PENDING_2024
    assert result.items[1].explanation.provisional == ""  # the death grant uses the national 2024 figure


def test_the_same_note_from_two_items_is_given_once():
    # the leaving subsidies take A again (no leaving date: on the injury date): one note, not two
    facts = parse_facts({"date": "2025-03-15", "outcome": "disability", "grade": "7", "ends_employment": "1",
                         "own_monthly_wage": "6000"}, today=date(2025, 3, 20))
    result = estimate(facts, as_of=date(2025, 3, 20))
    assert [(n.field, n.message) for n in result.field_notes] == [("average_monthly_wage", PENDING_2024)]


@pytest.mark.parametrize("missing", ["benefits.dependant_pension_rate", "benefits.dependant_pension_alone_increase",
                                     "benefits.dependant_pension_cap"])
def test_pensions_need_all_three_of_their_figures(missing):
    facts = parse_facts({"date": "2024-05-10", "outcome": "death", "own_monthly_wage": "6000",
                         "average_monthly_wage": "8000", "dependants": [{"relation": "spouse"}]}, today=TODAY)
    result = estimate(facts, _Without(missing), as_of=TODAY)
    assert [i.code for i in result.items] == ["funeral_grant", "death_grant"]
    assert [n.field for n in result.field_notes] == ["date"]


def test_the_rounding_rule_is_data():
    from portal.benefits.policy import benefit_policy

    real = benefit_policy()

    class HalfEven(_Without):
        def at(self, key, on):
            found = real.at(key, on)
            return replace(found, value="ROUND_HALF_EVEN") if key == "benefits.rounding" else found

    facts = parse_facts({"date": "2024-05-10", "outcome": "disability", "grade": "10", "own_monthly_wage": "6000",
                         "average_monthly_wage": "8000.01", "care_level": "full"}, today=TODAY)
    care = estimate(facts, HalfEven(), as_of=TODAY).items[-1]
    assert str(care.amount) == "4000.00"  # 50 % × 8,000.01 = 4,000.005: to the even fen
    assert [(f.figure.key, f.shown) for f in care.explanation.figures][-1] == ("benefits.rounding", "ROUND_HALF_EVEN")
    assert str(estimate(facts, as_of=TODAY).items[-1].amount) == "4000.01"  # the configured rule: half up
