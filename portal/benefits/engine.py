"""The benefits rules engine (待遇计算): facts of a case in, every benefit item that applies out.

Plain Python: no Flask, no database. Each :class:`Item` carries its amount (``Decimal``, rounded
once to the fen, half-up, from unrounded inputs: ``benefits.rounding``), who pays it (``fund`` 工伤
保险基金 or ``employer`` 用人单位), whether it is paid once (``one_off``) or every month
(``monthly``), and its :class:`Explanation`: the formula with the numbers, the inputs and where
each came from, the policy figures used with their effective dates, sources and confidence, the
parts that add up to the amount, and the legal basis.

Rules (《工伤保险条例》, "R"; shared/domain.md §6):

- ``W`` 本人工资 = the worker's own monthly wage, bounded to [60 %, 300 %] of ``A`` (R 64).
- ``A`` 待遇基数 = the province-wide average monthly wage of the previous year, in force on the
  injury (death) date; the subsidies on leaving use the leaving date when given. A figure typed in
  (``average_monthly_wage``) overrides the configured one.
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
    CareLevel,
    Facts,
    FieldError,
    InvalidFacts,
    Outcome,
    Relation,
    cn_date,
)
from portal.benefits.policy import BenefitPolicy, benefit_policy, label
from portal.policy.figures import Figure

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
                "unconfirmed": self.unconfirmed}


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

    def as_dict(self) -> dict:
        return {"items": [i.as_dict() for i in self.items],
                "totals": {"one_off": str(self.total_one_off), "monthly": str(self.total_monthly)},
                "notes": list(self.notes)}


class PolicyGap(InvalidFacts):
    """The facts are well-formed but no policy data cover them (a date before or after the data)."""

    code = "benefit_policy_missing"


@dataclass
class _Context:
    facts: Facts
    policy: BenefitPolicy
    rounding: str
    rounding_use: FigureUse
    errors: list[FieldError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

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
    if on < start and start == date(2011, 1, 1):
        return (f"{cn_date(on)}早于修订后的《工伤保险条例》施行日期（2011年1月1日），"
                f"当时适用修订前的规定，本测算不支持")
    covered = f"{cn_date(start)}至{cn_date(end)}" if end else f"{cn_date(start)}起"
    return f"{cn_date(on)}没有适用的“{what}”数据（已有数据适用于{covered}），无法测算"


def _base_gap_message(on: date) -> str:
    if on < date(2024, 1, 1):
        return (f"{cn_date(on)}在2024年1月1日省级统筹之前，待遇基数是各市（原统筹地区）的上年度职工"
                f"月平均工资，本系统没有配置；请在“上年度职工月平均工资”中填写当地公布的数字")
    return (f"适用于{on.year}年的全省上年度（{on.year - 1}年）职工月平均工资尚未公布或尚未核实，无法自动测算；"
            f"请在“上年度职工月平均工资”中填写社会保险经办机构公布的数字")


def estimate(facts: Facts, policy: BenefitPolicy | None = None) -> Estimate:
    """Every benefit item the facts give rise to; :class:`PolicyGap` when data are missing."""
    policy = policy or benefit_policy()
    rounding_figure = policy.at("benefits.rounding", facts.date)
    if rounding_figure is None:
        raise PolicyGap([FieldError("date", _gap_message(policy, "benefits.rounding", facts.date))])
    mode = rounding_figure.value
    ctx = _Context(facts, policy, getattr(decimal, mode),
                   FigureUse(rounding_figure, "四舍五入到分" if mode == "ROUND_HALF_UP" else mode))
    if facts.outcome is Outcome.DEATH:
        items = _death(ctx)
    else:
        items = _disability(ctx)
    if ctx.errors:
        seen, unique = set(), []
        for e in ctx.errors:
            if (e.field, e.message) not in seen:
                seen.add((e.field, e.message))
                unique.append(e)
        raise PolicyGap(unique)
    return Estimate(facts, tuple(items), tuple(ctx.notes))


# --- shared pieces --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Base:
    amount: Decimal
    use: InputUse
    figure: FigureUse | None


def _base(ctx: _Context, on: date, why: str) -> _Base | None:
    """A: typed in, or the configured version in force on ``on``."""
    typed = ctx.facts.average_monthly_wage
    if typed is not None:
        return _Base(typed, InputUse("average_monthly_wage", "上年度职工月平均工资 A", yuan(typed),
                                     "您填写的数字（代替系统配置的数字）"), None)
    found = ctx.policy.at("benefits.average_monthly_wage", on)
    if found is None:
        ctx.errors.append(FieldError("average_monthly_wage", _base_gap_message(on)))
        return None
    amount = Decimal(found.value["monthly"])
    use = FigureUse(found, f"{yuan(amount)} 元/月（{found.value['data_year']}年，{found.value['series']}）")
    return _Base(amount, InputUse("average_monthly_wage", "上年度职工月平均工资 A", yuan(amount),
                                  f"系统配置，按{why}{cn_date(on)}取用"), use)


@dataclass(frozen=True, slots=True)
class _Wage:
    amount: Decimal  #: W, unrounded
    inputs: tuple[InputUse, ...]
    figures: tuple[FigureUse, ...]
    note: str | None


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
    own = InputUse("own_monthly_wage", "本人月工资", yuan(typed), "您填写的数字：受伤前12个月平均月缴费工资")
    used = InputUse("own_wage", "本人工资 W（计发基数）", num(amount),
                    note or "在上年度职工月平均工资的60%至300%之间，按填写的数字计算")
    shown = f"下限 {pct(Decimal(bounds.value['floor']))}、上限 {pct(Decimal(bounds.value['cap']))}"
    figures = (FigureUse(bounds, shown),) + ((base.figure,) if base.figure else ())
    return _Wage(amount, (own, base.use, used), figures, note)


def _item(ctx: _Context, code: str, raw: Decimal, period: str, payer: str, *, title: str | None = None,
          formula: str, inputs: tuple[InputUse, ...], figures: tuple[FigureUse, ...], basis: str,
          part_label: str, extra_parts: tuple[Part, ...] = (), notes: tuple[str, ...] = ()) -> Item:
    """An item whose amount is ``raw`` rounded once, plus any extra parts (already in fen)."""
    first = ctx.round(raw)
    amount = first + sum((p.amount for p in extra_parts), ZERO)
    parts = (Part(part_label, first),) + extra_parts
    explanation = Explanation(title or CODES[code], f"{formula} = {yuan(amount)} 元", inputs,
                              figures + (ctx.rounding_use,), parts, basis, notes)
    return Item(code, amount, period, payer, explanation)


def _paid_leave(ctx: _Context) -> Item | None:
    days = ctx.facts.paid_leave_days
    if not days:
        return None
    wage = ctx.facts.own_monthly_wage
    months = (Decimal(days) / LEAVE_MONTH_DAYS).quantize(Decimal("0.1"))
    return _item(
        ctx, "paid_leave_wages", wage, MONTHLY, EMPLOYER,
        formula=f"原工资福利待遇不变：每月 {yuan(wage)}",
        inputs=(InputUse("own_monthly_wage", "本人月工资（原工资）", yuan(wage), "您填写的数字"),
                InputUse("paid_leave_days", "停工留薪期", f"{days} 天（约 {months} 个月）", "您填写的数字")),
        figures=(), basis="《工伤保险条例》第三十三条第一款",
        part_label="原工资（不受60%至300%上下限调整）",
        notes=(f"停工留薪期内由所在单位按月支付，共 {days} 天；期满后停发，改享受伤残待遇。",
               "停工留薪期一般不超过12个月，经设区的市级劳动能力鉴定委员会确认可以延长，延长不超过12个月。",
               "生活不能自理的，停工留薪期内的护理由所在单位负责（第三十三条第三款）。"))


# --- disability -----------------------------------------------------------------------------


def _disability(ctx: _Context) -> list[Item]:
    facts = ctx.facts
    grade = facts.grade
    assert grade is not None
    base = _base(ctx, facts.date, "受伤日期")
    if base is None:
        return []
    wage = _own_wage(ctx, base)
    months_fig = ctx.need("benefits.disability_subsidy_months", facts.date)
    if wage is None or months_fig is None:
        return []
    g = GRADE_NAMES[grade]
    items: list[Item] = []
    grade_input = InputUse("grade", "伤残等级", g, "您填写的伤残等级（以劳动能力鉴定结论为准）")
    w = wage.amount

    months = Decimal(months_fig.value[str(grade)])
    article = "第三十五条" if grade <= 4 else ("第三十六条" if grade <= 6 else "第三十七条")
    items.append(_item(
        ctx, "one_off_disability_subsidy", months * w, ONE_OFF, FUND,
        formula=f"{num(months)} 个月 × 本人工资 {num(w)}",
        inputs=(grade_input,) + wage.inputs,
        figures=(FigureUse(months_fig, f"{g}：{num(months)} 个月"),) + wage.figures,
        basis=f"《工伤保险条例》{article}第一款第（一）项；本人工资见第六十四条",
        part_label=f"{num(months)} 个月 × 本人工资",
    ))

    continuing = grade <= 4 or (grade <= 6 and not facts.ends_employment and not facts.suitable_work)
    if grade <= 6 and continuing:
        rate_fig = ctx.need("benefits.disability_allowance_rate", facts.date)
        if rate_fig is not None:
            items.append(_allowance(ctx, grade, rate_fig, wage, grade_input))
    elif grade <= 6 and facts.suitable_work:
        ctx.notes.append(f"{g}伤残职工由用人单位安排了适当工作，领取工资，不发伤残津贴（第三十六条第一款第（二）项）。")

    if facts.care_level is not None:
        care = _care(ctx, facts.care_level, base)
        if care is not None:
            items.append(care)

    leave = _paid_leave(ctx)
    if leave is not None:
        items.append(leave)

    if grade >= 5 and facts.ends_employment:
        items.extend(_leaving(ctx, grade, grade_input))
    return items


def _allowance(ctx: _Context, grade: int, rate_fig: Figure, wage: _Wage, grade_input: InputUse) -> Item:
    facts = ctx.facts
    g = GRADE_NAMES[grade]
    rate = Decimal(rate_fig.value[str(grade)])
    payer = FUND if grade <= 4 else EMPLOYER
    who = PAYER_LABELS[payer]
    raw = rate * wage.amount
    extra: tuple[Part, ...] = ()
    inputs = (grade_input,) + wage.inputs
    minimum = facts.minimum_wage
    if minimum is not None:
        inputs += (InputUse("minimum_wage", "当地最低工资标准", yuan(minimum), "您填写的数字"),)
        first = ctx.round(raw)
        if first < minimum:
            extra = (Part(f"低于当地最低工资标准，由{who}补足差额", minimum - first),)
        min_note = f"伤残津贴实际金额低于当地最低工资标准的，由{who}补足差额；已按填写的最低工资标准比较。"
    else:
        min_note = (f"伤残津贴实际金额低于当地最低工资标准的，由{who}补足差额；未填写当地最低工资标准，"
                    "未作比较（安徽办法规定先扣除个人缴纳的社会保险费再比较，待核实）。")
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
    return _item(
        ctx, "disability_allowance", raw, MONTHLY, payer,
        formula=f"{pct(rate)} × 本人工资 {num(wage.amount)}"
                + (f"，补足至最低工资标准 {yuan(minimum)}" if extra else ""),
        inputs=inputs, figures=(FigureUse(rate_fig, f"{g}：本人工资的{pct(rate)}"),) + wage.figures,
        basis=basis, part_label=f"{pct(rate)} × 本人工资", extra_parts=extra, notes=notes)


def _care(ctx: _Context, level: CareLevel, base: _Base) -> Item | None:
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
        notes=("经劳动能力鉴定委员会确认需要生活护理的，从工伤保险基金按月支付；"
               "按统筹地区上年度职工月平均工资计发，随之调整。",))


def _leaving(ctx: _Context, grade: int, grade_input: InputUse) -> list[Item]:
    facts = ctx.facts
    g = GRADE_NAMES[grade]
    years_left = facts.years_to_retirement
    if years_left is not None and years_left <= 0:
        ctx.notes.append("已达到法定退休年龄（距退休 0 年）的，不享受一次性工伤医疗补助金和一次性伤残就业补助金"
                         "（安徽办法第二十七条，待核实）。")
        return []
    on = facts.leaving_date or facts.date
    why = "解除或终止劳动关系日期" if facts.leaving_date else "受伤日期（未填写解除或终止劳动关系日期）"
    base = _base(ctx, on, why)
    med_fig = ctx.need("benefits.medical_subsidy_months", on)
    emp_fig = ctx.need("benefits.employment_subsidy_months", on)
    cut_fig = ctx.need("benefits.employment_subsidy_age_reduction", on)
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
        basis=f"《工伤保险条例》{article}；《安徽省实施〈工伤保险条例〉办法》（标准，待核实）",
        part_label=f"{num(med_months)} 个月 × 上年度职工月平均工资",
        notes=(f"{trigger}的，由工伤保险基金支付。",)))

    emp_months = Decimal(emp_fig.value[str(grade)])
    full = emp_months * base.amount
    extra: tuple[Part, ...] = ()
    inputs = (grade_input, ends_input, base.use)
    notes = [f"{trigger}的，由用人单位支付。"]
    share = Decimal(1)
    if years_left is None:
        notes.append("未填写距法定退休年龄的年数，按全额估算；距退休不足五年的按比例递减（安徽办法第二十六条，待核实）。")
    else:
        inputs += (InputUse("years_to_retirement", "距法定退休年龄", f"{num(years_left)} 年", "您填写的数字"),)
        for limit in (1, 2, 3, 4, 5):
            if years_left < limit:
                share = Decimal(cut_fig.value[f"under_{limit}"])
                break
        if share != 1:
            first = ctx.round(full)
            extra = (Part(f"距法定退休年龄不足{limit}年，按{pct(share)}支付", ctx.round(full * share) - first),)
    formula = f"{num(emp_months)} 个月 × 上年度职工月平均工资 {num(base.amount)}"
    if share != 1:
        formula += f" × {pct(share)}"
    figures = (FigureUse(emp_fig, f"{g}：{num(emp_months)} 个月"),) + base_figs
    if years_left is not None:
        figures += (FigureUse(cut_fig, "距退休不足1/2/3/4/5年：30%/60%/70%/80%/90%"),)
    items.append(_item(
        ctx, "one_off_employment_subsidy", full, ONE_OFF, EMPLOYER, formula=formula, inputs=inputs,
        figures=figures, basis=f"《工伤保险条例》{article}；《安徽省实施〈工伤保险条例〉办法》（标准，待核实）",
        part_label=f"{num(emp_months)} 个月 × 上年度职工月平均工资", extra_parts=extra, notes=tuple(notes)))
    return items


# --- death ----------------------------------------------------------------------------------


def _death(ctx: _Context) -> list[Item]:
    facts = ctx.facts
    on = facts.date
    items: list[Item] = []
    base = _base(ctx, on, "死亡日期")
    funeral_fig = ctx.need("benefits.funeral_grant_months", on)
    grant_fig = ctx.need("benefits.death_grant_multiple", on)
    income_fig = None if facts.after_paid_leave else ctx.need("benefits.national_urban_income", on)
    if base is not None and funeral_fig is not None:
        months = Decimal(funeral_fig.value)
        items.append(_item(
            ctx, "funeral_grant", months * base.amount, ONE_OFF, FUND,
            formula=f"{num(months)} 个月 × 上年度职工月平均工资 {num(base.amount)}",
            inputs=(InputUse("date", "死亡日期", f"{cn_date(on)}", "您填写的日期"), base.use),
            figures=(FigureUse(funeral_fig, f"{num(months)} 个月"),) + ((base.figure,) if base.figure else ()),
            basis="《工伤保险条例》第三十九条第一款第（一）项",
            part_label=f"{num(months)} 个月 × 上年度职工月平均工资"))

    if facts.after_paid_leave:
        ctx.notes.append("一至四级伤残职工在停工留薪期满后死亡的，其近亲属享受丧葬补助金和供养亲属抚恤金，"
                         "不享受一次性工亡补助金（《工伤保险条例》第三十九条第三款）。")
    elif grant_fig is not None and income_fig is not None:
        multiple = Decimal(grant_fig.value)
        income = Decimal(income_fig.value["annual"])
        year = income_fig.value["data_year"]
        items.append(_item(
            ctx, "death_grant", multiple * income, ONE_OFF, FUND,
            formula=f"{num(multiple)} 倍 × {year}年全国城镇居民人均可支配收入 {num(income)}",
            inputs=(InputUse("date", "死亡日期", f"{cn_date(on)}",
                             f"您填写的日期：取死亡的上一年度（{year}年）的全国数字"),),
            figures=(FigureUse(grant_fig, f"{num(multiple)} 倍"),
                     FigureUse(income_fig, f"{year}年：{num(income)} 元")),
            basis="《工伤保险条例》第三十九条第一款第（三）项",
            part_label=f"{num(multiple)} × {year}年全国城镇居民人均可支配收入",
            notes=("职工在停工留薪期内因工伤死亡的，同样享受本项；因工外出或抢险救灾中下落不明、被宣告死亡的，"
                   "适用第四十一条（可先预支50%）。",)))

    if facts.dependants and base is not None:
        items.extend(_pensions(ctx, base))
    elif not facts.dependants:
        ctx.notes.append("未填写供养亲属：供养亲属抚恤金发给由因工死亡职工生前提供主要生活来源、无劳动能力的亲属。")
    leave = _paid_leave(ctx)
    if leave is not None:
        items.append(leave)
    return items


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
            basis="《工伤保险条例》第三十九条第一款第（二）项",
            part_label=f"{pct(rate)} × 本人工资", extra_parts=extra, notes=tuple(notes)))
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
