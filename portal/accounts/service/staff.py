"""The staff register (人员授权) and ending sessions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import (
    Account,
    StaffAssignment,
)
from portal.audit import service as audit
from portal.auth import service as auth
from portal.auth.roles import CITY_STAFF_ROLES, Actor, Role
from portal.errors import (
    NotFoundError,
    UserInputError,
)
from portal.regions import province


def upsert_staff_assignment(sess: Session, *, subject: str, name: str, role: str,
                            city_code: str | None, office: str) -> StaffAssignment:
    """Create or update one staff authorisation (idempotent: safe to load twice)."""
    role_value = Role(role)
    if not role_value.is_staff:
        raise UserInputError(f"{role} 不是工作人员角色")
    if role_value in CITY_STAFF_ROLES and (city_code is None or province().city(city_code) is None):
        raise UserInputError(f"地市工作人员必须指定本省地市代码，{city_code!r} 无效")
    if role_value is Role.PROVINCIAL:
        city_code = None
    row = sess.execute(select(StaffAssignment).where(StaffAssignment.subject == subject)).scalar_one_or_none()
    if row is None:
        row = StaffAssignment(subject=subject)
        sess.add(row)
    row.name, row.role, row.city_code, row.office, row.active = name, role_value.value, city_code, office, True
    sess.flush()
    return row


def revoke_sessions_of(sess: Session, actor: Actor, subject: str) -> int:
    """End every live session of the account with this platform subject, at once."""
    account = sess.execute(select(Account).where(Account.subject == subject)).scalar_one_or_none()
    if account is None:
        raise NotFoundError(f"没有平台标识为 {subject} 的账号")
    revoked = auth.revoke_account_sessions(sess, account.id)
    audit.record(sess, actor, "session.revoke", object_type="account", object_id=account.id,
                 detail={"revoked": revoked})
    return revoked


def deactivate_staff(sess: Session, actor: Actor, subject: str) -> int:
    """Withdraw a staff member's authorisation (e.g. transferred) and end their sessions."""
    row = sess.execute(select(StaffAssignment).where(StaffAssignment.subject == subject)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"工作人员名册中没有平台标识 {subject}")
    row.active = False
    audit.record(sess, actor, "staff.deactivate", object_type="staff_assignment", object_id=row.id,
                 city_code=row.city_code)
    account = sess.execute(select(Account).where(Account.subject == subject)).scalar_one_or_none()
    return auth.revoke_account_sessions(sess, account.id) if account else 0
