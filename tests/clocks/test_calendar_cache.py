"""The working-day calendar kept between requests (issue 14 point 1), both databases.

Each node (an app: a process in production) keeps the calendar it built for the version token
stored in ``holiday_calendar_version`` and builds a new one when the token changes: a change
made through another node, or written to the database by another process, is seen by the next
``work_calendar`` without a restart. Also: near (即将到期) as a date bound agrees with
``clocks.status`` day by day."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.clocks import service as clocks
from portal.clocks.calendar import WorkCalendar
from portal.clocks.deadlines import ClockState, deadline
from tests.conftest import settings_for_tests
from tests.query_budget import count_queries

SOURCE = "国务院办公厅关于放假安排的通知（测试）"
MONDAY = date(2025, 10, 13)  # a working day in the library's data
TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def stamp(app):
    """The stamp row as the migration leaves it (the PostgreSQL test cleaner empties every table
    between tests; without a row nothing is kept, which would make these tests pass vacuously)."""
    _write(app, clocks.calendar_changed)
    assert _write(app, clocks.calendar_token) is not None


def _working(app, day: date) -> bool:
    database = app.extensions["portal.database"]
    with app.app_context(), database.sessions() as sess:
        return clocks.work_calendar(sess).is_working_day(day)


def _write(app, fn):
    database = app.extensions["portal.database"]
    with app.app_context(), database.write_transaction() as sess:
        return fn(sess)


def test_a_change_on_one_node_is_seen_by_the_other(app, database_url, tmp_path, actor_for):
    province = actor_for("provincial")
    other = create_app(settings_for_tests(database_url, tmp_path / "node2"))
    try:
        assert _working(other, MONDAY) and _working(app, MONDAY)  # both nodes now keep a calendar
        added = _write(app, lambda s: clocks.add_override(s, province, MONDAY, "holiday", "测试放假", SOURCE))
        assert not _working(other, MONDAY) and not _working(app, MONDAY)
        _write(app, lambda s: clocks.remove_override(s, province, added.id))
        assert _working(other, MONDAY)

        # another process writes the table and the stamp directly: no code of this one ran
        engine = sa.create_engine(database_url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO holiday_override (day, kind, name, source, created_at) "
                                     "VALUES (:d, 'holiday', '测试', :s, CURRENT_TIMESTAMP)"), {"d": TUESDAY, "s": SOURCE})
                conn.execute(sa.text("UPDATE holiday_calendar_version SET token = :t, version = version + 1"),
                             {"t": uuid.uuid4().hex})
        finally:
            engine.dispose()
        assert not _working(other, TUESDAY) and not _working(app, TUESDAY)
    finally:
        other.extensions["portal.database"].dispose()


def test_the_calendar_is_kept_until_the_stamp_changes(app, actor_for):
    province = actor_for("provincial")
    database = app.extensions["portal.database"]
    with app.app_context(), database.sessions() as sess:
        first = clocks.work_calendar(sess)
        with count_queries(app) as counted:
            again = clocks.work_calendar(sess)
        assert again is first and counted.total == 1, counted.report()  # the stamp only
        before = clocks.calendar_token(sess)
    # every kind of change writes a new token: override added / removed, year confirmed / withdrawn
    tokens = {before}
    added = _write(app, lambda s: clocks.add_override(s, province, date(2027, 1, 1), "holiday", "元旦", SOURCE))
    tokens.add(_write(app, clocks.calendar_token))
    _write(app, lambda s: clocks.remove_override(s, province, added.id))
    tokens.add(_write(app, clocks.calendar_token))

    def confirm(s):
        for day, name in clocks.statutory_holidays(2027).items():
            clocks.add_override(s, province, day, "holiday", name, SOURCE)
        clocks.mark_year_complete(s, province, 2027, SOURCE)
    _write(app, confirm)
    tokens.add(_write(app, clocks.calendar_token))
    with app.app_context(), database.sessions() as sess:
        assert clocks.work_calendar(sess).knows_year(2027) and not first.knows_year(2027)
    _write(app, lambda s: clocks.unmark_year_complete(s, province, 2027))
    tokens.add(_write(app, clocks.calendar_token))
    assert len(tokens) == 5
    with app.app_context(), database.sessions() as sess:
        assert not clocks.work_calendar(sess).knows_year(2027)


def test_a_change_rolled_back_leaves_the_calendar_as_it_was(app, actor_for):
    province = actor_for("provincial")
    database = app.extensions["portal.database"]
    assert _working(app, MONDAY)
    with app.app_context(), database.sessions() as sess:
        clocks.add_override(sess, province, MONDAY, "holiday", "测试放假", SOURCE)
        assert not clocks.work_calendar(sess).is_working_day(MONDAY)  # inside the change: seen
        sess.rollback()
    assert _working(app, MONDAY)


def test_the_last_near_day_is_what_status_calls_near():
    """For every day of a month with the National Day holiday and a make-up working day, a due
    date is NEAR by ``clocks.status`` exactly when it lies from today to ``next_near_day``."""
    calendar = WorkCalendar()
    for offset in range(40):
        today = date(2025, 9, 20) + timedelta(days=offset)
        last = clocks.next_near_day(today, calendar)
        for ahead in range(0, 25):
            due = today + timedelta(days=ahead)
            start = due - timedelta(days=10)
            found = deadline("material_review", start, calendar=calendar)
            found = found.__class__(**{**found.__dict__, "due_date": due})
            near = clocks.status(found, today, calendar=calendar).state is ClockState.NEAR
            assert near == (today <= due <= last), (today, due, last)
