"""Fixtures for the projects area: actors from the demo identities, projects, paying a bill."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from portal.db import utcnow


def enroll(sess, actor, **overrides):
    from portal.projects import service as projects

    fields = dict(name="合肥市滨湖新区安置房项目", county_code="340111", permit_number=None,
                  contract_price=Decimal("12345678.90"), installation_cost=None,
                  planned_start=date(2026, 1, 1), planned_end=date(2027, 12, 31))
    fields.update(overrides)
    return projects.enroll_project(sess, actor, **fields)


def pay_open_bills(sess, project_id: int):
    """Pay every unpaid bill of the project as the platform's signed callback would (the payments
    service's record_callback; the signature itself is tested in tests/payments)."""
    from portal.payments import service as payments
    from portal.payments.models import Bill, BillStatus

    for bill in sess.query(Bill).filter(Bill.subject_type == "project", Bill.subject_id == project_id,
                                        Bill.status.in_([BillStatus.ISSUED, BillStatus.PENDING_CONFIRMATION])):
        if bill.payment_reference is None:
            bill.payment_reference = f"TEST{bill.id:08d}"
            sess.flush()
        payments.record_callback(sess, message_id=uuid.uuid4().hex, reference=bill.payment_reference,
                                 status="paid", amount=bill.amount, paid_at=utcnow(), raw=b"{}")


@pytest.fixture
def covered_project(actor_for, tx):
    """An employer's project, submitted and paid: (employer actor, project id)."""
    from portal.projects import service as projects

    employer = actor_for("employer")

    def _make(sess):
        project = enroll(sess, employer)
        projects.submit_project(sess, employer, project.id)
        pay_open_bills(sess, project.id)
        return project.id

    return employer, tx(_make)
