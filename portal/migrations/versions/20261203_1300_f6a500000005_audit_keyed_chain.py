"""audit: keyed chain (HMAC-SM3 with key id), checkpoints, database guards

Rows get ``key_id`` and ``row_mac`` and are sealed after insert (``seq``, ``prev_hash``,
``hash`` become nullable until then). Rows already there are checked against their old unkeyed
SM3 chain (a broken chain refuses the upgrade) and re-sealed once under the active audit key of
the configuration the upgrade runs with (``PORTAL_AUDIT_KEYS``): from then on nobody without the
key can recompute them. This is the only time rows are rewritten; key rotation never is.

Guards: the only UPDATE of audit_event the database allows fills the seal columns of an unsealed
row (every other column unchanged); DELETE and TRUNCATE are refused; the chain head cannot be
deleted, truncated or moved back (PostgreSQL; SQLite has no TRUNCATE, and there the file's owner
can do anything: the checkpoints outside the database are the defence).

Revision ID: f6a500000005
Revises: f5d400000004
Create Date: 2026-12-03 13:00:00
"""
import json
from datetime import timezone

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives import hashes, hmac

revision = 'f6a500000005'
down_revision = 'f5d400000004'
branch_labels = None
depends_on = None

SEAL_COLUMNS = ("seq", "prev_hash", "hash")
CONTENT_COLUMNS = ("id", "at", "actor_account_id", "actor_label", "role", "city_code", "action",
                   "object_type", "object_id", "client_addr", "request_id", "detail", "key_id",
                   "row_mac")

PG_UPGRADE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
     AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
     AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
    RETURN NEW;  -- the sealer gives an unsealed row its place in the chain, once
  END IF;
  RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% cannot be truncated (audit trail)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();

CREATE FUNCTION audit_chain_head_forward_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_chain_head cannot be deleted';
  END IF;
  IF NEW.id <> OLD.id OR NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash) THEN
    RAISE EXCEPTION 'audit_chain_head only moves forward';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE OR DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward_only();
"""

PG_DOWNGRADE = """
DROP TRIGGER audit_chain_head_forward_only ON audit_chain_head;
DROP FUNCTION audit_chain_head_forward_only();
DROP TRIGGER audit_chain_head_no_truncate ON audit_chain_head;
DROP TRIGGER audit_event_no_truncate ON audit_event;
DROP FUNCTION audit_refuse_truncate();
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql;
"""

_unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in CONTENT_COLUMNS)
SQLITE_GUARDS = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "WHEN NOT (OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL "
    "AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL "
    f"AND {_unchanged}) "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END",
    "CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head "
    "WHEN NEW.id IS NOT OLD.id OR NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash IS NOT OLD.hash) "
    "BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward'); END",
]
SQLITE_OLD_GUARDS = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]
SQLITE_TRIGGERS = ("audit_event_no_update", "audit_event_no_delete", "audit_chain_head_no_delete",
                   "audit_chain_head_forward_only")


EVENTS = sa.table(
    "audit_event", *(sa.column(c) for c in ("id", "seq", "actor_account_id", "actor_label", "role", "city_code",
                                            "action", "object_type", "object_id", "client_addr", "request_id",
                                            "prev_hash", "hash", "key_id", "row_mac")),
    sa.column("at", sa.DateTime(timezone=True)), sa.column("detail", sa.JSON),
)
HEAD = sa.table("audit_chain_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
GENESIS = "0" * 64


def _canonical(row, **fields) -> bytes:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
    payload = {"at": at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
               **{c: getattr(row, c) for c in ("actor_account_id", "actor_label", "role", "city_code", "action",
                                               "object_type", "object_id", "client_addr", "request_id", "detail")},
               **fields}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _mac(key: bytes, purpose: bytes, data: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(purpose + b"\x00" + data)
    return mac.finalize().hex()


def _rekey_existing_rows() -> None:
    """Check the old unkeyed chain, then seal every row under the active audit key (the same
    formulas as portal.audit.service at this revision)."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(EVENTS).order_by(EVENTS.c.seq)).all()
    if not rows:
        return
    from portal.audit.keys import parse_audit_keys
    from portal.config import load_settings

    settings = load_settings()
    keys = parse_audit_keys(settings.audit_keys, settings.audit_active_key)
    prev = GENESIS
    for expected_seq, row in enumerate(rows, 1):
        digest = hashes.Hash(hashes.SM3())
        digest.update(_canonical(row, seq=row.seq, prev_hash=row.prev_hash))
        if row.seq != expected_seq or row.prev_hash != prev or digest.finalize().hex() != row.hash:
            raise RuntimeError(f"audit chain broken at seq {row.seq}: run `portal audit verify` on the old "
                               f"version and settle it before upgrading")
        prev = row.hash
    prev, key = GENESIS, keys.keys[keys.active]
    for row in rows:
        row_mac = _mac(key, b"audit-row", _canonical(row, key_id=keys.active))
        sealed = _mac(key, b"audit-link", f"{row_mac}|{prev}|{row.seq}".encode("ascii"))
        bind.execute(EVENTS.update().where(EVENTS.c.id == row.id)
                     .values(key_id=keys.active, row_mac=row_mac, prev_hash=prev, hash=sealed))
        prev = sealed
    bind.execute(HEAD.update().where(HEAD.c.id == 1).values(seq=rows[-1].seq, hash=prev))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the batch copy below recreates the table (its triggers go with it)
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    else:  # the old guard refuses every UPDATE; the new one is installed below
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('row_mac', sa.String(length=64), server_default='', nullable=False))
        for name in SEAL_COLUMNS:
            batch_op.alter_column(name, existing_type=sa.BigInteger() if name == "seq" else sa.String(length=64),
                                  nullable=True)
        batch_op.create_index('ix_audit_event_unsealed', ['id'], unique=False,
                              postgresql_where=sa.text('seq IS NULL'), sqlite_where=sa.text('seq IS NULL'))
    _rekey_existing_rows()
    if sqlite:
        for guard in SQLITE_GUARDS:
            op.execute(guard)
    else:
        op.execute(PG_UPGRADE)
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    unsealed = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_event WHERE seq IS NULL")).scalar()
    if unsealed:
        raise RuntimeError(f"{unsealed} audit rows are not sealed yet: run `portal audit checkpoint` first")
    if sqlite:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute(PG_DOWNGRADE)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_unsealed', postgresql_where=sa.text('seq IS NULL'),
                            sqlite_where=sa.text('seq IS NULL'))
        for name in SEAL_COLUMNS:
            batch_op.alter_column(name, existing_type=sa.BigInteger() if name == "seq" else sa.String(length=64),
                                  nullable=False)
        batch_op.drop_column('row_mac')
        batch_op.drop_column('key_id')
    if sqlite:
        for guard in SQLITE_OLD_GUARDS:
            op.execute(guard)
