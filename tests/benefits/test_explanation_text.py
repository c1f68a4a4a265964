"""Legal text from data (issue 13 point 3): the explanations and messages of the benefits engine
print the rates, months and periods of the policy data the amounts are computed with, so a figure
changed in ``config/`` changes the text with the amount (pure unit tests: no database)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from portal.benefits.engine import age_reduction, estimate, own_wage_definition
from portal.benefits.facts import InvalidFacts, max_paid_leave_days, parse_facts
from portal.benefits.policy import BenefitPolicy, benefit_policy
from portal.clocks import deadlines
from portal.policy.figures import all_figures

TODAY = date(2026, 11, 23)
LEAVING = {"date": "2024-05-10", "outcome": "disability", "grade": 7, "own_monthly_wage": "3000",
           "average_monthly_wage": "8000", "ends_employment": True, "paid_leave_days": 100}


def policy_with(**values) -> BenefitPolicy:
    """The configured policy with the value of each ``benefits.<name>`` replaced in every version."""
    changed = []
    for f in all_figures():
        name = f.key.removeprefix("benefits.")
        changed.append(dataclasses.replace(f, value=values[name]) if name in values else f)
    return BenefitPolicy(changed)


def run(data, policy=None):
    return estimate(parse_facts(data, today=TODAY), policy, as_of=TODAY)


def item(result, code):
    return next(i for i in result.items if i.code == code)


def text(explanation) -> str:
    return " ".join([explanation.formula, *explanation.notes, *(p.label for p in explanation.parts),
                     *(i.value + i.source for i in explanation.inputs), *(f.shown for f in explanation.figures)])


def test_configured_figures_are_what_the_explanations_print():
    result = run({**LEAVING, "years_to_retirement": "2.5"})
    subsidy = text(item(result, "one_off_disability_subsidy").explanation)
    assert "下限 60%、上限 300%" in subsidy and "受伤前12个月平均月缴费工资" in subsidy
    leave = text(item(result, "paid_leave_wages").explanation)
    assert "原工资（不受60%至300%上下限调整）" in leave
    assert "一般不超过12个月" in leave and "合计不超过24个月" in leave
    employment = text(item(result, "one_off_employment_subsidy").explanation)
    assert "距退休不足1/2/3/4/5年：30%/60%/70%/80%/90%" in employment
    assert "距法定退休年龄不足3年，按70%支付" in employment


def test_changed_figures_change_the_text_with_the_amount():
    policy = policy_with(own_wage_bounds={"floor": "0.5", "cap": "2.5"}, own_wage_months="6",
                         employment_subsidy_age_reduction={"under_2": "0.40", "under_4": "0.75"})
    # 3,800 is under the changed floor (50 % of 8,000 = 4,000): W is 4,000, not 60 % of it (4,800)
    result = run({**LEAVING, "own_monthly_wage": "3800", "years_to_retirement": "2.5"}, policy)
    subsidy = item(result, "one_off_disability_subsidy")
    assert subsidy.amount == Decimal("52000.00")  # 13 × 4,000
    words = text(subsidy.explanation)
    assert "下限 50%、上限 250%" in words and "低于上年度职工月平均工资的50%" in words
    assert "受伤前6个月平均月缴费工资" in words and "60%" not in words and "12个月" not in words
    assert "原工资（不受50%至250%上下限调整）" in text(item(result, "paid_leave_wages").explanation)
    employment = item(result, "one_off_employment_subsidy")
    assert employment.amount == Decimal("120000.00")  # 20 × 8,000 × 75 %
    words = text(employment.explanation)
    assert "距退休不足2/4年：40%/75%" in words and "距法定退休年龄不足4年，按75%支付" in words
    assert "90%" not in words
    # without the years to retirement the note names the farthest step of the data
    plain = run(LEAVING, policy)
    assert "距退休不足4年的按比例递减" in " ".join(item(plain, "one_off_employment_subsidy").explanation.notes)


def test_death_grant_advance_follows_its_figure():
    death = {"date": "2024-05-10", "outcome": "death", "own_monthly_wage": "6000", "average_monthly_wage": "8000"}
    configured = " ".join(item(run(death), "death_grant").explanation.notes)
    assert "可先预支本项的50%" in configured
    changed = " ".join(item(run(death, policy_with(death_grant_advance_rate="0.4")), "death_grant").explanation.notes)
    assert "可先预支本项的40%" in changed and "50%" not in changed


def test_paid_leave_limits_follow_the_clocks_rules(monkeypatch):
    rules, counting = deadlines._data()
    longer = {"paid_leave": 6, "paid_leave_extended": 18}
    patched = tuple(dataclasses.replace(r, length=longer[r.key]) if r.key in longer else r for r in rules)
    monkeypatch.setattr(deadlines, "_data", lambda: (patched, counting))
    assert max_paid_leave_days(date(2024, 5, 10)) == 547  # 18 months at 365 days a year
    notes = " ".join(item(run(LEAVING), "paid_leave_wages").explanation.notes)
    assert "一般不超过6个月" in notes and "合计不超过18个月" in notes and "12个月" not in notes
    with pytest.raises(InvalidFacts) as caught:
        parse_facts({**LEAVING, "paid_leave_days": 548}, today=TODAY)
    assert [e.message for e in caught.value.errors] == [
        "停工留薪期一般不超过6个月，经确认延长的不超过18个月（《工伤保险条例》第三十三条），请填写 0 至 547 天"]
    assert parse_facts({**LEAVING, "paid_leave_days": 547}, today=TODAY).paid_leave_days == 547


def test_paid_leave_before_the_revision_cites_the_2004_text():
    assert max_paid_leave_days(date(2008, 5, 10)) == 730
    old = {**LEAVING, "date": "2008-05-10", "ends_employment": None}
    with pytest.raises(InvalidFacts) as caught:
        parse_facts({**old, "paid_leave_days": 731}, today=TODAY)
    assert "（《工伤保险条例》第三十一条）" in caught.value.errors[0].message
    leave = item(run(old), "paid_leave_wages").explanation
    assert "第三十一条第一款" in leave.basis and "第三十一条第三款" in " ".join(leave.notes)
    assert "合计不超过24个月" in " ".join(leave.notes)


def test_helpers_read_the_figures():
    policy = benefit_policy()
    assert own_wage_definition(policy, date(2024, 5, 10)) == "受伤前12个月平均月缴费工资"
    assert own_wage_definition(BenefitPolicy([]), date(2024, 5, 10)) == "受伤前的平均月缴费工资"
    cuts = age_reduction(policy.at("benefits.employment_subsidy_age_reduction", date(2024, 5, 10)))
    assert cuts[0] == (1, Decimal("0.30")) and cuts[-1] == (5, Decimal("0.90"))


def test_estimator_page_names_the_own_wage_window_from_the_data(client, monkeypatch):
    from portal.policy import figures

    html = client.get("/benefits/estimate").get_data(as_text=True)
    assert "受伤前12个月的平均月缴费工资" in html
    configured = figures.figure

    def six_months(key, on):
        found = configured(key, on)
        return dataclasses.replace(found, value="6") if key == "benefits.own_wage_months" else found

    monkeypatch.setattr(figures, "figure", six_months)
    html = client.get("/benefits/estimate").get_data(as_text=True)
    assert "受伤前6个月的平均月缴费工资" in html and "受伤前12个月" not in html
