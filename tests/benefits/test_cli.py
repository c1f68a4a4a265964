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
    assert income["valid_from"] == "2024-01-01" and income["confidence"] == "U(sec)" and income["unconfirmed"]


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
    result = invoke({"date": "2025-06-01", "outcome": "disability", "grade": 3, "own_monthly_wage": "6000"})
    assert result.exit_code == 2 and "average_monthly_wage" in result.stderr and "2024年" in result.stderr


def test_unknown_field_is_a_warning_only():
    result = invoke({**EXAMPLE_5, "region": "340100"})
    assert result.exit_code == 0 and "region" in result.stderr


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
