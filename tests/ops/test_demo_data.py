"""The demo's sample data (portal/demo_data.py), made through the services on both databases:
every state the README's tour names is there, the clocks show overdue and near cases, the
inboxes and the 一网通办 outbox have what the steps leave, and a second load changes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from portal.demo import load_staff_register
from portal.demo_data import (
    SITE_WORKERS,
    has_business_data,
    id_number,
    load_sample_data,
)

TODAY = date(2026, 12, 3)


def _load(tx, tmp_path, today=TODAY):
    def load(sess):
        load_staff_register(sess)  # as `portal demo` does first
        return load_sample_data(sess, files_dir=tmp_path / "files", portal_url="http://127.0.0.1:5000", today=today)

    return tx(load)


def test_invented_id_numbers_pass_the_portal_check():
    from portal.accounts.identifiers import normalise_id_number

    numbers = [id_number(birth, seq) for _name, birth, seq, _trade in SITE_WORKERS]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert normalise_id_number(number, today=TODAY) == number


def test_sample_data_covers_every_role_and_state(app, tx, tmp_path, actor_for, client, login_as):
    """One load per database (it renders some twenty PDFs): the rows, the clocks, a second load,
    and the pages of each role."""
    from portal.enrollment.models import EnrolledUnit, UnitMember, UnitStatus
    from portal.inbox.models import InboxMessage
    from portal.outbox.models import OutboxMessage
    from portal.payments.models import Bill, BillStatus
    from portal.projects.models import Project, ProjectStatus, RosterEntry
    from portal.recognition import service as recognition
    from portal.recognition.models import CaseStatus, RecognitionCase, Urge

    officer = actor_for("officer")
    loaded = _load(tx, tmp_path)
    assert loaded is not None and sum(loaded.cases.values()) == 11
    assert "工伤认定案件 11 件" in loaded.lines()[0]

    def check(sess):
        units = Counter(u.status for u in sess.scalars(select(EnrolledUnit)))
        assert units == {UnitStatus.APPROVED: 1, UnitStatus.SUBMITTED: 1}
        assert sess.scalar(select(func.count()).select_from(UnitMember)) == 7
        projects = Counter(p.status for p in sess.scalars(select(Project)))
        assert projects[ProjectStatus.AWAITING_PAYMENT] == 1 and sum(projects.values()) == 2
        assert Counter(b.status for b in sess.scalars(select(Bill))) == {BillStatus.PAID: 1, BillStatus.ISSUED: 1}
        assert sess.scalar(select(func.count()).select_from(RosterEntry)) == 7
        statuses = Counter(c.status for c in sess.scalars(select(RecognitionCase)))
        assert statuses == {CaseStatus.DRAFT: 1, CaseStatus.SUBMITTED: 2, CaseStatus.AWAITING_SUPPLEMENT: 1,
                            CaseStatus.ACCEPTED: 3, CaseStatus.SUSPENDED: 1, CaseStatus.DECIDED: 1,
                            CaseStatus.SERVED: 1, CaseStatus.NOT_ACCEPTED: 1}
        assert sess.scalar(select(func.count()).select_from(Urge)) == 1
        # notices, the decision, the refusal: the parties' inboxes hold what the steps sent
        assert sess.scalar(select(func.count()).select_from(InboxMessage)) >= 5
        assert sess.scalar(select(func.count()).select_from(OutboxMessage)) > 0
        overdue = recognition.queue_rows(sess, officer, clock=recognition.CLOCK_OVERDUE, today=TODAY)
        near = recognition.queue_rows(sess, officer, clock=recognition.CLOCK_NEAR, today=TODAY)
        assert {r.case.status for r in overdue} == {CaseStatus.SUBMITTED, CaseStatus.ACCEPTED}
        assert {r.case.status for r in near} == {CaseStatus.SUBMITTED, CaseStatus.ACCEPTED}
        assert has_business_data(sess)

    tx(check)
    _second_load_adds_nothing(tx, tmp_path)
    _pages_of_each_role_show_the_samples(client, login_as)


def _second_load_adds_nothing(tx, tmp_path):
    from portal.audit.models import AuditEvent

    before = tx(lambda sess: sess.scalar(select(func.count()).select_from(AuditEvent)))
    assert _load(tx, tmp_path) is None
    assert tx(lambda sess: sess.scalar(select(func.count()).select_from(AuditEvent))) == before


def _pages_of_each_role_show_the_samples(client, login_as):
    login_as(client, "worker")
    page = client.get("/recognition/")
    assert page.status_code == 200 and "已送达" in page.text
    login_as(client, "recognition_officer")
    queue = client.get("/recognition/office/")
    assert queue.status_code == 200 and "已超期" in queue.text and "即将到期" in queue.text
    login_as(client, "clerk")
    review = client.get("/enrollment/review")
    assert review.status_code == 200 and "合肥明远机械制造有限公司" in review.text
    login_as(client, "employer")
    projects = client.get("/projects/")
    assert projects.status_code == 200 and "合肥市蜀山区井岗安置房二期工程" in projects.text
