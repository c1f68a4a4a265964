"""The office queue's and the provincial overview's statements are served by indexes on both
databases (issue 14 point 2): none of them reads ``recognition_case`` whole, whatever the filter.

The statements are the services' own (``queue.queue_queries``, ``supervision.overview_query``),
explained with :func:`tests.query_budget.plan_of`.
"""

from __future__ import annotations

from datetime import date

import pytest

from portal.recognition.service import queue, supervision
from tests.query_budget import plan_of, scans_table
from tests.recognition import factories
from tests.recognition.factories import WUHU, submitted_case

people = factories.people

TODAY, NEAR_UNTIL = date(2025, 10, 9), date(2025, 10, 14)
FILTERS = [dict(), dict(clock="overdue"), dict(clock="near"), dict(clock="due"), dict(status="suspended"),
           dict(status="all"), dict(status="served"), dict(status="accepted", clock="due"), dict(q="000012")]


@pytest.fixture
def some_cases(sess, people):
    for n in range(3):
        submitted_case(sess, people, received_on=date(2025, 9, 1 + n))
    submitted_case(sess, people, received_on=date(2025, 9, 5), city_code=WUHU)
    sess.flush()


def _plans(sess, actor, **filters) -> list[str]:
    queries = queue.queue_queries(actor, today=TODAY, near_until=NEAR_UNTIL, **filters)
    return [plan_of(sess, queries.count())] + [plan_of(sess, queries.rows(g)) for g in queries.groups]


def test_the_queue_never_reads_the_case_table_whole(sess, people, some_cases):
    for actor, extra in ((people.officer, {}), (people.province, {}), (people.province, {"city_code": WUHU})):
        for filters in FILTERS:
            for plan in _plans(sess, actor, **filters, **extra):
                assert not scans_table(plan, "recognition_case"), f"{actor.role} {filters}:\n{plan}"


def test_a_citys_first_page_is_read_in_due_date_order_from_an_index(sess, people, some_cases):
    """The officer's default page (open cases with a date) stops after its rows: the index gives
    the order, nothing is sorted (SQLite says so plainly; PostgreSQL picks by cost)."""
    queries = queue.queue_queries(people.officer, today=TODAY, near_until=NEAR_UNTIL)
    plan = plan_of(sess, queries.rows(queries.groups[0]))
    assert "ix_recognition_case_city_due" in plan, plan
    if sess.get_bind().dialect.name == "sqlite":
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_the_overview_counts_from_indexes(sess, people, some_cases):
    for statement in (supervision.overview_query(people.province, TODAY, NEAR_UNTIL),
                      supervision.open_urges_query(people.province)):
        plan = plan_of(sess, statement)
        assert not scans_table(plan, "recognition_case"), plan
    plan = plan_of(sess, supervision.overview_query(people.province, TODAY, NEAR_UNTIL))
    assert "ix_recognition_case_queue" in plan, plan
