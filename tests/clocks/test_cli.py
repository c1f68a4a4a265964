"""`portal deadline`: the clock rules from the command line (the contract in issue 5 point 9)."""

import subprocess
import sys

import pytest

REQUIRED = ["employer_filing", "worker_filing", "material_review", "recognition_decision",
            "recognition_decision_simple", "decision_delivery", "appraisal_conclusion", "appraisal_extension",
            "reappraisal_application", "appraisal_review"]


@pytest.mark.parametrize("args,due,counting", [
    (["recognition_decision", "2025-03-03"], "2025-05-06", "calendar days"),  # 05-02 in May Day → 05-06
    (["recognition_decision", "2025-03-03", "--suspended-days", "10"], "2025-05-12", "calendar days"),
    (["recognition_decision_simple", "2024-09-20"], "2024-10-08", "calendar days"),  # 10-05 in National Day
    (["appraisal_supplement_notice", "2025-09-26"], "2025-10-10", "working days"),  # 09-28, 10-11 make-up days
    (["employer_filing", "2024-01-15"], "2024-02-18", "calendar days"),  # 02-14 in Spring Festival → 02-18 workday
])
def test_due_dates(app, args, due, counting):
    result = app.test_cli_runner().invoke(args=["deadline", *args])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == due and counting in lines[1]


def test_list_names_every_required_rule_with_period_and_basis(app):
    result = app.test_cli_runner().invoke(args=["deadline", "--list"])
    assert result.exit_code == 0
    listed = {line.split("\t")[0]: line for line in result.output.splitlines()}
    for name in REQUIRED:
        assert name in listed
        assert "《" in listed[name] or "R " in listed[name]  # legal basis shown


@pytest.mark.parametrize("args,first,why", [
    (["worker_filing", "2026-06-01"], "2027-06-01 暂定", "2027年放假安排尚未公布，暂按法定节假日推算；公布后可能调整"),
    (["material_review", "2026-12-20"], "2027-01-04 暂定", "2027年放假安排尚未公布"),
    (["manual_reimbursement", "2026-12-20"], "2027-01-18 暂定", "2027年放假安排尚未公布"),
])
def test_a_date_in_an_unpublished_year_is_marked_provisional(app, args, first, why):
    result = app.test_cli_runner().invoke(args=["deadline", *args])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == first and why in lines[2]


def test_a_confirmed_year_is_not_provisional(app, tx, actor_for):
    from portal.clocks import service
    from tests.clocks.test_service import enter_statutory_holidays

    province = actor_for("provincial")
    tx(lambda s: (enter_statutory_holidays(s, province, 2027), service.mark_year_complete(s, province, 2027, "通知")))
    result = app.test_cli_runner().invoke(args=["deadline", "worker_filing", "2026-06-01"])
    assert result.exit_code == 0 and result.output.splitlines()[0] == "2027-06-01"


@pytest.mark.parametrize("args,message", [
    (["material_review", "2100-12-20"], "2101年的法定节假日无法确定"),
    (["no_such_rule", "2025-01-01"], "没有名为"),
    (["employer_filing", "2025-13-01"], "格式不正确"),
])
def test_errors_are_clear_and_exit_non_zero(app, args, message):
    result = app.test_cli_runner().invoke(args=["deadline", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_the_console_script_works_without_a_database(tmp_path):
    """On a fresh checkout with no database the library calendar alone answers."""
    env = {"PATH": "/usr/bin:/bin", "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}",
           "PORTAL_QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}", "PORTAL_LOG_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, "-m", "portal.cli", "deadline", "worker_filing", "2024-02-29"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "2025-02-28"
