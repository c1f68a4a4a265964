"""Rates and monthly premiums (费率与月缴费额) — pure functions, Decimal end to end.

Premium = contribution wage base × industry base rate × floating band (《工伤保险条例》第十条,
第八条; rates from config/policy/enrollment.toml), rounded to the fen by the figure
``premium_rounding`` (half-up; no official rule found, shared/domain.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.money import to_fen, yuan
from portal.policy.figures import Figure, Industry, figure, industry_for

CLASS_NAMES = {1: "一类", 2: "二类", 3: "三类", 4: "四类", 5: "五类", 6: "六类", 7: "七类", 8: "八类"}
DEFAULT_BAND = Decimal("1.0")


def rate_percent(rate: Decimal) -> str:
    """0.011 -> '1.10%': base rates as a percentage of payroll, two decimals."""
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


def band_percent(band: Decimal) -> str:
    """1.2 -> '120%'."""
    value = (band * 100).normalize()
    return f"{value:f}%"


@dataclass(frozen=True)
class RateInfo:
    """What the unit pays per yuan of wage, with where each figure comes from."""

    industry: Industry | None  #: None: the code is not in the table, the clerk assigns the class
    risk_class: int | None
    base_rate: Decimal | None
    band: Decimal
    bands: tuple[Decimal, ...]  #: the bands allowed for the class
    base_rate_figure: Figure
    band_figure: Figure

    @property
    def class_name(self) -> str | None:
        return CLASS_NAMES.get(self.risk_class) if self.risk_class else None

    @property
    def base_rate_text(self) -> str | None:
        return rate_percent(self.base_rate) if self.base_rate is not None else None

    @property
    def band_text(self) -> str:
        return band_percent(self.band)

    @property
    def effective_rate(self) -> Decimal | None:
        return None if self.base_rate is None else self.base_rate * self.band


def bands_for(risk_class: int, on: date) -> tuple[Decimal, ...]:
    return tuple(Decimal(b) for b in figure("rate_bands", on).value[str(risk_class)])


def rate_info(industry_code: str, risk_class: int | None, band: Decimal | None, on: date) -> RateInfo:
    """The rate in force on ``on``; ``risk_class`` overrides the industry table (clerk's choice)."""
    industry = industry_for(industry_code)
    cls = risk_class or (industry.risk_class if industry else None)
    base = figure("base_rate", on)
    bands_figure = figure("rate_bands", on)
    base_rate = base.decimal(str(cls)) if cls else None
    bands = bands_for(cls, on) if cls else ()
    return RateInfo(industry=industry, risk_class=cls, base_rate=base_rate,
                    band=band if band is not None else DEFAULT_BAND, bands=bands,
                    base_rate_figure=base, band_figure=bands_figure)


@dataclass(frozen=True)
class Premium:
    wage: Decimal
    base_rate: Decimal
    band: Decimal
    amount: Decimal

    @property
    def formula(self) -> str:
        """'8,000.00 × 1.10% × 100% = 88.00'"""
        return f"{yuan(self.wage)} × {rate_percent(self.base_rate)} × {band_percent(self.band)} = {yuan(self.amount)}"


def monthly_premium(wage: Decimal, base_rate: Decimal, band: Decimal, on: date) -> Premium:
    """Wage × base rate × band, unrounded until the end, then to the fen."""
    rounding = figure("premium_rounding", on).value
    return Premium(wage=wage, base_rate=base_rate, band=band,
                   amount=to_fen(wage * base_rate * band, rounding))


@dataclass(frozen=True)
class WageBounds:
    floor: Decimal
    cap: Decimal
    average: Figure
    bounds: Figure

    @property
    def text(self) -> str:
        return f"{yuan(self.floor)} 元至 {yuan(self.cap)} 元"


def wage_bounds(on: date) -> WageBounds:
    """[floor × A, cap × A] with A the average monthly wage in force on ``on`` (《工伤保险条例》
    第六十四条: 60 %–300 %), each bound rounded to the fen so the message and the check agree."""
    bounds = figure("wage_base_bounds", on)
    average = figure("average_monthly_wage", on)
    a = average.decimal()
    return WageBounds(floor=to_fen(bounds.decimal("floor") * a), cap=to_fen(bounds.decimal("cap") * a),
                      average=average, bounds=bounds)
