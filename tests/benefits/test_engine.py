"""Worked cases computed by hand from 《工伤保险条例》 arts 33–39, 64 and config/policy/benefits.toml.

A = 8,000.00 typed in (band 4,800.00–24,000.00) unless a case says "configured": then A is the
configured 2024 figure 8,640.67 (2023 Anhui average wage ÷ 12). Every amount below was worked out
on paper; the engine must agree to the fen.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.benefits.engine import PolicyGap, estimate, largest_remainder
from portal.benefits.facts import InvalidFacts, parse_facts

TODAY = date(2026, 11, 23)


def run(**fields):
    data = {"date": "2024-05-10", "outcome": "disability", "own_monthly_wage": "6000", "average_monthly_wage": "8000"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return estimate(parse_facts(data, today=TODAY), as_of=TODAY)


def table(result):
    return [(i.code, str(i.amount), i.period, i.payer) for i in result.items]


# grade: (one-off subsidy = months × 6,000, allowance and its payer while employed)
GRADES = {
    1: ("162000.00", ("5400.00", "fund")),
    2: ("150000.00", ("5100.00", "fund")),
    3: ("138000.00", ("4800.00", "fund")),
    4: ("126000.00", ("4500.00", "fund")),
    5: ("108000.00", ("4200.00", "employer")),
    6: ("96000.00", ("3600.00", "employer")),
    7: ("78000.00", None),
    8: ("66000.00", None),
    9: ("54000.00", None),
    10: ("42000.00", None),
}
# grade: (medical subsidy months × 8,000 [fund], employment subsidy months × 8,000 [employer])
LEAVING = {5: ("192000.00", "320000.00"), 6: ("144000.00", "272000.00"), 7: ("80000.00", "160000.00"),
           8: ("64000.00", "120000.00"), 9: ("48000.00", "80000.00"), 10: ("32000.00", "40000.00")}


@pytest.mark.parametrize("grade", range(1, 11))
def test_every_grade_while_employed(grade):
    subsidy, allowance = GRADES[grade]
    expected = [("one_off_disability_subsidy", subsidy, "one_off", "fund")]
    if allowance:
        expected.append(("disability_allowance", allowance[0], "monthly", allowance[1]))
    assert table(run(grade=grade)) == expected


@pytest.mark.parametrize("grade", range(5, 11))
def test_grades_5_to_10_leaving_get_both_subsidies_and_no_allowance(grade):
    medical, employment = LEAVING[grade]
    assert table(run(grade=grade, ends_employment=True)) == [
        ("one_off_disability_subsidy", GRADES[grade][0], "one_off", "fund"),
        ("one_off_medical_subsidy", medical, "one_off", "fund"),
        ("one_off_employment_subsidy", employment, "one_off", "employer"),
    ]


def test_domain_worked_example_1_grade_4_with_partial_care():
    assert table(run(grade=4, own_monthly_wage="5432.17", care_level="partial")) == [
        ("one_off_disability_subsidy", "114075.57", "one_off", "fund"),  # 21 × 5,432.17
        ("disability_allowance", "4074.13", "monthly", "fund"),  # 0.75 × 5,432.17 = 4,074.1275
        ("care_allowance", "2400.00", "monthly", "fund"),  # 0.30 × 8,000
    ]


def test_wage_cap_300_percent():
    assert table(run(grade=2, own_monthly_wage="31000")) == [
        ("one_off_disability_subsidy", "600000.00", "one_off", "fund"),  # 25 × 24,000
        ("disability_allowance", "20400.00", "monthly", "fund"),  # 0.85 × 24,000
    ]


def test_wage_floor_60_percent_and_employer_pays_grade_6_allowance():
    assert table(run(grade=6, own_monthly_wage="3900")) == [
        ("one_off_disability_subsidy", "76800.00", "one_off", "fund"),  # 16 × 4,800
        ("disability_allowance", "2880.00", "monthly", "employer"),  # 0.60 × 4,800
    ]


def test_grade_9_subsidy():
    assert str(run(grade=9, own_monthly_wage="6150.55").items[0].amount) == "55354.95"


def test_configured_average_wage_floor_and_half_up_rounding():
    result = run(date="2024-03-01", grade=10, own_monthly_wage="3000", average_monthly_wage=None, care_level="full")
    # W = 0.6 × 8,640.67 = 5,184.402 (unrounded); 7 × W = 36,290.814; care 0.5 × 8,640.67 = 4,320.335
    assert table(result) == [("one_off_disability_subsidy", "36290.81", "one_off", "fund"),
                             ("care_allowance", "4320.34", "monthly", "fund")]
    assert result.items[0].explanation.unconfirmed  # A is not confirmed: 待核实


def test_care_levels():
    for level, amount in (("full", "4000.00"), ("most", "3200.00"), ("partial", "2400.00")):
        care = [i for i in run(grade=7, care_level=level).items if i.code == "care_allowance"]
        assert [(str(i.amount), i.payer, i.period) for i in care] == [(amount, "fund", "monthly")]


def test_minimum_wage_top_up_by_employer_for_grade_6_and_by_fund_for_grade_3():
    item = run(grade=6, own_monthly_wage="3900", average_monthly_wage="4000", minimum_wage="2500").items[1]
    assert (item.code, str(item.amount), item.payer) == ("disability_allowance", "2500.00", "employer")
    assert [str(p.amount) for p in item.explanation.parts] == ["2340.00", "160.00"]
    item = run(grade=3, own_monthly_wage="1500", average_monthly_wage="3000", minimum_wage="2060").items[1]
    assert (str(item.amount), item.payer) == ("2060.00", "fund")  # 0.8 × 1,800 = 1,440 → 2,060
    above = run(grade=3, minimum_wage="2060").items[1]
    assert str(above.amount) == "4800.00" and len(above.explanation.parts) == 1


def test_grade_5_with_suitable_work_gets_no_allowance():
    assert [i.code for i in run(grade=5, suitable_work=True).items] == ["one_off_disability_subsidy"]


@pytest.mark.parametrize("years,amount", [("0.5", "48000.00"), ("1", "96000.00"), ("2.5", "112000.00"),
                                          ("3.99", "128000.00"), ("4", "144000.00"), ("5", "160000.00")])
def test_employment_subsidy_reduced_near_retirement(years, amount):
    items = {i.code: i for i in run(grade=7, ends_employment=True, years_to_retirement=years).items}
    assert str(items["one_off_employment_subsidy"].amount) == amount  # 20 × 8,000 × share
    assert str(items["one_off_medical_subsidy"].amount) == "80000.00"  # never reduced


def test_retired_worker_gets_neither_leaving_subsidy():
    result = run(grade=7, ends_employment=True, years_to_retirement="0")
    assert [i.code for i in result.items] == ["one_off_disability_subsidy"]
    assert any("退休" in n for n in result.notes)


# leaving on 2024-05-10 (the injury date, no leaving date typed): the reduction follows the time
# left to the statutory retirement age computed from the birth date (2025 gradual reform)
@pytest.mark.parametrize("birth,sex,original,amount,retires", [
    ("1980-01-01", "male", None, "160000.00", "2043年1月1日"),         # 63: far away, in full
    ("1966-06-10", "male", None, "112000.00", "2026年11月10日"),      # 60y5m: 2y6m left -> 70 %
    ("1970-05-11", "female", 55, "96000.00", "2025年7月11日"),       # 55y2m: 1y2m left -> 60 %
    ("1974-05-10", "female", 50, None, "2024年5月10日"),             # 50 on the day: reached
    ("1969-05-11", "female", 55, "48000.00", "2024年5月11日"),      # old rule, one day left: 30 %
])
def test_employment_subsidy_reduced_by_the_retirement_age_from_the_birth_date(birth, sex, original, amount, retires):
    result = run(grade=7, ends_employment=True, birth_date=birth, sex=sex, original_retirement_age=original)
    items = {i.code: i for i in result.items}
    if amount is None:
        assert [i.code for i in result.items] == ["one_off_disability_subsidy"]
        assert any(f"{retires}达到" in n and "不享受" in n for n in result.notes), result.notes
        return
    subsidy = items["one_off_employment_subsidy"]
    assert str(subsidy.amount) == amount
    used = {i.name: i for i in subsidy.explanation.inputs}["birth_date"]
    assert f"{retires}达到" in used.value and "出生日期" in used.source
    assert "statutory_retirement_age" in {f.figure.key for f in subsidy.explanation.figures}


def test_birth_date_and_typed_years_agree_at_the_five_year_boundaries():
    # leaving 2026-06-30; man born 1968-05-20 retires 2029-04-20 (60y11m): 2 years 9 months left
    by_birth = run(grade=7, ends_employment=True, date="2025-03-10", leaving_date="2026-06-30",
                   birth_date="1968-05-20", sex="male")
    by_years = run(grade=7, ends_employment=True, date="2025-03-10", leaving_date="2026-06-30",
                   years_to_retirement="2.75")
    assert [str(i.amount) for i in by_birth.items] == [str(i.amount) for i in by_years.items]
    # exactly five years before retirement: not "under five", so paid in full; one day less: 90 %
    retired = run(grade=7, ends_employment=True, date="2025-01-01", birth_date="1970-01-01", sex="female",
                  original_retirement_age=50)  # old rule: 50 on 2020-01-01, so neither subsidy
    assert [i.code for i in retired.items] == ["one_off_disability_subsidy"]
    # (man born 1968-06: 60y11m, so born 1968-06-10 retires 2029-05-10)
    five = run(grade=7, ends_employment=True, date="2024-05-10", birth_date="1968-06-10", sex="male")
    assert str({i.code: i for i in five.items}["one_off_employment_subsidy"].amount) == "160000.00"
    under = run(grade=7, ends_employment=True, date="2024-05-10", birth_date="1968-06-09", sex="male")
    assert str({i.code: i for i in under.items}["one_off_employment_subsidy"].amount) == "144000.00"


def test_leaving_subsidies_use_the_leaving_date_average_wage():
    # injured in February 2024, left in October 2024: A of the leaving date (configured 8,640.67)
    items = {i.code: i for i in estimate(parse_facts(
        {"date": "2024-02-01", "outcome": "disability", "grade": 8, "own_monthly_wage": "6000",
         "ends_employment": True, "leaving_date": "2024-10-01"}, today=TODAY)).items}
    assert str(items["one_off_medical_subsidy"].amount) == "69125.36"  # 8 × 8,640.67
    assert str(items["one_off_employment_subsidy"].amount) == "129610.05"  # 15 × 8,640.67


def test_paid_leave_wages_are_the_original_wage_paid_by_the_employer():
    items = run(grade=8, own_monthly_wage="30000", paid_leave_days=180).items
    leave = [i for i in items if i.code == "paid_leave_wages"]
    assert [(str(i.amount), i.period, i.payer) for i in leave] == [("30000.00", "monthly", "employer")]
    assert str(items[0].amount) == "264000.00"  # the subsidy uses the capped 24,000


# --- death --------------------------------------------------------------------------------------


def death(**fields):
    return run(outcome="death", **fields)


SPOUSE, CHILD, PARENT = {"relation": "spouse"}, {"relation": "child"}, {"relation": "parent"}


def test_domain_worked_example_5_dependants_capped_with_largest_remainder():
    result = death(dependants=[SPOUSE, CHILD, CHILD, PARENT])
    assert table(result) == [
        ("funeral_grant", "48000.00", "one_off", "fund"),  # 6 × 8,000
        ("death_grant", "1036420.00", "one_off", "fund"),  # 20 × 51,821 (2023)
        ("dependant_pension", "1846.15", "monthly", "fund"),
        ("dependant_pension", "1384.62", "monthly", "fund"),
        ("dependant_pension", "1384.62", "monthly", "fund"),
        ("dependant_pension", "1384.61", "monthly", "fund"),
    ]
    assert result.total_monthly == Decimal("6000.00")


def test_dependants_below_the_cap_and_the_alone_increase():
    assert [str(i.amount) for i in death(dependants=[SPOUSE, CHILD]).items[2:]] == ["2400.00", "1800.00"]
    alone = death(dependants=[{"relation": "spouse", "alone": True}, {"relation": "grandchild", "alone": True}])
    assert [str(i.amount) for i in alone.items[2:]] == ["3000.00", "2400.00"]  # 50 %, 40 % of 6,000


def test_cap_on_the_floored_wage_ties_go_in_list_order():
    result = death(own_monthly_wage="3000", dependants=[SPOUSE, CHILD, CHILD, {"relation": "parent", "alone": True}])
    # W = 4,800; rates 0.4 + 0.3 + 0.3 + 0.4 = 1.4; shares 1371.428…, 1028.571…, 1028.571…, 1371.428…
    assert [str(i.amount) for i in result.items[2:]] == ["1371.43", "1028.57", "1028.57", "1371.43"]


def test_rounding_may_not_push_the_sum_over_the_cap():
    result = death(own_monthly_wage="4800.05", dependants=[SPOUSE, CHILD, CHILD])
    # 0.4/0.3/0.3 × 4,800.05 = 1,920.02 + 1,440.015 + 1,440.015: half-up each would give 4,800.06
    assert [str(i.amount) for i in result.items[2:]] == ["1920.02", "1440.02", "1440.01"]


@pytest.mark.parametrize("day,amount", [
    ("2022-06-01", "948240.00"), ("2023-01-01", "985660.00"), ("2023-12-31", "985660.00"),
    ("2024-01-01", "1036420.00"), ("2025-03-01", "1083760.00"), ("2026-01-01", "1130040.00"),
])
def test_death_grant_uses_the_national_figure_of_the_year_before_the_death(day, amount):
    grant = [i for i in death(date=day).items if i.code == "death_grant"]
    assert [str(i.amount) for i in grant] == [amount]


def test_grade_1_to_4_dying_after_paid_leave_gets_no_death_grant():
    result = death(after_paid_leave=True, dependants=[SPOUSE])
    assert [i.code for i in result.items] == ["funeral_grant", "dependant_pension"]


def test_configured_funeral_grant_2024():
    result = death(date="2024-02-02", average_monthly_wage=None)
    assert str(result.items[0].amount) == "51844.02"  # 6 × 8,640.67


# --- dates the data do not cover --------------------------------------------------------------


def gap(**fields):
    with pytest.raises(InvalidFacts) as caught:
        run(**fields)
    return caught.value.by_field()


def test_configured_average_wage_boundaries():
    assert "city" in gap(date="2023-12-31", grade=5, average_monthly_wage=None)
    assert not run(date="2024-01-01", grade=5, average_monthly_wage=None).provisional
    assert not run(date="2024-12-31", grade=5, average_monthly_wage=None).provisional
    result = run(date="2025-01-01", grade=5, average_monthly_wage=None, own_monthly_wage="3000")
    assert result.provisional and result.base == Decimal("8640.67")
    message = result.by_field()["average_monthly_wage"][0]
    assert "2024年" in message and "暂按2023年" in message


def test_before_the_2011_revision_the_2004_text_applies():
    result = run(date="2010-12-31", grade=3)
    assert [(i.code, str(i.amount)) for i in result.items] == [
        ("one_off_disability_subsidy", "120000.00"), ("disability_allowance", "4800.00")]  # 20 × 6,000; 80 %
    assert "国务院令第375号" in result.items[0].explanation.basis


def test_gap_is_a_policy_gap_only_when_nothing_can_be_computed():
    with pytest.raises(PolicyGap):
        run(date="2015-01-01", grade=5, average_monthly_wage=None)
    assert run(date="2015-01-01", grade=5, average_monthly_wage=None, paid_leave_days="30").items[0].code == \
        "paid_leave_wages"


def test_largest_remainder_splits_exactly():
    shares = [Decimal(1) / 3] * 3
    assert largest_remainder(shares, Decimal("1.00")) == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
