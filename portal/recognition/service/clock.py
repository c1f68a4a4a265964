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

from portal.clocks import service as clocks
from portal.recognition.models import CaseStatus, PauseKind, RecognitionCase
from portal.recognition.service import policy
from portal.recognition.service.cases import office_name

S = CaseStatus


@dataclass(frozen=True)
class CaseClock:
    stage: str  #: 当前环节
    holder: str  #: 当前办理机构和角色（不显示个人信息）
    deadline: clocks.Deadline | None
    status: clocks.ClockStatus | None
    #: why no due date can be shown (e.g. a year the calendar does not know yet)
    problem: str | None = None

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
        return CaseClock(stage, who, None, None, problem=str(exc))
    return CaseClock(stage, who, running, state)


def filing_window(applicant_kind: str, event_date: date, calendar: clocks.WorkCalendar) -> clocks.Deadline:
    """The last day to file (申请时限) for this kind of applicant (条例第十七条)."""
    return clocks.deadline(policy.applicant_rule(applicant_kind).window_rule, event_date, calendar=calendar)
