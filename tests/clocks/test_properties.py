"""Property tests of the calculator (Hypothesis), on the library calendar (dates stay inside
2004–2026, the years it covers)."""

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.clocks import deadlines as dl
from portal.clocks.deadlines import Pause, PauseKind, Unit, deadline

MAX_LENGTH = {Unit.CALENDAR_DAYS: 120, Unit.WORKING_DAYS: 60, Unit.MONTHS: 14, Unit.YEARS: 1}

starts = st.dates(min_value=date(2005, 1, 1), max_value=date(2023, 12, 31))
units = st.sampled_from(list(Unit))


def make_rule(unit: Unit, length: int, shift: bool) -> dl.Rule:
    return dl.Rule(key="prop", ref="T", title="测试", length=length, unit=unit, starts="event",
                   starts_label="测试事件之日", pausable_by=(PauseKind.SUSPENSION,),
                   holiday_shift=shift and unit is not Unit.WORKING_DAYS, basis="T", source="测试",
                   confidence="C", valid_from=date(2004, 1, 1))


@st.composite
def pause_lists(draw, start: date):
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        offset = draw(st.integers(-20, 200))
        length = draw(st.integers(0, 30))
        first = start + timedelta(days=offset)
        pauses.append(Pause(first, first + timedelta(days=length)))
    return pauses


@st.composite
def cases(draw):
    unit = draw(units)
    length = draw(st.integers(1, MAX_LENGTH[unit]))
    start = draw(starts)
    return make_rule(unit, length, draw(st.booleans())), start, draw(pause_lists(start))


@settings(max_examples=300, deadline=None)
@given(cases())
def test_pauses_never_make_the_due_date_earlier(case):
    rule, start, pauses = case
    plain = deadline(rule, start)
    paused = deadline(rule, start, pauses)
    assert plain.due_date <= paused.due_date
    assert plain.due_date > start


@settings(max_examples=300, deadline=None)
@given(cases(), st.integers(-20, 200), st.integers(0, 30))
def test_adding_a_pause_never_moves_the_due_date_earlier(case, offset, length):
    rule, start, pauses = case
    extra = Pause(start + timedelta(days=offset), start + timedelta(days=offset + length))
    before = deadline(rule, start, pauses)
    after = deadline(rule, start, [*pauses, extra])
    assert before.due_date <= after.due_date
    assert before.paused_days <= after.paused_days


@settings(max_examples=300, deadline=None)
@given(cases(), st.booleans())
def test_monotone_in_length(case, with_pauses):
    rule, start, pauses = case
    pauses = pauses if with_pauses else []
    longer = dl.Rule(**{**rule.__dict__, "length": rule.length + 1})
    assert deadline(rule, start, pauses).due_date <= deadline(longer, start, pauses).due_date


@settings(max_examples=300, deadline=None)
@given(cases())
def test_counting_identities(case):
    """What the result reports adds up: calendar-day periods end length + paused days after
    the event (before any shift); working-day periods count exactly ``length`` working days
    and end on a working day that is not paused."""
    rule, start, pauses = case
    result = deadline(rule, start, pauses)
    spans = dl.merge_pauses(pauses, start)
    in_pause = any(s.start <= result.due_date <= s.end for s in spans)
    assert not in_pause
    if rule.unit is Unit.CALENDAR_DAYS:
        assert (result.unshifted_due - start).days == rule.length + result.paused_days
    if rule.unit is Unit.WORKING_DAYS:
        assert result.counted_days == rule.length
        from portal.clocks.calendar import is_working_day
        assert is_working_day(result.due_date)
    if rule.holiday_shift:
        from portal.clocks.calendar import is_working_day
        assert is_working_day(result.due_date)
        assert result.due_date >= result.unshifted_due


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-10, 60), st.integers(0, 20)), max_size=6), starts)
def test_merged_pauses_are_sorted_disjoint_and_cover_the_same_days(raw, start):
    pauses = [Pause(start + timedelta(days=o), start + timedelta(days=o + n)) for o, n in raw]
    spans = dl.merge_pauses(pauses, start)
    covered = {s.start + timedelta(days=i) for s in spans for i in range((s.end - s.start).days + 1)}
    expected = {p.start + timedelta(days=i) for p in pauses for i in range((p.end - p.start).days + 1)
                if p.start + timedelta(days=i) > start}
    assert covered == expected
    for a, b in pairwise(spans):
        assert a.end + timedelta(days=1) < b.start
