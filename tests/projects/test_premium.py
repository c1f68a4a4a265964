"""Premium arithmetic: 1.5‰ of the basis, half-up to the fen, in figures and 大写 (domain.md §7)."""

from datetime import date
from decimal import Decimal

import pytest

from portal.policy.figures import PolicyDataMissing
from portal.projects.service import quote


@pytest.mark.parametrize("basis, premium, capital", [
    ("12345678.90", "18518.52", "壹万捌仟伍佰壹拾捌元伍角贰分"),  # domain.md §7 worked example
    ("10000000.00", "15000.00", "壹万伍仟元整"),
    ("1.00", "0.00", "零元整"),
    ("3.00", "0.00", "零元整"),         # 0.0045 → 0.00 (half-up at the fen looks at 0.0045 only)
    ("4.00", "0.01", "壹分"),           # 0.006 → 0.01
    ("10.00", "0.02", "贰分"),          # 0.015 → 0.02 (half-up, not banker's)
    ("333.33", "0.50", "伍角"),         # 0.499995 → 0.50
    ("999999999999.99", "1500000000.00", "壹拾伍亿元整"),
])
def test_premium_table(basis, premium, capital):
    q = quote(Decimal(basis), date(2024, 1, 1))
    assert q.amount == Decimal(premium)
    assert q.capital.endswith(capital)


def test_formula_names_basis_rate_and_source():
    q = quote(Decimal("12345678.90"), date(2026, 5, 1))
    assert q.formula == "工程合同价 12,345,678.90 元 × 1.5‰ = 18,518.52 元（四舍五入到分）"
    assert "皖人社发〔2023〕21号" in q.rate.source and not q.rate.unconfirmed
    assert q.capital == "壹万捌仟伍佰壹拾捌元伍角贰分"


def test_dates_before_the_figure_are_refused():
    with pytest.raises(PolicyDataMissing, match="2023年12月31日"):
        quote(Decimal("100.00"), date(2023, 12, 31))
