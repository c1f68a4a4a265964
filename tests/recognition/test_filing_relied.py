"""A worker's filing window recomputed after a calendar change never ends before the last day the
worker was shown (issue 13 point 1: the applicant relied on it)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from portal.clocks import service as clocks
from portal.recognition.models import ApplicantKind
from portal.recognition.service import filing

D = date.fromisoformat
# 2027-06-01 is a Tuesday: the worker's one-year window from 2026-06-01 ends that day either way;
# a confirmed 2027 with 06-01 as a make-up rest day would move it later, one with an earlier
# statutory day changes nothing. We test the floor directly.
CONFIRMED = clocks.WorkCalendar(complete_years=[2027])


def _case(**kw):
    base = dict(applicant_due_on=D("2027-06-03"), applicant_due_from=D("2026-06-01"),
                applicant_due_rule="worker_filing", event_date=D("2026-06-01"),
                applicant_kind=ApplicantKind.WORKER)
    return SimpleNamespace(**{**base, **kw})


def test_the_date_shown_before_holds_when_the_recomputed_one_is_earlier():
    case = _case()
    assert filing.relied_on(case) == D("2027-06-03")
    plain = filing.filing_window("worker", "accident", D("2026-06-01"), calendar=CONFIRMED, today=D("2027-06-02"))
    assert plain.due_date == D("2027-06-01") and plain.late
    held = filing.filing_window("worker", "accident", D("2026-06-01"), calendar=CONFIRMED, today=D("2027-06-02"),
                                relied=filing.relied_on(case))
    assert held.due_date == D("2027-06-03") and not held.late
    assert "2027年6月3日" in held.statement and "此前告知您的截止日期" in held.explanation
    late = filing.filing_window("worker", "accident", D("2026-06-01"), calendar=CONFIRMED, today=D("2027-06-04"),
                                relied=filing.relied_on(case))
    assert late.late


def test_no_floor_for_another_event_date_or_rule_or_an_earlier_date():
    assert filing.relied_on(_case(), D("2026-06-02")) is None
    assert filing.relied_on(_case(applicant_due_rule="employer_filing")) is None
    assert filing.relied_on(_case(applicant_due_on=None)) is None
    earlier = filing.filing_window("worker", "accident", D("2026-06-01"), calendar=CONFIRMED, today=D("2027-05-01"),
                                   relied=D("2027-05-20"))
    assert earlier.due_date == D("2027-06-01")
