"""enrollment: units (单位参保登记), their timeline, insured persons (人员增减)

Revision ID: e4a100000001
Revises: 529c15a64568
Create Date: 2026-11-23 17:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4a100000001'
down_revision = '529c15a64568'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrolled_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('industry_code', sa.String(length=10), nullable=False),
    sa.Column('risk_class', sa.Integer(), nullable=True),
    sa.Column('rate_band', sa.Numeric(precision=4, scale=2), server_default='1.00', nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.Text(), nullable=False),
    sa.Column('contact_phone_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'returned', name='unitstatus',
                                native_enum=False, length=20),
              server_default='draft', nullable=False),
    sa.Column('return_reasons', sa.Text(), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                            name=op.f('fk_enrolled_unit_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolled_unit')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_enrolled_unit_organisation_id'))
    )
    with op.batch_alter_table('enrolled_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolled_unit_city_code'), ['city_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolled_unit_status'), ['status'], unique=False)

    op.create_table('enrollment_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('by_role', sa.String(length=32), nullable=False),
    sa.Column('by_office', sa.String(length=200), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['enrolled_unit.id'],
                            name=op.f('fk_enrollment_event_unit_id_enrolled_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_event'))
    )
    with op.batch_alter_table('enrollment_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_event_unit_id'), ['unit_id'], unique=False)

    op.create_table('unit_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('insurance_type', sa.Enum('regular', 'retired_age', 'intern', 'other', name='insurancetype',
                                        native_enum=False, length=20),
              server_default='regular', nullable=False),
    sa.Column('wage_base', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('phone_hash', sa.String(length=64), nullable=True),
    sa.Column('age_warning', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_unit_member_person_id_person')),
    sa.ForeignKeyConstraint(['unit_id'], ['enrolled_unit.id'], name=op.f('fk_unit_member_unit_id_enrolled_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_member'))
    )
    with op.batch_alter_table('unit_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_member_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_member_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('unit_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_member_unit_id'))
        batch_op.drop_index(batch_op.f('ix_unit_member_person_id'))
    op.drop_table('unit_member')

    with op.batch_alter_table('enrollment_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollment_event_unit_id'))
    op.drop_table('enrollment_event')

    with op.batch_alter_table('enrolled_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolled_unit_status'))
        batch_op.drop_index(batch_op.f('ix_enrolled_unit_city_code'))
    op.drop_table('enrolled_unit')
