"""Every registered route is checked against every role: no route is left unchecked.

The table below is the single statement of who may use what. A new route fails this test until
it is added here, and every route is requested as each role (and anonymously) to prove the
declared policy is what the running app enforces.
"""

import re

import pytest

from portal.auth.access import policy_of
from tests.conftest import ALL_ROLE_NAMES

PUBLIC = "public"
NETWORK = "staff_network"


def MACHINE(scope: str) -> tuple[str, str]:
    """A machine interface: credentials, never sessions; callers without them get 401."""
    return ("machine", scope)
SIGNED_IN = set(ALL_ROLE_NAMES)
CITY_STAFF = {"clerk", "recognition_officer", "appraisal_office", "finance"}

EXPECTED = {
    "static": PUBLIC,
    "public.home": PUBLIC,
    "public.service": PUBLIC,
    "public.blank_form": PUBLIC,
    "public.contact": PUBLIC,
    "public.search": PUBLIC,
    "public.set_text_size": PUBLIC,
    "auth.login": PUBLIC,
    "auth.callback": PUBLIC,
    "auth.logout": SIGNED_IN,
    "home.index": SIGNED_IN,
    "home.worker": {"worker"},
    "home.employer": {"employer"},
    "home.staff": CITY_STAFF,
    "home.province": {"provincial"},
    "accounts.profile": {"worker"},
    "accounts.update_bank_account": {"worker"},
    "accounts.name_mismatches": {"clerk", "provincial"},
    "accounts.link_person": {"clerk", "provincial"},
    "accounts.keep_separate": {"clerk", "provincial"},
    "audit.index": {"provincial"},
    "ops.healthz": PUBLIC,
    "ops.metrics": NETWORK,
    "ops.self_check": {"provincial"},
    "ops.request_self_check": {"provincial"},
    "api.openapi_document": PUBLIC,
    "api.project_cover": MACHINE("project_cover:read"),
    "certificates.issue": {"employer"},
    "certificates.download": {"employer"},
    "certificates.verify": PUBLIC,
    "ops.self_check_status": {"provincial"},
    "payments.bills": {"employer", "clerk", "finance", "provincial"},
    "payments.bill": {"employer", "clerk", "finance", "provincial"},
    "payments.pay": {"employer"},
    "payments.refresh": {"employer", "clerk", "finance", "provincial"},
    "payments.tax_callback": PUBLIC,
    "enrollment.unit": {"employer"},
    "enrollment.edit_unit": {"employer"},
    "enrollment.save_unit": {"employer"},
    "enrollment.submit_unit": {"employer"},
    "enrollment.clerk_inbox": {"clerk", "provincial"},
    "enrollment.review_unit": {"clerk", "provincial"},
    "enrollment.approve_unit": {"clerk"},
    "enrollment.return_unit": {"clerk"},
    "enrollment.unit_members": {"clerk", "provincial"},
    "enrollment.members_list": {"employer"},
    "enrollment.new_member": {"employer"},
    "enrollment.add_member": {"employer"},
    "enrollment.member": {"employer"},
    "enrollment.change_wage_base": {"employer"},
    "enrollment.remove_member": {"employer"},
    "enrollment.import_members": {"employer"},
    "enrollment.upload_members": {"employer"},
    "enrollment.members_template": {"employer"},
    "enrollment.province_overview": {"provincial"},
    "projects.index": {"employer"},
    "projects.new": {"employer"},
    "projects.create": {"employer"},
    "projects.show": {"employer", "clerk", "provincial"},
    "projects.submit": {"employer"},
    "projects.start": {"employer"},
    "projects.complete": {"employer"},
    "projects.change_price": {"employer"},
    "projects.extend": {"employer"},
    "projects.permit": {"employer"},
    "projects.switch_basis": {"clerk"},
    "projects.poster_pdf": {"employer"},
    "projects.roster_page": {"employer", "clerk", "provincial"},
    "projects.add_worker": {"employer"},
    "projects.import_roster": {"employer"},
    "projects.remove_worker": {"employer"},
    "projects.roster_template": {"employer"},
    "projects.my_cover": {"worker"},
    "projects.inbox": {"clerk", "provincial"},
    "projects.overview": {"provincial"},
    "benefits.estimate_page": PUBLIC,
    "benefits.estimate_pdf": PUBLIC,
    "benefits.tables": {"provincial"},
    "renders.show": PUBLIC,
    "renders.download": PUBLIC,
    "clocks.holidays": {"provincial"},
    "clocks.add_holiday": {"provincial"},
    "clocks.remove_holiday": {"provincial"},
    "clocks.mark_year_complete": {"provincial"},
    "clocks.unmark_year_complete": {"provincial"},
    "materials.download": SIGNED_IN,
    "inbox.index": {"worker", "employer"},
    "inbox.message": {"worker", "employer"},
    "recognition.office_queue": {"recognition_officer", "provincial"},
    "recognition.office_case": {"recognition_officer", "provincial"},
    "recognition.office_request_supplement": {"recognition_officer", "provincial"},
    "recognition.office_accept": {"recognition_officer", "provincial"},
    "recognition.office_refuse": {"recognition_officer", "provincial"},
    "recognition.office_add_note": {"recognition_officer", "provincial"},
    "recognition.office_suspend": {"recognition_officer", "provincial"},
    "recognition.office_resume": {"recognition_officer", "provincial"},
    "recognition.office_decide": {"recognition_officer", "provincial"},
    "recognition.office_serve": {"recognition_officer", "provincial"},
    "recognition.office_answer_urge": {"recognition_officer", "provincial"},
    "recognition.office_overview": {"provincial"},
    "recognition.office_city_due": {"provincial"},
    "recognition.index": {"worker", "employer"},
    "recognition.new_case": {"worker", "employer"},
    "recognition.create_case": {"worker", "employer"},
    "recognition.task_list": {"worker", "employer"},
    "recognition.worker_step": {"worker", "employer"},
    "recognition.save_worker_step": {"worker", "employer"},
    "recognition.employer_step": {"worker", "employer"},
    "recognition.save_employer_step": {"worker", "employer"},
    "recognition.event_step": {"worker", "employer"},
    "recognition.save_event_step": {"worker", "employer"},
    "recognition.materials_step": {"worker", "employer"},
    "recognition.upload_material": {"worker", "employer"},
    "recognition.reuse_material": {"worker", "employer"},
    "recognition.remove_material": {"worker", "employer"},
    "recognition.check_answers": {"worker", "employer"},
    "recognition.submit_case": {"worker", "employer"},
    "recognition.discard_draft": {"worker", "employer"},
    "recognition.submitted": {"worker", "employer"},
    "recognition.receipt_pdf": {"worker", "employer"},
    "recognition.upload_supplement": {"worker", "employer"},
    "recognition.send_supplement": {"worker", "employer"},
    "recognition.urge_case": {"worker", "employer"},
    "recognition.withdraw_form": {"worker", "employer"},
    "recognition.withdraw_case": {"worker", "employer"},
    "recognition.case_page": {"worker", "employer", "recognition_officer", "provincial"},
}

SAMPLE_ARGS = {"int": "1", "string": "sample", "path": "sample", "default": "sample"}


def _sample_url(rule) -> str:
    def fill(match):
        converter = match.group(1) or "default"
        return SAMPLE_ARGS.get(converter, "sample")

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", fill, rule.rule)


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_policy_and_an_expectation(app):
    missing_policy = [r.endpoint for r in app.url_map.iter_rules() if policy_of(app.view_functions[r.endpoint]) is None]
    assert missing_policy == []
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert sorted(endpoints - EXPECTED.keys()) == [], "add new routes to EXPECTED"
    assert sorted(EXPECTED.keys() - endpoints) == [], "EXPECTED names routes that no longer exist"


def _declared_matches_table(app):
    for rule in app.url_map.iter_rules():
        policy = policy_of(app.view_functions[rule.endpoint])
        expected = EXPECTED[rule.endpoint]
        if isinstance(expected, tuple):
            assert policy.machine_scope == expected[1], rule.endpoint
        elif expected == PUBLIC:
            assert policy.public, rule.endpoint
        elif expected == NETWORK:
            assert policy.network_restricted, rule.endpoint
        else:
            assert not policy.public and not policy.network_restricted, rule.endpoint
            assert {r.value for r in policy.roles} == expected, rule.endpoint


def test_declared_policies_match_the_table(app):
    _declared_matches_table(app)


@pytest.mark.parametrize("who", [None, *ALL_ROLE_NAMES])
def test_every_route_enforces_its_policy_for_every_role(app, login_as, who):
    app.config["WTF_CSRF_ENABLED"] = False  # this test is about roles; CSRF has its own tests
    checked = 0
    for rule, method in _routes(app):
        if rule.endpoint == "static":
            continue
        checked += 1
        client = app.test_client()
        if who is not None:
            login_as(client, who)
        response = client.open(_sample_url(rule), method=method)
        expected = EXPECTED[rule.endpoint]
        where = f"{method} {rule.rule} as {who or 'anonymous'}"
        if rule.endpoint == "auth.login" and response.status_code == 503:
            # no platform listens in this test: the login says so (tested in test_unified_login)
            assert b"idp_unavailable" in response.data or "暂时无法访问" in response.get_data(as_text=True)
            continue
        assert response.status_code < 500, where
        if isinstance(expected, tuple):  # a browser session is no machine credential
            assert response.status_code == 401, where
        elif expected in (PUBLIC, NETWORK):  # the test client comes from 127.0.0.1, a staff network
            assert response.status_code != 403, where
        elif who is None:
            assert response.status_code == 303 and response.headers["Location"].startswith("/login"), where
        elif who in expected:
            assert response.status_code != 403, where
            assert not response.headers.get("Location", "").startswith("/login"), where
        else:
            assert response.status_code == 403, where
    assert checked >= len(EXPECTED) - 1


def test_unpoliced_view_is_refused(app):
    """Fail closed: a view registered without any policy answers 403, even for provincial staff."""
    app.add_url_rule("/unpoliced", "unpoliced", lambda: "secret")
    response = app.test_client().get("/unpoliced")
    assert response.status_code == 403
