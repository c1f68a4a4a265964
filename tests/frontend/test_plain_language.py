"""Plain language on public pages (issue 13 point 4).

The public reads one plain sentence about figures not yet confirmed (``ui.unconfirmed_note``),
never a 待核实 badge per line, a confidence code (C, U(sec), U(weak), U(none)) or a file reference
(shared/domain.md, config/…, *.toml); staff keep them. Audit entries show Chinese names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.audit.labels import MACHINE_ACTIONS, action_label, all_labels
from portal.config import PROJECT_ROOT
from portal.public.service import catalogue

DEVELOPER_TEXT = re.compile(r"U\((?:sec|weak|none)\)|domain\.md|config/|\.toml|可信度|待核实|§\d")
NOTE = "部分标准和时限以经办机构核定为准"

ESTIMATES = (
    "/benefits/estimate?outcome=disability&date=2025-03-01&own_monthly_wage=6000&grade=5"
    "&ends_employment=y&leaving_date=2025-06-01&years_to_retirement=3&average_monthly_wage=7000",
    "/benefits/estimate?outcome=death&date=2025-03-01&own_monthly_wage=6000&average_monthly_wage=7000",
    "/benefits/estimate?outcome=disability&date=2025-03-01&own_monthly_wage=6000&grade=2&care_level=full"
    "&average_monthly_wage=7000",
)


def public_pages() -> list[str]:
    return (["/", "/services/search", "/benefits/estimate", "/verify", "/contact"]
            + [f"/services/{item.code}" for item in catalogue().items] + list(ESTIMATES))


def _developer_text(html: str) -> list[str]:
    return sorted({html[max(0, m.start() - 20):m.end() + 20] for m in DEVELOPER_TEXT.finditer(html)})


def test_public_pages_read_plainly(client):
    for url in public_pages():
        response = client.get(url)
        assert response.status_code in (200, 422), (url, response.status_code)
        html = response.get_data(as_text=True)
        assert not _developer_text(html), (url, _developer_text(html))


def test_one_plain_sentence_replaces_the_badges(client):
    html = client.get("/services/search").get_data(as_text=True)
    assert html.count(NOTE) == 1
    assert "badge--unconfirmed" not in html
    unconfirmed = next(item for item in catalogue().items if item.is_unconfirmed)
    page = client.get(f"/services/{unconfirmed.code}").get_data(as_text=True)
    assert NOTE in page and "badge--unconfirmed" not in page


def test_estimate_results_say_it_once(client):
    html = client.get(ESTIMATES[0]).get_data(as_text=True)
    assert html.count(NOTE) == 1, html.count(NOTE)


def test_staff_keep_the_badges_and_codes(client, login_as):
    login_as(client, "provincial")
    unconfirmed = next(item for item in catalogue().items if item.is_unconfirmed)
    page = client.get(f"/services/{unconfirmed.code}").get_data(as_text=True)
    assert "badge--unconfirmed" in page
    tables = client.get("/benefits/tables").get_data(as_text=True)
    assert "U(sec)" in tables or "U(none)" in tables


def test_plain_filter():
    from portal.web.filters import plain

    text = "无官方规定（shared/domain.md §6），按四舍五入到分；见 config/policy/benefits.toml。标准：U(none)。"
    assert plain(text, public=True) == "无官方规定，按四舍五入到分；见 。标准。"
    assert plain("三（一）1，已核实）", public=True) == "三（一）1）"
    assert plain("《某办法》（标准，待核实）", public=True) == "《某办法》"
    assert plain("尚未查到（待核实），本门户", public=True) == "尚未查到，本门户"


def test_no_informal_you_in_templates():
    hits = [f"{p.relative_to(PROJECT_ROOT)}" for p in (PROJECT_ROOT / "templates").rglob("*.html")
            if "你" in p.read_text("utf-8")]
    assert not hits, hits


# --- audit labels ----------------------------------------------------------------------------

def _recorded_actions() -> set[str]:
    """Every literal action code a service passes to ``audit.record``."""
    found = set()
    pattern = re.compile(r"audit\.record\(\s*[^,]+,\s*[^,]+,\s*\"([^\"{}]+)\"")
    for path in (PROJECT_ROOT / "portal").rglob("*.py"):
        found |= set(pattern.findall(path.read_text("utf-8")))
    return found


def test_every_recorded_action_has_a_chinese_name():
    missing = sorted(a for a in _recorded_actions() if action_label(a) is None)
    assert not missing, missing


def test_machine_patterns_match_the_machines():
    from portal.enrollment.service.units import UNIT_STATES
    from portal.payments.service.lifecycle import BILL_STATES
    from portal.projects.service.projects import PROJECT_STATES
    from portal.recognition.service.states import CASE_STATES

    patterns = {p for p, *_ in MACHINE_ACTIONS}
    assert {m.audit_action for m in (CASE_STATES, UNIT_STATES, PROJECT_STATES, BILL_STATES)} <= patterns | {
        "{name}.{action}"}
    for machine in (CASE_STATES, PROJECT_STATES, BILL_STATES, UNIT_STATES):
        actions = machine.actions() if callable(machine.actions) else machine.actions
        assert actions
        for action in actions:
            assert action_label(machine.audit_action_of(action)), action
    assert action_label("recognition.accept") == "工伤认定：受理"
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in all_labels().values())


@pytest.fixture
def audited(tx):
    from portal.audit import service as audit
    from portal.auth.roles import Actor, Role

    def _write(sess):
        actor = Actor(role=Role.PROVINCIAL, account_id=None, display_name="测试")
        audit.record(sess, actor, "recognition.accept", object_type="recognition_case", object_id="1")
        audit.record(sess, actor, "something.new", object_type="x", object_id="1")

    tx(_write)


def test_audit_browser_shows_chinese_names(client, login_as, audited):
    login_as(client, "provincial")
    html = client.get("/audit/").get_data(as_text=True)
    assert "工伤认定：受理" in html
    assert "未登记名称的操作代码" in html  # the unnamed code is shown as the code, with a note


def test_error_pages_are_chinese(client):
    html = client.get("/no-such-page").get_data(as_text=True)
    assert not _developer_text(html)
    assert re.search(r"[\u4e00-\u9fff]", html)
    text = re.sub(r"<[^>]+>", " ", html)  # what the visitor reads (the code stays in data-error-code)
    assert "Not Found" not in text and "not_found" not in text  # the code is for staff


def test_staff_see_the_error_code(client, login_as):
    login_as(client, "provincial")
    text = re.sub(r"<[^>]+>", " ", client.get("/no-such-page").get_data(as_text=True))
    assert "not_found" in text


def test_readme_documents_the_province_directory():
    assert "PORTAL_CONFIG_DIR" in Path(PROJECT_ROOT / "README.md").read_text("utf-8")
