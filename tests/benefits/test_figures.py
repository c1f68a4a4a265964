"""Figures for every year a case can reach (issue 13 point 2): the benefit base A per year and
pooling regime, the national income of every year from 2009, the 2004 text before 2011, minimum
wages, provisional amounts (人社部发〔2013〕34号 第十四条) and review appraisals (人社部发〔2025〕62号
第十一条). Amounts worked out by hand from config/policy/{benefits,wages,minimum_wages}.toml.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.benefits.engine import PolicyGap, estimate
from portal.benefits.facts import InvalidFacts, parse_facts
from portal.benefits.policy import benefit_policy

TODAY = date(2026, 12, 3)


def run(as_of=TODAY, **fields):
    data = {"outcome": "disability", "own_monthly_wage": "6000"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return estimate(parse_facts(data, today=max(as_of, TODAY)), as_of=as_of)


def amounts(result):
    return {i.code: str(i.amount) for i in result.items}


# year of death -> death grant: 20 × the national figure of the year before
DEATH_GRANTS = {2011: "382180.00", 2012: "436200.00", 2013: "491300.00", 2014: "539100.00",
                2015: "576880.00", 2016: "623900.00", 2017: "672320.00", 2018: "727920.00",
                2019: "785020.00", 2020: "847180.00", 2021: "876680.00", 2022: "948240.00",
                2023: "985660.00", 2024: "1036420.00", 2025: "1083760.00", 2026: "1130040.00"}


@pytest.mark.parametrize("year", sorted(DEATH_GRANTS))
def test_death_grant_of_every_year_from_2011(year):
    result = run(date=f"{year}-06-30", outcome="death", average_monthly_wage="5000")
    assert amounts(result)["death_grant"] == DEATH_GRANTS[year]
    assert not result.provisional


def test_a_2021_death_without_a_typed_wage():
    """20 × 43,834 (2020); the funeral grant needs the city's 2020 average: named at the field."""
    result = run(date="2021-03-10", outcome="death")
    assert amounts(result) == {"death_grant": "876680.00"}
    assert "city" in result.by_field()
    with_city = run(date="2021-03-10", outcome="death", city="340100")
    # 合肥 2020 is not entered: the latest earlier year found (2019: 90,115 ÷ 12 = 7,509.58)
    assert amounts(with_city)["funeral_grant"] == "45057.48"
    assert with_city.items[0].explanation.provisional and "2019年" in with_city.items[0].explanation.provisional


def test_a_2010_death_follows_the_2004_text():
    """48 months of A (the range is 48–60), funeral 6 × A, pensions as before."""
    result = run(date="2010-05-01", outcome="death", average_monthly_wage="2500", own_monthly_wage="3000",
                 dependants=[{"relation": "spouse"}])
    assert amounts(result) == {"funeral_grant": "15000.00", "death_grant": "120000.00", "dependant_pension": "1200.00"}
    grant = result.items[1].explanation
    assert "48 个月" in grant.formula and "150,000.00" in grant.notes[0]  # 60 months shown too
    assert "修订前" in grant.basis


def test_a_2010_death_without_a_wage_names_the_figure():
    with pytest.raises(PolicyGap) as caught:
        run(date="2010-05-01", outcome="death", city="340100")
    assert "2009年合肥市城镇非私营单位就业人员平均工资" in caught.value.by_field()["average_monthly_wage"][0]


# injury year -> (A used, provisional?) for a grade-4 injury, no typed wage, 合肥
BASES = {
    2012: None, 2013: ("4142.67", False), 2014: ("4517.50", False), 2015: ("4517.50", True),
    2016: ("4517.50", True), 2017: ("4517.50", True), 2018: None, 2019: None, 2020: ("7509.58", False),
    2021: ("7509.58", True), 2022: ("7509.58", True), 2023: ("9334.92", False),
    2024: ("8640.67", False), 2025: ("8640.67", True), 2026: ("8640.67", True),
}


@pytest.mark.parametrize("year", sorted(BASES))
def test_base_of_every_injury_year(year):
    expected = BASES[year]
    facts = dict(date=f"{year}-04-01", grade=4, city="340100", paid_leave_days="60")
    result = run(**facts)
    if expected is None:
        assert result.base is None and [i.code for i in result.items] == ["paid_leave_wages"]
        assert "average_monthly_wage" in result.by_field()
        return
    base, provisional = expected
    assert result.base == Decimal(base)
    assert result.provisional is provisional or not any(
        i.code in ("care_allowance",) for i in result.items)  # W within the bounds stays final
    assert "one_off_disability_subsidy" in amounts(result)


def test_a_2025_injury_with_no_typed_wage():
    """2024's provincial figure is not entered: 2023's (8,640.67) provisionally, said at the field."""
    result = run(date="2025-03-01", grade=6, own_monthly_wage="4000", care_level="partial")
    w = Decimal("8640.67") * Decimal("0.6")  # 5,184.402: the floor applies, so W is provisional too
    assert amounts(result) == {"one_off_disability_subsidy": str((16 * w).quantize(Decimal("0.01"))),
                               "disability_allowance": str((Decimal("0.6") * w).quantize(Decimal("0.01"))),
                               "care_allowance": "2592.20"}
    assert all(i.explanation.provisional for i in result.items)
    assert "2024年全省城镇非私营单位就业人员平均工资本系统尚未录入" in result.by_field()["average_monthly_wage"][0]
    assert "差额补发" in result.provisional_note


def test_not_yet_published_is_provisional_on_the_year_before():
    """On 2025-03-01 the 2024 figure is not out (usually by 2025-07-31): 2023's, per 34号 第十四条."""
    result = run(as_of=date(2025, 3, 1), date="2025-02-01", grade=9, care_level="full", own_monthly_wage="6000")
    care = [i for i in result.items if i.code == "care_allowance"][0]
    assert care.amount == Decimal("4320.34")  # 50 % × 8,640.67
    assert "尚未公布" in care.explanation.provisional and "人社部发〔2013〕34号第十四条" in care.explanation.provisional
    assert "2025年7月31日" in result.by_field()["average_monthly_wage"][0]
    later = run(date="2025-02-01", grade=9, care_level="full", own_monthly_wage="6000")
    assert "本系统尚未录入" in later.by_field()["average_monthly_wage"][0]
    entered = run(as_of=date(2024, 3, 1), date="2024-02-01", grade=9, care_level="full", own_monthly_wage="6000")
    assert not entered.provisional  # 2023's figure is entered: used, whatever the usual publication day


def test_national_income_not_yet_published_in_january():
    """A death on 2025-01-05 decided on 2025-01-10: 2024's figure (due by 2025-01-31) is pending."""
    policy = benefit_policy()
    assert policy.at("benefits.national_urban_income", date(2024, 12, 31)) is not None
    result = run(as_of=date(2025, 1, 10), date="2025-01-05", outcome="death", average_monthly_wage="8000")
    # the 2024 figure IS entered, so it is used even before its usual publication day
    assert amounts(result)["death_grant"] == "1083760.00" and not result.provisional


def test_minimum_wage_by_city_and_date():
    # grade 4, W floored to 0.6 × 8,000 = 4,800 → allowance 3,600 > M: no top-up
    result = run(date="2024-05-10", grade=4, average_monthly_wage="8000", own_monthly_wage="3000", city="340100")
    assert amounts(result)["disability_allowance"] == "3600.00"
    allowance = result.items[1].explanation
    assert any(f.figure.key == "wages.minimum_monthly" for f in allowance.figures)
    low = run(date="2016-05-10", grade=4, average_monthly_wage="1000", own_monthly_wage="1500", city="341200")
    # 75 % × 1,500 = 1,125 < M 1,250 (阜阳市区, tier 3 from 2015-11-01): topped up by 125.00
    assert amounts(low)["disability_allowance"] == "1250.00"
    none = run(date="2024-05-10", grade=4, average_monthly_wage="8000")
    assert "minimum_wage" in none.by_field()


def test_every_city_has_a_tier_in_every_minimum_wage_version():
    from portal.regions import province
    for version in benefit_policy().history("wages.minimum_monthly"):
        assert {c.code for c in province().cities} <= set(version.value["cities"])
        assert set(version.value["cities"].values()) <= set(version.value["tiers"])


def test_review_appraisal_adjusts_monthly_items_from_the_next_month_never_the_subsidy():
    result = run(date="2024-05-10", grade=6, average_monthly_wage="8000", care_level="partial",
                 review_grade=4, review_date="2025-12-20")
    got = amounts(result)
    assert got["one_off_disability_subsidy"] == "96000.00"  # 16 × 6,000: grade 6, unchanged
    assert got["disability_allowance"] == "4500.00"  # 75 % × 6,000: grade 4, paid by the fund
    assert result.items[1].payer == "fund"
    notes = " ".join(result.items[1].explanation.notes)
    assert "2026年1月1日起按四级计发" in notes and "人社部发〔2025〕62号第十一条" in notes
    assert "不作调整" in result.items[0].explanation.notes[0]


def test_review_before_the_rule_keeps_the_first_grade_and_says_so():
    result = run(date="2020-05-10", grade=6, average_monthly_wage="8000", review_grade=4, review_date="2025-01-20")
    assert amounts(result)["disability_allowance"] == "3600.00"  # still 60 % (grade 6)
    assert "review_date" in result.by_field()


@pytest.mark.parametrize("fields, field", [
    ({"review_grade": 4}, "review_date"),
    ({"review_date": "2025-01-01"}, "review_grade"),
    ({"review_grade": 4, "review_date": "2020-01-01"}, "review_date"),
    ({"city": "999999"}, "city"),
])
def test_review_and_city_inputs_are_checked(fields, field):
    with pytest.raises(InvalidFacts) as caught:
        run(date="2024-05-10", grade=6, **fields)
    assert field in caught.value.by_field()


def test_policy_versions_do_not_overlap_and_every_income_year_is_there():
    policy = benefit_policy()
    years = [f.value["data_year"] for f in policy.history("benefits.national_urban_income")]
    assert years == list(range(2009, 2026))
    assert all(f.source and f.confidence for key in policy.keys() for f in policy.history(key))
