"""超期监督 (provincial supervision of the recognition clocks): per city, how many cases are open,
near their statutory deadline, overdue, suspended, and how many 催办 wait for an answer; and, for
one city, the overdue and near-due cases themselves.

Plain Python. Clocks are computed with the working-day calendar (``handling.queue_rows``), so the
counts are exactly what each case page shows. Provincial staff see every city; a city officer
calling these sees only their own city (the case scope of ``cases.visible_cases``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from portal.auth.roles import Actor
from portal.recognition.models import CaseStatus
from portal.recognition.service import handling
from portal.regions import province


@dataclass(frozen=True)
class CityRow:
    code: str
    name: str
    open: int  #: 在办（未办结）
    near: int  #: 即将到期
    overdue: int  #: 已超期
    suspended: int  #: 中止
    open_urges: int  #: 未答复的催办
    unknown: int = 0  #: 期限暂无法计算（日历未录入）


def city_overview(sess: Session, actor: Actor, *, today: date | None = None) -> list[CityRow]:
    """One row per city of the province (all 16, also those without cases), in the order of
    config/regions.toml."""
    rows = handling.queue_rows(sess, actor, status=handling.STATUS_OPEN, today=today)
    by_city: dict[str, list[handling.QueueRow]] = {}
    for row in rows:
        by_city.setdefault(row.case.city_code or "", []).append(row)
    result = []
    for city in province().cities:
        mine = by_city.get(city.code, [])
        result.append(CityRow(
            code=city.code, name=city.name, open=len(mine),
            near=sum(1 for r in mine if r.clock.near), overdue=sum(1 for r in mine if r.clock.overdue),
            suspended=sum(1 for r in mine if r.case.status is CaseStatus.SUSPENDED),
            open_urges=sum(r.open_urges for r in mine),
            unknown=sum(1 for r in mine if r.clock.problem)))
    return result


def overview_totals(rows: list[CityRow]) -> CityRow:
    """The province's line under the cities' (全省合计)."""
    return CityRow("", "全省合计", sum(r.open for r in rows), sum(r.near for r in rows),
                   sum(r.overdue for r in rows), sum(r.suspended for r in rows),
                   sum(r.open_urges for r in rows), sum(r.unknown for r in rows))


def due_cases(sess: Session, actor: Actor, city_code: str, *, today: date | None = None) -> list[handling.QueueRow]:
    """The overdue and near-due open cases of one city, overdue first, then by due date."""
    return handling.queue_rows(sess, actor, status=handling.STATUS_OPEN, clock=handling.CLOCK_DUE,
                               city_code=city_code, today=today)
