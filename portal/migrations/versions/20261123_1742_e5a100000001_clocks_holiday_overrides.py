"""clocks: holiday overrides (节假日维护) and years marked complete

Revision ID: e5a100000001
Revises: e4e500000005
Create Date: 2026-11-23 17:42:27.742425
"""
import sqlalchemy as sa
from alembic import op

revision = 'e5a100000001'
down_revision = 'e4e500000005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New, empty tables: the timestamps default to now; every other NOT NULL column is named by
    # its writer (provincial staff through portal.clocks.service).
    op.create_table('holiday_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('holiday', 'workday', name='daykind', native_enum=False, length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], name=op.f('fk_holiday_override_created_by_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday_override')),
    sa.UniqueConstraint('day', name=op.f('uq_holiday_override_day'))
    )
    op.create_table('holiday_year_complete',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('marked_by', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['marked_by'], ['account.id'], name=op.f('fk_holiday_year_complete_marked_by_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday_year_complete')),
    sa.UniqueConstraint('year', name=op.f('uq_holiday_year_complete_year'))
    )


def downgrade() -> None:
    op.drop_table('holiday_year_complete')
    op.drop_table('holiday_override')
