"""The recognition office's queue (工伤认定案件队列): the cases an officer (or the province) may
see, filtered, sorted and paged **in SQL** on the due dates stored on each case
(:class:`portal.clocks.models.DueDates`, kept current by ``clock.refresh_due_dates``).

Order: cases with a running office clock by their stored due date (``office_due_on``; an overdue
date is earlier than today, so overdue cases come first), then open cases without a date, then
closed cases; the case id breaks ties. Filters: status (``open``, ``all`` or one status), clock
(已超期 ``overdue``: due before today; 即将到期 ``near``: due from today up to
:func:`clocks.next_near_day`, the same rule as ``clocks.status``; ``due``: both), a part of the
受理编号, and (province) the city.

A suspended case (中止) whose suspension began before its due date has no date while the clock
stands still (``office_due_on`` is NULL, as ``refresh_due_dates`` stores it): it sorts with the
open cases without a date and is neither overdue nor near. One suspended after its due date had
passed keeps that date and stays overdue. A case waiting for the applicant's supplement (待补正)
has no office clock either.

Each of those three groups is its own query ordered the way an index on the case table can give
it, so a page of the first group stops after the rows it shows however many cases are open;
one statement counts each group up to :data:`portal.paging.COUNT_CAP` rows (``共 N 件``, or
``超过 1,000 件``: the queue pages up to the cap, and the officer narrows the filter beyond it).
Only the page's rows are loaded, with the columns the row shows (no medical text, no ID
numbers: nothing personal is decrypted); their clocks are computed in Python for the ≤ 20 rows shown and their open 催办 counted in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import structlog
from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased, load_only, selectinload

from portal import paging
from portal.accounts.models import Organisation, Person
from portal.auth.roles import Actor
from portal.clocks import service as clocks
from portal.errors import PermissionDenied
from portal.localtime import local_today
from portal.paging import Paged, capped_count_query, page_count
from portal.recognition.models import CaseStatus, RecognitionCase, Urge
from portal.recognition.service import cases as case_repo
from portal.recognition.service import clock as case_clock_module
from portal.recognition.service.cases import OFFICE_ROLES

log = structlog.get_logger("portal.recognition")

PER_PAGE = 20
#: queue filters: status values, plus "open" (every case not closed) and "all"
STATUS_OPEN, STATUS_ALL = "open", "all"
CLOCK_OVERDUE, CLOCK_NEAR, CLOCK_DUE = "overdue", "near", "due"  #: 已超期 / 即将到期 / 两者

#: submitted and not closed (a draft is not the office's)
OPEN_STATUSES = tuple(s for s in CaseStatus if not s.is_closed and s is not CaseStatus.DRAFT)
CLOSED_STATUSES = tuple(s for s in CaseStatus if s.is_closed)

C = RecognitionCase
#: what a queue row reads of the case (``load_only``): no encrypted column among them
ROW_COLUMNS = (C.id, C.reference, C.status, C.city_code, C.late, C.received_on, C.supplement_received_on,
               C.accepted_on, C.simplified, C.decided_on, C.office_due_on, C.office_due_provisional,
               C.office_due_rule, C.office_due_was)


@dataclass
class QueueRow:
    #: the case with only :data:`ROW_COLUMNS` loaded (and its pauses, for the clock)
    case: RecognitionCase
    clock: case_clock_module.CaseClock
    open_urges: int
    worker_name: str | None = None  #: 受伤害职工姓名
    employer_name: str | None = None  #: 用人单位名称

    @property
    def due_date(self) -> date | None:
        d = self.clock.deadline
        return d.due_date if d is not None else None


@dataclass
class QueuePage(Paged):
    rows: list[QueueRow]
    total: int
    page: int
    per_page: int
    total_is_capped: bool = False


@dataclass(frozen=True)
class _Group:
    """One part of the order: its condition and the order an index gives it."""

    kind: str  #: dated | undated | closed
    where: ColumnElement[bool]
    order_by: tuple


def _require_office(actor: Actor) -> None:
    if actor.role not in OFFICE_ROLES:
        raise PermissionDenied("只有工伤认定人员可以办理此事项")


def _statuses(status: str) -> tuple[CaseStatus, ...]:
    if status == STATUS_OPEN:
        return OPEN_STATUSES
    if status == STATUS_ALL:
        return OPEN_STATUSES + CLOSED_STATUSES
    return (CaseStatus(status),)


def _clock_range(clock: str | None, today: date, near_until: date) -> ColumnElement[bool] | None:
    due = C.office_due_on
    if clock == CLOCK_OVERDUE:
        return clocks.overdue(due, today)
    if clock == CLOCK_NEAR:
        return due.between(today, near_until)
    if clock == CLOCK_DUE:
        return due <= near_until
    return None


def _groups(statuses: Sequence[CaseStatus], clock_range: ColumnElement[bool] | None) -> list[_Group]:
    """Dated open cases by due date, then undated open cases, then closed cases (by id)."""
    open_ones = [s for s in statuses if s in OPEN_STATUSES]
    closed = [s for s in statuses if s in CLOSED_STATUSES]
    groups = []
    if open_ones:
        dated = [C.status.in_(open_ones), C.office_due_on.is_not(None)]
        if clock_range is not None:
            dated.append(clock_range)
        groups.append(_Group("dated", and_(*dated), (C.office_due_on, C.id)))
        if clock_range is None:
            groups.append(_Group("undated", and_(C.status.in_(open_ones), C.office_due_on.is_(None)), (C.id,)))
    if closed and clock_range is None:
        groups.append(_Group("closed", C.status.in_(closed), (C.id,)))
    return groups


def _scope(actor: Actor, q: str | None, city_code: str | None) -> list[ColumnElement[bool]]:
    where = [case_repo.visible_cases(actor).whereclause]
    if city_code:
        where.append(C.city_code == city_code)
    if q and q.strip():
        where.append(C.reference.contains(q.strip().upper(), autoescape=True))
    return where


def _count_query(scope: list, groups: list[_Group], cap: int | None) -> Select:
    """One statement, one figure per group: its cases counted up to ``cap`` + 1 (each a
    :func:`portal.paging.capped_count_query` on the group's index), so counting costs the same
    however many cases are open. A page lies within the first ``cap`` rows, so sizes counted that
    far place it in its group. ``cap`` None: every case counted (unpaged reads only)."""
    def size(g: _Group):
        if cap is None:
            return select(func.count()).select_from(C).where(*scope, g.where).scalar_subquery()
        return capped_count_query(select(C.id).where(*scope, g.where), cap).scalar_subquery()
    return select(*(size(g) for g in groups))


def _rows_query(scope: list, group: _Group, offset: int, limit: int | None) -> Select:
    worker, employer = aliased(Person), aliased(Organisation)
    query = (select(C, worker.name, employer.name)
             .outerjoin(worker, worker.id == C.worker_person_id)
             .outerjoin(employer, employer.id == C.employer_organisation_id)
             .options(load_only(*ROW_COLUMNS), selectinload(C.pauses))
             .where(*scope, group.where).order_by(*group.order_by).offset(offset))
    return query.limit(limit) if limit is not None else query


@dataclass(frozen=True)
class QueueQueries:
    """The statements a queue page runs: the count, and each group's rows (a page's offset and
    limit applied by :func:`list_queue`). Exposed for the query-plan test."""

    statuses: tuple[CaseStatus, ...]
    scope: list
    clock_range: ColumnElement[bool] | None
    groups: list[_Group]

    def count(self, cap: int | None = None) -> Select:
        """The groups' sizes as a page counts them: each up to ``cap`` (default
        :data:`portal.paging.COUNT_CAP`) + 1."""
        return _count_query(self.scope, self.groups, paging.COUNT_CAP if cap is None else cap)

    def count_all(self) -> Select:
        """The groups' sizes, every case counted (unpaged reads only)."""
        return _count_query(self.scope, self.groups, None)

    def rows(self, group: _Group, offset: int = 0, limit: int | None = PER_PAGE) -> Select:
        return _rows_query(self.scope, group, offset, limit)


def queue_queries(actor: Actor, *, status: str = STATUS_OPEN, clock: str | None = None, q: str | None = None,
                  city_code: str | None = None, today: date, near_until: date) -> QueueQueries:
    """The queue's statements for these filters (``near_until``: :func:`clocks.next_near_day`)."""
    clock_range = _clock_range(clock, today, near_until) if clock else None
    statuses = _statuses(status)
    if clock_range is not None:
        statuses = tuple(s for s in statuses if s in OPEN_STATUSES)  # a closed case runs no clock
    return QueueQueries(statuses, _scope(actor, q, city_code), clock_range, _groups(statuses, clock_range))


def _row_clock(case: RecognitionCase, calendar: clocks.WorkCalendar, today: date) -> case_clock_module.CaseClock:
    """The row's clock, computed as the case page computes it; should it disagree with the
    stored date the list sorted on (a stored date not brought up to date), the stored date is
    shown, so the row's badge and its place in the list say the same, and the gap is logged."""
    clock = case_clock_module.case_clock(case, calendar, today)
    computed = clock.deadline.due_date if clock.deadline is not None else None
    if clock.problem is None and computed != case.office_due_on:
        log.warning("recognition.queue.stale_due_date", case_id=case.id, stored=str(case.office_due_on),
                    computed=str(computed))
        if computed is not None and case.office_due_on is not None:
            deadline = replace(clock.deadline, due_date=case.office_due_on)
            clock = replace(clock, deadline=deadline,
                            status=clocks.status(deadline, today, calendar=calendar))
    return clock


def _fetch(sess: Session, actor: Actor, *, status: str, clock: str | None, q: str | None,
           city_code: str | None, today: date | None, offset: int, limit: int | None,
           page_of: int | None = None) -> tuple[list[QueueRow], int, int, bool]:
    """(rows, total, offset used, total capped). ``page_of``: the page size, to move ``offset``
    onto the last page when it lies beyond it; without it (unpaged) every case is counted."""
    _require_office(actor)
    today = today or local_today()
    calendar = clocks.work_calendar(sess)
    near_until = today
    if clock:
        try:
            near_until = clocks.next_near_day(today, calendar)
        except clocks.CalendarUnknown:
            near_until = date.fromordinal(today.toordinal() - 1)  # no day can be said to be near
    queries = queue_queries(actor, status=status, clock=clock, q=q, city_code=city_code, today=today,
                            near_until=near_until)
    cap = paging.COUNT_CAP if page_of is not None else None
    counts_query = queries.count(cap) if cap is not None else queries.count_all()
    counts = list(sess.execute(counts_query).one()) if queries.groups else []
    total = sum(counts)
    capped = cap is not None and total > cap
    if capped:
        total = cap
    if page_of is not None:
        offset = min(offset, (page_count(total, page_of) - 1) * page_of)
    found, skip, wanted = [], offset, limit
    for group, size in zip(queries.groups, counts, strict=True):
        if wanted is not None and wanted <= 0:
            break
        if skip >= size:
            skip -= size
            continue
        got = list(sess.execute(queries.rows(group, skip, wanted)).all())
        found.extend(got)
        skip = 0
        if wanted is not None:
            wanted -= len(got)
    urges = open_urge_counts(sess, [case.id for case, _, _ in found])
    rows = [QueueRow(case, _row_clock(case, calendar, today), urges.get(case.id, 0), worker_name, employer_name)
            for case, worker_name, employer_name in found]
    return rows, total, offset, capped


def list_queue(sess: Session, actor: Actor, *, status: str = STATUS_OPEN, clock: str | None = None,
               q: str | None = None, city_code: str | None = None, page: int = 1,
               per_page: int = PER_PAGE, today: date | None = None) -> QueuePage:
    """One page of the queue (a page past the last shows the last)."""
    page = max(1, page)
    rows, total, offset, capped = _fetch(sess, actor, status=status, clock=clock, q=q, city_code=city_code,
                                         today=today, offset=(page - 1) * per_page, limit=per_page,
                                         page_of=per_page)
    return QueuePage(rows, total, offset // per_page + 1, per_page, capped)


def queue_rows(sess: Session, actor: Actor, *, status: str = STATUS_OPEN, clock: str | None = None,
               q: str | None = None, city_code: str | None = None, today: date | None = None) -> list[QueueRow]:
    """Every row of the queue in its order, unpaged: for tools and checks, not for pages."""
    rows, _, _, _ = _fetch(sess, actor, status=status, clock=clock, q=q, city_code=city_code, today=today,
                        offset=0, limit=None)
    return rows


def open_urge_counts(sess: Session, case_ids: Sequence[int]) -> dict[int, int]:
    """Unanswered 催办 of these cases (the page's rows only)."""
    if not case_ids:
        return {}
    result = sess.execute(select(Urge.case_id, func.count()).where(Urge.case_id.in_(list(case_ids)),
                                                                   Urge.answer.is_(None))
                          .group_by(Urge.case_id)).all()
    return {case_id: count for case_id, count in result}
