"""Writing, verifying and browsing the audit trail.

Each row's hash is SM3 over a canonical JSON of its own fields and the previous row's hash, so
changing, removing or reordering any row breaks the chain from there on. Writers lock the single
chain-head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite write transactions are already
exclusive), so concurrent requests append in a strict order. The critical section is one read of
the head, one insert and one update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from portal.auth.roles import Actor
from portal.db import utcnow
from portal.paging import Paged
from portal.security.crypto import sm3_hex

HEAD_ID = 1


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "seq": event.seq,
        "at": event.at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        "actor_account_id": event.actor_account_id,
        "actor_label": event.actor_label,
        "role": event.role,
        "city_code": event.city_code,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "client_addr": event.client_addr,
        "request_id": event.request_id,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def compute_hash(event: AuditEvent) -> str:
    return sm3_hex(_canonical(event))


def _lock_head(sess: Session) -> AuditChainHead:
    head = sess.execute(
        select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditChainHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        sess.add(head)
        sess.flush()
    return head


def record(
    sess: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    city_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row in the caller's transaction (so it commits with the change)."""
    head = _lock_head(sess)
    event = AuditEvent(
        seq=head.seq + 1,
        at=utcnow(),
        actor_account_id=actor.account_id,
        actor_label=actor.display_name[:100],
        role=actor.role.value if actor.role else None,
        city_code=city_code if city_code is not None else actor.city_code,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        client_addr=actor.client_addr,
        request_id=actor.request_id,
        detail=detail or {},
        prev_hash=head.hash,
    )
    event.hash = compute_hash(event)
    sess.add(event)
    head.seq, head.hash = event.seq, event.hash
    sess.flush()
    return event


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(sess: Session, batch: int = 2000) -> VerifyReport:
    """Walk the chain in order; report every row whose position, link or hash is wrong."""
    report = VerifyReport()
    expected_prev, expected_seq, last_id = GENESIS_HASH, 1, None
    while True:
        query = select(AuditEvent).order_by(AuditEvent.seq).limit(batch)
        if last_id is not None:
            query = query.where(AuditEvent.seq > last_id)
        rows = sess.execute(query).scalars().all()
        if not rows:
            break
        for event in rows:
            report.checked += 1
            if event.seq != expected_seq:
                report.problems.append(
                    f"第 {expected_seq} 条记录缺失（下一条为第 {event.seq} 条） / row {expected_seq} missing"
                )
            if event.prev_hash != expected_prev:
                report.problems.append(f"第 {event.seq} 条记录与上一条的链接不符 / row {event.seq}: broken link")
            if compute_hash(event) != event.hash:
                report.problems.append(f"第 {event.seq} 条记录内容被改动 / row {event.seq}: content altered")
            expected_prev, expected_seq, last_id = event.hash, event.seq + 1, event.seq
        sess.expunge_all()
    head = sess.get(AuditChainHead, HEAD_ID)
    if head is not None and head.seq != expected_seq - 1:
        report.problems.append(
            f"链头记录为第 {head.seq} 条，实际最后一条为第 {expected_seq - 1} 条 / chain head mismatch"
        )
    if head is not None and head.seq and head.hash != expected_prev:
        report.problems.append("链头哈希与最后一条记录不符 / chain head hash mismatch")
    return report


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    city_code: str | None = None
    actor_account_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditPage(Paged):
    rows: Sequence[AuditEvent]
    total: int
    page: int
    per_page: int


def browse(sess: Session, filters: AuditFilter, page: int = 1, per_page: int = 50) -> AuditPage:
    """Newest first, filtered; for provincial staff."""
    conditions = []
    if filters.action:
        conditions.append(AuditEvent.action.startswith(filters.action))
    if filters.city_code:
        conditions.append(AuditEvent.city_code == filters.city_code)
    if filters.actor_account_id is not None:
        conditions.append(AuditEvent.actor_account_id == filters.actor_account_id)
    if filters.object_type:
        conditions.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        conditions.append(AuditEvent.object_id == filters.object_id)
    if filters.date_from:
        conditions.append(AuditEvent.at >= datetime.combine(filters.date_from, time.min, timezone.utc))
    if filters.date_to:
        conditions.append(
            AuditEvent.at < datetime.combine(filters.date_to + timedelta(days=1), time.min, timezone.utc)
        )
    total = sess.execute(select(func.count()).select_from(AuditEvent).where(*conditions)).scalar_one()
    page = max(1, page)
    rows = sess.execute(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.seq.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).scalars().all()
    return AuditPage(rows, total, page, per_page)


def distinct_actions(sess: Session) -> list[str]:
    return list(sess.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())
