"""Query budgets of the staff lists and case pages (issue 14 point 4): no N+1 as data grows.

Each test opens a page with a few rows, counts its SQL statements, adds many more rows (more
than a page), and asserts the count did not grow and stays within the page's budget. The rows are
inserted directly (hundreds through the services would make the test slow); the services' own
tests cover how rows come to be. Recognition's queues have their own budgets (tests/recognition).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Organisation, Person
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.enrollment.models import (
    EnrolledUnit,
    EnrollmentEvent,
    UnitMember,
    UnitStatus,
)
from portal.inbox.models import InboxKind, InboxMessage
from portal.payments.models import Bill, BillStatus
from portal.projects.models import Project, ProjectEvent, ProjectStatus, RosterEntry
from tests.query_budget import assert_within_budget, count_queries

HEFEI, SHUSHAN, BINHU = "340100", "340104", "340111"
_serial = itertools.count(1)

#: statements per page, whatever the rows: the signed-in session, the count, the page, its related
#: rows in one query each, and for pages showing personal data the audit row of the read
BUDGETS = {
    "enrollment.review": 4,
    "enrollment.province": 3,
    "enrollment.review_unit": 11,
    "enrollment.unit": 12,
    "enrollment.unit_members": 11,
    "enrollment.members_list": 12,
    "projects.inbox": 3,
    "projects.overview": 4,
    "projects.show": 8,
    "projects.roster": 13,
    "inbox.index": 4,
    "audit.index": 5,
    "payments.bills": 4,
}


# --- rows, many at once ------------------------------------------------------------------------


def organisation(sess) -> Organisation:
    n = next(_serial)
    org = Organisation(uscc=f"91349{n:013d}", name=f"测试建设有限公司{n}")
    sess.add(org)
    sess.flush()
    return org


def person(sess) -> Person:
    n = next(_serial)
    found = Person(name=f"测试人员{n}", id_number=f"340104199001{n:06d}", id_number_hash=f"hash-{n}",
                   phone="13800001111", bank_account="6222000011112222")
    sess.add(found)
    return found


def units(sess, n: int, *, status: UnitStatus = UnitStatus.SUBMITTED, members: int = 0) -> list[EnrolledUnit]:
    made = []
    for _ in range(n):
        org = organisation(sess)
        unit = EnrolledUnit(organisation_id=org.id, uscc=org.uscc, name=org.name, address="合肥市蜀山区某路1号",
                            county_code=SHUSHAN, city_code=HEFEI, industry_code="E4710", risk_class=5,
                            rate_band=Decimal("1.00"), contact_name="联系人", contact_phone="13955100000",
                            contact_phone_hash=f"h{org.id}", status=status, submitted_at=utcnow(),
                            effective_date=date(2026, 1, 1) if status is UnitStatus.APPROVED else None)
        sess.add(unit)
        made.append(unit)
    sess.flush()
    for unit in made:
        add_members(sess, unit, members)
    return made


def add_members(sess, unit: EnrolledUnit, n: int) -> None:
    for i in range(n):
        who = person(sess)
        sess.flush()
        sess.add(UnitMember(unit_id=unit.id, person_id=who.id, wage_base=Decimal("8000.00") + i,
                            start_date=date(2026, 1, 1), phone="13900002222"))
    for i in range(n // 5):
        sess.add(EnrollmentEvent(unit_id=unit.id, action="edit", from_status="submitted", to_status="submitted",
                                 by_role="employer", by_office=unit.name))
    sess.flush()


def projects(sess, n: int, organisation_id: int, *, workers: int = 0, bills: int = 0) -> list[Project]:
    made = []
    for _ in range(n):
        code = next(_serial)
        project = Project(code=f"XM{HEFEI}2026{code:05d}", organisation_id=organisation_id, name=f"测试项目{code}",
                          county_code=BINHU, city_code=HEFEI, contract_price=Decimal("1000000.00"),
                          planned_start=date(2026, 1, 1), planned_end=date(2027, 12, 31),
                          status=ProjectStatus.COVERED, premium_billed=Decimal("1500.00"))
        sess.add(project)
        made.append(project)
    sess.flush()
    for project in made:
        add_workers(sess, project, workers)
        for _ in range(bills):
            bill(sess, organisation_id, subject_id=project.id)
        for _ in range(bills):
            sess.add(ProjectEvent(project_id=project.id, action="note", actor_label="测试", message="测试记录",
                                  detail={}))
    sess.flush()
    return made


def add_workers(sess, project: Project, n: int) -> None:
    for _ in range(n):
        who = person(sess)
        sess.flush()
        sess.add(RosterEntry(project_id=project.id, person_id=who.id, name=who.name, phone="13900003333",
                             trade="钢筋工", declared_entry_date=date(2026, 2, 1), cover_from=utcnow()))
    sess.flush()


def bill(sess, organisation_id: int, *, subject_id: int = 0, status: BillStatus = BillStatus.ISSUED) -> Bill:
    n = next(_serial)
    found = Bill(number=f"GS2026{n:010d}", subject_type="project", subject_id=subject_id,
                 organisation_id=organisation_id, city_code=HEFEI, purpose="项目参保保费",
                 amount=Decimal("1500.00"), status=status)
    sess.add(found)
    sess.flush()
    return found


def messages(sess, n: int, organisation_id: int) -> None:
    for i in range(n):
        sess.add(InboxMessage(recipient_organisation_id=organisation_id, kind=InboxKind.NOTICE,
                              subject=f"测试通知{i}", body="正文", action_required=i % 3 == 0,
                              delivered_at=utcnow() - timedelta(minutes=i)))
    sess.flush()


def audit_rows(sess, n: int, *, sealed: bool = False) -> None:
    """``sealed``: numbered after the trail's last row, as the sealer numbers them (no gaps)."""
    last = sess.execute(select(func.max(AuditEvent.seq))).scalar_one() or 0 if sealed else None
    for i in range(n):
        sess.add(AuditEvent(at=utcnow(), actor_label="测试", role="clerk", city_code=HEFEI,
                            seq=last + i + 1 if sealed else None,
                            action="person.read_personal_data" if i % 2 else "login.success",
                            object_type="person", object_id=str(i), detail={}))
    sess.flush()


# --- measuring --------------------------------------------------------------------------------


def budget_holds(app, client, url: str, budget: str, grow) -> None:
    """Open ``url`` (once to warm up, once counted), run ``grow()``, and open it again: the
    count must not grow and must stay within ``BUDGETS[budget]``."""
    assert client.get(url).status_code == 200
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    grow()
    response = assert_within_budget(app, client.get, url, budget=BUDGETS[budget])
    with count_queries(app) as many:
        assert client.get(url).status_code == 200
    assert many.total <= few.total, f"{few.total} -> {many.total} queries:\n{many.report()}"
    return response


@pytest.fixture
def signed_in(app, login_as):
    def _client(who: str):
        client = app.test_client()
        snapshot = login_as(client, who)
        return client, snapshot
    return _client


def organisation_of(tx, snapshot) -> int:
    from portal.accounts.models import Account

    return tx(lambda s: s.get(Account, snapshot["account_id"]).organisation_id)


# --- enrollment -------------------------------------------------------------------------------------


def test_enrollment_review_list(app, tx, signed_in):
    clerk, _ = signed_in("clerk")
    tx(lambda s: units(s, 2, members=2))
    budget_holds(app, clerk, "/enrollment/review?status=submitted", "enrollment.review",
                 lambda: tx(lambda s: units(s, 30, members=3)))


def test_enrollment_approved_list_and_province_overview(app, tx, signed_in):
    provincial, _ = signed_in("provincial")
    tx(lambda s: units(s, 2, status=UnitStatus.APPROVED, members=2))
    grow = lambda: tx(lambda s: units(s, 30, status=UnitStatus.APPROVED, members=3))  # noqa: E731
    budget_holds(app, provincial, f"/enrollment/review?status=approved&city_code={HEFEI}", "enrollment.review",
                 grow)
    budget_holds(app, provincial, "/enrollment/province", "enrollment.province", grow)


def test_enrollment_unit_pages_staff_and_employer(app, tx, signed_in):
    clerk, _ = signed_in("clerk")
    employer, snapshot = signed_in("employer")
    org_id = organisation_of(tx, snapshot)

    def employers_unit(s):
        unit = EnrolledUnit(organisation_id=org_id, uscc="91340100MA2N0A1B5E", name="安徽皖建建设工程有限公司",
                            address="合肥市蜀山区长江西路100号", county_code=SHUSHAN, city_code=HEFEI,
                            industry_code="E4710", risk_class=5, contact_name="王强", contact_phone="13955101234",
                            contact_phone_hash="h", status=UnitStatus.APPROVED, submitted_at=utcnow(),
                            effective_date=date(2026, 1, 1))
        s.add(unit)
        s.flush()
        add_members(s, unit, 2)
        return unit.id

    unit_id = tx(employers_unit)
    grow = lambda: tx(lambda s: add_members(s, s.get(EnrolledUnit, unit_id), 30))  # noqa: E731
    budget_holds(app, clerk, f"/enrollment/review/{unit_id}", "enrollment.review_unit", grow)
    budget_holds(app, employer, "/enrollment/unit", "enrollment.unit", grow)
    budget_holds(app, clerk, f"/enrollment/review/{unit_id}/members", "enrollment.unit_members", grow)
    budget_holds(app, employer, "/enrollment/members", "enrollment.members_list", grow)


# --- projects ----------------------------------------------------------------------------------------


def test_project_list_and_overview(app, tx, signed_in):
    clerk, _ = signed_in("clerk")
    provincial, _ = signed_in("provincial")
    org_id = tx(lambda s: organisation(s).id)
    tx(lambda s: projects(s, 2, org_id, workers=2, bills=1))
    grow = lambda: tx(lambda s: projects(s, 30, tx_org(s), workers=3, bills=1))  # noqa: E731
    tx_org = lambda s: organisation(s).id  # noqa: E731  (each batch from another contractor)
    budget_holds(app, clerk, "/projects/inbox", "projects.inbox", grow)
    budget_holds(app, provincial, "/projects/inbox", "projects.inbox", grow)
    budget_holds(app, provincial, "/projects/overview", "projects.overview", grow)


def test_project_pages_staff_and_employer(app, tx, signed_in):
    clerk, _ = signed_in("clerk")
    employer, snapshot = signed_in("employer")
    org_id = organisation_of(tx, snapshot)
    project_id = tx(lambda s: projects(s, 1, org_id, workers=2, bills=1)[0].id)

    def grow():
        def _more(s):
            project = s.get(Project, project_id)
            add_workers(s, project, 30)
            for _ in range(5):
                bill(s, org_id, subject_id=project_id)
                s.add(ProjectEvent(project_id=project_id, action="note", actor_label="测试", message="测试记录",
                                   detail={}))
        tx(_more)

    budget_holds(app, clerk, f"/projects/{project_id}", "projects.show", grow)
    budget_holds(app, employer, f"/projects/{project_id}", "projects.show", grow)
    budget_holds(app, clerk, f"/projects/{project_id}/roster", "projects.roster", grow)
    budget_holds(app, employer, f"/projects/{project_id}/roster", "projects.roster", grow)


# --- inbox, audit, bills ---------------------------------------------------------------------------


def test_inbox_list(app, tx, signed_in):
    employer, snapshot = signed_in("employer")
    org_id = organisation_of(tx, snapshot)
    tx(lambda s: messages(s, 2, org_id))
    grow = lambda: tx(lambda s: messages(s, 40, org_id))  # noqa: E731
    budget_holds(app, employer, "/inbox/", "inbox.index", grow)
    budget_holds(app, employer, "/inbox/?show=action", "inbox.index", grow)


def test_audit_browser(app, tx, signed_in):
    provincial, _ = signed_in("provincial")
    tx(lambda s: audit_rows(s, 4))
    grow = lambda: tx(lambda s: audit_rows(s, 120))  # noqa: E731
    budget_holds(app, provincial, "/audit/", "audit.index", grow)
    response = budget_holds(app, provincial, f"/audit/?action=person.read&city_code={HEFEI}", "audit.index", grow)
    assert "person.read_personal_data" in response.get_data(as_text=True)


def test_audit_total_counts_sealed_and_unsealed_rows(db, tx):
    """The unfiltered total is the last seq plus the rows not yet sealed: the same as counting."""
    from portal.audit import service as audit

    tx(lambda s: audit_rows(s, 7, sealed=True))
    audit_rows(db, 3)  # flushed in this transaction, not sealed
    counted = db.execute(select(func.count(AuditEvent.id))).scalar_one()
    assert db.execute(select(func.count()).where(AuditEvent.seq.is_(None))).scalar_one() == 3
    assert audit.browse(db, audit.AuditFilter()).total == counted >= 10
    assert audit.browse(db, audit.AuditFilter(city_code=HEFEI)).total == 10


def test_bills_list(app, tx, signed_in):
    clerk, _ = signed_in("clerk")
    employer, snapshot = signed_in("employer")
    org_id = organisation_of(tx, snapshot)
    tx(lambda s: [bill(s, org_id) for _ in range(2)])
    grow = lambda: tx(lambda s: [bill(s, org_id, status=st) for st in (BillStatus.ISSUED, BillStatus.PAID) * 15])  # noqa: E731
    budget_holds(app, employer, "/payments/bills", "payments.bills", grow)
    budget_holds(app, clerk, "/payments/bills?status=issued", "payments.bills", grow)


def test_province_overview_sums_premiums_rounded_unit_by_unit(db, tx, actor_for):
    """The overview's SQL premium equals each unit's own premium (its page's figure, rounded
    half-up to the fen) summed: wages chosen so that units land on half a fen."""
    from portal.enrollment import service as enrollment
    from portal.enrollment.service.units import unit_premium

    provincial = actor_for("provincial")
    today = date(2026, 11, 20)

    def seed(s):
        made = units(s, 5, status=UnitStatus.APPROVED)
        for k, unit in enumerate(made):
            unit.risk_class, unit.rate_band = k + 1, (Decimal("1.00"), Decimal("0.80"), Decimal("1.50"))[k % 3]
            for wage in ("1002.50", "3333.33", "8000.55")[: k % 3 + 1]:
                who = person(s)
                s.flush()
                s.add(UnitMember(unit_id=unit.id, person_id=who.id, wage_base=Decimal(wage),
                                 start_date=date(2026, 1, 1)))
        s.add(UnitMember(unit_id=made[0].id, person_id=person_id(s), wage_base=Decimal("9999.99"),
                         start_date=date(2026, 1, 1), end_date=date(2026, 6, 30)))  # no longer insured
        return [u.id for u in made]

    def person_id(s):
        who = person(s)
        s.flush()
        return who.id

    ids = tx(seed)
    expected, members = Decimal(0), 0
    for unit in db.execute(select(EnrolledUnit).where(EnrolledUnit.id.in_(ids))).scalars():
        active = [m for m in db.execute(select(UnitMember).where(UnitMember.unit_id == unit.id)).scalars()
                  if m.is_active(today)]
        members += len(active)
        expected += unit_premium(unit, sum((m.wage_base for m in active), Decimal(0)), today).amount
    hefei = {r.code: r for r in enrollment.province_overview(db, provincial, today=today)}[HEFEI]
    assert (hefei.members_active, hefei.premium_due) == (members, expected)
    assert hefei.by_status["approved"] == 5 and members == 9
