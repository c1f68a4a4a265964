"""Where a case stands: its stage, who holds it, and the statutory deadline running now.

Which clock runs depends on the status (shared/domain.md §5, config/policy/deadlines.toml):

    submitted (first filing)        material_review       15 days from receipt      (D3)
    submitted (after supplement)    supplement_review     15 days from supplement   (D4)
    awaiting_supplement             none for the office: the applicant holds the case
    accepted / suspended            recognition_decision  60 days from acceptance   (D5)
                                    …_simple (15 days) under the simplified procedure (D6);
                                    suspensions stop it (中止)
    decided                         decision_delivery     20 days from the decision (D7)

and the applicant's own period (:func:`applicant_deadline`):

    draft (event date known)        employer_filing / worker_filing: the filing window (D1, D2)
    served / not_accepted           administrative_reconsideration: 60 days from the decision's
                                    service (the refusal: from the day it was issued) (D17)

Both are stored on the case (``DueDates`` columns, :func:`refresh_due_dates`), kept current by an
effect of ``states.CASE_STATES`` (every move, including suspensions and resumptions, which change
the pauses) and by the event step of a draft, and recomputed for all cases when the calendar
changes (:func:`recompute_due_dates`, registered with the clocks in ``portal._wire_areas``).

Plain Python: the working-day calendar comes in as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.clocks import service as clocks
from portal.localtime import cn_date, local_today
from portal.recognition.models import CaseEvent, CaseStatus, PauseKind, RecognitionCase
from portal.recognition.service import cases as case_repo
from portal.recognition.service import policy
from portal.recognition.service.cases import office_name
from portal.states import Transition

S = CaseStatus


@dataclass(frozen=True)
class CaseClock:
    stage: str  #: 当前环节
    holder: str  #: 当前办理机构和角色（不显示个人信息）
    deadline: clocks.Deadline | None
    status: clocks.ClockStatus | None
    #: why no due date can be shown (a year no calendar source covers), for anyone
    problem: str | None = None
    #: what provincial staff can do about ``problem``: shown on staff pages only
    staff_hint: str | None = None

    @property
    def provisional(self) -> bool:
        """The due date rests on a year whose holiday arrangement is not confirmed (暂定)."""
        return self.deadline is not None and self.deadline.provisional

    @property
    def overdue(self) -> bool:
        return self.status is not None and self.status.state is clocks.ClockState.OVERDUE

    @property
    def near(self) -> bool:
        return self.status is not None and self.status.state is clocks.ClockState.NEAR


def holder(case: RecognitionCase) -> str:
    office = office_name(case.city_code)
    match case.status:
        case S.DRAFT:
            return "申请人（填写中）"
        case S.AWAITING_SUPPLEMENT:
            return "申请人（补正材料）"
        case S.SUSPENDED:
            return f"{office} 工伤认定人员（中止，待有关机关结论）"
        case S.SERVED | S.NOT_ACCEPTED | S.WITHDRAWN:
            return "已办结"
        case _:
            return f"{office} 工伤认定人员"


def suspensions(case: RecognitionCase) -> list[clocks.Pause]:
    return [clocks.Pause(p.started_on, p.ended_on, clocks.PauseKind.SUSPENSION, p.reason)
            for p in case.pauses if p.kind is PauseKind.SUSPENSION]


def running_deadline(case: RecognitionCase, calendar: clocks.WorkCalendar) -> clocks.Deadline | None:
    """The deadline the office is working to now, or None when no office clock runs."""
    match case.status:
        case S.SUBMITTED if case.supplement_received_on:
            return clocks.deadline("supplement_review", case.supplement_received_on, calendar=calendar)
        case S.SUBMITTED if case.received_on:
            return clocks.deadline("material_review", case.received_on, calendar=calendar)
        case S.ACCEPTED | S.SUSPENDED if case.accepted_on:
            rule = "recognition_decision_simple" if case.simplified else "recognition_decision"
            return clocks.deadline(rule, case.accepted_on, suspensions(case), calendar=calendar)
        case S.DECIDED if case.decided_on:
            return clocks.deadline("decision_delivery", case.decided_on, calendar=calendar)
    return None


def case_clock(case: RecognitionCase, calendar: clocks.WorkCalendar, today: date) -> CaseClock:
    stage = case.status.label
    who = holder(case)
    try:
        running = running_deadline(case, calendar)
        state = clocks.status(running, today, calendar=calendar) if running else None
    except clocks.CalendarUnknown as exc:
        return CaseClock(stage, who, None, None, problem=exc.message, staff_hint=exc.staff_hint)
    return CaseClock(stage, who, running, state)


def filing_window(applicant_kind: str, event_date: date, calendar: clocks.WorkCalendar) -> clocks.Deadline:
    """The last day to file (申请时限) for this kind of applicant (条例第十七条)."""
    return clocks.deadline(policy.applicant_rule(applicant_kind).window_rule, event_date, calendar=calendar)


# --- due dates stored on the case ---------------------------------------------------------------


def applicant_deadline(case: RecognitionCase, calendar: clocks.WorkCalendar) -> clocks.Deadline | None:
    """The period the applicant must meet now, or None: the filing window of a draft, the
    administrative reconsideration period after the decision (or refusal) is issued."""
    try:
        match case.status:
            case S.DRAFT if case.event_date is not None:
                return filing_window(case.applicant_kind.value, case.event_date, calendar)
            case S.SERVED if case.served_on is not None:
                return clocks.deadline("administrative_reconsideration", case.served_on, calendar=calendar)
            case S.NOT_ACCEPTED if case.closed_on is not None:
                return clocks.deadline("administrative_reconsideration", case.closed_on, calendar=calendar)
    except clocks.RuleNotInForce:
        return None
    return None


def refresh_due_dates(case: RecognitionCase, calendar: clocks.WorkCalendar, *,
                      recomputed: bool = False) -> list[clocks.DueChange]:
    """Store the running office and applicant due dates on ``case`` (see
    :func:`portal.clocks.due.store_due_dates`); a year no calendar covers leaves the date empty."""
    try:
        office = running_deadline(case, calendar)
    except clocks.CalendarUnknown:
        office = None
    try:
        applicant = applicant_deadline(case, calendar)
    except clocks.CalendarUnknown:
        applicant = None
    return clocks.store_due_dates(case, office=office, applicant=applicant, recomputed=recomputed)


def due_dates_effect(sess: Session, actor: Actor, case: RecognitionCase, move: Transition,
                     event: CaseEvent | None) -> None:
    """An effect of ``states.CASE_STATES``: the case moved (and its pauses may have): keep its
    stored due dates current."""
    refresh_due_dates(case, clocks.work_calendar(sess))
    sess.flush()


def _party_notice(sess: Session, case: RecognitionCase, change: clocks.DueChange) -> None:
    from portal.recognition.service import notices

    title = next((r.title for r in clocks.rules() if r.key == change.rule), "期限")
    office = office_name(case.city_code)
    what = (f"{office}办理本案的期限（{title}）" if change.side == "office" else f"您的期限（{title}）")
    before = cn_date(change.before) if change.before else "—"
    after = cn_date(change.after) if change.after else "—"
    tail = (f"暂定：{clocks.provisional_reason([change.after.year])}。" if change.provisional and change.after
            else "")
    body = f"因法定节假日安排更新，{what}的届满日由{before}调整为{after}。{tail}"
    ref = case.reference or f"草稿{case.id}"
    everyone = notices.parties(case)
    recipients = everyone if change.side == "office" or case.status.is_closed else everyone[:1]
    for party in recipients:
        from portal.inbox import service as inbox

        inbox.deliver(sess, person_id=party.person_id, organisation_id=party.organisation_id, kind="notice",
                      subject=f"期限届满日调整（{case.reference or '工伤认定申请'}）", body=body,
                      link=(notices.CASE_LINK.format(id=case.id) if case.reference
                            else f"/recognition/cases/{case.id}/file"),
                      link_label="查看案件", case_reference=case.reference,
                      dedupe_key=f"recognition-due:{ref}:{change.side}:{change.after}:{party.key}")


def recompute_due_dates(sess: Session, actor: Actor, reason: str) -> int:
    """The calendar changed (a year confirmed or unconfirmed, an override entered or removed):
    recompute the stored dates of every open case, and of closed cases whose applicant period
    still runs. A party whose date moved is told in the inbox; an office date that moved
    earlier is kept in ``office_due_was`` (shown to the city's recognition staff on the queue and
    case page); an applicant's date never moves earlier. Each changed case is audited."""
    calendar = clocks.work_calendar(sess)
    today = local_today()
    found = sess.execute(
        select(RecognitionCase).options(selectinload(RecognitionCase.pauses), selectinload(RecognitionCase.worker))
        .where(or_(RecognitionCase.status.not_in([s for s in CaseStatus if s.is_closed]),
                   RecognitionCase.applicant_due_on >= today))
        .order_by(RecognitionCase.id)).scalars().all()
    changed = 0
    for case in found:
        changes = refresh_due_dates(case, calendar, recomputed=True)
        if not changes:
            continue
        changed += 1
        for change in changes:
            if change.moved:
                _party_notice(sess, case, change)
        audit.record(sess, actor, "recognition.due_dates_recomputed", object_type="recognition_case",
                     object_id=str(case.id), city_code=case.city_code,
                     detail={"reference": case.reference, "reason": reason, "changes": [
                         {"side": c.side, "rule": c.rule, "before": c.before and c.before.isoformat(),
                          "after": c.after and c.after.isoformat(), "computed": c.computed and c.computed.isoformat(),
                          "provisional": c.provisional, "kept_later": c.kept_later} for c in changes]})
    sess.flush()
    return changed


#: what :func:`cases_due` can ask for
DUE_OVERDUE, DUE_THIS_WEEK = "overdue", "week"


def cases_due(actor: Actor, *, when: str, today: date, side: str = "office") -> Select:
    """The cases the actor may see whose stored ``side`` ("office" or "applicant") due date is
    overdue (``when="overdue"``) or due from today to Sunday (``when="week"``), soonest first:
    a query lists can page, sort and filter further (issue 14)."""
    column = RecognitionCase.office_due_on if side == "office" else RecognitionCase.applicant_due_on
    condition = clocks.overdue(column, today) if when == DUE_OVERDUE else clocks.due_this_week(column, today)
    query = case_repo.visible_cases(actor).where(condition)
    if side == "office":
        query = query.where(RecognitionCase.status.not_in([s for s in CaseStatus if s.is_closed]))
    return query.order_by(column, RecognitionCase.id)
