"""Legal text from data (issue 13 point 3): no period, rate or multiple is typed in a template or in
the Chinese strings the portal's Python writes to people (notices, documents, messages, hints).

They are rendered from the policy data the services compute with: ``statutory_period(key)`` (the
deadline rules, ``config/policy/deadlines.toml``), ``policy_figure(key)`` with ``| percent``
(``config/policy/*.toml``), ``province()`` (``config/regions.toml``). The scanner below reads each
template's text, with Jinja code reduced to its string literals (hints passed to macros count,
``loop.index0 % 2`` does not) and CSS removed, and the string constants of every module under
``portal/`` except docstrings. A hit is a number followed by a legal unit: 日, 日内, 天, 周, 个月,
个工作日, 年, 年内, 倍, ‰, %. Dates (2024年, 1月1日), 年度, 周岁, 周年, "最后一天", weekday rows
and zero are not periods and never match.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT

NUMBER = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)"
UNIT = r"(?:个工作日|个自然日|个月|日内|日|天|周|年内|年|倍|‰|％|%)"
LEGAL = re.compile(rf"(?<![\d.０-９])(?<!第)({NUMBER})\s?({UNIT})")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
STRING = re.compile(r"'([^'\\]*(?:\\.[^'\\]*)*)'|\"([^\"\\]*(?:\\.[^\"\\]*)*)\"")
STYLE = re.compile(r"<style.*?</style>", re.S)
CJK = re.compile(r"[\u4e00-\u9fff]")

#: (file, text around the hit, why it is not a figure the policy data holds). Keep it short.
ALLOWED = (
    ("templates/benefits/_results.html", "一年内的变化",
     "how the estimator ranks what matters most (one year of amounts), a presentation choice"),
    ("templates/benefits/_results.html", "12 个月的按月金额", "same ranking: a year of monthly amounts"),
    ("portal/benefits/sensitivity.py", "增加10%", "the estimator's what-if step, not a policy rate"),
    ("portal/projects/service/projects.py", "超过10年", "a plausibility check on typed dates"),
    ("portal/clocks/calendar.py", "70周年", "the name of a 2015 holiday"),
)

#: modules whose strings are not scanned yet, with why (module -> reason). Empty: every module is
#: scanned; the benefits engine prints its figures from the policy data
#: (tests/benefits/test_explanation_text.py).
UNSCANNED_MODULES: dict[str, str] = {}
#: CSS declarations a template's <style> block or included stylesheet holds ("width: 32%;")
CSS = re.compile(r"[a-z-]+\s*:\s*[^;{}<>]*?\d%\s*;?")


def template_text(source: str) -> str:
    """What a template can print: its markup without CSS, Jinja code reduced to string literals."""
    source = CSS.sub("", STYLE.sub("", source))

    def literals(match: re.Match) -> str:
        if match.group(0).startswith("{#"):
            return " "
        return " ".join(a or b for a, b in STRING.findall(match.group(0)))

    return JINJA.sub(literals, source)


def typed_periods(text: str) -> list[str]:
    """Each typed period in ``text``, with a little context."""
    found = []
    for match in LEGAL.finditer(text):
        number, unit = match.groups()
        start, end = match.span()
        before, after = text[start - 1:start] if start else "", text[end:end + 1]
        if number == "0" or number.strip("0.") == "":
            continue  # "距退休 0 年": an input echoed, not a period
        if unit.startswith("年") and re.fullmatch(r"\d{4}", number):
            continue  # a year: 2024年
        if unit in ("日", "日内") and before == "月":
            continue  # a date: 1月1日
        if unit == "年" and after == "度":
            continue  # 上一年度: a statistical year
        if unit == "周" and after in "岁年":
            continue  # 50周岁 (an age category), 70周年
        if unit in ("日", "天") and number == "一":
            continue  # 最后一天, 这一天: a day, not a period
        if number.startswith("一二三四五六") or before == "周" or text[start - 2:start] == "星期":
            continue  # 一二三四五六日: a weekday row; 周六, 星期日
        found.append(text[max(0, start - 8):end + 6].replace("\n", " "))
    return found


def _allowed(path: str, hit: str) -> bool:
    return any(path == file and snippet in hit for file, snippet, _why in ALLOWED)


def template_hits() -> list[str]:
    hits = []
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        hits += [f"{rel}: {h}" for h in typed_periods(template_text(path.read_text("utf-8")))
                 if not _allowed(rel, h)]
    return hits


def python_strings(path: Path):
    """(line, text) of every string constant but docstrings."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def python_hits() -> list[str]:
    hits = []
    for path in sorted((PROJECT_ROOT / "portal").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        if rel in UNSCANNED_MODULES:
            continue
        for line, text in python_strings(path):
            if CJK.search(text):
                hits += [f"{rel}:{line}: {h}" for h in typed_periods(text) if not _allowed(rel, h)]
    return hits


# --- the scanner itself ---------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "自受理之日起60日内作出决定", "在1年内直接提出申请", "5个工作日", "重新计算15日。",
    "按1.5‰缴纳", "20倍", "一般不超过12个月", "不足五年的", "多发本人工资的10%", "30天",
    "hint='超过30日申请的'",
])
def test_scanner_finds_typed_periods(text):
    assert typed_periods(template_text(text)), text


@pytest.mark.parametrize("text", [
    "自2024年1月1日起施行", "2026 年", "上一年度全国城镇居民人均可支配收入", "原法定退休年龄50周岁",
    "参保截止的最后一天", "星期 一二三四五六日", "距退休 0 年", "第十七条", "{% if loop.index0 % 2 %}",
    "<style>.x { width: 32%; }</style>", "{{ statutory_period('employer_filing') }}内",
    "第1日", "{# 15日 in a comment #}", "周一至周五上班、周六周日休息", "  width: 28%; } p",
])
def test_scanner_leaves_dates_and_code_alone(text):
    assert typed_periods(template_text(text)) == [], text


def test_allow_list_entries_still_exist():
    """A stale exception hides nothing: each allowed text is still where it says."""
    for module, why in UNSCANNED_MODULES.items():
        assert why and (PROJECT_ROOT / module).is_file(), module
    for file, snippet, why in ALLOWED:
        assert why
        assert snippet in (PROJECT_ROOT / file).read_text("utf-8"), (file, snippet)


# --- the portal ------------------------------------------------------------------------------

def test_no_typed_period_in_templates():
    hits = template_hits()
    assert not hits, "Render these from policy data (statutory_period / policy_figure):\n" + "\n".join(hits)


def test_no_typed_period_in_python_strings():
    hits = python_hits()
    assert not hits, "Render these from policy data (clocks.statutory_period / figures):\n" + "\n".join(hits)


def test_template_helpers_read_the_policy_data(app):
    from portal.clocks import service as clocks
    from portal.localtime import local_today
    from portal.policy.figures import figure
    from portal.web.filters import percent

    with app.test_request_context("/"):
        env = app.jinja_env
        assert env.from_string("{{ statutory_period('employer_filing') }}").render() == \
            clocks.statutory_period("employer_filing")
        bounds = figure("benefits.own_wage_bounds", local_today())
        rendered = env.from_string("{{ policy_figure('benefits.own_wage_bounds').decimal('floor') | percent }}")
        assert rendered.render() == percent(bounds.decimal("floor"))
    assert percent(Decimal("0.6")) == "60%"
    assert percent(Decimal("0.0015")) == "0.15%"
    assert percent("3") == "300%"


def test_estimator_hints_follow_the_figures(client):
    from portal.localtime import local_today
    from portal.policy.figures import figure
    from portal.web.filters import percent

    html = client.get("/benefits/estimate").get_data(as_text=True)
    bounds = figure("benefits.own_wage_bounds", local_today())
    assert f"低于上年度职工月平均工资{percent(bounds.decimal('floor'))}的" in html
    assert f"高于{percent(bounds.decimal('cap'))}的" in html
