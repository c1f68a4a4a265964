"""The office queue and the provincial overdue overview (both databases), on a fixed "today"
(2025-10-09, the day after the National Day holiday) so the clock states are hand-computable."""

from __future__ import annotations

from datetime import date

import pytest

from portal.recognition import service as recognition
from portal.recognition.models import Urge
from portal.regions import province
from tests.recognition import factories
from tests.recognition.factories import WUHU, accepted_case, submitted_case

#: fixtures shared by the recognition tests
people, files_dir = factories.people, factories.files_dir

TODAY = date(2025, 10, 9)


@pytest.fixture
def cases(sess, people, files_dir):
    made = {
        # material_review from 09-01 ended 09-16: overdue
        "overdue": submitted_case(sess, people, received_on=date(2025, 9, 1)),
        # from 09-26: 15 days end Saturday 10-11, a make-up working day; 10-10 and 10-11 remain: near
        "near": submitted_case(sess, people, received_on=date(2025, 9, 26)),
        # decision due 2025-11-19: fine
        "ok": accepted_case(sess, people, files_dir, received_on=date(2025, 9, 20)),
        "suspended": accepted_case(sess, people, files_dir, received_on=date(2025, 9, 22)),
        "wuhu": submitted_case(sess, people, received_on=date(2025, 9, 2), city_code=WUHU),
        "served": accepted_case(sess, people, files_dir, received_on=date(2025, 9, 2)),
    }
    recognition.suspend_case(sess, people.officer, made["suspended"].id, reason="待仲裁裁决", files_dir=files_dir,
                             on=date(2025, 9, 30))
    recognition.decide_case(sess, people.officer, made["served"].id, outcome="recognised", ground_code="r14_1",
                            reasoning="事实清楚。", files_dir=files_dir, on=date(2025, 9, 5))
    recognition.serve_case(sess, people.officer, made["served"].id, on=date(2025, 9, 6))
    sess.add(Urge(case_id=made["overdue"].id, by_account_id=people.employer.account_id, text="请尽快审查。"))
    sess.flush()
    return made


def test_the_queue_puts_overdue_first_then_by_due_date(sess, people, cases):
    page = recognition.list_queue(sess, people.officer, today=TODAY)
    refs = [row.case.id for row in page.rows]
    assert refs == [cases["overdue"].id, cases["near"].id, cases["ok"].id, cases["suspended"].id]
    first = page.rows[0]
    assert first.clock.overdue and first.open_urges == 1 and first.due_date == date(2025, 9, 16)
    assert page.rows[1].clock.near and page.rows[1].due_date == date(2025, 10, 11)
    assert page.rows[3].clock.deadline.is_paused


def test_queue_filters(sess, people, cases):
    def ids(**kw):
        return [r.case.id for r in recognition.list_queue(sess, people.officer, today=TODAY, **kw).rows]

    assert ids(clock="overdue") == [cases["overdue"].id]
    assert ids(clock="near") == [cases["near"].id]
    assert ids(clock="due") == [cases["overdue"].id, cases["near"].id]
    assert ids(status="suspended") == [cases["suspended"].id]
    assert ids(status="served") == [cases["served"].id]
    assert cases["served"].id in ids(status="all") and cases["served"].id not in ids()
    assert ids(q=cases["near"].reference[-6:].lower()) == [cases["near"].id]
    assert ids(q="no-such") == []
    # paging
    page = recognition.list_queue(sess, people.officer, today=TODAY, per_page=3, page=2)
    assert (page.total, page.pages, page.page, len(page.rows)) == (4, 2, 2, 1)


def test_the_city_officer_sees_only_their_city_and_the_province_all(sess, people, cases):
    officer_ids = {r.case.id for r in recognition.queue_rows(sess, people.officer, status="all", today=TODAY)}
    assert cases["wuhu"].id not in officer_ids and cases["overdue"].id in officer_ids
    province_ids = {r.case.id for r in recognition.queue_rows(sess, people.province, status="all", today=TODAY)}
    assert province_ids == {c.id for c in cases.values()}
    wuhu_only = recognition.list_queue(sess, people.province, city_code=WUHU, today=TODAY)
    assert [r.case.id for r in wuhu_only.rows] == [cases["wuhu"].id]
    assert recognition.list_queue(sess, people.wuhu_officer, today=TODAY).total == 1


def test_the_overview_counts_every_city(sess, people, cases):
    rows = recognition.city_overview(sess, people.province, today=TODAY)
    assert [r.code for r in rows] == [c.code for c in province().cities] and len(rows) == 16
    by_code = {r.code: r for r in rows}
    hefei, wuhu = by_code["340100"], by_code[WUHU]
    assert (hefei.open, hefei.near, hefei.overdue, hefei.suspended, hefei.open_urges) == (4, 1, 1, 1, 1)
    assert (wuhu.open, wuhu.near, wuhu.overdue, wuhu.suspended, wuhu.open_urges) == (1, 0, 1, 0, 0)
    assert all(r.open == 0 for code, r in by_code.items() if code not in ("340100", WUHU))
    total = recognition.overview_totals(rows)
    assert (total.open, total.overdue, total.near) == (5, 2, 1)
    # a city officer calling it sees only their own city's cases
    mine = {r.code: r for r in recognition.city_overview(sess, people.officer, today=TODAY)}
    assert mine[WUHU].open == 0 and mine["340100"].open == 4


def test_one_citys_due_cases(sess, people, cases):
    page = recognition.due_cases(sess, people.province, "340100", today=TODAY)
    assert [r.case.id for r in page.rows] == [cases["overdue"].id, cases["near"].id] and page.total == 2
    assert [r.case.id for r in recognition.due_cases(sess, people.province, WUHU, today=TODAY).rows] == [
        cases["wuhu"].id]
