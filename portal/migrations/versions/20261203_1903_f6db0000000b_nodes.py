"""nodes: submission keys (idempotent POST retries) and job leases

Revision ID: f6db0000000b
Revises: f6da0000000a
Create Date: 2026-12-03 19:03:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f6db0000000b'
down_revision = 'f6da0000000a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # job_run: who runs it and until when (the sweeper re-queues a run whose worker died), and
    # when it was last handed to the queue (re-enqueued when the message was lost). Nullable:
    # finished runs have neither.
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('worker', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_job_run_lease_expires_at'), ['lease_expires_at'], unique=False)

    op.create_table('scheduler_lease',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease'))
    )

    op.create_table('submission_key',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=False),
    sa.Column('location', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_submission_key'))
    )
    with op.batch_alter_table('submission_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_key_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submission_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_key_created_at'))
    op.drop_table('submission_key')
    op.drop_table('scheduler_lease')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_lease_expires_at'))
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('worker')
        batch_op.drop_column('enqueued_at')
