"""The office queue counts each of its groups up to the cap (portal.paging.COUNT_CAP) in one
statement; above it the queue pages up to the cap in the same order as the unpaged queue."""

from __future__ import annotations

from datetime import date, timedelta

from portal import paging
from portal.recognition import service as recognition
from tests.recognition import factories
from tests.recognition.factories import submitted_case

people = factories.people

TODAY = date(2025, 10, 9)


def test_the_queue_pages_up_to_the_cap_in_its_order(sess, people, monkeypatch):
    for n in range(9):
        submitted_case(sess, people, received_on=date(2025, 9, 1) + timedelta(days=n))
    sess.flush()
    every = [r.case.id for r in recognition.queue_rows(sess, people.officer, status="all", today=TODAY)]
    assert len(every) == 9
    page = recognition.list_queue(sess, people.officer, status="all", per_page=3, today=TODAY)
    assert (page.total, page.total_is_capped, page.pages) == (9, False, 3)

    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    pages = [recognition.list_queue(sess, people.officer, status="all", page=n, per_page=3, today=TODAY)
             for n in (1, 2, 5)]
    assert all((p.total, p.total_is_capped, p.pages) == (5, True, 2) for p in pages)
    assert pages[2].page == 2  # past the cap: the last page
    assert [r.case.id for p in pages[:2] for r in p.rows] == every[:6]
    monkeypatch.setattr(paging, "COUNT_CAP", 9)
    assert recognition.list_queue(sess, people.officer, status="all", today=TODAY).total_is_capped is False
