"""recognition queue: indexes for the office queue; calendar version stamp

Revision ID: f6d800000008
Revises: f6c700000007
Create Date: 2026-12-03 19:00:00

The office queue and the provincial overview filter and sort in SQL on the stored due dates
(portal/recognition/service/queue.py, supervision.py):

- ``ix_recognition_case_queue`` (status, city_code, office_due_on, id): the cases of a status (in a
  city) in due-date order; the queue's and the overview's counts read from the index alone;
- ``ix_recognition_case_city_due`` (city_code, office_due_on, id): a city's open cases with a date
  in due-date order whatever their status (the queue's first page stops after 20 rows);
- ``ix_recognition_urge_unanswered`` (case_id) WHERE answer IS NULL: unanswered 催办.

``holiday_calendar_version``: one row whose token every change of the holiday calendar rewrites;
each node keeps the calendar it built until the token changes (portal/clocks/service.py).
"""
import sqlalchemy as sa
from alembic import op

revision = 'f6d800000008'
down_revision = 'f6c700000007'
branch_labels = None
depends_on = None

UNANSWERED = sa.text('answer IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('recognition_case', schema=None) as batch_op:
        batch_op.create_index('ix_recognition_case_queue', ['status', 'city_code', 'office_due_on', 'id'],
                              unique=False)
        batch_op.create_index('ix_recognition_case_city_due', ['city_code', 'office_due_on', 'id'], unique=False)
    op.create_index('ix_recognition_urge_unanswered', 'recognition_urge', ['case_id'], unique=False,
                    sqlite_where=UNANSWERED, postgresql_where=UNANSWERED)
    version = op.create_table(
        'holiday_calendar_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday_calendar_version')),
    )
    op.bulk_insert(version, [{'id': 1, 'version': 1, 'token': 'initial'}])


def downgrade() -> None:
    op.drop_table('holiday_calendar_version')
    op.drop_index('ix_recognition_urge_unanswered', table_name='recognition_urge')
    with op.batch_alter_table('recognition_case', schema=None) as batch_op:
        batch_op.drop_index('ix_recognition_case_city_due')
        batch_op.drop_index('ix_recognition_case_queue')
