"""The facts of one case (测算事实) and their parsing: one parser, one set of Chinese messages,
shared by the estimator page and ``portal benefits estimate``.

Values may come as JSON types (bool, int, numbers parsed as Decimal) or as the strings a form
sends; either way the same rules and the same messages apply. Every message belongs to a field,
so the page shows it beside that field and the command line prints it with the field name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.choices import LabelledEnum
from portal.clocks import service as clocks
from portal.errors import UserInputError
from portal.localtime import cn_date
from portal.policy.retirement import SEXES, add_months, category_key, retirement
from portal.regions import province

#: 《工伤保险条例》(国务院令第375号) came into force on this day; nothing before it is estimated
LAW_START = date(2004, 1, 1)
#: the highest monthly wage accepted (above it the input is surely a typo: yuan per year, or fen)
MAX_MONTHLY_WAGE = Decimal(1000000)
#: 国务院令第586号: the revised Regulation applies from this day (article numbers and some standards differ)
REVISION_START = date(2011, 1, 1)
#: the longest paid leave (the clocks' rule ``paid_leave_extended``, in months) is accepted in days
#: at this many days a year: 24 months are 730 days
DAYS_PER_YEAR = 365
MAX_DEPENDANTS = 20
#: 《劳动法》第十五条: no one under 16 is employed; a younger person's injury is not estimated here
MIN_WORKING_AGE_YEARS = 16
FEN = Decimal("0.01")



class Outcome(LabelledEnum):
    DISABILITY = "disability", "致残"  #: 伤残（已评定或预计的伤残等级）
    DEATH = "death", "因工死亡"


class CareLevel(LabelledEnum):
    FULL = "full", "生活完全不能自理"
    MOST = "most", "生活大部分不能自理"
    PARTIAL = "partial", "生活部分不能自理"


class Relation(LabelledEnum):
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    GRANDPARENT = "grandparent", "祖父母或外祖父母"
    GRANDCHILD = "grandchild", "孙子女或外孙子女"
    SIBLING = "sibling", "兄弟姐妹"

#: field name -> how pages and messages name it
FIELD_LABELS = {
    "date": "受伤或死亡日期",
    "outcome": "伤残或死亡",
    "grade": "伤残等级",
    "own_monthly_wage": "本人月工资",
    "average_monthly_wage": "上年度职工月平均工资",
    "ends_employment": "解除或终止劳动关系",
    "suitable_work": "用人单位已安排适当工作",
    "care_level": "生活护理等级",
    "dependants": "供养亲属",
    "paid_leave_days": "停工留薪期天数",
    "leaving_date": "解除或终止劳动关系日期",
    "years_to_retirement": "距法定退休年龄的年数",
    "birth_date": "出生日期",
    "sex": "性别",
    "original_retirement_age": "原法定退休年龄（女职工）",
    "minimum_wage": "当地最低工资标准",
    "city": "所在市",
    "review_grade": "复查鉴定后的伤残等级",
    "review_date": "复查鉴定结论作出日期",
    "after_paid_leave": "一至四级伤残职工停工留薪期满后死亡",
}
KNOWN_FIELDS = frozenset(FIELD_LABELS)
DEPENDANT_FIELDS = frozenset({"relation", "alone"})


@dataclass(frozen=True, slots=True)
class Dependant:
    relation: Relation
    #: 孤寡老人或者孤儿 (an orphan, or a lone elderly dependant): +10 points
    alone: bool = False


@dataclass(frozen=True, slots=True)
class Facts:
    """What the estimate needs; wages in yuan per month, exact to the fen."""

    date: date  #: 受伤日期（职业病：诊断、鉴定日期）；因工死亡：死亡日期
    outcome: Outcome
    own_monthly_wage: Decimal  #: 本人工资：受伤前12个月平均月缴费工资（未经上下限调整）
    grade: int | None = None  #: 伤残等级 1..10
    average_monthly_wage: Decimal | None = None  #: 填写时覆盖配置的待遇基数
    ends_employment: bool = False  #: 五至十级：解除或终止劳动关系
    suitable_work: bool = False  #: 五、六级：用人单位已安排适当工作（则无伤残津贴）
    care_level: CareLevel | None = None
    dependants: tuple[Dependant, ...] = ()
    paid_leave_days: int | None = None
    leaving_date: date | None = None
    years_to_retirement: Decimal | None = None
    #: instead of years_to_retirement: the statutory retirement age is computed from these
    #: (portal.policy.retirement: the 2025 gradual reform)
    birth_date: date | None = None
    sex: str | None = None  #: "male" or "female"
    original_retirement_age: int | None = None  #: women only: 50 or 55 (原法定退休年龄)
    minimum_wage: Decimal | None = None
    #: 所在市 (GB/T 2260 city code): the pooling area before provincial pooling, and M's area
    city: str | None = None
    #: 复查鉴定: the grade of a review appraisal that changed it, and the day of its conclusion
    review_grade: int | None = None
    review_date: date | None = None
    #: 一至四级伤残职工停工留薪期满后（领取伤残津贴期间）因工伤死亡：无一次性工亡补助金
    after_paid_leave: bool = False


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InvalidFacts(UserInputError):
    """One or more field errors; ``message`` joins them for places that show one line."""

    code = "invalid_benefit_facts"

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("；".join(e.message for e in self.errors))

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for e in self.errors:
            out.setdefault(e.field, []).append(e.message)
        return out


@dataclass
class _Reader:
    data: Mapping[str, Any]
    errors: list[FieldError] = field(default_factory=list)

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def raw(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def given(self, name: str, what: str, *, required: bool) -> Any:
        """The value of ``name`` (None when it is empty), refused with 请填写… when required."""
        value = self.raw(name)
        if value is None and required:
            self.fail(name, f"请填写{what}")
        return value

    def date_(self, name: str, what: str, *, required: bool) -> date | None:
        value = self.given(name, what, required=required)
        if value is None:
            return None
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            self.fail(name, f"{what}格式不正确，请按 2026-01-31 的格式填写")
            return None
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            self.fail(name, f"{what}格式不正确，请按 2026-01-31 的格式填写")
            return None

    def money(self, name: str, what: str, *, required: bool) -> Decimal | None:
        value = self.given(name, what, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
            self.fail(name, f"{what}格式不正确，请填写数字，如 6000.00")
            return None
        text = str(value).replace(",", "").replace("，", "").replace("¥", "").replace("元", "").strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            self.fail(name, f"{what}格式不正确，请填写数字，如 6000.00")
            return None
        if not amount.is_finite():
            self.fail(name, f"{what}格式不正确，请填写数字，如 6000.00")
            return None
        if amount <= 0:
            self.fail(name, f"{what}应大于零")
            return None
        if amount > MAX_MONTHLY_WAGE:
            self.fail(name, f"{what}超出合理范围：请填写每月的金额（元），不超过 1,000,000 元")
            return None
        if amount != amount.quantize(FEN):
            self.fail(name, f"{what}最多保留两位小数（到分）")
            return None
        return amount

    def flag(self, name: str, what: str) -> bool | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "on", "yes", "y", "是"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "off", "no", "n", "否"):
            return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        self.fail(name, f"{what}只能填“是”或“否”（true 或 false）")
        return None

    def integer(self, name: str, what: str, low: int, high: int, range_message: str) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            self.fail(name, f"{what}应为整数")
            return None
        if isinstance(value, (Decimal, float)) and value == int(value):
            value = int(value)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int):
            self.fail(name, f"{what}应为整数")
            return None
        if not low <= value <= high:
            self.fail(name, range_message)
            return None
        return value


def max_paid_leave_days(on: date) -> int:
    """The most days of paid leave (停工留薪期, 条例第三十三条第二款: extended, at most
    ``paid_leave_extended``) for an injury on ``on``."""
    longest = clocks.rule("paid_leave_extended", on)
    if longest.unit is clocks.Unit.YEARS:
        return longest.length * DAYS_PER_YEAR
    if longest.unit is clocks.Unit.MONTHS:
        return longest.length * DAYS_PER_YEAR // 12
    return longest.length


def _paid_leave_range(on: date, most: int) -> str:
    article = "第三十三条" if on >= REVISION_START else "第三十一条"
    return (f"停工留薪期一般不超过{clocks.statutory_period('paid_leave', on)}，经确认延长的不超过"
            f"{clocks.statutory_period('paid_leave_extended', on)}（《工伤保险条例》{article}），请填写 0 至 {most} 天")


def parse_facts(data: Mapping[str, Any], *, today: date) -> Facts:
    """Check one case's facts; raise :class:`InvalidFacts` with every field error at once."""
    if not isinstance(data, Mapping):
        raise InvalidFacts([FieldError("case", "测算数据应为一个 JSON 对象（{...}）")])
    r = _Reader(data)

    on = r.date_("date", "受伤或死亡日期", required=True)
    if on is not None:
        if on < LAW_START:
            r.fail("date", "日期早于《工伤保险条例》施行日期（2004年1月1日），本测算不适用")
            on = None
        elif on > today:
            r.fail("date", f"受伤或死亡日期不能晚于今天（{cn_date(today)}）")
            on = None

    outcome = None
    raw_outcome = r.raw("outcome")
    if raw_outcome is None:
        r.fail("outcome", "请选择伤残或因工死亡")
    elif raw_outcome not in (o.value for o in Outcome):
        r.fail("outcome", "伤残或死亡只能是 disability（致残）或 death（因工死亡）")
    else:
        outcome = Outcome(raw_outcome)

    grade = r.integer("grade", "伤残等级", 1, 10, "伤残等级应为一级至十级（1 至 10）")
    review_grade, review_date = _review_facts(r, on, today, outcome)
    if outcome is Outcome.DISABILITY and grade is None and not any(e.field == "grade" for e in r.errors):
        r.fail("grade", "请填写伤残等级（1 至 10）")
    if outcome is Outcome.DEATH and grade is not None:
        r.fail("grade", "因工死亡不填写伤残等级")
        grade = None

    own = r.money("own_monthly_wage", "本人月工资", required=True)
    average = r.money("average_monthly_wage", "上年度职工月平均工资", required=False)
    minimum = r.money("minimum_wage", "当地最低工资标准", required=False)
    city = r.raw("city")
    if city is not None and (not isinstance(city, str) or province().city(city) is None):
        r.fail("city", "所在市请从列表中选择（设区的市的6位行政区划代码，如 "
                       f"{province().cities[0].code}）")
        city = None

    ends = r.flag("ends_employment", "解除或终止劳动关系")
    if ends and outcome is Outcome.DEATH:
        r.fail("ends_employment", "因工死亡不适用解除或终止劳动关系的一次性补助金，请不要勾选")
    elif ends and (review_grade or grade) is not None and (review_grade or grade) <= 4:
        r.fail("ends_employment", "一至四级伤残职工保留劳动关系、退出工作岗位（《工伤保险条例》第三十五条），"
                                  "不适用解除或终止劳动关系，没有一次性工伤医疗补助金和一次性伤残就业补助金")
    suitable = r.flag("suitable_work", "用人单位已安排适当工作")
    if suitable and (grade is None or grade not in (5, 6)):
        r.fail("suitable_work", "“用人单位已安排适当工作”只适用于五级、六级伤残职工")
    if suitable and ends:
        r.fail("suitable_work", "已解除或终止劳动关系的，不能同时选择“用人单位已安排适当工作”")

    care = None
    raw_care = r.raw("care_level")
    if raw_care is not None:
        if raw_care not in (c.value for c in CareLevel):
            r.fail("care_level", "生活护理等级只能是 full（完全不能自理）、most（大部分不能自理）、"
                                 "partial（部分不能自理）或不填")
        elif outcome is Outcome.DEATH:
            r.fail("care_level", "因工死亡不适用生活护理费，请不要选择生活护理等级")
        else:
            care = CareLevel(raw_care)

    leave_on = on or today
    most_leave = max_paid_leave_days(leave_on)
    leave_days = r.integer("paid_leave_days", "停工留薪期天数", 0, most_leave, _paid_leave_range(leave_on, most_leave))

    leaving = r.date_("leaving_date", "解除或终止劳动关系日期", required=False)
    if leaving is not None:
        if not ends:
            r.fail("leaving_date", "只有勾选“解除或终止劳动关系”时才填写解除或终止劳动关系日期")
        elif on is not None and leaving < on:
            r.fail("leaving_date", "解除或终止劳动关系日期不能早于受伤日期")
        elif leaving > today:
            r.fail("leaving_date", f"解除或终止劳动关系日期不能晚于今天（{cn_date(today)}）")

    years_left = None
    raw_years = r.raw("years_to_retirement")
    if raw_years is not None:
        try:
            if isinstance(raw_years, bool):
                raise InvalidOperation
            years_left = Decimal(str(raw_years))
            if not years_left.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            r.fail("years_to_retirement", "距法定退休年龄的年数格式不正确，请填写数字，如 3.5")
        else:
            if not Decimal(0) <= years_left <= Decimal(60):
                r.fail("years_to_retirement", "距法定退休年龄的年数应在 0 至 60 之间（已到退休年龄填 0）")
                years_left = None
            elif not ends:
                r.fail("years_to_retirement", "距法定退休年龄的年数只在解除或终止劳动关系时使用，请勾选或不填")
                years_left = None

    birth, sex, original = _retirement_facts(r, on, today, ends=bool(ends), years_given=raw_years is not None)

    after_leave = r.flag("after_paid_leave", "一至四级伤残职工停工留薪期满后死亡")
    if after_leave and outcome is not Outcome.DEATH:
        r.fail("after_paid_leave", "只有因工死亡时才选择“一至四级伤残职工停工留薪期满后死亡”")

    dependants: list[Dependant] = []
    raw_deps = data.get("dependants")
    if raw_deps not in (None, "", []):
        if not isinstance(raw_deps, (list, tuple)):
            r.fail("dependants", "供养亲属应为列表，每位写明 relation（亲属关系）和 alone（是否孤寡老人或孤儿）")
        elif outcome is Outcome.DISABILITY:
            r.fail("dependants", "供养亲属抚恤金只在因工死亡时发放，致残的测算请不要填写供养亲属")
        elif len(raw_deps) > MAX_DEPENDANTS:
            r.fail("dependants", f"供养亲属最多填写 {MAX_DEPENDANTS} 位")
        else:
            for index, entry in enumerate(raw_deps):
                dep = _dependant(r, index, entry)
                if dep is not None:
                    dependants.append(dep)
            if sum(1 for d in dependants if d.relation is Relation.SPOUSE) > 1:
                r.fail("dependants", "配偶只能有一位")

    for name in unknown_fields(data):
        r.fail(name, f"不认识的字段 {name}，请删去或改正（可以填写的字段：{'、'.join(FIELD_LABELS)}）")

    if r.errors:
        raise InvalidFacts(r.errors)
    assert on is not None and outcome is not None and own is not None
    return Facts(date=on, outcome=outcome, grade=grade, own_monthly_wage=own, average_monthly_wage=average,
                 ends_employment=bool(ends), suitable_work=bool(suitable), care_level=care,
                 dependants=tuple(dependants), paid_leave_days=leave_days, leaving_date=leaving,
                 years_to_retirement=years_left, birth_date=birth, sex=sex, original_retirement_age=original,
                 minimum_wage=minimum, after_paid_leave=bool(after_leave), city=city,
                 review_grade=review_grade, review_date=review_date)


def _retirement_facts(r: _Reader, on: date | None, today: date, *, ends: bool,
                      years_given: bool) -> tuple[date | None, str | None, int | None]:
    """出生日期、性别、原法定退休年龄: the alternative to typing the years to retirement age.
    Either all of what the rule needs or nothing; never together with ``years_to_retirement``."""
    names = ("birth_date", "sex", "original_retirement_age")
    if all(r.raw(name) is None for name in names):
        return None, None, None
    failed = len(r.errors)
    birth = r.date_("birth_date", "出生日期", required=True)
    sex = r.raw("sex")
    if sex is None:
        r.fail("sex", "请选择性别")
    elif sex not in SEXES:
        r.fail("sex", "性别只能是 male（男）或 female（女）")
        sex = None
    original = r.integer("original_retirement_age", "原法定退休年龄", 50, 55, "原法定退休年龄只能是50周岁或55周岁")
    if original is not None and original not in (50, 55):
        r.fail("original_retirement_age", "原法定退休年龄只能是50周岁或55周岁")
        original = None
    if years_given:
        r.fail("years_to_retirement", "距法定退休年龄的年数与出生日期、性别只填一种：填写出生日期和性别后，"
                                      "按渐进式延迟法定退休年龄的规定计算，请删去距法定退休年龄的年数")
    if not ends:
        r.fail("birth_date", "出生日期、性别只在解除或终止劳动关系时用于计算距法定退休年龄的时间，请勾选或不填")
    if birth is not None:
        latest = add_months(on or today, -12 * MIN_WORKING_AGE_YEARS)
        if birth > latest:
            r.fail("birth_date", f"按出生日期，{'受伤时' if on else '现在'}未满{MIN_WORKING_AGE_YEARS}周岁，"
                                 "本测算不适用（使用童工造成伤亡的，按《非法用工单位伤亡人员一次性赔偿办法》处理）")
    if sex is not None and not any(e.field == "original_retirement_age" for e in r.errors):
        try:
            category_key(sex, original)
        except UserInputError as exc:
            r.fail("original_retirement_age", exc.message)
    if len(r.errors) == failed:
        assert birth is not None and sex is not None
        try:
            retirement(birth, sex, original)
        except UserInputError as exc:
            r.fail("birth_date", exc.message)
    return birth, sex, original


def _review_facts(r: _Reader, on: date | None, today: date,
                  outcome: Outcome | None) -> tuple[int | None, date | None]:
    """复查鉴定后的伤残等级 and the day of its conclusion: both or neither, disability only."""
    grade = r.integer("review_grade", "复查鉴定后的伤残等级", 1, 10, "复查鉴定后的伤残等级应为一级至十级（1 至 10）")
    day = r.date_("review_date", "复查鉴定结论作出日期", required=grade is not None)
    if grade is None and day is None:
        return None, None
    if outcome is Outcome.DEATH:
        r.fail("review_grade", "因工死亡不适用复查鉴定，请不要填写复查鉴定的内容")
        return None, None
    if grade is None:
        if not any(e.field == "review_grade" for e in r.errors):
            r.fail("review_grade", "填写了复查鉴定结论作出日期的，请同时填写复查鉴定后的伤残等级")
        return None, None
    if day is None:
        return None, None
    if on is not None and day < on:
        r.fail("review_date", "复查鉴定结论作出日期不能早于受伤日期")
        return None, None
    if day > today:
        r.fail("review_date", f"复查鉴定结论作出日期不能晚于今天（{cn_date(today)}）")
        return None, None
    return grade, day


def _dependant(r: _Reader, index: int, entry: Any) -> Dependant | None:
    name = f"dependants.{index}"
    who = f"第{index + 1}位供养亲属"
    if not isinstance(entry, Mapping):
        r.fail(name, f"{who}应写明 relation（亲属关系）和 alone（是否孤寡老人或孤儿）")
        return None
    extra = sorted(str(k) for k in entry if k not in DEPENDANT_FIELDS)
    if extra:
        r.fail(name, f"{who}：不认识的字段 {'、'.join(extra)}，每位只写 relation（亲属关系）和 alone（是否孤寡老人或孤儿）")
        return None
    relation = entry.get("relation")
    relation = relation.strip() if isinstance(relation, str) else relation
    if relation in (None, ""):
        r.fail(name, f"{who}：请选择亲属关系")
        return None
    if relation not in (x.value for x in Relation):
        r.fail(name, f"{who}：亲属关系只能是配偶、子女、父母、祖父母或外祖父母、孙子女或外孙子女、兄弟姐妹"
                     "（spouse、child、parent、grandparent、grandchild、sibling）")
        return None
    alone = _Reader({"alone": entry.get("alone")}).flag("alone", "")
    if alone is None and entry.get("alone") not in (None, ""):
        r.fail(name, f"{who}：是否孤寡老人或孤儿只能填“是”或“否”（true 或 false）")
        return None
    return Dependant(Relation(relation), bool(alone))


def unknown_fields(data: Mapping[str, Any]) -> list[str]:
    """Keys the estimate does not read: :func:`parse_facts` refuses them, since a typo in an
    optional field would otherwise go unseen."""
    return sorted(k for k in data if k not in KNOWN_FIELDS) if isinstance(data, Mapping) else []
