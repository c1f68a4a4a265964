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
from portal.policy.figures import (
    Figure,
    Industry,
    PolicyDataMissing,
    figure,
    industry_for,
)
from portal.policy.figures import (
    industry_sources as industry_sources,  # re-exported for the review page
)

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
    #: the class the industry table gives the code (before any clerk's choice)
    table_class: int | None = None
    #: why the table's class needs a person's check (行业分类需人工核实), for the reviewing clerk only
    industry_review: str | None = None

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
    table_class, review = None, None
    if industry is not None:
        code = (industry_code or "").strip().upper()
        table_class, review = industry.class_for(code[1:] if code[:1].isalpha() else code)
    cls = risk_class or table_class
    base = figure("base_rate", on)
    bands_figure = figure("rate_bands", on)
    base_rate = base.decimal(str(cls)) if cls else None
    bands = bands_for(cls, on) if cls else ()
    return RateInfo(industry=industry, risk_class=cls, base_rate=base_rate,
                    band=band if band is not None else DEFAULT_BAND, bands=bands,
                    base_rate_figure=base, band_figure=bands_figure, table_class=table_class,
                    industry_review=review)


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
    """缴费工资基数上下限 in force on a day, with the average wage (year and series) they rest on."""

    floor: Decimal
    cap: Decimal
    average: Figure  #: the annual average wage used (config/policy/wages.toml)
    bounds: Figure  #: floor and cap as multiples (wage_base_bounds)
    series: Figure  #: which series and data year the rule names (wage_base_series)
    wanted_year: int  #: the data year the rule names for this day

    @property
    def text(self) -> str:
        return f"{yuan(self.floor)} 元至 {yuan(self.cap)} 元"

    @property
    def data_year(self) -> int:
        return int(self.average.value["data_year"])

    @property
    def series_label(self) -> str:
        return str(self.series.value["label"])

    @property
    def monthly_average(self) -> Decimal:
        return to_fen(self.average.decimal("annual") / 12)

    @property
    def carried_over(self) -> bool:
        """True when the year the rule names is not published yet and an earlier one is used."""
        return self.data_year < self.wanted_year

    @property
    def percent_text(self) -> str:
        """'60%～300%'"""
        return f"{self.bounds.decimal('floor') * 100:.0f}%～{self.bounds.decimal('cap') * 100:.0f}%"

    @property
    def basis_text(self) -> str:
        """Which figure the bounds rest on, e.g. '2023年全口径城镇单位就业人员平均工资（月 7,044.38 元）的
        60%～300%'; when carried over, why."""
        text = (f"{self.data_year}年{self.series_label}（月平均 {yuan(self.monthly_average)} 元）的"
                f"{self.percent_text}")
        if self.carried_over:
            text += f"；{self.wanted_year}年数据尚未公布，暂沿用{self.data_year}年数据，以经办机构核定为准"
        return text

    @property
    def unconfirmed(self) -> bool:
        return self.average.unconfirmed or self.bounds.unconfirmed or self.series.unconfirmed


def wage_bounds(on: date) -> WageBounds:
    """[floor × A, cap × A] in force on ``on``, A being the monthly average of the wage series
    ``wage_base_series`` names (全口径城镇单位就业人员平均工资 since 国办发〔2019〕13号: 60 %–300 %) for
    the data year before ``on``'s year; when that year is not published yet the latest earlier
    year (at most ``max_fallback_years`` back) is used and marked as carried over. Each bound is
    rounded to the fen from the unrounded monthly average, so the message and the check agree."""
    bounds = figure("wage_base_bounds", on)
    series = figure("wage_base_series", on)
    wanted = on.year - int(series.value["data_year_lag"])
    oldest = wanted - int(series.value.get("max_fallback_years", 0))
    average = None
    for year in range(wanted, oldest - 1, -1):
        try:
            average = figure(series.value["key"], date(year, 12, 31))
            break
        except PolicyDataMissing:
            continue
    if average is None:
        raise PolicyDataMissing(f"没有{oldest}年至{wanted}年的{series.value['label']}，无法确定"
                                f"{on:%Y年%m月%d日}的缴费工资基数上下限")
    monthly = average.decimal("annual") / 12
    return WageBounds(floor=to_fen(bounds.decimal("floor") * monthly), cap=to_fen(bounds.decimal("cap") * monthly),
                      average=average, bounds=bounds, series=series, wanted_year=wanted)
