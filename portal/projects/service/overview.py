"""Provincial overview of construction projects: per-city counts and premium sums."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.auth.roles import Actor, Role
from portal.errors import NotFoundError
from portal.projects.models import INSURED_STATUSES, Project, ProjectStatus, RosterEntry
from portal.projects.service.projects import SUBJECT_TYPE
from portal.regions import province


@dataclass
class CityRow:
    city_code: str
    city_name: str
    by_status: dict[str, int] = field(default_factory=dict)
    workers_active: int = 0
    premium_due: Decimal = Decimal("0.00")  #: bills not yet paid (待缴费 + 待确认)
    premium_paid: Decimal = Decimal("0.00")


def per_city(sess: Session, actor: Actor) -> list[CityRow]:
    if actor.role is not Role.PROVINCIAL:
        raise NotFoundError("无权查看")
    from portal.payments.models import Bill, BillStatus

    rows = {c.code: CityRow(c.code, c.name) for c in province().cities}
    for city, status, n in sess.execute(select(Project.city_code, Project.status, func.count())
                                        .where(Project.status != ProjectStatus.DRAFT)
                                        .group_by(Project.city_code, Project.status)).all():
        if city in rows:
            rows[city].by_status[ProjectStatus(status).value] = n
    for city, n in sess.execute(select(Project.city_code, func.count())
                                .join(RosterEntry, RosterEntry.project_id == Project.id)
                                .where(RosterEntry.exited_at.is_(None), Project.status.in_(INSURED_STATUSES))
                                .group_by(Project.city_code)).all():
        if city in rows:
            rows[city].workers_active = n
    for city, status, amount in sess.execute(select(Bill.city_code, Bill.status, func.sum(Bill.amount))
                                             .where(Bill.subject_type == SUBJECT_TYPE)
                                             .group_by(Bill.city_code, Bill.status)).all():
        if city not in rows:
            continue
        status = BillStatus(status)
        if status is BillStatus.PAID:
            rows[city].premium_paid += Decimal(amount or 0)
        elif status in (BillStatus.ISSUED, BillStatus.PENDING_CONFIRMATION):
            rows[city].premium_due += Decimal(amount or 0)
    return list(rows.values())
