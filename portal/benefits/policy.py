"""The benefit figures in ``config/policy/benefits.toml``, indexed by key and date.

Built on :mod:`portal.policy.figures` (same file format, same :class:`Figure`), with an index so
the engine looks a figure up by bisection: a monthly payroll computes hundreds of thousands of
items. A date no version covers is refused by the engine with a message naming the figure and the
dates the data do cover; nothing falls back to another year's figure.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path

from portal.policy.figures import Figure, figures_of, policy_files

#: the figures this area reads: its own, and the published wage statistics (wages.toml,
#: minimum_wages.toml) that enrollment reads too
PREFIXES = ("benefits.", "wages.")

#: what each figure is, as pages and explanations name it (also the order of the tables page)
LABELS: dict[str, str] = {
    "benefits.base_series": "待遇基数（上年度职工月平均工资）采用的统计口径",
    "wages.non_private_average": "全省城镇非私营单位就业人员平均工资",
    "wages.city_non_private_average": "各市城镇非私营单位就业人员平均工资（2024年省级统筹前的待遇基数）",
    "wages.all_urban_average": "全省全口径城镇单位就业人员平均工资（缴费基数上下限）",
    "wages.minimum_monthly": "月最低工资标准（伤残津贴的下限）",
    "benefits.own_wage_bounds": "本人工资的下限和上限（上年度职工月平均工资的比例）",
    "benefits.own_wage_months": "本人工资：受伤（患职业病）前多少个月的平均月缴费工资",
    "benefits.disability_subsidy_months": "一次性伤残补助金（本人工资的月数）",
    "benefits.disability_allowance_rate": "伤残津贴（本人工资的比例）",
    "benefits.care_allowance_rate": "生活护理费（上年度职工月平均工资的比例）",
    "benefits.medical_subsidy_months": "一次性工伤医疗补助金（上年度职工月平均工资的月数）",
    "benefits.employment_subsidy_months": "一次性伤残就业补助金（上年度职工月平均工资的月数）",
    "benefits.employment_subsidy_age_reduction": "一次性伤残就业补助金：临近法定退休年龄的递减比例",
    "benefits.funeral_grant_months": "丧葬补助金（上年度职工月平均工资的月数）",
    "benefits.death_grant_months": "一次性工亡补助金（2011年前：上年度职工月平均工资的月数）",
    "benefits.death_grant_multiple": "一次性工亡补助金（上一年度全国城镇居民人均可支配收入的倍数）",
    "benefits.death_grant_advance_rate": "下落不明职工的近亲属生活有困难的，可预支一次性工亡补助金的比例",
    "benefits.national_urban_income": "上一年度全国城镇居民人均可支配收入",
    "benefits.dependant_pension_rate": "供养亲属抚恤金（本人工资的比例）",
    "benefits.dependant_pension_alone_increase": "孤寡老人、孤儿抚恤金的增加幅度",
    "benefits.dependant_pension_cap": "供养亲属抚恤金之和的上限及缩减方法",
    "benefits.rounding": "金额舍入规则",
    "benefits.statistics_published_by": "年度统计数字一般公布的日期",
    "benefits.provisional_rule": "统计数字尚未公布时暂按前一年度核定",
    "benefits.review_adjustment": "复查鉴定伤残等级变化后的待遇调整",
    #: not a benefits.* figure (config/policy/retirement.toml), shown in the subsidies' explanation
    "statutory_retirement_age": "法定退休年龄（渐进式延迟法定退休年龄）",
}


class BenefitPolicy:
    """Every version of every ``benefits.*`` figure, sorted by ``valid_from``."""

    def __init__(self, figures: Iterable[Figure]):
        by_key: dict[str, list[Figure]] = {}
        for f in figures:
            if f.key.startswith(PREFIXES):
                by_key.setdefault(f.key, []).append(f)
        self._versions = {k: sorted(v, key=lambda f: f.valid_from) for k, v in by_key.items()}
        self._starts = {k: [f.valid_from for f in v] for k, v in self._versions.items()}
        self._check()

    def _check(self) -> None:
        for key, versions in self._versions.items():
            for earlier, later in zip(versions, versions[1:]):
                if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                    raise ValueError(f"policy figure {key}: versions from {earlier.valid_from} and "
                                     f"{later.valid_from} overlap")

    def at(self, key: str, on: date) -> Figure | None:
        """The version of ``key`` in force on ``on``, or None when no version covers it."""
        starts = self._starts.get(key)
        if not starts:
            return None
        index = bisect_right(starts, on) - 1
        if index < 0:
            return None
        version = self._versions[key][index]
        if version.valid_to is not None and on > version.valid_to:
            return None
        return version

    def history(self, key: str) -> list[Figure]:
        return list(self._versions.get(key, ()))

    def coverage(self, key: str) -> tuple[date, date | None] | None:
        """First and last day any version covers (None = open-ended), for messages."""
        versions = self._versions.get(key)
        if not versions:
            return None
        return versions[0].valid_from, versions[-1].valid_to

    def keys(self) -> list[str]:
        ordered = [k for k in LABELS if k in self._versions]
        return ordered + sorted(k for k in self._versions if k not in LABELS)


def benefit_policy() -> BenefitPolicy:
    """The benefit figures of the province in use (``config_dir``), indexed once per set of files."""
    return _benefit_policy(policy_files())


@lru_cache(maxsize=4)
def _benefit_policy(files: tuple[Path, ...]) -> BenefitPolicy:
    return BenefitPolicy(figures_of(files))


def label(key: str) -> str:
    return LABELS.get(key, key)
