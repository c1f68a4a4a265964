"""Issued proofs of cover."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class Certificate(Base):
    """参保证明: what it said when issued, sealed with a keyed SM3 MAC."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 证明编号, printed and in the QR code
    number: Mapped[str] = mapped_column(String(32), unique=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    #: the public facts as printed (PublicFacts.as_dict)
    facts: Mapped[dict] = mapped_column(JSON)
    #: HMAC-SM3 over number + canonical facts; its first 16 hex chars are the 校验码
    seal: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_account_id: Mapped[int | None]
