"""Where a case stands: its stage, who holds it, and the statutory deadline running now.

Which clock runs depends on the status (shared/domain.md §5, config/policy/deadlines.toml):

    submitted (first filing)        material_review       15 days from receipt      (D3)
    submitted (after supplement)    supplement_review     15 days from supplement   (D4)
    awaiting_supplement             none for the office: the applicant holds the case
    accepted / suspended            recognition_decision  60 days from acceptance   (D5)
                                    …_simple (15 days) under the simplified procedure (D6);
                                    suspensions stop it (中止)
    decided                         decision_delivery     20 days from the decision (D7)

Plain Python: the working-day calendar comes in as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.clocks import deadlines as dl
from portal.clocks.calendar import CalendarUnknown, WorkCalendar
from portal.recognition.models import CaseStatus, PauseKind, RecognitionCase

S = CaseStatus


@dataclass(frozen=True)
class CaseClock:
    stage: str  #: 当前环节
    holder: str  #: 当前办理机构和角色（不显示个人信息）
    deadline: dl.Deadline | None
    status: dl.ClockStatus | None
    #: why no due date can be shown (e.g. a year the calendar does not know yet)
    problem: str | None = None

    @property
    def overdue(self) -> bool:
        return self.status is not None and self.status.state is dl.ClockState.OVERDUE

    @property
    def near(self) -> bool:
        return self.status is not None and self.status.state is dl.ClockState.NEAR


def holder(case: RecognitionCase) -> str:
    from portal.recognition.states import office_name

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


def suspensions(case: RecognitionCase) -> list[dl.Pause]:
    return [dl.Pause(p.started_on, p.ended_on, dl.PauseKind.SUSPENSION, p.reason)
            for p in case.pauses if p.kind is PauseKind.SUSPENSION]


def running_deadline(case: RecognitionCase, calendar: WorkCalendar) -> dl.Deadline | None:
    """The deadline the office is working to now, or None when no office clock runs."""
    match case.status:
        case S.SUBMITTED if case.supplement_received_on:
            return dl.deadline("supplement_review", case.supplement_received_on, calendar=calendar)
        case S.SUBMITTED if case.received_on:
            return dl.deadline("material_review", case.received_on, calendar=calendar)
        case S.ACCEPTED | S.SUSPENDED if case.accepted_on:
            rule = "recognition_decision_simple" if case.simplified else "recognition_decision"
            return dl.deadline(rule, case.accepted_on, suspensions(case), calendar=calendar)
        case S.DECIDED if case.decided_on:
            return dl.deadline("decision_delivery", case.decided_on, calendar=calendar)
    return None


def case_clock(case: RecognitionCase, calendar: WorkCalendar, today: date) -> CaseClock:
    stage = case.status.label
    who = holder(case)
    try:
        running = running_deadline(case, calendar)
        state = dl.status(running, today, calendar=calendar) if running else None
    except CalendarUnknown as exc:
        return CaseClock(stage, who, None, None, problem=str(exc))
    return CaseClock(stage, who, running, state)


def filing_window(applicant_kind: str, event_date: date, calendar: WorkCalendar) -> dl.Deadline:
    """The last day to file (申请时限) for this kind of applicant (条例第十七条)."""
    from portal.recognition import policy

    return dl.deadline(policy.applicant_rule(applicant_kind).window_rule, event_date, calendar=calendar)
