"""recognition: cases (工伤认定案件), timeline, pauses, materials, supplement items, urges, notes,
document counters

Revision ID: f5d400000004
Revises: f5c300000003
Create Date: 2026-11-23 18:03:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f5d400000004'
down_revision = 'f5c300000003'
branch_labels = None
depends_on = None


def _enum(name, *values, length):
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def upgrade() -> None:
    # New, empty tables: every NOT NULL column without a server default is named by its writer
    # (portal.recognition services).
    op.create_table(
        'recognition_case',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=32), nullable=True),
        sa.Column('status', _enum('casestatus', 'draft', 'submitted', 'awaiting_supplement', 'accepted',
                                  'suspended', 'decided', 'served', 'not_accepted', 'withdrawn', length=24),
                  server_default='draft', nullable=False),
        sa.Column('applicant_kind', _enum('applicantkind', 'employer', 'worker', 'relative', length=12),
                  nullable=False),
        sa.Column('applicant_account_id', sa.Integer(), nullable=False),
        sa.Column('applicant_person_id', sa.Integer(), nullable=True),
        sa.Column('applicant_organisation_id', sa.Integer(), nullable=True),
        sa.Column('relation', sa.String(length=20), nullable=True),
        sa.Column('worker_person_id', sa.Integer(), nullable=True),
        sa.Column('employer_organisation_id', sa.Integer(), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('county_code', sa.String(length=6), nullable=True),
        sa.Column('city_code', sa.String(length=6), nullable=True),
        sa.Column('event_kind', _enum('eventkind', 'accident', 'disease', length=12), nullable=True),
        sa.Column('event_date', sa.Date(), nullable=True),
        sa.Column('event_time', sa.String(length=5), nullable=True),
        sa.Column('event_place', sa.String(length=200), nullable=True),
        sa.Column('event_account', sa.Text(), nullable=True),
        sa.Column('injury', sa.Text(), nullable=True),
        sa.Column('died', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('death_date', sa.Date(), nullable=True),
        sa.Column('completed_steps', sa.String(length=200), server_default='', nullable=False),
        sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('late_reason', sa.Text(), nullable=True),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('received_on', sa.Date(), nullable=True),
        sa.Column('supplement_requested', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('supplement_received_on', sa.Date(), nullable=True),
        sa.Column('accepted_on', sa.Date(), nullable=True),
        sa.Column('acceptance_number', sa.String(length=60), nullable=True),
        sa.Column('refusal_reasons', sa.Text(), nullable=True),
        sa.Column('simplified', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('outcome', _enum('outcome', 'recognised', 'deemed', 'not_recognised', length=16), nullable=True),
        sa.Column('ground_code', sa.String(length=40), nullable=True),
        sa.Column('decision_reasoning', sa.Text(), nullable=True),
        sa.Column('decision_number', sa.String(length=60), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('served_on', sa.Date(), nullable=True),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('receipt_file_id', sa.Integer(), nullable=True),
        sa.Column('acceptance_file_id', sa.Integer(), nullable=True),
        sa.Column('decision_file_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['applicant_account_id'], ['account.id'],
                                name=op.f('fk_recognition_case_applicant_account_id_account')),
        sa.ForeignKeyConstraint(['applicant_person_id'], ['person.id'],
                                name=op.f('fk_recognition_case_applicant_person_id_person')),
        sa.ForeignKeyConstraint(['applicant_organisation_id'], ['organisation.id'],
                                name=op.f('fk_recognition_case_applicant_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['worker_person_id'], ['person.id'],
                                name=op.f('fk_recognition_case_worker_person_id_person')),
        sa.ForeignKeyConstraint(['employer_organisation_id'], ['organisation.id'],
                                name=op.f('fk_recognition_case_employer_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['unit_id'], ['enrolled_unit.id'], name=op.f('fk_recognition_case_unit_id_enrolled_unit')),
        sa.ForeignKeyConstraint(['receipt_file_id'], ['stored_file.id'],
                                name=op.f('fk_recognition_case_receipt_file_id_stored_file')),
        sa.ForeignKeyConstraint(['acceptance_file_id'], ['stored_file.id'],
                                name=op.f('fk_recognition_case_acceptance_file_id_stored_file')),
        sa.ForeignKeyConstraint(['decision_file_id'], ['stored_file.id'],
                                name=op.f('fk_recognition_case_decision_file_id_stored_file')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_case')),
        sa.UniqueConstraint('reference', name=op.f('uq_recognition_case_reference')),
    )
    for column in ('status', 'applicant_account_id', 'applicant_person_id', 'worker_person_id',
                   'employer_organisation_id', 'city_code'):
        op.create_index(op.f(f'ix_recognition_case_{column}'), 'recognition_case', [column])

    op.create_table(
        'recognition_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('from_status', sa.String(length=24), nullable=True),
        sa.Column('to_status', sa.String(length=24), nullable=False),
        sa.Column('by_role', sa.String(length=32), nullable=False),
        sa.Column('by_office', sa.String(length=200), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['recognition_case.id'], name=op.f('fk_recognition_event_case_id_recognition_case')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_event')),
    )
    op.create_index(op.f('ix_recognition_event_case_id'), 'recognition_event', ['case_id'])

    op.create_table(
        'recognition_pause',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('pausekind', 'supplement', 'suspension', length=12), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['recognition_case.id'], name=op.f('fk_recognition_pause_case_id_recognition_case')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_pause')),
    )
    op.create_index(op.f('ix_recognition_pause_case_id'), 'recognition_pause', ['case_id'])

    op.create_table(
        'recognition_supplement_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('supplied_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['recognition_case.id'],
                                name=op.f('fk_recognition_supplement_item_case_id_recognition_case')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_supplement_item')),
    )
    op.create_index(op.f('ix_recognition_supplement_item_case_id'), 'recognition_supplement_item', ['case_id'])

    op.create_table(
        'recognition_material',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('stored_file_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('supplement_item_id', sa.Integer(), nullable=True),
        sa.Column('reused', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('added_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['recognition_case.id'], name=op.f('fk_recognition_material_case_id_recognition_case')),
        sa.ForeignKeyConstraint(['stored_file_id'], ['stored_file.id'],
                                name=op.f('fk_recognition_material_stored_file_id_stored_file')),
        sa.ForeignKeyConstraint(['supplement_item_id'], ['recognition_supplement_item.id'],
                                name=op.f('fk_recognition_material_supplement_item_id_recognition_supplement_item')),
        sa.ForeignKeyConstraint(['added_by'], ['account.id'], name=op.f('fk_recognition_material_added_by_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_material')),
    )
    op.create_index(op.f('ix_recognition_material_case_id'), 'recognition_material', ['case_id'])

    op.create_table(
        'recognition_urge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('by_account_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_by_account_id', sa.Integer(), nullable=True),
        sa.Column('answered_by_office', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['recognition_case.id'], name=op.f('fk_recognition_urge_case_id_recognition_case')),
        sa.ForeignKeyConstraint(['by_account_id'], ['account.id'], name=op.f('fk_recognition_urge_by_account_id_account')),
        sa.ForeignKeyConstraint(['answered_by_account_id'], ['account.id'],
                                name=op.f('fk_recognition_urge_answered_by_account_id_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_urge')),
    )
    op.create_index(op.f('ix_recognition_urge_case_id'), 'recognition_urge', ['case_id'])

    op.create_table(
        'recognition_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by_account_id', sa.Integer(), nullable=True),
        sa.Column('by_office', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['recognition_case.id'], name=op.f('fk_recognition_note_case_id_recognition_case')),
        sa.ForeignKeyConstraint(['by_account_id'], ['account.id'], name=op.f('fk_recognition_note_by_account_id_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_note')),
    )
    op.create_index(op.f('ix_recognition_note_case_id'), 'recognition_note', ['case_id'])

    op.create_table(
        'recognition_doc_counter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('last', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_doc_counter')),
        sa.UniqueConstraint('city_code', 'year', 'kind', name=op.f('uq_recognition_doc_counter_city_code')),
    )


def downgrade() -> None:
    op.drop_table('recognition_doc_counter')
    for table in ('recognition_note', 'recognition_urge', 'recognition_material',
                  'recognition_supplement_item', 'recognition_pause', 'recognition_event'):
        op.drop_index(op.f(f'ix_{table}_case_id'), table_name=table)
        op.drop_table(table)
    for column in ('status', 'applicant_account_id', 'applicant_person_id', 'worker_person_id',
                   'employer_organisation_id', 'city_code'):
        op.drop_index(op.f(f'ix_recognition_case_{column}'), table_name='recognition_case')
    op.drop_table('recognition_case')
