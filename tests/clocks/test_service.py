"""Holiday overrides through the service, on both databases: audited changes, the calendar
built from them, the 2026→2027 year end (provisional until confirmed), and confirming a year."""

from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.clocks import service
from portal.clocks.calendar import DayKind, statutory_holidays
from portal.clocks.deadlines import deadline
from portal.errors import NotFoundError, PermissionDenied

SOURCE = "国务院办公厅关于2027年部分节假日安排的通知（测试）"


def _actions(sess):
    return [a for a in sess.execute(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).scalars()
            if a != "clocks.due_dates_recomputed"]


def enter_statutory_holidays(sess, actor, year, *, skip=()):
    """Enter the year's statutory holidays as 放假 overrides, as a notice would list them."""
    for day, name in statutory_holidays(year).items():
        if day not in skip:
            service.add_override(sess, actor, day, "holiday", name, SOURCE)


def test_add_list_remove_is_audited(sess, actor_for):
    province = actor_for("provincial")
    added = service.add_override(sess, province, date(2027, 1, 1), "holiday", " 元旦 ", SOURCE)
    service.add_override(sess, province, date(2027, 2, 6), DayKind.WORKDAY, "春节", SOURCE)
    assert added.name == "元旦" and added.created_by == province.account_id
    assert [o.day for o in service.list_overrides(sess, 2027)] == [date(2027, 1, 1), date(2027, 2, 6)]
    assert service.list_overrides(sess, 2026) == []
    service.remove_override(sess, province, added.id)
    assert [o.day for o in service.list_overrides(sess, 2027)] == [date(2027, 2, 6)]
    assert _actions(sess)[-3:] == ["clocks.override_added", "clocks.override_added", "clocks.override_removed"]
    event = sess.execute(sa.select(AuditEvent).where(AuditEvent.action == "clocks.override_removed")).scalar_one()
    assert event.detail == {"day": "2027-01-01", "kind": "holiday", "name": "元旦"}
    assert event.object_type == "holiday_override" and event.object_id == str(added.id)


def test_only_provincial_staff_change_the_table(sess, actor_for):
    with pytest.raises(PermissionDenied):
        service.add_override(sess, actor_for("clerk"), date(2027, 1, 1), "holiday", "元旦", SOURCE)
    with pytest.raises(PermissionDenied):
        service.mark_year_complete(sess, actor_for("clerk"), 2027, SOURCE)


def test_invalid_and_duplicate_overrides(sess, actor_for):
    province = actor_for("provincial")
    service.add_override(sess, province, date(2027, 1, 1), "holiday", "元旦", SOURCE)
    with pytest.raises(service.InvalidOverride, match="2027年1月1日已有维护记录（放假，元旦）"):
        service.add_override(sess, province, date(2027, 1, 1), "workday", "元旦", SOURCE)
    with pytest.raises(service.InvalidOverride, match="请选择“放假”或“调休上班”"):
        service.add_override(sess, province, date(2027, 1, 2), "maybe", "元旦", SOURCE)
    with pytest.raises(service.InvalidOverride, match="请填写节日名称"):
        service.add_override(sess, province, date(2027, 1, 2), "holiday", "  ", SOURCE)
    with pytest.raises(service.InvalidOverride, match="年度应在2004年至2099年之间"):
        service.add_override(sess, province, date(2100, 1, 1), "holiday", "元旦", SOURCE)
    with pytest.raises(NotFoundError):
        service.remove_override(sess, province, 999999)


def test_year_end_2026_into_2027(sess, actor_for):
    """A working-day count crossing 2026-12-31 is provisional until the province enters 2027 and
    confirms it; then it is definite, with the override table's days; unconfirmed, provisional again."""
    province = actor_for("provincial")
    first = deadline("manual_reimbursement", date(2026, 12, 20), calendar=service.work_calendar(sess))
    assert first.due_date == date(2027, 1, 18) and first.provisional

    service.add_override(sess, province, date(2027, 1, 4), "holiday", "元旦（调休）", SOURCE)
    # the stated date counts at once, the year stays provisional
    moved = deadline("manual_reimbursement", date(2026, 12, 20), calendar=service.work_calendar(sess))
    assert moved.due_date == date(2027, 1, 19) and moved.provisional
    overview = service.year_overview(sess, 2027)
    assert not overview.known and overview.provisional and len(overview.missing) == 13

    enter_statutory_holidays(sess, province, 2027)
    service.mark_year_complete(sess, province, 2027, SOURCE)
    overview = service.year_overview(sess, 2027)
    assert overview.known and not overview.can_mark_complete and overview.holidays == 14 and not overview.missing
    result = deadline("manual_reimbursement", date(2026, 12, 20), calendar=service.work_calendar(sess))
    assert result.due_date == date(2027, 1, 19) and not result.provisional

    service.unmark_year_complete(sess, province, 2027)
    assert deadline("manual_reimbursement", date(2026, 12, 20), calendar=service.work_calendar(sess)).provisional
    assert _actions(sess)[-2:] == ["clocks.year_marked_complete", "clocks.year_unmarked"]
    recomputed = sess.execute(sa.select(AuditEvent.detail).where(AuditEvent.action == "clocks.due_dates_recomputed")
                              .order_by(AuditEvent.seq)).scalars().all()
    assert [d["reason"] for d in recomputed[-2:]] == ["year_confirmed:2027", "year_unconfirmed:2027"]


def test_marking_a_year_complete_needs_a_holiday_and_an_uncovered_year(sess, actor_for):
    province = actor_for("provincial")
    with pytest.raises(service.InvalidOverride, match="还没有录入任何放假日期"):
        service.mark_year_complete(sess, province, 2027, SOURCE)
    with pytest.raises(service.InvalidOverride, match="已包含在系统日历数据中"):
        service.mark_year_complete(sess, province, 2026, SOURCE)
    enter_statutory_holidays(sess, province, 2027)
    service.mark_year_complete(sess, province, 2027, SOURCE)
    with pytest.raises(service.InvalidOverride, match="已确认"):
        service.mark_year_complete(sess, province, 2027, SOURCE)
    with pytest.raises(NotFoundError):
        service.unmark_year_complete(sess, province, 2028)


def test_override_corrects_a_library_year(sess, actor_for):
    """An override in a year the library covers wins: e.g. a late change to the arrangement."""
    province = actor_for("provincial")
    assert deadline("employer_filing", date(2026, 11, 30)).due_date == date(2026, 12, 30)
    service.add_override(sess, province, date(2026, 12, 30), "holiday", "临时调整（测试）", SOURCE)
    result = deadline("employer_filing", date(2026, 11, 30), calendar=service.work_calendar(sess))
    assert result.due_date == date(2026, 12, 31) and "临时调整（测试）" in result.explanation


def test_confirming_a_year_is_refused_while_a_statutory_holiday_is_missing(sess, actor_for):
    province = actor_for("provincial")
    enter_statutory_holidays(sess, province, 2027, skip={date(2027, 2, 6), date(2027, 10, 3)})
    with pytest.raises(service.InvalidOverride) as refused:
        service.mark_year_complete(sess, province, 2027, SOURCE)
    assert refused.value.message.endswith("缺少：春节 2027-02-06、国庆节 2027-10-03")
    # a make-up working day on a statutory holiday does not count as entered
    service.add_override(sess, province, date(2027, 2, 6), "workday", "春节", SOURCE)
    with pytest.raises(service.InvalidOverride, match="缺少：春节 2027-02-06、国庆节 2027-10-03"):
        service.mark_year_complete(sess, province, 2027, SOURCE)
    assert service.year_overview(sess, 2027).completeness is None
