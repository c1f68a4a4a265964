"""超期监督 (provincial supervision of the recognition clocks): per city, how many cases are open,
near their statutory deadline, overdue, suspended, and how many 催办 wait for an answer; and, for
one city, the overdue and near-due cases themselves.

Plain Python. The counts are two GROUP BY queries on the due dates stored on each case
(``office_due_on``, kept current by ``clock.refresh_due_dates``), with the same rules as the
queue (``queue``): overdue = due before today, near = due from today up to
``clocks.next_near_day(today)``, which is what each case's clock says. "期限暂无法计算" counts the
open cases whose office clock should run (submitted, accepted, decided) but have no stored date
(a year no calendar source covers). Provincial staff see every city; a city officer calling these
sees only their own city (the case scope of ``cases.visible_cases``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.auth.roles import Actor
from portal.clocks import service as clocks
from portal.localtime import local_today
from portal.recognition.models import CaseStatus, RecognitionCase, Urge
from portal.recognition.service import cases as case_repo
from portal.recognition.service import queue
from portal.regions import province

C = RecognitionCase
#: open statuses in which the office's clock runs (a date is stored unless the calendar lacks the year)
CLOCKED = (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.DECIDED)


@dataclass(frozen=True)
class CityRow:
    code: str
    name: str
    open: int  #: 在办（未办结）
    near: int  #: 即将到期
    overdue: int  #: 已超期
    suspended: int  #: 中止
    open_urges: int  #: 未答复的催办
    unknown: int = 0  #: 期限暂无法计算（日历未录入）


def overview_query(actor: Actor, today: date, near_until: date):
    """Per status and city: open cases, those with a stored date, near, overdue. One GROUP BY in
    the order of the index ``ix_recognition_case_queue`` (status, city_code, office_due_on), so
    both databases count from the index alone."""
    due = C.office_due_on
    return (select(C.status, C.city_code, func.count(), func.count(due),
                   func.count().filter(due.between(today, near_until)),
                   func.count().filter(clocks.overdue(due, today)))
            .where(case_repo.visible_cases(actor).whereclause, C.status.in_(queue.OPEN_STATUSES))
            .group_by(C.status, C.city_code))


def open_urges_query(actor: Actor):
    """Per city: unanswered 催办 of open cases."""
    return (select(C.city_code, func.count()).select_from(Urge).join(C, C.id == Urge.case_id)
            .where(Urge.answer.is_(None), case_repo.visible_cases(actor).whereclause,
                   C.status.in_(queue.OPEN_STATUSES))
            .group_by(C.city_code))


def city_overview(sess: Session, actor: Actor, *, today: date | None = None) -> list[CityRow]:
    """One row per city of the province (all 16, also those without cases), in the order of
    config/regions.toml."""
    today = today or local_today()
    try:
        near_until = clocks.next_near_day(today, clocks.work_calendar(sess))
    except clocks.CalendarUnknown:
        near_until = date.fromordinal(today.toordinal() - 1)  # no day can be said to be near
    counts: dict[str, list[int]] = {}  # city → open, near, overdue, suspended, unknown
    for status, city_code, n, dated, near, overdue in sess.execute(overview_query(actor, today, near_until)):
        mine = counts.setdefault(city_code, [0, 0, 0, 0, 0])
        mine[0] += n
        mine[1] += near
        mine[2] += overdue
        mine[3] += n if status is CaseStatus.SUSPENDED else 0
        mine[4] += n - dated if status in CLOCKED else 0
    urges = {city: n for city, n in sess.execute(open_urges_query(actor))}
    result = []
    for city in province().cities:
        open_, near, overdue, suspended, unknown = counts.get(city.code, (0, 0, 0, 0, 0))
        result.append(CityRow(code=city.code, name=city.name, open=open_, near=near, overdue=overdue,
                              suspended=suspended, open_urges=urges.get(city.code, 0), unknown=unknown))
    return result


def overview_totals(rows: list[CityRow]) -> CityRow:
    """The province's line under the cities' (全省合计)."""
    return CityRow("", "全省合计", sum(r.open for r in rows), sum(r.near for r in rows),
                   sum(r.overdue for r in rows), sum(r.suspended for r in rows),
                   sum(r.open_urges for r in rows), sum(r.unknown for r in rows))


def due_cases(sess: Session, actor: Actor, city_code: str, *, page: int = 1, per_page: int = queue.PER_PAGE,
              today: date | None = None) -> queue.QueuePage:
    """The overdue and near-due open cases of one city, overdue first, then by due date, a page
    at a time (the queue's ``clock=due`` filter)."""
    return queue.list_queue(sess, actor, status=queue.STATUS_OPEN, clock=queue.CLOCK_DUE, city_code=city_code,
                            page=page, per_page=per_page, today=today)
