"""发件箱 (transactional outbox): messages to external platforms, written in the business
transaction and delivered afterwards by :func:`portal.outbox.service.dispatch`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class OutboxMessage(Base):
    """One message to a peer. Messages of one ``aggregate`` are delivered strictly in creation
    (id) order: an undelivered message holds back the later ones of the same aggregate only."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The dispatcher's question: undelivered and due.
        Index("ix_outbox_message_due", "delivered_at", "next_attempt_at"),
        # "Is an earlier message of this aggregate still undelivered?"
        Index("ix_outbox_message_aggregate", "aggregate", "id"),
        # Ids are the delivery order: never reused (SQLite AUTOINCREMENT).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 主题: which handler delivers it, e.g. ``gov.item`` (办件登记)
    topic: Mapped[str] = mapped_column(String(60))
    #: 聚合: what the message is about, e.g. the 办件 number; the unit of ordering
    aggregate: Mapped[str] = mapped_column(String(80))
    #: 幂等键: unique; also sent to the peer as the event id so it can drop repeats
    key: Mapped[str] = mapped_column(String(120), unique=True)
    #: 报文 (JSON): what the handler needs, no ID numbers beyond what the peer protocol needs
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    #: 投递次数 (claims so far)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: 下次投递时间: due when it has passed; a claim pushes it by the lease, a failure by the backoff
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    #: 投递成功时间; NULL while pending
    delivered_at: Mapped[datetime | None]
    #: the last failure (code and message, no personal data), for operators
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: the peer's answer (JSON) once delivered
    response: Mapped[str | None] = mapped_column(Text)

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload)

    @property
    def response_data(self) -> dict[str, Any] | None:
        return json.loads(self.response) if self.response else None
