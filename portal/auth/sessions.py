"""Server-side session rows as data: revoke, purge, list. Plain Python, no Flask."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from portal.auth.models import WebSession
from portal.db import utcnow

#: a session ends after this long even when it is never idle
ABSOLUTE_LIFETIME = timedelta(hours=12)


def revoke_account_sessions(sess: Session, account_id: int) -> int:
    """Revoke every live session of an account (e.g. staff left, account compromised)."""
    result = sess.execute(update(WebSession).where(
        WebSession.account_id == account_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), data={}))
    return result.rowcount or 0


def purge_dead_sessions(sess: Session, idle_minutes: int) -> int:
    """Delete sessions that are revoked, idle past the limit, or past their absolute lifetime."""
    now = utcnow()
    result = sess.execute(delete(WebSession).where(or_(
        WebSession.revoked_at.is_not(None),
        WebSession.last_seen_at < now - timedelta(minutes=idle_minutes),
        WebSession.created_at < now - ABSOLUTE_LIFETIME,
    )))
    return result.rowcount or 0


def live_sessions(sess: Session, account_id: int) -> list[WebSession]:
    return list(sess.execute(select(WebSession).where(
        WebSession.account_id == account_id, WebSession.revoked_at.is_(None))
        .order_by(WebSession.last_seen_at.desc())).scalars())
