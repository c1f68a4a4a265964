"""api clients: credentials of other agencies' systems (住建 cover checks)

Revision ID: e4d400000004
Revises: e4c300000003
Create Date: 2026-11-23 17:02:54.905252
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4d400000004'
down_revision = 'e4c300000003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_api_client_client_id'))
    )


def downgrade() -> None:
    op.drop_table('api_client')
