"""certificates: issued proofs of cover (参保证明)

Revision ID: e4e500000005
Revises: e4d400000004
Create Date: 2026-11-23 17:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4e500000005'
down_revision = 'e4d400000004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('seal', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_account_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('number', name=op.f('uq_certificate_number'))
    )


def downgrade() -> None:
    op.drop_table('certificate')
