"""outbox: messages to external platforms (发件箱), e.g. 办件 reports to 一网通办

Revision ID: f5c300000003
Revises: f5b200000002
Create Date: 2026-11-23 18:02:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f5c300000003'
down_revision = 'f5b200000002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new, empty table: every NOT NULL column is named by its writer (portal.outbox.service.enqueue)
    # or has a server default.
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=60), nullable=False),
    sa.Column('aggregate', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_message_key')),
    sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_outbox_message_due'), 'outbox_message', ['delivered_at', 'next_attempt_at'],
                    unique=False)
    op.create_index(op.f('ix_outbox_message_aggregate'), 'outbox_message', ['aggregate', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_outbox_message_aggregate'), table_name='outbox_message')
    op.drop_index(op.f('ix_outbox_message_due'), table_name='outbox_message')
    op.drop_table('outbox_message')
