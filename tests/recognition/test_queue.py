"""The office queue in SQL (issue 14 point 1), both databases: rows agree with the stored due
dates, suspended cases sort and filter by what their clock says, and a page loads no encrypted
column (nothing personal is decrypted for a list)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect

from portal.recognition import service as recognition
from tests.recognition import factories
from tests.recognition.factories import accepted_case, submitted_case

people, files_dir = factories.people, factories.files_dir

TODAY = date(2025, 10, 9)


@pytest.fixture
def cases(sess, people, files_dir):
    made = {
        "overdue": submitted_case(sess, people, received_on=date(2025, 9, 1)),
        "ok": accepted_case(sess, people, files_dir, received_on=date(2025, 9, 20)),
        # suspended before its decision was due: the clock stands still, no date
        "paused": accepted_case(sess, people, files_dir, received_on=date(2025, 9, 22)),
        # suspended after its decision was due (accepted 07-01: 60 days ended 09-01): stays overdue
        "late_paused": accepted_case(sess, people, files_dir, received_on=date(2025, 7, 1)),
    }
    for key, on in (("paused", date(2025, 9, 30)), ("late_paused", date(2025, 9, 20))):
        recognition.suspend_case(sess, people.officer, made[key].id, reason="待仲裁裁决", files_dir=files_dir, on=on)
    sess.flush()
    return made


def test_suspended_cases_sort_and_filter_by_their_clock(sess, people, cases):
    assert cases["paused"].office_due_on is None and cases["late_paused"].office_due_on is not None
    rows = recognition.queue_rows(sess, people.officer, today=TODAY)
    assert [r.case.id for r in rows] == [cases[k].id for k in ("late_paused", "overdue", "ok", "paused")]
    for row in rows:  # the badge says what the list sorted on
        assert row.due_date == row.case.office_due_on
    assert rows[0].clock.overdue and rows[-1].clock.deadline.is_paused
    overdue = recognition.list_queue(sess, people.officer, clock="overdue", today=TODAY)
    assert [r.case.id for r in overdue.rows] == [cases["late_paused"].id, cases["overdue"].id]
    suspended = recognition.list_queue(sess, people.officer, status="suspended", today=TODAY)
    assert [r.case.id for r in suspended.rows] == [cases["late_paused"].id, cases["paused"].id]


def test_a_page_loads_no_encrypted_column(app, sess, people, cases):
    sess.commit()
    database = app.extensions["portal.database"]
    with app.app_context(), database.sessions() as fresh:
        page = recognition.list_queue(fresh, people.officer, status="all", today=TODAY)
        assert page.total == 4 and all(r.worker_name == "张伟" for r in page.rows)
        for row in page.rows:
            unloaded = inspect(row.case).unloaded
            assert {"injury", "decision_reasoning"} <= unloaded, unloaded
            assert "worker" in unloaded  # the person (ID number, phone: encrypted) is not loaded


def test_a_page_past_the_last_shows_the_last(sess, people, cases):
    page = recognition.list_queue(sess, people.officer, per_page=3, page=9, today=TODAY)
    assert (page.page, page.pages, len(page.rows)) == (2, 2, 1)
