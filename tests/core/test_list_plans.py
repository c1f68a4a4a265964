"""Every staff list's page query is served by an index, on SQLite and PostgreSQL (issue 14 point 2).

Each query comes from its service (the function the page itself runs), is explained by the
database (:func:`tests.query_budget.plan_of`) and must not read its table whole
(:func:`tests.query_budget.scans_table`). The recognition queues have their own test.
"""

from __future__ import annotations

from datetime import date

import pytest

from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.enrollment import service as enrollment
from portal.inbox import service as inbox
from portal.payments.models import BillStatus
from portal.payments.service import bills
from portal.projects import service as projects
from tests.conftest import sign_in_up_front
from tests.query_budget import plan_of, scans_table

TODAY = date(2026, 11, 20)


@pytest.fixture
def actor_for(actor_for):
    # signing in writes the audit rows the audit browser's plans are asked about
    return sign_in_up_front(actor_for, "clerk", "provincial", "employer", "worker")


def assert_uses_index(sess, statement, *tables: str) -> str:
    plan = plan_of(sess, statement)
    for table in tables:
        assert not scans_table(plan, table), f"{table} read whole:\n{plan}"
    return plan


def assert_newest_first_by_key(sess, statement) -> None:
    """An unfiltered list, newest first: read backwards along the primary key up to the page's
    end (SQLite shows it as "SCAN t" without a sort), never sorted whole."""
    plan = plan_of(sess, statement)
    assert "TEMP B-TREE" not in plan and "Seq Scan" not in plan and "Sort" not in plan, plan


def test_enrollment_review_lists_use_indexes(db, actor_for):
    clerk, provincial = actor_for("clerk"), actor_for("provincial")
    for actor, filters in ((clerk, dict(status="submitted")), (clerk, dict(status="approved", county_code="340104")),
                           (provincial, dict(status="returned")),
                           (provincial, dict(city_code="340200", status="submitted"))):
        query = enrollment.unit_list_query(actor, **filters)
        assert_uses_index(db, enrollment.unit_list_page_query(query, 2), "enrolled_unit")
    plan = assert_uses_index(db, enrollment.unit_list_page_query(
        enrollment.unit_list_query(clerk, status="submitted"), 1), "enrolled_unit")
    if db.get_bind().dialect.name == "sqlite":  # the index gives the order: no sort of the city's units
        assert "TEMP B-TREE" not in plan, plan


def test_members_list_uses_the_units_index(db):
    for show in ("current", "ended", "all", "flagged"):
        query = enrollment.members_query(1, show, TODAY)
        assert_uses_index(db, query.order_by("start_date", "id").limit(20), "unit_member")


def test_project_list_uses_indexes(db, actor_for):
    clerk, provincial = actor_for("clerk"), actor_for("provincial")
    for actor, filters in ((clerk, {}), (clerk, dict(status="covered")), (provincial, {}),
                           (provincial, dict(city="340200")), (provincial, dict(status="covered"))):
        plan = assert_uses_index(db, projects.inbox_page_query(projects.inbox_query(actor, **filters), 3),
                                 "project", "roster_entry", "organisation")
        if db.get_bind().dialect.name == "sqlite" and not filters:
            assert "TEMP B-TREE" not in plan, plan


def test_inbox_list_uses_the_recipients_index(db, actor_for):
    for who in ("worker", "employer"):
        for show in inbox.SHOW_CHOICES:
            query = inbox.messages_query(actor_for(who), show=show)
            plan = assert_uses_index(db, query.limit(20), "inbox_message")
            if db.get_bind().dialect.name == "sqlite" and show != "action":
                # the recipient's index is in the list's order (待办, unread, newest): no sort
                assert "_order" in plan and "TEMP B-TREE" not in plan, plan
    assert inbox.messages_query(actor_for("clerk")) is None  # staff have no inbox


def test_bills_list_uses_indexes(db, actor_for):
    assert_newest_first_by_key(db, bills.bill_list_query(actor_for("provincial")).limit(20))
    for who in ("employer", "clerk", "provincial"):
        for status in (None, BillStatus.ISSUED):
            if who == "provincial" and status is None:
                continue
            query = bills.bill_list_query(actor_for(who), status=status)
            plan = assert_uses_index(db, query.limit(20), "bill")
            if db.get_bind().dialect.name == "sqlite" and who != "provincial":
                assert "TEMP B-TREE" not in plan, plan


def test_audit_browser_uses_indexes(db, actor_for):
    account = actor_for("clerk").account_id
    assert "login.success" in audit.distinct_actions(db)
    for filters in (audit.AuditFilter(action="login"), audit.AuditFilter(city_code="340100"),
                    audit.AuditFilter(actor_account_id=account),
                    audit.AuditFilter(object_type="person", object_id="1"),
                    audit.AuditFilter(date_from=TODAY, date_to=TODAY)):
        assert_uses_index(db, audit.browse_query(db, filters).limit(50), "audit_event")
    # no filter: newest first straight from the primary key, never a sort of the whole trail
    assert_newest_first_by_key(db, audit.browse_query(db, audit.AuditFilter()).limit(50))


def test_audit_browser_serves_filter_and_order_from_one_index(db, actor_for):
    """An action with a city or an account: (city | account, action, id) gives the rows newest
    first, so the page stops after its rows (issue 14: the filtered browser at 100x). A prefix
    naming several actions reads each along that index up to the page's end, then merges them."""
    account = actor_for("clerk").account_id
    for action in ("test.plan.a", "test.plan.b"):
        db.add(AuditEvent(at=utcnow(), actor_label="测试", role="clerk", city_code="340200",
                          actor_account_id=account, action=action, detail={}))
    db.flush()
    for filters, index in ((audit.AuditFilter(city_code="340200", action="login"), "city_action_newest"),
                           (audit.AuditFilter(actor_account_id=account, action="login.success"),
                            "actor_action_newest"),
                           (audit.AuditFilter(city_code="340200", action="test.plan"), "city_action_newest"),
                           (audit.AuditFilter(actor_account_id=account, action="test.plan"),
                            "actor_action_newest")):
        plan = assert_uses_index(db, audit.browse_query(db, filters, reach=50).limit(50), "audit_event")
        assert index in plan, plan
        if db.get_bind().dialect.name == "sqlite" and filters.action != "test.plan":
            assert "TEMP B-TREE" not in plan, plan


def test_distinct_actions_seeks_rather_than_scans(db, actor_for):
    plan = plan_of(db, audit.distinct_actions_query())
    assert not scans_table(plan, "audit_event") and not scans_table(plan, "e"), plan
