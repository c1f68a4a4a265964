"""projects: construction projects (按项目参保), their timeline and real-name rosters (实名制花名册)

Revision ID: e4b200000002
Revises: e4a100000001
Create Date: 2026-11-23 17:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4b200000002'
down_revision = 'e4a100000001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New, empty tables: server defaults only where a value has a natural default.
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('permit_number', sa.String(length=64), nullable=True),
    sa.Column('contract_price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('installation_cost', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('premium_basis', sa.Enum('contract_price', 'installation_cost', name='premiumbasis',
                                       native_enum=False, length=20),
              server_default='contract_price', nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'awaiting_payment', 'covered', 'started', 'completed',
                                name='projectstatus', native_enum=False, length=20),
              server_default='draft', nullable=False),
    sa.Column('premium_billed', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('cover_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cover_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                            name=op.f('fk_project_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('code', name=op.f('uq_project_code')),
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_city_code'), ['city_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_status'), ['status'], unique=False)

    op.create_table('project_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('actor_label', sa.String(length=100), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_event_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_event')),
    )
    with op.batch_alter_table('project_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_event_project_id'), ['project_id'], unique=False)

    op.create_table('roster_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('phone_hash', sa.String(length=64), nullable=True),
    sa.Column('trade', sa.String(length=50), nullable=False),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('declared_entry_date', sa.Date(), nullable=False),
    sa.Column('cover_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exit_date', sa.Date(), nullable=True),
    sa.Column('exited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overlap_flag', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('import_batch', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_roster_entry_person_id_person')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_roster_entry_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entry')),
    )
    with op.batch_alter_table('roster_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_entry_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_roster_entry_person_active', ['person_id', 'exited_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('roster_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_entry_person_active')
        batch_op.drop_index(batch_op.f('ix_roster_entry_project_id'))
    op.drop_table('roster_entry')
    with op.batch_alter_table('project_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_event_project_id'))
    op.drop_table('project_event')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_status'))
        batch_op.drop_index(batch_op.f('ix_project_city_code'))
        batch_op.drop_index(batch_op.f('ix_project_organisation_id'))
    op.drop_table('project')
