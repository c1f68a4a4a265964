"""法定退休年龄 (statutory retirement age) from the birth date, sex and, for women, the original
category (原法定退休年龄50或55周岁).

Rule: 《国务院关于渐进式延迟法定退休年龄的办法》第一条 (annexed to the 全国人大常委会 decision of
2024-09-13, in force from 2025-01-01): men and women whose original age was 55 are delayed one month
every four months of birth, up to 63 and 58; women whose original age was 50, one month every two
months, up to 55. Before it, 国发〔1978〕104号: 60 / 55 / 50. The parameters (first birth month
delayed, step, increment, cap) are effective-dated data in ``config/policy/retirement.toml``
(figure ``statutory_retirement_age``); the version applied is the one in force on the day the person
reaches the original age, so births before the reform keep the old ages.

Dates: the age is reached on the same day of the month as the birth, that many months later; a day
the target month lacks (29–31) is that month's last day, so the age is always reached in the month
the annex tables name (男1965年1月出生 → 60岁1个月 → 2025年2月). Plain Python: no Flask, no database.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from portal.errors import UserInputError
from portal.policy.figures import Figure, PolicyDataMissing, figure, history

FIGURE_KEY = "statutory_retirement_age"
SEXES = ("male", "female")
SEX_LABELS = {"male": "男", "female": "女"}
#: the original ages a woman's category may have (女工人 50, 女干部 55 under 国发〔1978〕104号)
FEMALE_ORIGINAL_AGES = (50, 55)
CATEGORY_LABELS = {
    "male": "男职工",
    "female_55": "原法定退休年龄为55周岁的女职工",
    "female_50": "原法定退休年龄为50周岁的女职工",
}


class RetirementInputError(UserInputError):
    """Sex or category the rule cannot place (the message says which and what is allowed)."""

    code = "retirement_input"


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months; a missing day becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 when ``end`` is not after ``start``): the largest
    n with ``add_months(start, n) <= end``."""
    if end <= start:
        return 0
    n = (end.year - start.year) * 12 + end.month - start.month
    while n > 0 and add_months(start, n) > end:
        n -= 1
    return n


def _birth_month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


@dataclass(frozen=True, slots=True)
class Category:
    """One row of the rule: a category's original age and how the reform delays it."""

    key: str
    original_age: int
    first_birth_month: date | None = None  #: first birth month delayed (day 1); None: no delay
    step_months: int = 0
    increment_months: int = 0
    max_increment_months: int = 0

    @classmethod
    def from_value(cls, key: str, value: dict[str, Any]) -> Category:
        first = value.get("first_birth_month")
        return cls(key=key, original_age=int(value["original_age"]),
                   first_birth_month=_birth_month(first) if first else None,
                   step_months=int(value.get("step_months", 0)),
                   increment_months=int(value.get("increment_months", 0)),
                   max_increment_months=int(value.get("max_increment_months", 0)))

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self.key]

    def delay_months(self, birth: date) -> int:
        """Months the reform adds for a birth on ``birth`` (0 before the first birth month)."""
        first = self.first_birth_month
        if first is None or (birth.year, birth.month) < (first.year, first.month):
            return 0
        index = (birth.year - first.year) * 12 + birth.month - first.month
        return min(self.max_increment_months, (index // self.step_months + 1) * self.increment_months)

    @property
    def last_step_birth_month(self) -> date | None:
        """The first birth month that gets the full delay (the cap)."""
        if self.first_birth_month is None or not self.increment_months:
            return None
        steps = -(-self.max_increment_months // self.increment_months)
        return add_months(self.first_birth_month, (steps - 1) * self.step_months)

    def describe(self) -> str:
        """One line for pages, from the data: 男职工：1964年12月及以前出生的60周岁；…"""
        last = self.last_step_birth_month
        if self.first_birth_month is None or last is None:
            return f"{self.label}：{self.original_age}周岁"
        final = RetirementAge.of(self.original_age * 12 + self.max_increment_months)
        before = add_months(self.first_birth_month, -1)
        return (f"{self.label}：{before.year}年{before.month}月及以前出生的{self.original_age}周岁；"
                f"{self.first_birth_month.year}年{self.first_birth_month.month}月起，出生时间每{self.step_months}个月"
                f"延迟{self.increment_months}个月；{last.year}年{last.month}月及以后出生的{final}")


@dataclass(frozen=True, slots=True, order=True)
class RetirementAge:
    """An age in whole years and months (e.g. 60周岁1个月)."""

    years: int
    months: int

    @classmethod
    def of(cls, total_months: int) -> RetirementAge:
        return cls(*divmod(total_months, 12))

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    def __str__(self) -> str:
        return f"{self.years}周岁" + (f"{self.months}个月" if self.months else "")


@dataclass(frozen=True, slots=True)
class Retirement:
    """When one person reaches statutory retirement age, and by which rule."""

    birth_date: date
    sex: str
    category: Category
    age: RetirementAge
    date: date  #: the day the age is reached
    figure: Figure  #: the rule version applied (source, confidence)

    def describe(self) -> str:
        """e.g. 原法定退休年龄为50周岁的女职工，1975年1月出生，法定退休年龄50周岁1个月"""
        return (f"{self.category.label}，{self.birth_date.year}年{self.birth_date.month}月出生，"
                f"法定退休年龄{self.age}")


def category_key(sex: str, original_age: int | None = None) -> str:
    """The rule's category for ``sex`` and, for women, the original age (50 or 55)."""
    if sex not in SEXES:
        raise RetirementInputError("性别只能是 male（男）或 female（女）")
    if sex == "male":
        if original_age not in (None, 60):
            raise RetirementInputError("原法定退休年龄（50或55周岁）只适用于女职工，男职工请不要填写")
        return "male"
    if original_age is None:
        raise RetirementInputError("女职工请选择原法定退休年龄：50周岁（一般为女工人）或55周岁（一般为女干部）")
    if original_age not in FEMALE_ORIGINAL_AGES:
        raise RetirementInputError("原法定退休年龄只能是50周岁或55周岁")
    return f"female_{original_age}"


def retirement(birth_date: date, sex: str, original_age: int | None = None) -> Retirement:
    """The statutory retirement age and date of one person (see the module docstring)."""
    key = category_key(sex, original_age)
    for version in history(FIGURE_KEY):
        category = Category.from_value(key, version.value[key])
        if version.covers(add_months(birth_date, category.original_age * 12)):
            break
    else:
        raise PolicyDataMissing(f"{birth_date.year}年{birth_date.month}月出生的{CATEGORY_LABELS[key]}"
                                "没有适用的法定退休年龄规定")
    months = category.original_age * 12 + category.delay_months(birth_date)
    return Retirement(birth_date=birth_date, sex=sex, category=category, age=RetirementAge.of(months),
                      date=add_months(birth_date, months), figure=version)


def retirement_date(birth_date: date, sex: str, original_age: int | None = None) -> date:
    """The day the person reaches statutory retirement age."""
    return retirement(birth_date, sex, original_age).date


def retirement_age(birth_date: date, sex: str, original_age: int | None = None) -> RetirementAge:
    """The statutory retirement age, in years and months."""
    return retirement(birth_date, sex, original_age).age


@dataclass(frozen=True, slots=True)
class RuleSummary:
    """The rule in force on a day, for pages: one line per category, and its source."""

    figure: Figure
    lines: tuple[str, ...]

    @property
    def unconfirmed(self) -> bool:
        return self.figure.unconfirmed


def rule_summary(on: date) -> RuleSummary:
    version = figure(FIGURE_KEY, on)
    lines = tuple(Category.from_value(key, version.value[key]).describe()
                  for key in CATEGORY_LABELS if key in version.value)
    return RuleSummary(version, lines)
