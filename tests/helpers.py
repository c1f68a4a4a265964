"""Test helpers shared by several test modules."""

import sqlalchemy as sa

_SQLITE_GUARDS = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]


def tamper_with_audit_trail(engine, statement: str) -> None:
    """Play a database administrator who lifts the append-only guard, edits, and puts it back
    (the PostgreSQL test schema outlives one test, so the guard must be restored)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update"))
            conn.execute(sa.text(statement))
            conn.execute(sa.text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_event_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_event_no_delete"))
            conn.execute(sa.text(statement))
            for guard in _SQLITE_GUARDS:
                conn.execute(sa.text(guard))
