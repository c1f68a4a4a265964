"""Audit rows and the head of their keyed hash chain.

A row is inserted with its content MAC (``row_mac``, HMAC-SM3 under the key ``key_id``) and no
place in the chain; the sealer then gives committed rows their ``seq``, ``prev_hash`` and
``hash`` in one short transaction of its own (``portal.audit.service.seal``). The database allows
exactly that one update of a row (filling the seal columns of an unsealed row) and nothing else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One login, write, or read of personal data. Never updated, never deleted."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    #: Position in the hash chain: 1, 2, 3, ... without gaps; NULL until the row is sealed.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime]
    #: account id of the actor; NULL when not signed in
    actor_account_id: Mapped[int | None] = mapped_column(BigInteger)
    #: display label of the actor (name of staff/person or organisation), never an ID number
    actor_label: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(32))
    #: 地市代码 of the actor (staff) or of the object, for city filters
    city_code: Mapped[str | None] = mapped_column(String(6))
    #: e.g. login.success, person.read_personal_data, person.update_bank_account
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    #: extra facts, never plaintext personal data (fields named, values masked)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    #: id of the audit key (``audit_keys``) of row_mac and hash
    key_id: Mapped[str] = mapped_column(String(16), server_default="")
    #: HMAC-SM3 of the row's content, written with the row
    row_mac: Mapped[str] = mapped_column(String(64), server_default="")
    #: hash of the row before in the chain (seq - 1); NULL until sealed
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    #: HMAC-SM3 of row_mac, prev_hash and seq; NULL until sealed
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # the sealer's work list stays small however long the trail
        Index("ix_audit_event_unsealed", "id", postgresql_where=text("seq IS NULL"),
              sqlite_where=text("seq IS NULL")),
        # the audit browser: each filter, newest first (by id) within it; the action index is
        # also the list of actions (distinct_actions seeks along it)
        Index("ix_audit_event_action_newest", "action", "id"),
        Index("ix_audit_event_city_newest", "city_code", "id"),
        Index("ix_audit_event_actor_newest", "actor_account_id", "id"),
        # the action filter with a city or an account: one action's rows of that city (account),
        # newest first (the browser merges the few actions a prefix names)
        Index("ix_audit_event_city_action_newest", "city_code", "action", "id"),
        Index("ix_audit_event_actor_action_newest", "actor_account_id", "action", "id"),
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_at", "at"),
    )


class AuditChainHead(Base):
    """Single row holding the chain's last sealed position; only the sealer locks it (and skips
    when another sealer holds it), so writers of audit rows never wait for it. The database
    refuses to delete it or to move it back."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
