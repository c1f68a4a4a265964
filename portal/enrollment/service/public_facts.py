"""What a third party may know of an enrolled unit (单位参保证明): name, USCC, city, since when,
status, and the number of insured persons today. Never names or numbers of persons."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.auth.roles import Actor, Role
from portal.certificates.service import PublicFacts, SubjectProvider
from portal.enrollment.models import EnrolledUnit, UnitMember, UnitStatus
from portal.localtime import local_today


def _facts(sess: Session, unit_id: int) -> PublicFacts | None:
    unit = sess.get(EnrolledUnit, unit_id)
    if unit is None:
        return None
    today = local_today()
    insured = sess.execute(select(func.count()).select_from(UnitMember).where(
        UnitMember.unit_id == unit.id, UnitMember.start_date <= today,
        or_(UnitMember.end_date.is_(None), UnitMember.end_date >= today))).scalar_one()
    return PublicFacts(
        title=unit.name, holder=unit.name, reference=unit.uscc, period_from=unit.effective_date, period_to=None,
        status=unit.status.label, covered=unit.status is UnitStatus.APPROVED, city_code=unit.city_code,
        extra=(("截至出具日参保人数", f"{insured} 人"),),
    )


def _may_issue(sess: Session, actor: Actor, unit_id: int) -> bool:
    unit = sess.get(EnrolledUnit, unit_id)
    return (unit is not None and actor.role is Role.EMPLOYER and actor.owns_organisation(unit.organisation_id)
            and unit.status is UnitStatus.APPROVED)


#: 单位参保证明, registered with the certificates area by the app factory
CERTIFICATE_SUBJECT = SubjectProvider("unit", "单位参保证明", _facts, _may_issue, title_label="单位名称",
                                      holder_label="参保单位", reference_label="统一社会信用代码",
                                      statement="上述单位已参加工伤保险")
