"""materials: stored files (材料), encrypted at rest outside static/

Revision ID: f5a100000001
Revises: e5a100000001
Create Date: 2026-11-23 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f5a100000001'
down_revision = 'e5a100000001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('medical', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('upload_sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'],
                            name=op.f('fk_stored_file_person_id_person')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                            name=op.f('fk_stored_file_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['account.id'],
                            name=op.f('fk_stored_file_uploaded_by_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
    sa.UniqueConstraint('token', name=op.f('uq_stored_file_token')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_stored_file_storage_key'))
    )
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_file_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_file_organisation_id'), ['organisation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_file_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_stored_file_person_id'))
    op.drop_table('stored_file')
