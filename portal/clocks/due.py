"""Due dates stored on a case (:class:`portal.clocks.models.DueDates`): keeping them, and asking
for overdue or due-this-week cases in SQL. Plain Python, no Flask; any area whose model inherits
the mixin (recognition today; appraisal and benefit claims later) uses these.

Which deadline is the office's and which the applicant's is the area's call (it knows its
states); ``config/policy/deadlines.toml`` says per rule whose period it is (``party``). The two
sides differ when a date is recomputed (a calendar year confirmed, an override entered):

* the office's date takes the new value, also when it moves earlier — the agency must meet the
  law's date — and an earlier move keeps the old date in ``office_due_was`` so staff are alerted;
* the applicant's date never moves earlier for the same rule and the same start event: the
  applicant relied on the date shown to them (a provisional date is kept as the floor).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement

from portal.clocks.deadlines import Deadline, Party
from portal.clocks.models import DueDates

OFFICE, APPLICANT = "office", "applicant"


@dataclass(frozen=True)
class DueChange:
    """One stored due date that changed (or, for the applicant, was held against an earlier one)."""

    side: str  #: "office" | "applicant"
    rule: str | None
    before: date | None
    after: date | None
    provisional: bool
    #: the applicant's date was kept: the recomputed one (``computed``) is earlier
    kept_later: bool = False
    computed: date | None = None

    @property
    def earlier(self) -> bool:
        return self.before is not None and self.computed is not None and self.computed < self.before

    @property
    def moved(self) -> bool:
        return self.before != self.after


def store_due_dates(subject: DueDates, *, office: Deadline | None, applicant: Deadline | None,
                    recomputed: bool = False) -> list[DueChange]:
    """Write the running office and applicant deadlines onto ``subject`` and return what changed.

    ``recomputed``: the calendar changed, not the case — an earlier office date then keeps its
    old value in ``office_due_was`` (the alert for staff); a change of the case itself clears it."""
    for found, party in ((office, Party.OFFICE), (applicant, Party.APPLICANT)):
        if found is not None and found.rule.party is not party:
            raise ValueError(f"{found.rule.key} is not the {party.value}'s period (deadlines.toml: party)")
    changes: list[DueChange] = []

    office_on = office.due_date if office is not None else None
    office_rule = office.rule.key if office is not None else None
    office_prov = bool(office is not None and office.provisional)
    before = subject.office_due_on
    if (before, subject.office_due_rule, bool(subject.office_due_provisional)) != (office_on, office_rule, office_prov):
        if before != office_on:
            changes.append(DueChange(OFFICE, office_rule, before, office_on, office_prov, computed=office_on))
        if recomputed and before is not None and office_on is not None and office_on < before \
                and subject.office_due_rule == office_rule:
            subject.office_due_was = subject.office_due_was or before
        subject.office_due_on, subject.office_due_rule, subject.office_due_provisional = office_on, office_rule, office_prov
    if not recomputed:
        subject.office_due_was = None

    app_on = applicant.due_date if applicant is not None else None
    app_rule = applicant.rule.key if applicant is not None else None
    app_from = applicant.start_event_date if applicant is not None else None
    app_prov = bool(applicant is not None and applicant.provisional)
    before = subject.applicant_due_on
    same = app_rule is not None and (subject.applicant_due_rule, subject.applicant_due_from) == (app_rule, app_from)
    if same and before is not None and app_on is not None and app_on < before:
        # relied on: the later date holds
        if recomputed:
            changes.append(DueChange(APPLICANT, app_rule, before, before, app_prov, kept_later=True, computed=app_on))
        subject.applicant_due_provisional = app_prov
        return changes
    if (before, subject.applicant_due_rule, subject.applicant_due_from, bool(subject.applicant_due_provisional)) \
            != (app_on, app_rule, app_from, app_prov):
        if before != app_on:
            changes.append(DueChange(APPLICANT, app_rule, before, app_on, app_prov, computed=app_on))
        subject.applicant_due_on, subject.applicant_due_rule = app_on, app_rule
        subject.applicant_due_from, subject.applicant_due_provisional = app_from, app_prov
    return changes


# --- queries (for lists: sort and filter in SQL) ----------------------------------------------


def week_end(today: date) -> date:
    """The Sunday of ``today``'s week (周日)."""
    return today + timedelta(days=6 - today.weekday())


def overdue(column, today: date) -> ColumnElement[bool]:
    """The period ended before today (the due day itself still counts until 24:00)."""
    return column < today


def due_this_week(column, today: date) -> ColumnElement[bool]:
    """Due from today to the end of this week (周日), not yet overdue."""
    return column.between(today, week_end(today))
