"""The benefits rules engine (待遇计算): facts of a case in, every benefit item that applies out.

Plain Python: no Flask, no database. Each :class:`Item` carries its amount (``Decimal``, rounded
once to the fen, half-up, from unrounded inputs: ``benefits.rounding``), who pays it (``fund`` 工伤
保险基金 or ``employer`` 用人单位), whether it is paid once (``one_off``) or every month
(``monthly``), and its :class:`Explanation`: the formula with the numbers, the inputs and where
each came from, the policy figures used with their effective dates, sources and confidence, the
parts that add up to the amount, and the legal basis.

Rules (《工伤保险条例》, "R"; shared/domain.md §6):

- ``W`` 本人工资 = the worker's own monthly wage, bounded to [60 %, 300 %] of ``A`` (R 64).
- ``A`` 待遇基数 = the average monthly wage of the previous year of the series ``benefits.base_series``
  names on the injury (death) date: the province's from 2024-01-01 (provincial pooling), the city's
  (``city``) before; the subsidies on leaving use the leaving date when given. A figure typed in
  (``average_monthly_wage``) overrides the configured one.
- A yearly statistic (A, the national income) not published yet on the day of the estimate
  (``as_of``), or published but not entered, is taken provisionally from the year before and the
  item says so: the amount is re-determined and the difference paid once it is published
  (人社部发〔2013〕34号 第十四条). A figure that cannot be had at all is named at its field, and every
  item that does not need it is still computed (:attr:`Estimate.field_notes`).
- Before 2011-01-01 the 2004 text applies: other one-off disability subsidy months, and a death
  grant of 48–60 months of A instead of 20 × the national income.
- A review appraisal (复查鉴定) that changes the grade adjusts the allowance and the care
  allowance from the month after its conclusion, never the one-off subsidy (人社部发〔2025〕62号
  第十一条, ``benefits.review_adjustment``).
- Grades 1–4 (R 35): one-off disability subsidy 27/25/23/21 × W (fund); monthly disability
  allowance 90/85/80/75 % × W (fund), topped up by the fund to the local minimum wage when given.
  No subsidies on leaving: the worker keeps the employment relation.
- Grades 5–6 (R 36): subsidy 18/16 × W (fund). While the relation continues and the employer
  cannot arrange suitable work: allowance 70/60 % × W paid by the EMPLOYER (topped up by the
  employer to the minimum wage). When the worker ends the relation: one-off medical subsidy
  (fund) and one-off employment subsidy (employer), months × A by the Anhui decree (U(sec)).
- Grades 7–10 (R 37): subsidy 13/11/9/7 × W (fund); on leaving, the two subsidies as above.
- Care allowance (R 34): 50/40/30 % × A monthly, fund, any grade whose care level is confirmed.
- Paid leave (R 33): the original wage, monthly, employer.
- Death (R 39): funeral grant 6 × A (fund); death grant 20 × the national urban per-capita
  disposable income of the year before the death (fund) — not when a grade 1–4 worker dies after
  the paid leave; one pension per dependant, monthly, fund: spouse 40 %, others 30 % of W, +10
  points for an orphan or a lone elderly dependant; their sum at most W, scaled proportionally
  with the largest-remainder fen allocation when over (Q14, U(none)).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from portal.benefits.facts import (
    REVISION_START,
    CareLevel,
    Facts,
    FieldError,
    InvalidFacts,
    Outcome,
    Relation,
    cn_date,
)
from portal.benefits.policy import BenefitPolicy, benefit_policy, label
from portal.clocks import service as clocks
from portal.localtime import local_today
from portal.policy.figures import Figure
from portal.policy.retirement import months_between, retirement
from portal.regions import province

FUND = "fund"
EMPLOYER = "employer"
ONE_OFF = "one_off"
MONTHLY = "monthly"

PAYER_LABELS = {FUND: "工伤保险基金", EMPLOYER: "用人单位"}
PERIOD_LABELS = {ONE_OFF: "一次性", MONTHLY: "按月"}

#: every item code, in the order items are listed, with its Chinese name
CODES = {
    "one_off_disability_subsidy": "一次性伤残补助金",
    "disability_allowance": "伤残津贴",
    "care_allowance": "生活护理费",
    "paid_leave_wages": "停工留薪期工资",
    "one_off_medical_subsidy": "一次性工伤医疗补助金",
    "one_off_employment_subsidy": "一次性伤残就业补助金",
    "funeral_grant": "丧葬补助金",
    "death_grant": "一次性工亡补助金",
    "dependant_pension": "供养亲属抚恤金",
}

GRADE_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级", 6: "六级", 7: "七级", 8: "八级",
               9: "九级", 10: "十级"}
HUNDRED = Decimal(100)
FEN = Decimal("0.01")
ZERO = Decimal("0.00")
LEAVE_MONTH_DAYS = Decimal(30)


def yuan(amount: Decimal) -> str:
    """12345.6 -> '12,345.60' (exact: no float)."""
    return f"{amount:,.2f}"


@lru_cache(maxsize=8192)
def num(value: Decimal) -> str:
    """A figure as written in a formula: 8640.67 -> '8,640.67'; 0.75 -> '0.75'; 27 -> '27'."""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}.{frac}" if abs(value) >= 1000 else text


@lru_cache(maxsize=256)
def pct(rate: Decimal) -> str:
    return f"{format((rate * HUNDRED).normalize(), 'f')}%"


@dataclass(frozen=True, slots=True)
class InputUse:
    """A fact the formula used and where it came from."""

    name: str
    label: str
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class FigureUse:
    """A policy figure the formula used: which version, and the entry of it that applied."""

    figure: Figure
    shown: str

    @property
    def unconfirmed(self) -> bool:
        return self.figure.unconfirmed

    def as_dict(self) -> dict:
        f = self.figure
        return {"key": f.key, "label": label(f.key), "value": self.shown,
                "valid_from": f.valid_from.isoformat(),
                "valid_to": f.valid_to.isoformat() if f.valid_to else None,
                "source": f.source, "confidence": f.confidence, "unconfirmed": f.unconfirmed}


@dataclass(frozen=True, slots=True)
class Part:
    """One addend of the amount; the parts of an item sum exactly to its amount."""

    label: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Explanation:
    """为什么是这个金额: everything needed to redo the sum by hand."""

    title: str
    formula: str
    inputs: tuple[InputUse, ...]
    figures: tuple[FigureUse, ...]
    parts: tuple[Part, ...]
    basis: str
    notes: tuple[str, ...] = ()
    #: why the amount is provisional (a statistic of a later year is not published or not entered)
    provisional: str = ""

    @property
    def unconfirmed(self) -> bool:
        """A figure behind the amount is not confirmed (the rounding rule, shown with its own
        badge in the figures, does not mark every item)."""
        return any(f.unconfirmed and f.figure.key != "benefits.rounding" for f in self.figures)

    def as_dict(self) -> dict:
        return {"title": self.title, "formula": self.formula,
                "inputs": [{"name": i.name, "label": i.label, "value": i.value, "source": i.source}
                           for i in self.inputs],
                "figures": [f.as_dict() for f in self.figures],
                "parts": [{"label": p.label, "amount": str(p.amount)} for p in self.parts],
                "legal_basis": self.basis, "notes": list(self.notes),
                "unconfirmed": self.unconfirmed, "provisional": self.provisional or None}


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    amount: Decimal
    period: str  #: "one_off" | "monthly"
    payer: str  #: "fund" | "employer"
    explanation: Explanation

    @property
    def title(self) -> str:
        return self.explanation.title

    @property
    def payer_label(self) -> str:
        return PAYER_LABELS[self.payer]

    @property
    def period_label(self) -> str:
        return PERIOD_LABELS[self.period]

    def as_dict(self) -> dict:
        return {"code": self.code, "amount": str(self.amount), "period": self.period,
                "payer": self.payer, "explanation": self.explanation.as_dict()}


@dataclass(frozen=True, slots=True)
class Estimate:
    facts: Facts
    items: tuple[Item, ...]
    notes: tuple[str, ...] = ()
    #: messages that belong beside a field without refusing the case: a figure that is missing
    #: (the items needing it are left out) or taken provisionally from an earlier year
    field_notes: tuple[FieldError, ...] = ()
    #: the day the estimate is made: decides which yearly figures count as published
    as_of: date | None = None
    #: A on the injury (death) date, configured or typed (None when it could not be had)
    base: Decimal | None = None

    @property
    def total_one_off(self) -> Decimal:
        return sum((i.amount for i in self.items if i.period == ONE_OFF), ZERO)

    @property
    def total_monthly(self) -> Decimal:
        """Recurring monthly amounts, without the wages of the paid leave (a passing stage)."""
        return sum((i.amount for i in self.items if i.period == MONTHLY and i.code != "paid_leave_wages"), ZERO)

    @property
    def unconfirmed(self) -> bool:
        return any(i.explanation.unconfirmed for i in self.items)

    @property
    def provisional(self) -> bool:
        """Some amount rests on an earlier year's statistic and will be re-determined."""
        return any(i.explanation.provisional for i in self.items)

    @property
    def provisional_note(self) -> str:
        """The one plain sentence the page shows when :attr:`provisional`."""
        if not self.provisional:
            return ""
        return ("部分金额所用的年度统计数字尚未公布或本系统尚未录入，暂按之前年度的数字计算；"
                "数字公布后由经办机构重新核定，差额补发。具体见各项说明。")

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for n in self.field_notes:
            out.setdefault(n.field, []).append(n.message)
        return out

    def as_dict(self) -> dict:
        return {"items": [i.as_dict() for i in self.items],
                "totals": {"one_off": str(self.total_one_off), "monthly": str(self.total_monthly)},
                "notes": list(self.notes), "provisional": self.provisional,
                "field_notes": [n.as_dict() for n in self.field_notes]}


class PolicyGap(InvalidFacts):
    """The facts are well-formed but no policy data cover them (a date before or after the data)."""

    code = "benefit_policy_missing"


@dataclass
class _Context:
    facts: Facts
    policy: BenefitPolicy
    rounding: str
    rounding_use: FigureUse
    as_of: date
    #: figures that could not be had: named at their field, the items needing them left out
    errors: list[FieldError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: figures taken provisionally from an earlier year, said at their field
    provisional: list[FieldError] = field(default_factory=list)

    def round(self, value: Decimal) -> Decimal:
        return value.quantize(FEN, rounding=self.rounding)

    def need(self, key: str, on: date, field_name: str = "date") -> Figure | None:
        found = self.policy.at(key, on)
        if found is None:
            self.errors.append(FieldError(field_name, _gap_message(self.policy, key, on)))
        return found


def _gap_message(policy: BenefitPolicy, key: str, on: date) -> str:
    span = policy.coverage(key)
    what = label(key)
    if span is None:
        return f"未配置政策数据：{what}"
    start, end = span
    covered = f"{cn_date(start)}至{cn_date(end)}" if end else f"{cn_date(start)}起"
    return f"{cn_date(on)}没有适用的“{what}”数据（已有数据适用于{covered}），本项无法测算"


@dataclass(frozen=True, slots=True)
class _Statistic:
    """A yearly statistic as used: the version, and why it is provisional (empty when final)."""

    figure: Figure
    wanted: int  #: the data year the rule names
    provisional: str

    @property
    def year(self) -> int:
        return int(self.figure.value["data_year"])


def _statistic(ctx: _Context, key: str, wanted: int, field_name: str, what: str,
               entry: str | None = None) -> _Statistic | None:
    """The figure ``key`` of data year ``wanted`` (its ``entry`` when the value is a table, e.g. a
    city); else, per 人社部发〔2013〕34号 第十四条, an earlier year's, marked provisional with why;
    else None, with the figure named at ``field_name``."""

    def version(year: int) -> Figure | None:
        found = ctx.policy.at(key, date(year, 12, 31))
        if found is None or (entry is not None and entry not in found.value["annual"]):
            return None
        return found

    found = version(wanted)
    if found is not None:
        return _Statistic(found, wanted, "")
    published = _published_by(ctx.policy, key, wanted)
    pending = published is not None and ctx.as_of < published
    rule = ctx.policy.at("benefits.provisional_rule", ctx.as_of)
    back = int(rule.value["max_fallback_years"]) if rule is not None else 1
    for year in range(wanted - 1, wanted - back - 1, -1):
        earlier = version(year)
        if earlier is None:
            continue
        if pending and year == wanted - 1:
            basis = f"（{rule.value['basis']}）" if rule is not None else ""
            why = (f"{wanted}年{what}尚未公布（一般于{cn_date(published)}前公布），按规定暂按{year}年的数字核定，"
                   f"公布后重新核定、补发差额{basis}")
        else:
            why = (f"{wanted}年{what}本系统尚未录入，暂按{year}年的数字估算；经办机构按{wanted}年的数字核定，"
                   "以核定为准")
            if field_name == "average_monthly_wage":
                why += "。您知道该数字的，可以在此填写"
        ctx.provisional.append(FieldError(field_name, why))
        return _Statistic(earlier, wanted, why)
    if pending:
        message = f"{wanted}年{what}尚未公布（一般于{cn_date(published)}前公布），之前年度的数字本系统也没有，需要它的项目无法测算"
    else:
        message = f"本系统没有{wanted}年{what}，需要它的项目无法测算"
    if field_name == "average_monthly_wage":
        message += "；请填写经办机构公布的数字"
    ctx.errors.append(FieldError(field_name, message))
    return None


def _published_by(policy: BenefitPolicy, key: str, year: int) -> date | None:
    """The day by which the figure ``key`` of ``year`` is normally published (the year after)."""
    rule = policy.at("benefits.statistics_published_by", date(year + 1, 1, 1))
    if rule is None or key not in rule.value:
        return None
    month, day = (int(part) for part in rule.value[key].split("-"))
    return date(year + 1, month, day)


def estimate(facts: Facts, policy: BenefitPolicy | None = None, *, as_of: date | None = None) -> Estimate:
    """Every benefit item the facts give rise to, as determined on ``as_of`` (default: today).

    A figure that cannot be had leaves out the items that need it and is named at its field
    (:attr:`Estimate.field_notes`); only when no item at all can be computed is the case refused
    with :class:`PolicyGap`, naming those figures."""
    policy = policy or benefit_policy()
    as_of = as_of or local_today()
    rounding_figure = policy.at("benefits.rounding", facts.date)
    if rounding_figure is None:
        raise PolicyGap([FieldError("date", _gap_message(policy, "benefits.rounding", facts.date))])
    mode = rounding_figure.value
    ctx = _Context(facts, policy, getattr(decimal, mode),
                   FigureUse(rounding_figure, "四舍五入到分" if mode == "ROUND_HALF_UP" else mode), as_of)
    base = _base(ctx, facts.date, "死亡日期" if facts.outcome is Outcome.DEATH else "受伤日期")
    if facts.outcome is Outcome.DEATH:
        items = _death(ctx, base)
    else:
        items = _disability(ctx, base)
    gaps = _unique(ctx.errors)
    if not items and gaps:
        raise PolicyGap(gaps)
    return Estimate(facts, tuple(items), tuple(ctx.notes), _unique(gaps + _unique(ctx.provisional)), as_of,
                    base.amount if base is not None else None)


def _unique(errors: list[FieldError]) -> list[FieldError]:
    seen, unique = set(), []
    for e in errors:
        if (e.field, e.message) not in seen:
            seen.add((e.field, e.message))
            unique.append(e)
    return unique


# --- shared pieces --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Base:
    amount: Decimal
    use: InputUse
    figure: FigureUse | None
    provisional: str = ""  #: why A is an earlier year's figure (empty when final or typed)


def _base(ctx: _Context, on: date, why: str) -> _Base | None:
    """A: typed in, or the configured average of the year before ``on`` in the series
    ``benefits.base_series`` names on ``on`` (the city's before provincial pooling)."""
    typed = ctx.facts.average_monthly_wage
    if typed is not None:
        return _Base(typed, InputUse("average_monthly_wage", "上年度职工月平均工资 A", yuan(typed),
                                     "您填写的数字（代替系统配置的数字）"), None)
    series = ctx.policy.at("benefits.base_series", on)
    if series is None:
        ctx.errors.append(FieldError("average_monthly_wage", _gap_message(ctx.policy, "benefits.base_series", on)))
        return None
    city = None
    if series.value["scope"] == "city":
        city = ctx.facts.city
        if city is None:
            until = f"{cn_date(series.valid_to)}以前" if series.valid_to else ""
            ctx.errors.append(FieldError("city", f"{until}各市分别统筹，待遇基数是所在市的上年度职工月平均工资：请选择"
                                                 "受伤时用人单位所在的市，或填写当地公布的上年度职工月平均工资"))
            return None
    where = province().city(city).name if city and province().city(city) else ""
    what = f"{where}{series.value['label']}"
    stat = _statistic(ctx, series.value["key"], on.year - 1, "average_monthly_wage", what, entry=city)
    if stat is None:
        return None
    value = stat.figure.value
    annual = Decimal(value["annual"][city] if city else value["annual"])
    amount = Decimal(value["monthly"]) if "monthly" in value and city is None else ctx.round(annual / 12)
    shown = f"{yuan(amount)} 元/月（{stat.year}年{what} {num(annual)} 元 ÷ 12）"
    source = f"系统配置，按{why}{cn_date(on)}取{stat.wanted}年的数字"
    if stat.provisional:
        source += f"；暂按{stat.year}年"
    use = FigureUse(stat.figure, shown)
    return _Base(amount, InputUse("average_monthly_wage", "上年度职工月平均工资 A", yuan(amount), source), use,
                 stat.provisional)


@dataclass(frozen=True, slots=True)
class _Wage:
    amount: Decimal  #: W, unrounded
    inputs: tuple[InputUse, ...]
    figures: tuple[FigureUse, ...]
    note: str | None
    #: why W is provisional: the 60 %/300 % bound of a provisional A applied
    provisional: str = ""


def _own_wage(ctx: _Context, base: _Base) -> _Wage | None:
    """W: the own wage within [60 %, 300 %] of A (R 64)."""
    bounds = ctx.need("benefits.own_wage_bounds", ctx.facts.date)
    if bounds is None:
        return None
    typed = ctx.facts.own_monthly_wage
    low = Decimal(bounds.value["floor"]) * base.amount
    high = Decimal(bounds.value["cap"]) * base.amount
    note = None
    if typed < low:
        amount = low
        note = (f"本人月工资 {yuan(typed)} 低于上年度职工月平均工资的{pct(Decimal(bounds.value['floor']))}"
                f"（{num(low)}），按 {num(low)} 计算")
    elif typed > high:
        amount = high
        note = (f"本人月工资 {yuan(typed)} 高于上年度职工月平均工资的{pct(Decimal(bounds.value['cap']))}"
                f"（{num(high)}），按 {num(high)} 计算")
    else:
        amount = typed
    floor, cap = pct(Decimal(bounds.value["floor"])), pct(Decimal(bounds.value["cap"]))
    own = InputUse("own_monthly_wage", "本人月工资", yuan(typed), f"您填写的数字：{own_wage_definition(ctx.policy, ctx.facts.date)}")
    used = InputUse("own_wage", "本人工资 W（计发基数）", num(amount),
                    note or f"在上年度职工月平均工资的{floor}至{cap}之间，按填写的数字计算")
    shown = f"下限 {floor}、上限 {cap}"
    figures = (FigureUse(bounds, shown),) + ((base.figure,) if base.figure else ())
    return _Wage(amount, (own, base.use, used), figures, note, base.provisional if note else "")


def own_wage_definition(policy: BenefitPolicy, on: date) -> str:
    """本人工资 as 条例第六十四条 defines it, with the window of ``benefits.own_wage_months``."""
    window = policy.at("benefits.own_wage_months", on)
    if window is None:
        return "受伤前的平均月缴费工资"
    return f"受伤前{num(Decimal(window.value))}个月平均月缴费工资"


def paid_leave_limits(on: date) -> str:
    """How long the paid leave may last (条例第三十三条第二款), from the clocks' rules
    ``paid_leave`` and ``paid_leave_extended`` in force on ``on``."""
    return (f"停工留薪期一般不超过{clocks.statutory_period('paid_leave', on)}，经设区的市级劳动能力鉴定委员会"
            f"确认可以延长，延长后合计不超过{clocks.statutory_period('paid_leave_extended', on)}。")


def _item(ctx: _Context, code: str, raw: Decimal, period: str, payer: str, *, title: str | None = None,
          formula: str, inputs: tuple[InputUse, ...], figures: tuple[FigureUse, ...], basis: str,
          part_label: str, extra_parts: tuple[Part, ...] = (), notes: tuple[str, ...] = (),
          provisional: str = "") -> Item:
    """An item whose amount is ``raw`` rounded once, plus any extra parts (already in fen);
    ``provisional`` says why it rests on an earlier year's statistic."""
    first = ctx.round(raw)
    amount = first + sum((p.amount for p in extra_parts), ZERO)
    parts = (Part(part_label, first),) + extra_parts
    if provisional:
        notes = notes + (f"暂定金额：{provisional}。",)
    explanation = Explanation(title or CODES[code], f"{formula} = {yuan(amount)} 元", inputs,
                              figures + (ctx.rounding_use,), parts, basis, notes, provisional)
    return Item(code, amount, period, payer, explanation)


def _paid_leave(ctx: _Context) -> Item | None:
    days = ctx.facts.paid_leave_days
    if not days:
        return None
    wage = ctx.facts.own_monthly_wage
    on = ctx.facts.date
    months = (Decimal(days) / LEAVE_MONTH_DAYS).quantize(Decimal("0.1"))
    bounds = ctx.policy.at("benefits.own_wage_bounds", on)
    unbounded = (f"原工资（不受{pct(Decimal(bounds.value['floor']))}至{pct(Decimal(bounds.value['cap']))}上下限调整）"
                 if bounds is not None else "原工资（不受本人工资上下限调整）")
    return _item(
        ctx, "paid_leave_wages", wage, MONTHLY, EMPLOYER,
        formula=f"原工资福利待遇不变：每月 {yuan(wage)}",
        inputs=(InputUse("own_monthly_wage", "本人月工资（原工资）", yuan(wage), "您填写的数字"),
                InputUse("paid_leave_days", "停工留薪期", f"{days} 天（约 {months} 个月）", "您填写的数字")),
        figures=(), basis=_article(on, "第三十三条第一款", "第三十一条第一款"),
        part_label=unbounded,
        notes=(f"停工留薪期内由所在单位按月支付，共 {days} 天；期满后停发，改享受伤残待遇。",
               paid_leave_limits(on),
               "生活不能自理的，停工留薪期内的护理由所在单位负责"
               f"（{'第三十三条第三款' if on >= REVISION_START else '第三十一条第三款'}）。"))


# --- disability -----------------------------------------------------------------------------


def _disability(ctx: _Context, base: _Base | None) -> list[Item]:
    """Every item of a disability; items that need a missing figure are left out (named at the
    field), the others still computed."""
    facts = ctx.facts
    grade = facts.grade
    assert grade is not None
    review = _review(ctx)
    current = review.grade if review is not None else grade
    wage = _own_wage(ctx, base) if base is not None else None
    months_fig = ctx.need("benefits.disability_subsidy_months", facts.date)
    g = GRADE_NAMES[grade]
    items: list[Item] = []
    grade_input = InputUse("grade", "伤残等级", g, "您填写的伤残等级（以劳动能力鉴定结论为准）")
    now_input = grade_input
    if review is not None:
        now_input = InputUse("review_grade", "复查鉴定后的伤残等级", GRADE_NAMES[current],
                             f"您填写的复查鉴定结论（{cn_date(facts.review_date)}作出）")

    if wage is not None and months_fig is not None:
        months = Decimal(months_fig.value[str(grade)])
        article = "第三十五条" if grade <= 4 else ("第三十六条" if grade <= 6 else "第三十七条")
        original = "第三十三条" if grade <= 4 else ("第三十四条" if grade <= 6 else "第三十五条")
        notes: tuple[str, ...] = ()
        if review is not None:
            notes = (f"复查鉴定后伤残等级为{GRADE_NAMES[current]}，一次性伤残补助金仍按初次鉴定的{g}计发，不作调整"
                     f"（{review.basis}）。",)
        items.append(_item(
            ctx, "one_off_disability_subsidy", months * wage.amount, ONE_OFF, FUND,
            formula=f"{num(months)} 个月 × 本人工资 {num(wage.amount)}",
            inputs=(grade_input,) + wage.inputs,
            figures=(FigureUse(months_fig, f"{g}：{num(months)} 个月"),) + wage.figures
            + ((FigureUse(review.figure, "一次性伤残补助金不作调整"),) if review is not None else ()),
            basis=_article(facts.date, f"{article}第一款第（一）项；本人工资见第六十四条",
                           f"{original}第一款第（一）项；本人工资见第六十一条"),
            part_label=f"{num(months)} 个月 × 本人工资", notes=notes, provisional=wage.provisional,
        ))

    g_now = GRADE_NAMES[current]
    continuing = current <= 4 or (current <= 6 and not facts.ends_employment and not facts.suitable_work)
    if current <= 6 and continuing:
        rate_fig = ctx.need("benefits.disability_allowance_rate", facts.date)
        if rate_fig is not None and wage is not None:
            items.append(_allowance(ctx, current, rate_fig, wage, now_input, review))
    elif current <= 6 and facts.suitable_work:
        ctx.notes.append(f"{g_now}伤残职工由用人单位安排了适当工作，领取工资，不发伤残津贴（第三十六条第一款第（二）项）。")

    if facts.care_level is not None and base is not None:
        care = _care(ctx, facts.care_level, base, review)
        if care is not None:
            items.append(care)

    leave = _paid_leave(ctx)
    if leave is not None:
        items.append(leave)

    if current >= 5 and facts.ends_employment:
        items.extend(_leaving(ctx, current, now_input))
    return items


@dataclass(frozen=True, slots=True)
class _Review:
    """A review appraisal that changed the grade (复查鉴定), and the rule it follows."""

    grade: int
    starts: date  #: first day of the month after the conclusion
    figure: Figure

    @property
    def basis(self) -> str:
        return str(self.figure.value["basis"])

    def note(self, what: str, before: str, by: str | None = None) -> str:
        """``by``: what the item follows after the review (default: the new disability grade)."""
        return (f"按复查鉴定结论，{what}自{cn_date(self.starts)}起按{by or GRADE_NAMES[self.grade]}计发（结论作出的次月起调整），"
                f"此前按{before}计发（{self.basis}）。")


def _review(ctx: _Context) -> _Review | None:
    """The review appraisal of the facts, when one is given and a rule covers its date."""
    facts = ctx.facts
    if facts.review_grade is None or facts.review_date is None:
        return None
    rule = ctx.policy.at("benefits.review_adjustment", facts.review_date)
    if rule is None:
        ctx.errors.append(FieldError("review_date", f"{cn_date(facts.review_date)}作出的复查鉴定结论，待遇按当时当地的规定调整，"
                                                    "本测算没有该规定，按初次鉴定的伤残等级计算"))
        return None
    day = facts.review_date
    starts = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return _Review(facts.review_grade, starts, rule)


def _allowance(ctx: _Context, grade: int, rate_fig: Figure, wage: _Wage, grade_input: InputUse,
               review: _Review | None = None) -> Item:
    facts = ctx.facts
    g = GRADE_NAMES[grade]
    rate = Decimal(rate_fig.value[str(grade)])
    payer = FUND if grade <= 4 else EMPLOYER
    who = PAYER_LABELS[payer]
    raw = rate * wage.amount
    extra: tuple[Part, ...] = ()
    inputs = (grade_input,) + wage.inputs
    minimum, minimum_use, minimum_fig = _minimum_wage(ctx)
    if minimum is not None:
        inputs += (minimum_use,)
        first = ctx.round(raw)
        if first < minimum:
            extra = (Part(f"低于当地最低工资标准，由{who}补足差额", minimum - first),)
        min_note = (f"伤残津贴实际金额低于当地最低工资标准的，由{who}补足差额；已按"
                    f"{'填写的' if facts.minimum_wage is not None else '所在市市区的'}最低工资标准比较。")
    else:
        min_note = (f"伤残津贴实际金额低于当地最低工资标准的，由{who}补足差额；未填写当地最低工资标准，"
                    f"未作比较（{province().implementing_measures_short}规定先扣除个人缴纳的社会保险费再比较，待核实）。")
    if grade <= 4:
        basis = "《工伤保险条例》第三十五条第一款第（二）项、第二款"
        notes = ("一至四级伤残职工保留劳动关系，退出工作岗位；伤残津贴由工伤保险基金按月支付。",
                 min_note,
                 "达到退休年龄并办理退休手续后，停发伤残津贴，享受基本养老保险待遇；基本养老保险待遇低于伤残津贴的，"
                 "由工伤保险基金补足差额。以伤残津贴为基数缴纳基本医疗保险费。")
    else:
        basis = "《工伤保险条例》第三十六条第一款第（二）项"
        notes = ("五、六级伤残职工保留与用人单位的劳动关系，由用人单位安排适当工作；难以安排工作的，"
                 "由用人单位按月发给伤残津贴，并为其缴纳各项社会保险费。本项按“难以安排工作”估算。",
                 min_note)
    if review is not None:
        notes = (review.note("伤残津贴", f"初次鉴定的{GRADE_NAMES[facts.grade]}"),) + notes
    return _item(
        ctx, "disability_allowance", raw, MONTHLY, payer,
        formula=f"{pct(rate)} × 本人工资 {num(wage.amount)}"
                + (f"，补足至最低工资标准 {yuan(minimum)}" if extra else ""),
        inputs=inputs, figures=(FigureUse(rate_fig, f"{g}：本人工资的{pct(rate)}"),) + wage.figures
        + ((minimum_fig,) if minimum_fig else ()) + ((FigureUse(review.figure, "结论作出的次月起调整"),) if review else ()),
        basis=basis, part_label=f"{pct(rate)} × 本人工资", extra_parts=extra, notes=notes,
        provisional=wage.provisional)


def _minimum_wage(ctx: _Context) -> tuple[Decimal | None, InputUse | None, FigureUse | None]:
    """M: typed, else the configured standard of the city's urban districts on the injury date."""
    facts = ctx.facts
    if facts.minimum_wage is not None:
        return facts.minimum_wage, InputUse("minimum_wage", "当地最低工资标准", yuan(facts.minimum_wage), "您填写的数字"), None
    if facts.city is None:
        ctx.errors.append(FieldError("minimum_wage", "选择所在市或填写当地最低工资标准后，伤残津贴才与最低工资标准比较，"
                                                     "低于的补足差额"))
        return None, None, None
    found = ctx.policy.at("wages.minimum_monthly", facts.date)
    if found is None or facts.city not in found.value["cities"]:
        ctx.errors.append(FieldError("minimum_wage", f"本系统没有{cn_date(facts.date)}所在市的最低工资标准，伤残津贴未与之比较；"
                                                     "请填写当地最低工资标准"))
        return None, None, None
    tier = found.value["cities"][facts.city]
    amount = Decimal(found.value["tiers"][tier])
    city = province().city(facts.city)
    name = city.short_name if city else facts.city
    use = InputUse("minimum_wage", "当地最低工资标准", yuan(amount),
                   f"系统配置：{name}市区第{tier}档（{cn_date(found.valid_from)}起）；县（市）可能适用较低的档次，"
                   "以当地标准为准，可直接填写")
    return amount, use, FigureUse(found, f"{name}市区 第{tier}档：{yuan(amount)} 元/月")


def _care(ctx: _Context, level: CareLevel, base: _Base, review: _Review | None = None) -> Item | None:
    rate_fig = ctx.need("benefits.care_allowance_rate", ctx.facts.date)
    if rate_fig is None:
        return None
    rate = Decimal(rate_fig.value[level.value])
    return _item(
        ctx, "care_allowance", rate * base.amount, MONTHLY, FUND,
        formula=f"{pct(rate)} × 上年度职工月平均工资 {num(base.amount)}",
        inputs=(InputUse("care_level", "生活护理等级", level.label, "您选择的等级（以劳动能力鉴定委员会确认为准）"),
                base.use),
        figures=(FigureUse(rate_fig, f"{level.label}：{pct(rate)}"),) + ((base.figure,) if base.figure else ()),
        basis="《工伤保险条例》第三十四条",
        part_label=f"{pct(rate)} × 上年度职工月平均工资",
        notes=(("经劳动能力鉴定委员会确认需要生活护理的，从工伤保险基金按月支付；"
                "按统筹地区上年度职工月平均工资计发，随之调整。",)
               + ((review.note("生活护理费", "原护理等级", by="复查鉴定确认的生活自理障碍等级"),) if review else ())),
        provisional=base.provisional)


@dataclass(frozen=True, slots=True)
class _ToRetirement:
    """How far the worker is from statutory retirement age on the day the subsidies are counted."""

    reached: bool
    months: Decimal  #: months left: typed years × 12, or whole months from the birth date
    reached_text: str
    use: InputUse
    figure: FigureUse | None = None


def _to_retirement(facts: Facts, on: date, why: str) -> _ToRetirement | None:
    """From the typed years, or from birth date, sex and category (the 2025 gradual reform)."""
    if facts.years_to_retirement is not None:
        years = facts.years_to_retirement
        return _ToRetirement(years <= 0, years * 12, "已达到法定退休年龄（距退休 0 年）",
                             InputUse("years_to_retirement", "距法定退休年龄", f"{num(years)} 年", "您填写的数字"))
    if facts.birth_date is None or facts.sex is None:
        return None
    r = retirement(facts.birth_date, facts.sex, facts.original_retirement_age)
    left = months_between(on, r.date)
    years, months = divmod(left, 12)
    until = "已达到" if r.date <= on else f"还有 {years} 年 {months} 个月"
    return _ToRetirement(
        r.date <= on, Decimal(left), f"已达到法定退休年龄（{r.describe()}，{cn_date(r.date)}达到）",
        InputUse("birth_date", "距法定退休年龄",
                 f"{r.describe()}，{cn_date(r.date)}达到；按{why}{cn_date(on)}计，{until}",
                 "按您填写的出生日期、性别" + ("和原法定退休年龄" if facts.sex == "female" else "") + "计算"),
        FigureUse(r.figure, f"{r.category.label}：{r.age}"))


def age_reduction(cut_fig: Figure) -> list[tuple[int, Decimal]]:
    """``benefits.employment_subsidy_age_reduction`` as (under N years, share paid), nearest
    retirement first; N years or more: the full amount."""
    return sorted((int(key.removeprefix("under_")), Decimal(share)) for key, share in cut_fig.value.items())


def _leaving(ctx: _Context, grade: int, grade_input: InputUse) -> list[Item]:
    facts = ctx.facts
    g = GRADE_NAMES[grade]
    on = facts.leaving_date or facts.date
    why = "解除或终止劳动关系日期" if facts.leaving_date else "受伤日期（未填写解除或终止劳动关系日期）"
    left = _to_retirement(facts, on, why)
    if left is not None and left.reached:
        ctx.notes.append(f"{left.reached_text}的，不享受一次性工伤医疗补助金和一次性伤残就业补助金"
                         f"（{province().implementing_measures_short}第二十七条，待核实）。")
        return []
    base = _base(ctx, on, why)
    med_fig = ctx.need("benefits.medical_subsidy_months", on, "ends_employment")
    emp_fig = ctx.need("benefits.employment_subsidy_months", on, "ends_employment")
    cut_fig = ctx.need("benefits.employment_subsidy_age_reduction", on, "ends_employment")
    if base is None or med_fig is None or emp_fig is None or cut_fig is None:
        return []
    base_figs = (base.figure,) if base.figure else ()
    article = "第三十六条第二款" if grade <= 6 else "第三十七条第一款第（二）项"
    trigger = ("经工伤职工本人提出，与用人单位解除或者终止劳动关系" if grade <= 6
               else "劳动、聘用合同期满终止，或者职工本人提出解除劳动、聘用合同")
    ends_input = InputUse("ends_employment", "解除或终止劳动关系", "是", "您的选择")
    items = []
    med_months = Decimal(med_fig.value[str(grade)])
    items.append(_item(
        ctx, "one_off_medical_subsidy", med_months * base.amount, ONE_OFF, FUND,
        formula=f"{num(med_months)} 个月 × 上年度职工月平均工资 {num(base.amount)}",
        inputs=(grade_input, ends_input, base.use),
        figures=(FigureUse(med_fig, f"{g}：{num(med_months)} 个月"),) + base_figs,
        basis=f"《工伤保险条例》{article}；{province().implementing_measures}（标准，待核实）",
        part_label=f"{num(med_months)} 个月 × 上年度职工月平均工资",
        notes=(f"{trigger}的，由工伤保险基金支付。",), provisional=base.provisional))

    emp_months = Decimal(emp_fig.value[str(grade)])
    full = emp_months * base.amount
    extra: tuple[Part, ...] = ()
    inputs = (grade_input, ends_input, base.use)
    notes = [f"{trigger}的，由用人单位支付。"]
    share = Decimal(1)
    cuts = age_reduction(cut_fig)
    if left is None:
        notes.append(f"未填写距法定退休年龄的年数（或出生日期、性别），按全额估算；距退休不足{cuts[-1][0]}年的按比例递减"
                     f"（{province().implementing_measures_short}第二十六条，待核实）。")
    else:
        inputs += (left.use,)
        for limit, cut in cuts:
            if left.months < 12 * limit:
                share = cut
                break
        if share != 1:
            first = ctx.round(full)
            extra = (Part(f"距法定退休年龄不足{limit}年，按{pct(share)}支付", ctx.round(full * share) - first),)
    formula = f"{num(emp_months)} 个月 × 上年度职工月平均工资 {num(base.amount)}"
    if share != 1:
        formula += f" × {pct(share)}"
    figures = (FigureUse(emp_fig, f"{g}：{num(emp_months)} 个月"),) + base_figs
    if left is not None:
        figures += (FigureUse(cut_fig, f"距退休不足{'/'.join(str(limit) for limit, _ in cuts)}年："
                                       f"{'/'.join(pct(cut) for _, cut in cuts)}"),)
        figures += (left.figure,) if left.figure else ()
    items.append(_item(
        ctx, "one_off_employment_subsidy", full, ONE_OFF, EMPLOYER, formula=formula, inputs=inputs,
        figures=figures, basis=f"《工伤保险条例》{article}；{province().implementing_measures}（标准，待核实）",
        part_label=f"{num(emp_months)} 个月 × 上年度职工月平均工资", extra_parts=extra, notes=tuple(notes),
        provisional=base.provisional))
    return items


# --- death ----------------------------------------------------------------------------------


def _death(ctx: _Context, base: _Base | None) -> list[Item]:
    """Every death item; items that need a missing figure are left out (named at the field)."""
    facts = ctx.facts
    on = facts.date
    items: list[Item] = []
    funeral_fig = ctx.need("benefits.funeral_grant_months", on)
    base_figs = (base.figure,) if base is not None and base.figure else ()
    if base is not None and funeral_fig is not None:
        months = Decimal(funeral_fig.value)
        items.append(_item(
            ctx, "funeral_grant", months * base.amount, ONE_OFF, FUND,
            formula=f"{num(months)} 个月 × 上年度职工月平均工资 {num(base.amount)}",
            inputs=(InputUse("date", "死亡日期", f"{cn_date(on)}", "您填写的日期"), base.use),
            figures=(FigureUse(funeral_fig, f"{num(months)} 个月"),) + base_figs,
            basis=_article(on, "第三十九条第一款第（一）项", "第三十七条第一款第（一）项"),
            part_label=f"{num(months)} 个月 × 上年度职工月平均工资", provisional=base.provisional))

    if facts.after_paid_leave:
        ctx.notes.append("一至四级伤残职工在停工留薪期满后死亡的，其近亲属享受丧葬补助金和供养亲属抚恤金，"
                         "不享受一次性工亡补助金（《工伤保险条例》第三十九条第三款）。")
    elif ctx.policy.at("benefits.death_grant_months", on) is not None:
        grant = _old_death_grant(ctx, base)
        if grant is not None:
            items.append(grant)
    else:
        grant = _death_grant(ctx)
        if grant is not None:
            items.append(grant)

    if facts.dependants and base is not None:
        items.extend(_pensions(ctx, base))
    elif not facts.dependants:
        ctx.notes.append("未填写供养亲属：供养亲属抚恤金发给由因工死亡职工生前提供主要生活来源、无劳动能力的亲属。")
    leave = _paid_leave(ctx)
    if leave is not None:
        items.append(leave)
    return items


def _article(on: date, revised: str, original: str) -> str:
    """The article of the text in force on ``on``: the 2004 numbering before 2011-01-01."""
    if on < REVISION_START:
        return f"《工伤保险条例》（国务院令第375号，2011年1月1日修订前）{original}"
    return f"《工伤保险条例》{revised}"


def _death_grant(ctx: _Context) -> Item | None:
    """From 2011-01-01: 20 × the national urban per-capita disposable income of the year before."""
    on = ctx.facts.date
    grant_fig = ctx.need("benefits.death_grant_multiple", on)
    if grant_fig is None:
        return None
    stat = _statistic(ctx, "benefits.national_urban_income", on.year - 1, "date", "全国城镇居民人均可支配收入")
    if stat is None:
        return None
    multiple = Decimal(grant_fig.value)
    income = Decimal(stat.figure.value["annual"])
    year = stat.year
    advance_fig = ctx.policy.at("benefits.death_grant_advance_rate", on)
    advance = f"（生活有困难的，可先预支本项的{pct(Decimal(advance_fig.value))}）" if advance_fig is not None else ""
    return _item(
        ctx, "death_grant", multiple * income, ONE_OFF, FUND,
        formula=f"{num(multiple)} 倍 × {year}年全国城镇居民人均可支配收入 {num(income)}",
        inputs=(InputUse("date", "死亡日期", f"{cn_date(on)}",
                         f"您填写的日期：取死亡的上一年度（{stat.wanted}年）的全国数字"
                         + (f"；暂按{year}年" if stat.provisional else "")),),
        figures=(FigureUse(grant_fig, f"{num(multiple)} 倍"),
                 FigureUse(stat.figure, f"{year}年：{num(income)} 元")),
        basis="《工伤保险条例》第三十九条第一款第（三）项",
        part_label=f"{num(multiple)} × {year}年全国城镇居民人均可支配收入",
        notes=("职工在停工留薪期内因工伤死亡的，同样享受本项；因工外出或抢险救灾中下落不明、被宣告死亡的，"
               f"适用第四十一条{advance}。",), provisional=stat.provisional)


def _old_death_grant(ctx: _Context, base: _Base | None) -> Item | None:
    """Before 2011-01-01: 48 to 60 months of A (the 2004 text, art. 37); the province's number
    within the range is ``used``, and the note gives the whole range."""
    on = ctx.facts.date
    fig = ctx.need("benefits.death_grant_months", on)
    if fig is None or base is None:
        return None
    low, high, used = (Decimal(fig.value[k]) for k in ("min", "max", "used"))
    return _item(
        ctx, "death_grant", used * base.amount, ONE_OFF, FUND,
        formula=f"{num(used)} 个月 × 上年度职工月平均工资 {num(base.amount)}",
        inputs=(InputUse("date", "死亡日期", f"{cn_date(on)}", "您填写的日期：2011年1月1日前死亡，适用修订前的标准"),
                base.use),
        figures=(FigureUse(fig, f"{num(low)}至{num(high)}个月，按{num(used)}个月估算"),)
        + ((base.figure,) if base.figure else ()),
        basis=_article(on, "第三十九条第一款第（三）项", "第三十七条第一款第（三）项"),
        part_label=f"{num(used)} 个月 × 上年度职工月平均工资",
        notes=(f"修订前的条例规定为{num(low)}至{num(high)}个月的统筹地区上年度职工月平均工资，具体月数由省规定；"
               f"按{num(high)}个月为 {yuan(ctx.round(high * base.amount))} 元。以经办机构核定为准。",),
        provisional=base.provisional)


def _pensions(ctx: _Context, base: _Base) -> list[Item]:
    facts = ctx.facts
    on = facts.date
    wage = _own_wage(ctx, base)
    rate_fig = ctx.need("benefits.dependant_pension_rate", on)
    extra_fig = ctx.need("benefits.dependant_pension_alone_increase", on)
    cap_fig = ctx.need("benefits.dependant_pension_cap", on)
    if wage is None or rate_fig is None or extra_fig is None or cap_fig is None:
        return []
    w = wage.amount
    spouse_rate = Decimal(rate_fig.value["spouse"])
    other_rate = Decimal(rate_fig.value["other"])
    bonus = Decimal(extra_fig.value["points"])
    rates = []
    for d in facts.dependants:
        rate = spouse_rate if d.relation is Relation.SPOUSE else other_rate
        rates.append(rate + bonus if d.alone else rate)
    raws = [rate * w for rate in rates]
    total = sum(raws, Decimal(0))
    first = [ctx.round(r) for r in raws]
    cap_fen = w.quantize(FEN, rounding=decimal.ROUND_FLOOR)
    capped = total > w
    if capped:
        finals = largest_remainder([r * w / total for r in raws], cap_fen)
    elif sum(first) > cap_fen:
        # the unrounded sum is within the cap but rounding each half-up would cross it by a fen
        finals = largest_remainder(raws, cap_fen)
        capped = True
    else:
        finals = first
    count = len(facts.dependants)
    items = []
    for index, (dep, rate, raw, rounded, final) in enumerate(zip(facts.dependants, rates, raws, first, finals)):
        who = f"第{index + 1}位：{dep.relation.label}{'（孤寡老人或孤儿）' if dep.alone else ''}"
        rate_text = f"{pct(rate)} × 本人工资 {num(w)}"
        extra: tuple[Part, ...] = ()
        formula = rate_text
        notes = ["发给由因工死亡职工生前提供主要生活来源、无劳动能力的亲属；范围按《因工死亡职工供养亲属范围规定》"
                 "（待核实），条件消失时停发。"]
        if capped:
            extra = (Part("各供养亲属抚恤金之和超过本人工资，按比例缩减", final - rounded),)
            formula = (f"{rate_text} × 缩减比例（本人工资 {num(w)} ÷ {count} 位供养亲属按比例合计 {num(total)}），"
                       "舍去不足一分的部分后，余下的分按尾数从大到小分配")
            notes.append(f"{count} 位供养亲属按比例合计 {yuan(ctx.round(total))} 元，超过本人工资 {yuan(cap_fen)} 元，"
                         f"全部按同一比例缩减，合计正好等于 {yuan(cap_fen)} 元。")
        figures = (FigureUse(rate_fig, f"配偶 {pct(spouse_rate)}，其他亲属 {pct(other_rate)}"),)
        if dep.alone:
            figures += (FigureUse(extra_fig, f"加 {pct(bonus)}（百分点）"),)
        figures += (FigureUse(cap_fig, "合计不高于本人工资；超过时按比例缩减、最大余额法分配尾差"),) + wage.figures
        inputs = (InputUse("dependants", "供养亲属", who, "您填写的亲属关系"),) + wage.inputs
        items.append(_item(
            ctx, "dependant_pension", raw, MONTHLY, FUND, title=f"供养亲属抚恤金（{who}）",
            formula=formula, inputs=inputs, figures=figures,
            basis=_article(on, "第三十九条第一款第（二）项", "第三十七条第一款第（二）项"),
            part_label=f"{pct(rate)} × 本人工资", extra_parts=extra, notes=tuple(notes),
            provisional=wage.provisional))
    return items


def largest_remainder(shares: list[Decimal], target: Decimal) -> list[Decimal]:
    """Split ``target`` (in fen) along ``shares``: floor each share to the fen, then give the fen
    left over one by one to the largest remainders (ties: list order). Shares sum to ≥ target."""
    fen = [s * HUNDRED for s in shares]
    floors = [f.to_integral_value(rounding=decimal.ROUND_FLOOR) for f in fen]
    left = int(target * HUNDRED - sum(floors))
    order = sorted(range(len(fen)), key=lambda i: (-(fen[i] - floors[i]), i))
    for i in order[:max(left, 0)]:
        floors[i] += 1
    return [(f / HUNDRED).quantize(FEN) for f in floors]
