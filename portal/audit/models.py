"""Audit rows and the head of their hash chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One login, write, or read of personal data. Never updated, never deleted."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    #: Position in the hash chain: 1, 2, 3, ... without gaps.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime]
    #: account id of the actor; NULL when not signed in
    actor_account_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    #: display label of the actor (name of staff/person or organisation), never an ID number
    actor_label: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(32))
    #: 地市代码 of the actor (staff) or of the object, for city filters
    city_code: Mapped[str | None] = mapped_column(String(6), index=True)
    #: e.g. login.success, person.read_personal_data, person.update_bank_account
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    #: extra facts, never plaintext personal data (fields named, values masked)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """Single row holding the chain's last position; locking it orders concurrent writers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
