"""ops: job runs (任务运行记录) behind the system self-check

Revision ID: 529c15a64568
Revises: 91af16c015e5
Create Date: 2026-11-23 16:22:48.500971
"""
import sqlalchemy as sa
from alembic import op

revision = '529c15a64568'
down_revision = '91af16c015e5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new, empty table: server defaults where a value has a natural default (status, attempts,
    # requested_at); ``task`` has none, every writer names its task.
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', name='jobstatus',
                                native_enum=False, length=20),
              server_default='queued', nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by'], ['account.id'], name=op.f('fk_job_run_requested_by_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_run_requested_at'), ['requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_status'))
        batch_op.drop_index(batch_op.f('ix_job_run_requested_at'))

    op.drop_table('job_run')
