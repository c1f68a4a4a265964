"""One province directory for every loader (issue 13 point 3): ``portal.config.config_file``
resolves each configuration file in the province's directory (``config_dir`` /
``PORTAL_CONFIG_DIR``), falling back to this project's ``config/``; every cache is keyed by the
resolved file, so switching provinces never serves the other one's data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from portal import config
from portal.config import CONFIG_DIR, PROJECT_ROOT, config_file, use_config_dir

#: a province's own benefit standards: one figure, its source naming the province's rule
OWN_BENEFITS = """\
[[figure]]
key = "benefits.funeral_grant_months"
valid_from = 2004-01-01
value = "9"
source = "《示例省工伤保险实施办法》第九条"
confidence = "C"
"""


@pytest.fixture
def province(tmp_path) -> Path:
    directory = tmp_path / "province"
    (directory / "policy").mkdir(parents=True)
    (directory / "policy" / "benefits.toml").write_text(OWN_BENEFITS, "utf-8")
    return directory


@pytest.fixture
def switch():
    """``switch(directory)`` selects a province for the test and puts the previous one back."""
    previous = config.config_dir()
    yield use_config_dir
    use_config_dir(previous)


def test_a_file_resolves_in_the_province_then_in_config(province, switch):
    switch(province)
    assert config_file("policy/benefits.toml") == province / "policy" / "benefits.toml"
    assert config_file("policy", "benefits.toml") == province / "policy" / "benefits.toml"
    assert config_file("policy/deadlines.toml") == CONFIG_DIR / "policy" / "deadlines.toml"
    switch(None)
    assert config_file("policy/benefits.toml") == CONFIG_DIR / "policy" / "benefits.toml"


def test_policy_figures_follow_the_province_and_back(province, switch):
    from portal.benefits.policy import benefit_policy
    from portal.policy.figures import figure, history, policy_files

    anhui = figure("benefits.funeral_grant_months", date(2025, 1, 1))
    anhui_policy = benefit_policy()
    switch(province)
    own = figure("benefits.funeral_grant_months", date(2025, 1, 1))
    assert (own.value, own.source) == ("9", "《示例省工伤保险实施办法》第九条")
    assert [f.value for f in history("benefits.funeral_grant_months")] == ["9"]
    # the file replaces Anhui's benefits.toml whole; the other files are this project's
    files = policy_files()
    assert province / "policy" / "benefits.toml" in files
    assert CONFIG_DIR / "policy" / "wages.toml" in files and CONFIG_DIR / "policy" / "benefits.toml" not in files
    own_policy = benefit_policy()
    assert own_policy is not anhui_policy and own_policy.history("benefits.funeral_grant_months")[0].value == "9"
    with pytest.raises(Exception, match="benefits.disability_subsidy_months"):
        figure("benefits.disability_subsidy_months", date(2025, 1, 1))
    switch(None)  # no stale cache either way
    assert figure("benefits.funeral_grant_months", date(2025, 1, 1)) == anhui
    assert benefit_policy() is anhui_policy


def _copy_replacing(directory: Path, name: str, old: str, new: str) -> None:
    text = (CONFIG_DIR / name).read_text("utf-8")
    assert old in text, (name, old)
    target = directory / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(old, new, 1), "utf-8")


def _deadline_counting_source():
    from portal.clocks.deadlines import counting_policy

    return counting_policy().source


def _first_material_label():
    from portal.materials.kinds import material_kinds

    return material_kinds()[0].label


def _spouse():
    from portal.recognition.service.policy import relations

    return relations()["spouse"]


def _industry_source():
    from portal.policy.figures import industry_sources

    return industry_sources()["classes"]


def _claim_subject():
    from portal.accounts.claims import _mapping

    return _mapping()["subject"]


def _staff_file():
    from portal.demo import staff_file

    return staff_file().read_text("utf-8")


@pytest.mark.parametrize(("name", "old", "new", "read", "shows"), [
    ("policy/deadlines.toml", "《民法典》第二百零一条", "《示例规定》第一条", _deadline_counting_source, "《示例规定》"),
    ("policy/material_kinds.toml", 'label = "身份证明"', 'label = "身份证件"', _first_material_label, "身份证件"),
    ("policy/recognition.toml", 'spouse = "配偶"', 'spouse = "丈夫或妻子"', _spouse, "丈夫或妻子"),
    ("policy/industry_classes.toml", 'source = "人社部发〔2015〕71号', 'source = "示例省费率表', _industry_source,
     "示例省费率表"),
    ("identity_claims.toml", 'subject = "sub"', 'subject = "uid"', _claim_subject, "uid"),
    ("demo_staff.toml", "[[staff]]", "# 示例省\n[[staff]]", _staff_file, "# 示例省"),
])
def test_every_loader_reads_the_provinces_copy(tmp_path, switch, name, old, new, read, shows):
    anhui = read()
    assert shows not in anhui
    _copy_replacing(tmp_path / "province", name, old, new)
    switch(tmp_path / "province")
    assert shows in read()
    switch(None)
    assert read() == anhui


def test_an_app_reads_its_own_province_in_its_context(database_url, tmp_path, province, switch):
    """Two apps in one process: each request (app context) reads its own app's province, whichever
    directory the process selected last."""
    from portal import create_app
    from portal.policy.figures import figure
    from tests.conftest import settings_for_tests

    (province / "regions.toml").write_text((CONFIG_DIR / "regions.toml").read_text("utf-8"), "utf-8")
    own = create_app(settings_for_tests(database_url, tmp_path / "a", config_dir=str(province)))
    anhui = create_app(settings_for_tests(database_url, tmp_path / "b"))  # selects config/ process-wide
    try:
        assert config.config_dir() == CONFIG_DIR
        with own.app_context():
            assert config.config_dir() == province
            assert figure("benefits.funeral_grant_months", date(2025, 1, 1)).value == "9"
        with anhui.app_context():
            assert figure("benefits.funeral_grant_months", date(2025, 1, 1)).value == "6"
    finally:
        for app in (own, anhui):
            app.extensions["portal.database"].dispose()


@pytest.mark.parametrize("given", ["absolute", "relative"])
def test_the_environment_selects_the_province_before_any_app(province, given):
    """CLI commands and workers read ``PORTAL_CONFIG_DIR`` at import (a relative directory is
    relative to the project root), so their first figure is already the province's."""
    value = str(province) if given == "absolute" else os.path.relpath(province, PROJECT_ROOT)
    code = ("from datetime import date; from portal.config import config_dir; "
            "from portal.policy.figures import figure; "
            "print(config_dir()); print(figure('benefits.funeral_grant_months', date(2025, 1, 1)).source)")
    env = {**os.environ, "PORTAL_CONFIG_DIR": value}
    done = subprocess.run([sys.executable, "-c", code], cwd=str(Path.home() if Path.home().is_dir() else "/"),
                          env={**env, "PYTHONPATH": str(PROJECT_ROOT)}, capture_output=True, text=True,
                          timeout=60, check=True)
    shown_dir, source = done.stdout.strip().splitlines()
    assert Path(shown_dir).resolve() == province.resolve()
    assert source == "《示例省工伤保险实施办法》第九条"
