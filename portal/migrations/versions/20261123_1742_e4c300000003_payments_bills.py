"""payments: bills (缴费单), platform payment notices and callback nonces

Revision ID: e4c300000003
Revises: e4b200000002
Create Date: 2026-11-23 17:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4c300000003'
down_revision = 'e4b200000002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New, empty tables: server defaults only where a value has a natural default.
    op.create_table('bill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('purpose', sa.String(length=50), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='CNY', nullable=False),
    sa.Column('status', sa.Enum('issued', 'pending_confirmation', 'paid', 'cancelled', name='billstatus',
                                native_enum=False, length=30),
              server_default='issued', nullable=False),
    sa.Column('payment_reference', sa.String(length=40), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('problem', sa.String(length=200), nullable=True),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                            name=op.f('fk_bill_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill')),
    sa.UniqueConstraint('number', name=op.f('uq_bill_number')),
    sa.UniqueConstraint('payment_reference', name=op.f('uq_bill_payment_reference')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.create_index('ix_bill_subject', ['subject_type', 'subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_city_code'), ['city_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_status'), ['status'], unique=False)

    op.create_table('payment_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('payload_digest', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('signature_ok', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_payment_notice_bill_id_bill')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_notice')),
    sa.UniqueConstraint('message_id', name=op.f('uq_payment_notice_message_id')),
    )
    with op.batch_alter_table('payment_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_notice_bill_id'), ['bill_id'], unique=False)

    op.create_table('payment_callback_nonce',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_payment_callback_nonce')),
    )
    with op.batch_alter_table('payment_callback_nonce', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_callback_nonce_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_callback_nonce', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_callback_nonce_seen_at'))
    op.drop_table('payment_callback_nonce')

    with op.batch_alter_table('payment_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_notice_bill_id'))
    op.drop_table('payment_notice')

    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_status'))
        batch_op.drop_index(batch_op.f('ix_bill_city_code'))
        batch_op.drop_index(batch_op.f('ix_bill_organisation_id'))
        batch_op.drop_index('ix_bill_subject')
    op.drop_table('bill')
