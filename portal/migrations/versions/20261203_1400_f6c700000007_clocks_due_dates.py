"""clocks: due dates stored on each case (provisional calendar years)

Revision ID: f6c700000007
Revises: f6b600000006
Create Date: 2026-12-03 14:00:00

Adds the ``DueDates`` columns (portal/clocks/models.py) to ``recognition_case``: the office's
running due date and the applicant's period, each with its rule and whether it is provisional
(暂定), the office date indexed for lists. Existing cases get their dates here, computed in Python
with the pure deadline calculator and the calendar of this database (overrides, confirmed years),
from the case columns declared below — which deadline runs in which status is copied from
``portal/recognition/service/clock.py`` as it stands at this revision.
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = 'f6c700000007'
down_revision = 'f6b600000006'
branch_labels = None
depends_on = None

COLUMNS = (
    ('office_due_on', sa.Date(), None),
    ('office_due_provisional', sa.Boolean(), sa.false()),
    ('office_due_rule', sa.String(length=40), None),
    ('office_due_was', sa.Date(), None),
    ('applicant_due_on', sa.Date(), None),
    ('applicant_due_provisional', sa.Boolean(), sa.false()),
    ('applicant_due_rule', sa.String(length=40), None),
    ('applicant_due_from', sa.Date(), None),
)
INDEXED = ('office_due_on', 'applicant_due_on')

#: the filing window of each kind of applicant (config/policy/recognition.toml at this revision)
WINDOW_RULE = {'employer': 'employer_filing', 'worker': 'worker_filing', 'relative': 'worker_filing'}


def upgrade() -> None:
    with op.batch_alter_table('recognition_case', schema=None) as batch_op:
        for name, type_, default in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=default is None, server_default=default))
        for name in INDEXED:
            batch_op.create_index(f'ix_recognition_case_{name}', [name], unique=False)
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table('recognition_case', schema=None) as batch_op:
        for name in INDEXED:
            batch_op.drop_index(f'ix_recognition_case_{name}')
        for name, _, _ in reversed(COLUMNS):
            batch_op.drop_column(name)


def _calendar(bind):
    from portal.clocks.calendar import WorkCalendar

    override = sa.table('holiday_override', sa.column('day', sa.Date), sa.column('kind', sa.String),
                        sa.column('name', sa.String))
    complete = sa.table('holiday_year_complete', sa.column('year', sa.Integer))
    rows = bind.execute(sa.select(override.c.day, override.c.kind, override.c.name)).all()
    years = bind.execute(sa.select(complete.c.year)).scalars().all()
    return WorkCalendar({r.day: r.kind for r in rows}, complete_years=years, names={r.day: r.name for r in rows})


def _due(rule, start, pauses, calendar):
    """(due date, provisional, rule, start) or Nones when no date can be given."""
    from portal.clocks.deadlines import Pause, PauseKind, deadline
    from portal.errors import UserInputError

    if start is None:
        return None, False, None, None
    try:
        found = deadline(rule, start, [Pause(s, e, PauseKind.SUSPENSION) for s, e in pauses], calendar=calendar)
    except UserInputError:  # a year no calendar covers, a rule not in force then
        return None, False, None, None
    return found.due_date, found.provisional, rule, start


def _backfill() -> None:
    bind = op.get_bind()
    case = sa.table(
        'recognition_case', sa.column('id', sa.Integer), sa.column('status', sa.String),
        sa.column('applicant_kind', sa.String), sa.column('event_date', sa.Date),
        sa.column('received_on', sa.Date), sa.column('supplement_received_on', sa.Date),
        sa.column('accepted_on', sa.Date), sa.column('simplified', sa.Boolean),
        sa.column('decided_on', sa.Date), sa.column('served_on', sa.Date), sa.column('closed_on', sa.Date),
        *(sa.column(name, type_) for name, type_, _ in COLUMNS))
    pause = sa.table('recognition_pause', sa.column('case_id', sa.Integer), sa.column('kind', sa.String),
                     sa.column('started_on', sa.Date), sa.column('ended_on', sa.Date))
    rows = bind.execute(sa.select(case).where(case.c.status != 'withdrawn')).all()
    if not rows:
        return
    calendar = _calendar(bind)
    suspensions: dict[int, list[tuple[date, date | None]]] = {}
    for p in bind.execute(sa.select(pause).where(pause.c.kind == 'suspension').order_by(pause.c.case_id)).all():
        suspensions.setdefault(p.case_id, []).append((p.started_on, p.ended_on))
    for c in rows:
        office = (None, False, None, None)
        if c.status == 'submitted':
            if c.supplement_received_on:
                office = _due('supplement_review', c.supplement_received_on, [], calendar)
            else:
                office = _due('material_review', c.received_on, [], calendar)
        elif c.status in ('accepted', 'suspended'):
            rule = 'recognition_decision_simple' if c.simplified else 'recognition_decision'
            office = _due(rule, c.accepted_on, suspensions.get(c.id, []), calendar)
        elif c.status == 'decided':
            office = _due('decision_delivery', c.decided_on, [], calendar)
        applicant = (None, False, None, None)
        if c.status == 'draft' and c.applicant_kind in WINDOW_RULE:
            applicant = _due(WINDOW_RULE[c.applicant_kind], c.event_date, [], calendar)
        elif c.status == 'served':
            applicant = _due('administrative_reconsideration', c.served_on, [], calendar)
        elif c.status == 'not_accepted':
            applicant = _due('administrative_reconsideration', c.closed_on, [], calendar)
        bind.execute(case.update().where(case.c.id == c.id).values(
            office_due_on=office[0], office_due_provisional=office[1], office_due_rule=office[2],
            applicant_due_on=applicant[0], applicant_due_provisional=applicant[1],
            applicant_due_rule=applicant[2], applicant_due_from=applicant[3]))
