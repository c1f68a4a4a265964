"""项目工伤保险费: the configured per-mille of the basis (1.5‰ in Anhui), to the fen.

皖人社发〔2023〕21号 三(一)2: 按照建筑安装工程费或工程合同价的1.5‰缴纳. The rate is looked up
for the project's planned start date; a date no version of the figure covers is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.money import capital, to_fen, yuan
from portal.policy.figures import Figure, figure


@dataclass(frozen=True)
class PremiumQuote:
    basis_label: str
    basis_amount: Decimal
    rate: Figure
    rounding: Figure
    amount: Decimal

    @property
    def rate_per_mille(self) -> str:
        return f"{(self.rate.decimal() * 1000).normalize():f}‰"

    @property
    def capital(self) -> str:
        return capital(self.amount)

    @property
    def formula(self) -> str:
        return (f"{self.basis_label} {yuan(self.basis_amount)} 元 × {self.rate_per_mille} "
                f"= {yuan(self.amount)} 元（四舍五入到分）")


def quote(basis_amount: Decimal, on: date, basis_label: str = "工程合同价") -> PremiumQuote:
    rate = figure("project_premium_rate", on=on)
    rounding = figure("premium_rounding", on=on)
    amount = to_fen(basis_amount * rate.decimal(), rounding=str(rounding.value))
    return PremiumQuote(basis_label, basis_amount, rate, rounding, amount)
