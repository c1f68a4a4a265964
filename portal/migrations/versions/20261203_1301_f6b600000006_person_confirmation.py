"""accounts: unconfirmed person records typed by other accounts, name-mismatch work list

Revision ID: f6b600000006
Revises: f6a500000005
Create Date: 2026-12-03 13:01:00

A person record is unique per ID number only when confirmed by the person's own sign-in; records
typed by other accounts are unconfirmed and local to their typing scope. Existing records that an
account points at (the person signed in) become confirmed; the others unconfirmed, scope ``legacy``.
"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = 'f6b600000006'
down_revision = 'f6a500000005'
branch_labels = None
depends_on = None

#: every column that referenced person.id at this revision (the downgrade re-points them)
PERSON_REFERENCES = (
    ('account', 'person_id'), ('unit_member', 'person_id'), ('roster_entry', 'person_id'),
    ('stored_file', 'person_id'), ('recognition_case', 'applicant_person_id'),
    ('recognition_case', 'worker_person_id'), ('inbox_message', 'recipient_person_id'),
)


@contextmanager
def _person_rebuild():
    """SQLite rebuilds ``person`` (copy, drop, rename) to change its constraints, and with foreign
    keys on it cannot drop a table others reference (PRAGMA foreign_keys is ignored inside a
    transaction). So the rebuild runs in a transaction of its own with foreign keys off, checked
    with ``foreign_key_check`` before it commits; the ids are copied, so every reference holds."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        yield
        return
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    bind.exec_driver_sql('BEGIN')
    try:
        yield
        broken = bind.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
        if broken:
            raise RuntimeError(f'person rebuild broke references: {broken[:5]}')
        bind.exec_driver_sql('COMMIT')
    except BaseException:
        bind.exec_driver_sql('ROLLBACK')
        raise
    finally:
        bind.exec_driver_sql('PRAGMA foreign_keys=ON')
        bind.exec_driver_sql('BEGIN')  # the migration's own transaction goes on


def upgrade() -> None:
    with _person_rebuild(), op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('scope', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('typed_in', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('typed_city_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('kept_separate', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint('uq_person_id_number_hash', type_='unique')

    person = sa.table('person', sa.column('id', sa.Integer), sa.column('confirmed', sa.Boolean),
                      sa.column('scope', sa.String))
    account = sa.table('account', sa.column('person_id', sa.Integer))
    signed_in = sa.select(account.c.person_id).where(account.c.person_id.is_not(None))
    op.execute(person.update().where(person.c.id.in_(signed_in)).values(confirmed=True))
    op.execute(person.update().where(person.c.confirmed.is_(False)).values(scope='legacy'))

    op.create_index('uq_person_confirmed_id_number', 'person', ['id_number_hash'], unique=True,
                    sqlite_where=sa.text('confirmed'), postgresql_where=sa.text('confirmed'))
    op.create_index('uq_person_scope_id_number', 'person', ['id_number_hash', 'scope'], unique=True,
                    sqlite_where=sa.text('NOT confirmed'), postgresql_where=sa.text('NOT confirmed'))


def downgrade() -> None:
    # One record per ID number again: every reference moves to the survivor of its ID number (the
    # confirmed record, else the oldest), the other records go.
    conn = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer), sa.column('id_number_hash', sa.String),
                      sa.column('confirmed', sa.Boolean))
    rows = conn.execute(sa.select(person.c.id, person.c.id_number_hash, person.c.confirmed)
                        .order_by(person.c.id_number_hash, person.c.confirmed.desc(), person.c.id)).all()
    survivor: dict[str, int] = {}
    moves: list[tuple[int, int]] = []
    for person_id, digest, _confirmed in rows:
        if digest in survivor:
            moves.append((person_id, survivor[digest]))
        else:
            survivor[digest] = person_id
    for old, new in moves:
        for table_name, column_name in PERSON_REFERENCES:
            table = sa.table(table_name, sa.column(column_name, sa.Integer))
            conn.execute(table.update().where(table.c[column_name] == old).values({column_name: new}))
        conn.execute(person.delete().where(person.c.id == old))

    op.drop_index('uq_person_scope_id_number', table_name='person')
    op.drop_index('uq_person_confirmed_id_number', table_name='person')
    with _person_rebuild(), op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_person_id_number_hash', ['id_number_hash'])
        batch_op.drop_column('kept_separate')
        batch_op.drop_column('typed_city_code')
        batch_op.drop_column('typed_in')
        batch_op.drop_column('scope')
        batch_op.drop_column('confirmed')
