"""inbox: messages to persons and employers (收件箱)

Revision ID: f5b200000002
Revises: f5a100000001
Create Date: 2026-11-23 18:01:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f5b200000002'
down_revision = 'f5a100000001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new, empty table: every NOT NULL column is named by its writer (portal.inbox.service.deliver)
    # or has a server default.
    op.create_table('inbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_person_id', sa.Integer(), nullable=True),
    sa.Column('recipient_organisation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('notice', 'request', 'decision', 'message', 'evaluation', name='inboxkind',
                              native_enum=False, length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('link_label', sa.String(length=100), nullable=True),
    sa.Column('case_reference', sa.String(length=40), nullable=True),
    sa.Column('attachment_token', sa.String(length=64), nullable=True),
    sa.Column('action_required', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('action_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(recipient_person_id IS NULL) <> (recipient_organisation_id IS NULL)',
                       name=op.f('ck_inbox_message_one_recipient')),
    sa.ForeignKeyConstraint(['recipient_organisation_id'], ['organisation.id'],
                            name=op.f('fk_inbox_message_recipient_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['recipient_person_id'], ['person.id'],
                            name=op.f('fk_inbox_message_recipient_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_message')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_inbox_message_dedupe_key'))
    )
    op.create_index(op.f('ix_inbox_message_case_reference'), 'inbox_message', ['case_reference'], unique=False)
    op.create_index(op.f('ix_inbox_message_recipient_organisation_id'), 'inbox_message',
                    ['recipient_organisation_id'], unique=False)
    op.create_index(op.f('ix_inbox_message_recipient_person_id'), 'inbox_message', ['recipient_person_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inbox_message_recipient_person_id'), table_name='inbox_message')
    op.drop_index(op.f('ix_inbox_message_recipient_organisation_id'), table_name='inbox_message')
    op.drop_index(op.f('ix_inbox_message_case_reference'), table_name='inbox_message')
    op.drop_table('inbox_message')
