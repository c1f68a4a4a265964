"""Properties of the engine over many generated cases (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.benefits.engine import estimate
from portal.benefits.facts import CareLevel, Dependant, Facts, Outcome, Relation

FAST = settings(max_examples=150, deadline=None)

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000000), places=2)
base = st.decimals(min_value=Decimal(500), max_value=Decimal(60000), places=2)
days = st.integers(min_value=0, max_value=365 * 2 + 1).map(lambda n: date(2024, 1, 1) + timedelta(days=n))
dependant = st.builds(Dependant, st.sampled_from(list(Relation)), st.booleans())


@st.composite
def disability(draw):
    grade = draw(st.integers(1, 10))
    ends = grade >= 5 and draw(st.booleans())
    return Facts(date=draw(days), outcome=Outcome.DISABILITY, grade=grade, own_monthly_wage=draw(money),
                 average_monthly_wage=draw(base), ends_employment=ends,
                 suitable_work=grade in (5, 6) and not ends and draw(st.booleans()),
                 care_level=draw(st.none() | st.sampled_from(list(CareLevel))),
                 paid_leave_days=draw(st.none() | st.integers(0, 730)),
                 years_to_retirement=draw(st.none() | st.decimals(0, 60, places=1)) if ends else None,
                 minimum_wage=draw(st.none() | st.decimals(Decimal(1000), Decimal(3000), places=2)))


@st.composite
def death(draw):
    deps = draw(st.lists(dependant, max_size=8))
    if sum(d.relation is Relation.SPOUSE for d in deps) > 1:
        deps = [d for d in deps if d.relation is not Relation.SPOUSE]
    return Facts(date=draw(days), outcome=Outcome.DEATH, own_monthly_wage=draw(money),
                 average_monthly_wage=draw(base), dependants=tuple(deps), after_paid_leave=draw(st.booleans()))


cases = disability() | death()


@FAST
@given(cases)
def test_amounts_are_never_negative_and_in_fen(facts):
    for item in estimate(facts).items:
        assert item.amount >= 0 and item.amount == item.amount.quantize(Decimal("0.01"))
        assert item.period in ("one_off", "monthly") and item.payer in ("fund", "employer")


@FAST
@given(cases)
def test_explanation_parts_sum_to_the_amount(facts):
    for item in estimate(facts).items:
        assert sum(p.amount for p in item.explanation.parts) == item.amount
        assert item.explanation.basis.startswith("《工伤保险条例》")
        assert item.explanation.figures  # at least the rounding rule
        assert item.explanation.formula.endswith(f"{item.amount:,.2f} 元")


def _own_wage(facts: Facts) -> Decimal:
    a = facts.average_monthly_wage
    return min(max(facts.own_monthly_wage, Decimal("0.6") * a), 3 * a)


@FAST
@given(death())
def test_dependants_total_never_exceeds_the_wage(facts):
    pensions = [i.amount for i in estimate(facts).items if i.code == "dependant_pension"]
    assert len(pensions) == len(facts.dependants)
    assert sum(pensions, Decimal(0)) <= _own_wage(facts)


def _amount(facts: Facts, code: str) -> Decimal:
    return sum((i.amount for i in estimate(facts).items if i.code == code), Decimal(0))


@FAST
@given(disability(), st.integers(1, 9))
def test_more_severe_grade_never_pays_less(facts, grade):
    worse = replace(facts, grade=grade, ends_employment=False, suitable_work=False, years_to_retirement=None)
    better = replace(worse, grade=grade + 1)
    assert _amount(worse, "one_off_disability_subsidy") >= _amount(better, "one_off_disability_subsidy")
    if grade + 1 <= 6:
        assert _amount(worse, "disability_allowance") >= _amount(better, "disability_allowance")
    if grade >= 5:
        leaving_worse = replace(worse, ends_employment=True)
        leaving_better = replace(better, ends_employment=True)
        for code in ("one_off_medical_subsidy", "one_off_employment_subsidy"):
            assert _amount(leaving_worse, code) >= _amount(leaving_better, code)


@FAST
@given(cases, money)
def test_higher_wage_never_pays_less(facts, other):
    low, high = sorted((facts.own_monthly_wage, other))
    a, b = estimate(replace(facts, own_monthly_wage=low)), estimate(replace(facts, own_monthly_wage=high))
    assert a.total_one_off <= b.total_one_off
    for code in ("disability_allowance", "one_off_disability_subsidy"):
        assert _amount(replace(facts, own_monthly_wage=low), code) <= _amount(replace(facts, own_monthly_wage=high), code)
    pensions = lambda r: sum((i.amount for i in r.items if i.code == "dependant_pension"), Decimal(0))
    assert pensions(a) <= pensions(b)


@FAST
@given(death())
def test_uncapped_pensions_are_each_rounded_half_up(facts):
    w = _own_wage(facts)
    rates = [(Decimal("0.4") if d.relation is Relation.SPOUSE else Decimal("0.3")) + (Decimal("0.1") if d.alone else 0)
             for d in facts.dependants]
    plain = [(r * w).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for r in rates]
    if sum(rates) * w <= w and sum(plain) <= w:
        pensions = [i.amount for i in estimate(facts).items if i.code == "dependant_pension"]
        assert pensions == plain
