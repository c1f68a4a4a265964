"""The bulk seeder of ``./dev.sh bench queues`` (benchmarks/seed_scale.py) stays valid as the
models change: at a tiny scale, on both databases, its rows read back through the real pages."""

from __future__ import annotations

import sqlalchemy as sa

from benchmarks import seed_scale
from portal.accounts.models import Organisation
from portal.audit import service as audit
from portal.enrollment.models import EnrolledUnit, UnitStatus
from portal.localtime import local_today
from portal.payments.models import Bill
from portal.recognition.models import CaseStatus, RecognitionCase

HEFEI = "340100"
OPEN = [s for s in CaseStatus if not s.is_closed]


def _seed(app, k: int) -> seed_scale.SeedReport:
    targets = seed_scale.city_targets(k, base=10, other_share=0.1)
    return seed_scale.seed_to(app.extensions["portal.database"].engine, targets, audit_per_index=2)


def test_seeded_rows_read_through_the_staff_pages(app, client, db, login_as):
    first = _seed(app, 1)
    assert first.per_city[HEFEI] == 10 and first.added["recognition_case"] >= 10 + 10 + 14
    # the next scale only adds what is missing
    second = _seed(app, 2)
    assert second.added["organisation"] == 10 + 10 + 14  # 合肥, 芜湖 +10 each, the others +1 each
    assert db.scalar(sa.select(sa.func.count()).select_from(Organisation)
                     .where(Organisation.uscc.startswith(f"BN{HEFEI}"))) == 20

    today = local_today()
    open_cases = sa.select(RecognitionCase.reference).where(
        RecognitionCase.city_code == HEFEI, RecognitionCase.status.in_(OPEN))
    overdue = set(db.scalars(open_cases.where(RecognitionCase.office_due_on < today)))
    on_time = set(db.scalars(open_cases.where(RecognitionCase.office_due_on >= today)))
    assert overdue and on_time, "the seeded spread has overdue and running cases"

    login_as(client, "officer")
    page = client.get("/recognition/office/?status=all&page=1")
    assert page.status_code == 200
    assert any(ref in page.text for ref in overdue | on_time)
    # the queue's own clock (the real service) finds exactly the cases seeded as overdue
    listed = client.get("/recognition/office/?clock=overdue")
    assert listed.status_code == 200
    assert all(ref in listed.text for ref in overdue)
    assert not any(ref in listed.text for ref in on_time)

    login_as(client, "clerk")
    waiting = db.scalars(sa.select(EnrolledUnit.name).where(EnrolledUnit.city_code == HEFEI,
                                                            EnrolledUnit.status == UnitStatus.SUBMITTED)).all()
    review = client.get("/enrollment/review")
    assert review.status_code == 200 and waiting and waiting[0] in review.text
    bills = client.get("/payments/bills")
    newest = db.scalars(sa.select(Bill.number).where(Bill.city_code == HEFEI).order_by(Bill.id.desc())).first()
    assert bills.status_code == 200 and newest in bills.text

    login_as(client, "employer")  # the demo employer's organisation holds 合肥's seeded messages
    inbox = client.get("/inbox/")
    assert inbox.status_code == 200 and "工伤认定申请受理通知" in inbox.text

    login_as(client, "province")
    for url in ("/recognition/office/overview", "/enrollment/province", "/projects/overview", "/audit/"):
        assert client.get(url).status_code == 200, url
    # the seeded audit rows are MACed and chained: the trail still verifies
    report = audit.verify(db)
    assert report.problems == [] and report.checked >= 2 * 20 * 2
