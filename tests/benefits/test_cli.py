"""`portal benefits estimate`: one case as JSON on stdin, JSON out (issue 6 point 7)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from portal.benefits.cli import benefits_group
from portal.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_5 = {"date": "2024-05-10", "outcome": "death", "own_monthly_wage": "6000.00",
             "average_monthly_wage": "8000.00", "grade": None, "care_level": None,
             "dependants": [{"relation": "spouse", "alone": False}, {"relation": "child", "alone": False},
                            {"relation": "child", "alone": False}, {"relation": "parent", "alone": False}]}


def invoke(case, group=benefits_group, args=("estimate",)):
    text = case if isinstance(case, str) else json.dumps(case)
    return CliRunner().invoke(group, list(args), input=text)


def test_death_case_prints_every_item_with_the_contract_fields():
    result = invoke(EXAMPLE_5)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    items = out["items"]
    assert all(set(i) == {"code", "amount", "period", "payer", "explanation"} for i in items)
    assert [(i["code"], i["amount"], i["period"], i["payer"]) for i in items] == [
        ("funeral_grant", "48000.00", "one_off", "fund"),
        ("death_grant", "1036420.00", "one_off", "fund"),
        ("dependant_pension", "1846.15", "monthly", "fund"),
        ("dependant_pension", "1384.62", "monthly", "fund"),
        ("dependant_pension", "1384.62", "monthly", "fund"),
        ("dependant_pension", "1384.61", "monthly", "fund"),
    ]
    assert out["totals"] == {"one_off": "1084420.00", "monthly": "6000.00"}
    why = items[1]["explanation"]
    assert "51,821" in why["formula"] and why["legal_basis"].startswith("《工伤保险条例》第三十九条")
    income = [f for f in why["figures"] if f["key"] == "benefits.national_urban_income"][0]
    assert income["valid_from"] == "2023-01-01" and income["confidence"] == "U(sec)" and income["unconfirmed"]


def test_numbers_as_json_numbers_are_exact():
    case = {"date": "2024-05-10", "outcome": "disability", "grade": 4, "own_monthly_wage": 5432.17,
            "average_monthly_wage": 8000, "care_level": "partial", "ends_employment": False}
    items = json.loads(invoke(case).stdout)["items"]
    assert [(i["code"], i["amount"]) for i in items] == [
        ("one_off_disability_subsidy", "114075.57"), ("disability_allowance", "4074.13"), ("care_allowance", "2400.00")]


def test_bad_input_exits_2_with_the_page_messages():
    result = invoke({"date": "2024-05-10", "outcome": "disability", "grade": 11, "own_monthly_wage": "-5",
                     "ends_employment": True})
    assert result.exit_code == 2
    assert "grade（伤残等级）：伤残等级应为一级至十级（1 至 10）" in result.stderr
    assert "own_monthly_wage（本人月工资）：本人月工资应大于零" in result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert {e["field"] for e in errors} == {"grade", "own_monthly_wage"}


def test_not_json_and_uncovered_dates():
    result = invoke("{date: 1}")
    assert result.exit_code == 2 and "不是有效的 JSON" in result.stderr
    result = invoke({"date": "2010-06-01", "outcome": "disability", "grade": 3, "own_monthly_wage": "6000"})
    assert result.exit_code == 2 and "city（所在市）" in result.stderr


def test_missing_figure_is_a_hint_and_the_estimate_is_provisional():
    result = invoke({"date": "2025-06-01", "outcome": "disability", "grade": 3, "own_monthly_wage": "6000"})
    assert result.exit_code == 0, result.output
    assert "提示：average_monthly_wage（上年度职工月平均工资）：2024年" in result.stderr
    out = json.loads(result.stdout)
    assert out["items"][0]["amount"] == "138000.00"  # 23 × 6,000: within the bounds, final
    assert "average_monthly_wage" in {n["field"] for n in out["field_notes"]}


def test_unknown_field_is_refused_by_name():
    result = invoke({**EXAMPLE_5, "region": "340100", "years_to_retirment": 3})
    assert result.exit_code == 2
    errors = json.loads(result.stdout)["errors"]
    assert {e["field"] for e in errors} == {"region", "years_to_retirment"}
    assert "不认识的字段 region" in result.stderr and "不认识的字段 years_to_retirment" in result.stderr
    assert "birth_date" in result.stderr  # the message lists the fields that may be given
    result = invoke({**EXAMPLE_5, "dependants": [{"relation": "spouse", "alive": True}]})
    assert result.exit_code == 2 and "第1位供养亲属：不认识的字段 alive" in result.stderr


LEAVING_7 = {"date": "2025-03-10", "outcome": "disability", "grade": 7, "own_monthly_wage": "6000",
             "average_monthly_wage": "8000", "ends_employment": True, "leaving_date": "2026-06-30"}


def test_birth_date_and_sex_instead_of_years_to_retirement():
    # man born 1968-05-20: 60y11m under the 2025 reform, reached 2029-04-20; 2y9m after leaving: 70 %
    result = invoke({**LEAVING_7, "birth_date": "1968-05-20", "sex": "male"})
    assert result.exit_code == 0, result.output
    items = {i["code"]: i for i in json.loads(result.stdout)["items"]}
    subsidy = items["one_off_employment_subsidy"]
    assert subsidy["amount"] == "112000.00"  # 20 × 8,000 × 70 %
    used = [i for i in subsidy["explanation"]["inputs"] if i["name"] == "birth_date"][0]
    assert "法定退休年龄60周岁11个月，2029年4月20日达到" in used["value"]
    rule = [f for f in subsidy["explanation"]["figures"] if f["key"] == "statutory_retirement_age"][0]
    assert rule["valid_from"] == "2025-01-01" and "渐进式延迟法定退休年龄" in rule["source"]
    # a woman of the 50 category born 1976-03-01: 50y8m, reached 2026-11-01 (4 months after leaving)
    result = invoke({**LEAVING_7, "birth_date": "1976-03-01", "sex": "female", "original_retirement_age": 50})
    assert result.exit_code == 0, result.output
    amounts = {i["code"]: i["amount"] for i in json.loads(result.stdout)["items"]}
    assert amounts["one_off_employment_subsidy"] == "48000.00"  # under one year: 30 %


def test_years_and_birth_date_together_are_refused():
    result = invoke({**LEAVING_7, "birth_date": "1968-05-20", "sex": "male", "years_to_retirement": "3"})
    assert result.exit_code == 2
    assert "years_to_retirement（距法定退休年龄的年数）：距法定退休年龄的年数与出生日期、性别只填一种" in result.stderr


def test_category_for_a_man_or_another_value_is_refused():
    result = invoke({**LEAVING_7, "birth_date": "1968-05-20", "sex": "male", "original_retirement_age": 55})
    assert result.exit_code == 2
    assert "original_retirement_age（原法定退休年龄（女职工））：原法定退休年龄（50或55周岁）只适用于女职工" in result.stderr
    result = invoke({**LEAVING_7, "birth_date": "1976-03-01", "sex": "female", "original_retirement_age": 60})
    assert result.exit_code == 2 and "原法定退休年龄只能是50周岁或55周岁" in result.stderr
    result = invoke({**LEAVING_7, "birth_date": "1976-03-01", "sex": "female"})
    assert result.exit_code == 2 and "女职工请选择原法定退休年龄" in result.stderr
    result = invoke({**LEAVING_7, "birth_date": "1976-03-01", "sex": "woman", "original_retirement_age": 50})
    assert result.exit_code == 2 and "sex（性别）：性别只能是 male（男）或 female（女）" in result.stderr


def test_registered_under_the_portal_command():
    result = CliRunner().invoke(cli, ["benefits", "estimate"], input=json.dumps(EXAMPLE_5))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"][0]["code"] == "funeral_grant"


def test_real_subprocess_of_the_console_script():
    script = Path(sys.executable).with_name("portal")
    proc = subprocess.run([str(script), "benefits", "estimate"], input=json.dumps(EXAMPLE_5), capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["items"][1]["amount"] == "1036420.00"
    bad = subprocess.run([str(script), "benefits", "estimate"], input='{"outcome": "death"}', capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and "请填写受伤或死亡日期" in bad.stderr
