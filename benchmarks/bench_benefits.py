"""Benefits engine: estimates per second for a mixed batch of 100,000 cases, as a ratio against
the same arithmetic written as a bare function without explanations.

Target (issue 6): the explanation may cost at most a small constant factor; we hold it to 10x.
Both sides use Decimal and the same policy figures, looked up once per case; the bare function
returns (code, amount) pairs and nothing else. The batch mixes every grade, leaving and staying,
care levels, wages below, within and above the 60 %/300 % band, and deaths with 0-6 dependants.
"""

from __future__ import annotations

import random
import time
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from portal.benefits.engine import estimate
from portal.benefits.facts import CareLevel, Dependant, Facts, Outcome, Relation
from portal.benefits.policy import benefit_policy

CASES = 100_000
TARGET = 10.0
FEN = Decimal("0.01")


def batch(n: int = CASES, seed: int = 6) -> list[Facts]:
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        day = date(2024, rng.randint(1, 12), rng.randint(1, 28))
        wage = Decimal(rng.randint(200_000, 3_000_000)) / 100
        base = None if rng.random() < 0.5 else Decimal(rng.randint(500_000, 1_200_000)) / 100
        if rng.random() < 0.8:
            grade = rng.randint(1, 10)
            ends = grade >= 5 and rng.random() < 0.5
            cases.append(Facts(date=day, outcome=Outcome.DISABILITY, grade=grade, own_monthly_wage=wage,
                               average_monthly_wage=base, ends_employment=ends,
                               care_level=rng.choice([None, None, *CareLevel]),
                               years_to_retirement=Decimal(rng.randint(0, 20)) if ends and rng.random() < 0.3 else None))
        else:
            deps = [Dependant(Relation.SPOUSE)] if rng.random() < 0.7 else []
            deps += [Dependant(rng.choice(list(Relation)[1:]), rng.random() < 0.2) for _ in range(rng.randint(0, 5))]
            cases.append(Facts(date=day, outcome=Outcome.DEATH, own_monthly_wage=wage, average_monthly_wage=base,
                               dependants=tuple(deps)))
    return cases


def bare(facts: Facts, policy) -> list[tuple[str, Decimal]]:
    """The same rules as the engine, amounts only."""
    on = facts.date
    r = lambda x: x.quantize(FEN, rounding=ROUND_HALF_UP)
    a = facts.average_monthly_wage or Decimal(policy.at("benefits.average_monthly_wage", on).value["monthly"])
    bounds = policy.at("benefits.own_wage_bounds", on).value
    w = min(max(facts.own_monthly_wage, Decimal(bounds["floor"]) * a), Decimal(bounds["cap"]) * a)
    out = []
    if facts.outcome is Outcome.DISABILITY:
        g = str(facts.grade)
        out.append(("one_off_disability_subsidy", r(Decimal(policy.at("benefits.disability_subsidy_months", on).value[g]) * w)))
        if facts.grade <= 4 or (facts.grade <= 6 and not facts.ends_employment):
            out.append(("disability_allowance", r(Decimal(policy.at("benefits.disability_allowance_rate", on).value[g]) * w)))
        if facts.care_level:
            out.append(("care_allowance", r(Decimal(policy.at("benefits.care_allowance_rate", on).value[facts.care_level.value]) * a)))
        if facts.grade >= 5 and facts.ends_employment and not (facts.years_to_retirement is not None and facts.years_to_retirement <= 0):
            out.append(("one_off_medical_subsidy", r(Decimal(policy.at("benefits.medical_subsidy_months", on).value[g]) * a)))
            share = Decimal(1)
            yl = facts.years_to_retirement
            if yl is not None and yl < 5:
                share = Decimal(policy.at("benefits.employment_subsidy_age_reduction", on).value[f"under_{int(yl) + 1}"])
            out.append(("one_off_employment_subsidy", r(Decimal(policy.at("benefits.employment_subsidy_months", on).value[g]) * a * share)))
        return out
    out.append(("funeral_grant", r(Decimal(policy.at("benefits.funeral_grant_months", on).value) * a)))
    out.append(("death_grant", r(Decimal(policy.at("benefits.death_grant_multiple", on).value)
                                 * Decimal(policy.at("benefits.national_urban_income", on).value["annual"]))))
    rates = policy.at("benefits.dependant_pension_rate", on).value
    bonus = Decimal(policy.at("benefits.dependant_pension_alone_increase", on).value["points"])
    raws = [(Decimal(rates["spouse"] if d.relation is Relation.SPOUSE else rates["other"]) + (bonus if d.alone else 0)) * w
            for d in facts.dependants]
    total = sum(raws, Decimal(0))
    cap = w.quantize(FEN, rounding=ROUND_FLOOR)
    amounts = [r(x) for x in raws]
    if total > w or sum(amounts) > cap:
        shares = [x * w / total for x in raws] if total > w else raws
        fen = [x * 100 for x in shares]
        floors = [f.to_integral_value(rounding=ROUND_FLOOR) for f in fen]
        left = int(cap * 100 - sum(floors))
        for i in sorted(range(len(fen)), key=lambda i: (-(fen[i] - floors[i]), i))[:left]:
            floors[i] += 1
        amounts = [(f / 100).quantize(FEN) for f in floors]
    out.extend(("dependant_pension", x) for x in amounts)
    return out


def _rate(fn, cases) -> float:
    start = time.perf_counter()
    for facts in cases:
        fn(facts)
    return len(cases) / (time.perf_counter() - start)


def main(n: int = CASES) -> dict:
    cases = batch(n)
    policy = benefit_policy()
    # the two must agree on every amount, or the comparison means nothing
    for facts in cases[:2000]:
        assert [(i.code, i.amount) for i in estimate(facts, policy).items] == bare(facts, policy), facts
    engine_rate = _rate(lambda f: estimate(f, policy), cases)
    bare_rate = _rate(lambda f: bare(f, policy), cases)
    json_rate = _rate(lambda f: estimate(f, policy).as_dict(), cases[: n // 10])
    ratio = bare_rate / engine_rate
    print(f"benefits: engine {engine_rate:,.0f} estimates/s with explanations ({n:,} mixed cases), bare arithmetic "
          f"{bare_rate:,.0f}/s, explanation cost = {ratio:.2f}x (target <= {TARGET:.0f}x) "
          f"{'OK' if ratio <= TARGET else 'OVER TARGET'}; engine + JSON rendering {json_rate:,.0f}/s")
    return {"engine_per_s": engine_rate, "bare_per_s": bare_rate, "ratio": ratio, "json_per_s": json_rate}


if __name__ == "__main__":
    main()
