"""documents: background-rendered PDFs and their progress

Revision ID: f6da0000000a
Revises: f6d900000009
Create Date: 2026-12-03 19:02:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f6da0000000a'
down_revision = 'f6d900000009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('document_key', sa.String(length=64), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('filename', sa.String(length=120), nullable=False),
        sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='renderstatus',
                                    native_enum=False, length=20),
                  server_default='queued', nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_job')),
        sa.UniqueConstraint('token', name=op.f('uq_document_job_token')),
    )
    with op.batch_alter_table('document_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_job_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_job_requested_at'), ['requested_at'], unique=False)
        batch_op.create_index('ix_document_job_document_key_status', ['document_key', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document_job', schema=None) as batch_op:
        batch_op.drop_index('ix_document_job_document_key_status')
        batch_op.drop_index(batch_op.f('ix_document_job_requested_at'))
        batch_op.drop_index(batch_op.f('ix_document_job_owner'))
    op.drop_table('document_job')
