"""Premium arithmetic, rates and the enrollment state machine: pure functions, no database."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.enrollment.models import UnitAction, UnitStatus
from portal.enrollment.service import (
    UNIT_STATES,
    IllegalUnitTransition,
    band_percent,
    monthly_premium,
    rate_info,
    rate_percent,
    wage_bounds,
)
from portal.errors import ConflictError

ON = date(2026, 11, 1)


@pytest.mark.parametrize("wage, rate, band, amount, formula", [
    ("8000.00", "0.011", "1.0", "88.00", "8,000.00 × 1.10% × 100% = 88.00"),
    ("8000.00", "0.011", "1.2", "105.60", "8,000.00 × 1.10% × 120% = 105.60"),
    ("5184.40", "0.002", "1.0", "10.37", "5,184.40 × 0.20% × 100% = 10.37"),  # 10.3688 -> 10.37
    ("6543.21", "0.019", "1.5", "186.48", "6,543.21 × 1.90% × 150% = 186.48"),  # 186.481485
    ("25922.01", "0.016", "0.5", "207.38", "25,922.01 × 1.60% × 50% = 207.38"),  # 207.37608
    ("1234567.89", "0.011", "1.2", "16296.30", "1,234,567.89 × 1.10% × 120% = 16,296.30"),  # domain.md §7
    ("6250.00", "0.004", "0.8", "20.00", "6,250.00 × 0.40% × 80% = 20.00"),
    ("5625.00", "0.004", "1.0", "22.50", "5,625.00 × 0.40% × 100% = 22.50"),
    ("5312.50", "0.009", "1.0", "47.81", "5,312.50 × 0.90% × 100% = 47.81"),  # 47.8125: half-up
])
def test_monthly_premium_table(wage, rate, band, amount, formula):
    premium = monthly_premium(Decimal(wage), Decimal(rate), Decimal(band), ON)
    assert premium.amount == Decimal(amount)
    assert premium.formula == formula


def test_half_up_at_exactly_half_a_fen():
    # 1000.00 × 0.7% × 50% = 3.5 exactly; 1001.00 × 0.5 × 0.007 = 3.5035 -> 3.50; 1000.5 -> 3.50175 -> 3.50
    assert monthly_premium(Decimal("1000.00"), Decimal("0.007"), Decimal("0.5"), ON).amount == Decimal("3.50")
    assert monthly_premium(Decimal("1.50"), Decimal("0.011"), Decimal("0.5"), ON).amount == Decimal("0.01")  # 0.00825
    assert monthly_premium(Decimal("0.90"), Decimal("0.011"), Decimal("0.5"), ON).amount == Decimal("0.00")  # 0.00495


def test_percent_texts():
    assert rate_percent(Decimal("0.002")) == "0.20%"
    assert rate_percent(Decimal("0.019")) == "1.90%"
    assert band_percent(Decimal("1.00")) == "100%"
    assert band_percent(Decimal("0.5")) == "50%"
    assert band_percent(Decimal("1.2")) == "120%"


def test_rate_info_from_the_industry_table_and_the_clerks_choice():
    info = rate_info("E4710", None, None, ON)
    assert (info.risk_class, info.base_rate, info.band, info.class_name) == (6, Decimal("0.013"), Decimal("1.0"), "六类")
    assert info.base_rate_figure.unconfirmed  # U(sec): the page shows 待核实
    assert info.industry_review is None
    assert rate_info("4910", None, None, ON).risk_class == 5  # 建筑安装业
    assert rate_info("C3311", None, None, ON).risk_class == 4  # 金属制品业
    unknown = rate_info("9810", None, None, ON)  # no division 98 in GB/T 4754-2017
    assert unknown.industry is None and unknown.risk_class is None and unknown.base_rate is None
    assert rate_info("E3311", None, None, ON).industry is None  # 33 is in 门类 C, not E
    chosen = rate_info("C3311", 3, Decimal("1.2"), ON)
    assert (chosen.base_rate, chosen.band, chosen.effective_rate) == (Decimal("0.007"), Decimal("1.2"), Decimal("0.0084"))
    assert (chosen.table_class, chosen.risk_class) == (4, 3)
    assert chosen.bands == tuple(Decimal(b) for b in ("0.5", "0.8", "1.0", "1.2", "1.5"))
    assert rate_info("0610", 1, None, ON).bands == (Decimal("1.0"), Decimal("1.2"), Decimal("1.5"))


def test_wage_bounds_are_sixty_to_three_hundred_percent_of_the_all_urban_average_wage():
    # 国办发〔2019〕13号: the 全口径 series; 2026 wants 2025 data, the latest entered is 2023:
    # 84,532.56 / 12 = 7,044.38; × 0.6 = 4,226.628 -> 4,226.63; × 3 = 21,133.14
    bounds = wage_bounds(ON)
    assert (bounds.floor, bounds.cap) == (Decimal("4226.63"), Decimal("21133.14"))
    assert bounds.text == "4,226.63 元至 21,133.14 元"
    assert bounds.average.key == "wages.all_urban_average" and bounds.data_year == 2023
    assert (bounds.wanted_year, bounds.carried_over) == (2025, True)
    assert bounds.basis_text.startswith("2023年全口径城镇单位就业人员平均工资（月平均 7,044.38 元）的60%～300%")
    assert "2025年数据尚未公布" in bounds.basis_text and "以经办机构核定为准" in bounds.basis_text
    on_time = wage_bounds(date(2024, 3, 1))  # 2024 uses 2023 data, which is there
    assert (on_time.data_year, on_time.carried_over) == (2023, False) and "沿用" not in on_time.basis_text


def test_wage_bounds_never_rest_on_the_non_private_series():
    from portal.policy.figures import figure

    assert figure("wage_base_series", ON).value["key"] == "wages.all_urban_average"
    non_private = figure("wages.non_private_average", date(2023, 6, 30)).decimal("annual")
    assert wage_bounds(ON).cap != (non_private / 12 * 3).quantize(Decimal("0.01"))


def test_wage_bounds_refuse_when_no_year_in_reach_is_published():
    from portal.policy.figures import PolicyDataMissing

    with pytest.raises(PolicyDataMissing, match="全口径城镇单位就业人员平均工资"):
        wage_bounds(date(2028, 1, 1))  # wants 2027 data; reaches back to 2024 at most
    with pytest.raises(PolicyDataMissing):
        wage_bounds(date(2023, 12, 31))  # before the bounds figure is in force


# --- the state machine ----------------------------------------------------------------------------

ACTIONS = list(UnitAction)


@given(st.lists(st.sampled_from(ACTIONS), max_size=12))
def test_no_sequence_of_actions_skips_a_step_or_repeats_one(actions):
    """Whatever order people press buttons in: approved only ever follows submitted, a decision
    never repeats without a new submission, and refused moves change nothing."""
    status = None
    history = []
    for action in actions:
        try:
            after = UNIT_STATES.next_status(status, action)
        except IllegalUnitTransition as exc:
            assert isinstance(exc, ConflictError)
            assert (status, action) not in UNIT_STATES.transitions
            continue
        if after is UnitStatus.APPROVED:
            assert status is UnitStatus.SUBMITTED
        if action in (UnitAction.APPROVE, UnitAction.RETURN):
            assert status is UnitStatus.SUBMITTED
        history.append((status, action, after))
        status = after
    decisions = [a for _, a, _ in history if a in (UnitAction.APPROVE, UnitAction.RETURN)]
    submissions = [a for _, a, _ in history if a is UnitAction.SUBMIT]
    assert len(decisions) <= len(submissions)
    assert sum(1 for _, a, _ in history if a is UnitAction.APPROVE) <= 1
    assert sum(1 for _, a, _ in history if a is UnitAction.CREATE) <= 1
    if status is UnitStatus.APPROVED:
        assert history[-1][1] is UnitAction.APPROVE  # nothing moves an approved unit


def test_approved_is_final_and_drafts_cannot_be_decided():
    for action in ACTIONS:
        with pytest.raises(IllegalUnitTransition):
            UNIT_STATES.next_status(UnitStatus.APPROVED, action)
    with pytest.raises(IllegalUnitTransition):
        UNIT_STATES.next_status(UnitStatus.DRAFT, UnitAction.APPROVE)
    with pytest.raises(IllegalUnitTransition):
        UNIT_STATES.next_status(None, UnitAction.SUBMIT)
