"""影响结果最多的因素: which inputs change the estimate most.

Each input is changed by one plausible step (wages +10 %, the grade one step either way, the care
level one step up, leaving or staying, one more dependant), the estimate is run again, and the
changes are ranked by their effect over one year: change of the one-off total plus twelve times
the change of the monthly total. A change the rules refuse (e.g. grade 0) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from portal.benefits.engine import Estimate, estimate
from portal.benefits.facts import (
    CareLevel,
    Dependant,
    Facts,
    InvalidFacts,
    Outcome,
    Relation,
)
from portal.benefits.policy import BenefitPolicy

TEN_PERCENT = Decimal("1.1")
FEN = Decimal("0.01")
CARE_UP = {None: CareLevel.PARTIAL, CareLevel.PARTIAL: CareLevel.MOST, CareLevel.MOST: CareLevel.FULL}


@dataclass(frozen=True, slots=True)
class Effect:
    change: str  #: what was changed, in words
    one_off: Decimal  #: change of the one-off total
    monthly: Decimal  #: change of the recurring monthly total

    @property
    def yearly(self) -> Decimal:
        return self.one_off + 12 * self.monthly


def _variants(facts: Facts, result: Estimate) -> list[tuple[str, Facts]]:
    out = [("本人月工资增加10%",
            replace(facts, own_monthly_wage=(facts.own_monthly_wage * TEN_PERCENT).quantize(FEN)))]
    base = facts.average_monthly_wage or result.base
    if base is not None:
        out.append(("上年度职工月平均工资增加10%",
                    replace(facts, average_monthly_wage=(base * TEN_PERCENT).quantize(FEN))))
    if facts.outcome is Outcome.DISABILITY and facts.grade is not None:
        for step, words in ((-1, "伤残等级重一级"), (1, "伤残等级轻一级")):
            grade = facts.grade + step
            if 1 <= grade <= 10:
                ends = facts.ends_employment and grade >= 5
                out.append((f"{words}（{grade}级）", replace(
                    facts, grade=grade, ends_employment=ends,
                    suitable_work=facts.suitable_work and grade in (5, 6),
                    leaving_date=facts.leaving_date if ends else None,
                    years_to_retirement=facts.years_to_retirement if ends else None)))
        if facts.care_level in CARE_UP:
            level = CARE_UP[facts.care_level]
            out.append((f"生活护理等级为“{level.label}”", replace(facts, care_level=level)))
        if facts.grade >= 5 and not facts.suitable_work:
            if facts.ends_employment:
                out.append(("不解除劳动关系", replace(facts, ends_employment=False, leaving_date=None,
                                                      years_to_retirement=None)))
            else:
                out.append(("解除或终止劳动关系", replace(facts, ends_employment=True)))
    if facts.outcome is Outcome.DEATH:
        out.append(("增加一位供养亲属（非配偶）",
                    replace(facts, dependants=facts.dependants + (Dependant(Relation.CHILD),))))
    return out


def effects(facts: Facts, result: Estimate, policy: BenefitPolicy | None = None, limit: int = 4) -> list[Effect]:
    """The changes ranked by their effect over a year, largest first (at most ``limit``)."""
    found = []
    for words, variant in _variants(facts, result):
        try:
            other = estimate(variant, policy, as_of=result.as_of)
        except InvalidFacts:
            continue
        effect = Effect(words, other.total_one_off - result.total_one_off,
                        other.total_monthly - result.total_monthly)
        found.append(effect)
    found.sort(key=lambda e: abs(e.yearly), reverse=True)
    return found[:limit]
