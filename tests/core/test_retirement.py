"""法定退休年龄 after the 2025 reform (portal/policy/retirement.py): annex table points, boundary
births, leap days and month ends, and properties over every birth date."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.errors import UserInputError
from portal.policy.retirement import (
    RetirementAge,
    RetirementInputError,
    add_months,
    category_key,
    months_between,
    retirement,
    retirement_age,
    retirement_date,
    rule_summary,
)

#: (sex, original age, birth month, age in years and months, retirement month) — points of the
#: annexed tables (附件1–3 of 《国务院关于渐进式延迟法定退休年龄的办法》) and the last births before them
TABLE = [
    ("male", None, (1964, 12), (60, 0), (2024, 12)),
    ("male", None, (1965, 1), (60, 1), (2025, 2)),
    ("male", None, (1965, 4), (60, 1), (2025, 5)),
    ("male", None, (1965, 5), (60, 2), (2025, 7)),
    ("male", None, (1965, 12), (60, 3), (2026, 3)),
    ("male", None, (1966, 1), (60, 4), (2026, 5)),
    ("male", None, (1976, 8), (62, 11), (2039, 7)),
    ("male", None, (1976, 9), (63, 0), (2039, 9)),
    ("male", None, (1976, 12), (63, 0), (2039, 12)),
    ("female", 55, (1969, 12), (55, 0), (2024, 12)),
    ("female", 55, (1970, 1), (55, 1), (2025, 2)),
    ("female", 55, (1970, 5), (55, 2), (2025, 7)),
    ("female", 55, (1981, 8), (57, 11), (2039, 7)),
    ("female", 55, (1981, 9), (58, 0), (2039, 9)),
    ("female", 50, (1974, 12), (50, 0), (2024, 12)),
    ("female", 50, (1975, 1), (50, 1), (2025, 2)),
    ("female", 50, (1975, 2), (50, 1), (2025, 3)),
    ("female", 50, (1975, 3), (50, 2), (2025, 5)),
    ("female", 50, (1984, 10), (54, 11), (2039, 9)),
    ("female", 50, (1984, 11), (55, 0), (2039, 11)),
    ("female", 50, (1990, 6), (55, 0), (2045, 6)),
]


@pytest.mark.parametrize(("sex", "original", "born", "age", "retires"), TABLE)
def test_annex_table_points(sex, original, born, age, retires):
    for day in (1, 15, 28):
        birth = date(*born, day)
        result = retirement(birth, sex, original)
        assert result.age == RetirementAge(*age)
        assert (result.date.year, result.date.month) == retires
        assert result.date.day == day


def test_births_before_the_reform_keep_the_old_rule_and_later_ones_the_reform():
    old = retirement(date(1964, 12, 31), "male")
    new = retirement(date(1965, 1, 1), "male")
    assert old.figure.valid_to == date(2024, 12, 31) and old.date == date(2024, 12, 31)
    assert new.figure.valid_from == date(2025, 1, 1) and new.date == date(2025, 2, 1)
    assert "国发〔1978〕104号" in old.figure.source and "渐进式延迟法定退休年龄" in new.figure.source
    assert str(new.age) == "60周岁1个月" and str(old.age) == "60周岁"
    assert new.describe() == "男职工，1965年1月出生，法定退休年龄60周岁1个月"


@pytest.mark.parametrize(("birth", "sex", "original", "expected"), [
    (date(1964, 2, 29), "male", None, date(2024, 2, 29)),     # old rule, 60 in a leap year
    (date(1972, 2, 29), "female", 50, date(2022, 2, 28)),     # old rule, 50 in a common year
    (date(1968, 2, 29), "male", None, date(2028, 12, 29)),    # 60y10m
    (date(1972, 2, 29), "female", 55, date(2027, 9, 29)),     # 55y7m
    (date(1976, 2, 29), "female", 50, date(2026, 9, 29)),     # 50y7m
    (date(1980, 2, 29), "male", None, date(2043, 2, 28)),     # 63y, capped, into a common year
    (date(1984, 2, 29), "female", 55, date(2042, 2, 28)),     # 58y, capped
    (date(1965, 1, 31), "male", None, date(2025, 2, 28)),     # 60y1m: still in February
    (date(1975, 7, 31), "female", 50, date(2025, 11, 30)),    # 50y4m: November has 30 days
    (date(1967, 12, 31), "male", None, date(2028, 9, 30)),    # 60y9m
    (date(1975, 12, 31), "female", 50, date(2026, 6, 30)),    # 50y6m: the step boundary in a year end
])
def test_leap_days_and_month_ends(birth, sex, original, expected):
    assert retirement_date(birth, sex, original) == expected


def test_month_arithmetic():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 12, 15), 1) == date(2025, 1, 15)
    assert months_between(date(2024, 1, 31), date(2024, 2, 29)) == 1
    assert months_between(date(2024, 1, 31), date(2024, 2, 28)) == 0
    assert months_between(date(2025, 3, 10), date(2026, 3, 9)) == 11
    assert months_between(date(2025, 3, 10), date(2026, 3, 10)) == 12
    assert months_between(date(2026, 3, 10), date(2025, 3, 10)) == 0


@pytest.mark.parametrize(("sex", "original", "message"), [
    ("male", 50, "只适用于女职工"),
    ("male", 55, "只适用于女职工"),
    ("female", None, "请选择原法定退休年龄"),
    ("female", 60, "只能是50周岁或55周岁"),
    ("female", 45, "只能是50周岁或55周岁"),
    ("other", None, "性别只能是"),
])
def test_categories_the_rule_cannot_place_are_refused(sex, original, message):
    with pytest.raises(RetirementInputError, match=message):
        retirement(date(1980, 1, 1), sex, original)


def test_category_keys():
    assert category_key("male") == category_key("male", 60) == "male"
    assert category_key("female", 50) == "female_50" and category_key("female", 55) == "female_55"


def test_births_no_rule_covers_are_refused_in_chinese():
    with pytest.raises(UserInputError, match="没有适用的法定退休年龄规定"):
        retirement(date(1900, 1, 1), "male")


def test_rule_summary_is_written_from_the_data():
    summary = rule_summary(date(2026, 12, 3))
    assert summary.lines[0] == ("男职工：1964年12月及以前出生的60周岁；1965年1月起，出生时间每4个月延迟1个月；"
                                "1976年9月及以后出生的63周岁")
    assert "1984年11月及以后出生的55周岁" in summary.lines[2]
    assert rule_summary(date(2024, 6, 1)).lines == ("男职工：60周岁", "原法定退休年龄为55周岁的女职工：55周岁",
                                                    "原法定退休年龄为50周岁的女职工：50周岁")


# --- properties ----------------------------------------------------------------------------------

CATEGORIES = st.sampled_from([("male", None, 60, 63), ("female", 55, 55, 58), ("female", 50, 50, 55)])
BIRTHS = st.dates(date(1930, 1, 1), date(2010, 12, 31))


@given(CATEGORIES, BIRTHS, BIRTHS)
def test_later_births_never_retire_earlier_or_younger(category, a, b):
    sex, original, _, _ = category
    early, late = sorted((a, b))
    assert retirement_date(early, sex, original) <= retirement_date(late, sex, original)
    assert retirement_age(early, sex, original) <= retirement_age(late, sex, original)


@given(CATEGORIES, BIRTHS)
def test_ages_stay_between_the_original_age_and_the_cap(category, birth):
    sex, original, low, high = category
    result = retirement(birth, sex, original)
    assert low * 12 <= result.age.total_months <= high * 12
    # the age is reached in the month the tables name: birth month + age in months
    months = (result.date.year - birth.year) * 12 + result.date.month - birth.month
    assert months == result.age.total_months
    assert result.date.day == min(birth.day, calendar.monthrange(result.date.year, result.date.month)[1])
    assert months_between(birth, result.date) == result.age.total_months


@given(CATEGORIES, BIRTHS)
def test_one_birth_month_later_adds_at_most_one_month(category, birth):
    sex, original, _, _ = category
    this = retirement_age(birth.replace(day=1), sex, original).total_months
    following = retirement_age(add_months(birth.replace(day=1), 1), sex, original).total_months
    assert following - this in (0, 1)
