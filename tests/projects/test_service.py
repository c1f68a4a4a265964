"""Project enrollment: premium, state machine, scope, supplementary bills (service level, both DBs)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.errors import ConflictError, NotFoundError, UserInputError
from portal.localtime import local_today
from portal.payments.models import Bill, BillStatus
from portal.projects import service as projects
from portal.projects.models import PremiumBasis, Project, ProjectEvent, ProjectStatus
from tests.projects.conftest import enroll, pay_open_bills


def test_enroll_submit_pay_start_complete(actor_for, tx):
    employer = actor_for("employer")
    project_id = tx(lambda s: enroll(s, employer).id)

    def check_draft(sess):
        p = sess.get(Project, project_id)
        assert p.status is ProjectStatus.DRAFT
        assert p.code.startswith("XM3401002026") and len(p.code) == 17
        assert p.city_code == "340100"
        assert projects.quote_for(p).amount == Decimal("18518.52")
    tx(check_draft)

    with pytest.raises(ConflictError, match="先参保、后开工"):
        tx(lambda s: projects.start_project(s, employer, project_id, started_on=local_today()))

    tx(lambda s: projects.submit_project(s, employer, project_id))
    with pytest.raises(ConflictError, match="重复提交"):
        tx(lambda s: projects.submit_project(s, employer, project_id))
    with pytest.raises(ConflictError, match="先参保、后开工"):
        tx(lambda s: projects.start_project(s, employer, project_id, started_on=local_today()))

    def bills(sess):
        rows = sess.scalars(select(Bill).where(Bill.subject_type == "project", Bill.subject_id == project_id)).all()
        return [(b.amount, b.status, b.purpose) for b in rows]
    assert tx(bills) == [(Decimal("18518.52"), BillStatus.ISSUED, "项目参保保费")]

    tx(lambda s: pay_open_bills(s, project_id))

    def check_covered(sess):
        p = sess.get(Project, project_id)
        bill = sess.scalars(select(Bill).where(Bill.subject_id == project_id)).one()
        assert p.status is ProjectStatus.COVERED
        assert p.cover_start == bill.paid_at  # cover starts at the payment, not before
    tx(check_covered)

    tx(lambda s: projects.start_project(s, employer, project_id, started_on=local_today()))
    with pytest.raises(ConflictError, match="重复"):
        tx(lambda s: projects.start_project(s, employer, project_id, started_on=local_today()))
    tx(lambda s: projects.complete_project(s, employer, project_id, completed_on=local_today()))
    with pytest.raises(ConflictError, match="重复"):
        tx(lambda s: projects.complete_project(s, employer, project_id, completed_on=local_today()))

    def check_timeline(sess):
        p = sess.get(Project, project_id)
        assert p.status is ProjectStatus.COMPLETED and p.cover_end is not None
        actions = [e.action for e in sess.scalars(select(ProjectEvent).where(ProjectEvent.project_id == project_id)
                                                  .order_by(ProjectEvent.id))]
        assert actions == ["project.enroll", "project.submit", "project.covered", "project.start",
                           "project.complete"]
        audited = set(sess.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "project",
                                                                    AuditEvent.object_id == str(project_id))))
        assert set(actions) <= audited
    tx(check_timeline)


def test_start_date_outside_the_rate_figure_is_refused(actor_for, tx):
    employer = actor_for("employer")
    with pytest.raises(UserInputError, match="没有适用的政策参数"):
        tx(lambda s: enroll(s, employer, planned_start=date(2023, 6, 1)))


@pytest.mark.parametrize("overrides, message", [
    ({"planned_end": date(2025, 12, 31)}, "晚于计划开工日期"),
    ({"county_code": "340100"}, "县（市、区）"),
    ({"county_code": "110101"}, "不是安徽省"),
    ({"county_code": "3401"}, "6位数字"),
    ({"name": "  "}, "项目名称"),
    ({"contract_price": Decimal(0)}, "大于0"),
])
def test_bad_enrollment_input_is_refused(actor_for, tx, overrides, message):
    employer = actor_for("employer")
    with pytest.raises(UserInputError, match=message):
        tx(lambda s: enroll(s, employer, **overrides))


def test_contract_price_increase_issues_a_supplementary_bill(covered_project, tx):
    employer, project_id = covered_project
    _, billed = tx(lambda s: projects.change_contract_price(
        s, employer, project_id, contract_price=Decimal("20000000.00"), installation_cost=None))
    assert billed == Decimal("30000.00") - Decimal("18518.52")

    def check(sess):
        p = sess.get(Project, project_id)
        assert p.status is ProjectStatus.COVERED and p.premium_billed == Decimal("30000.00")
        amounts = sorted((b.amount, b.purpose) for b in sess.scalars(select(Bill).where(Bill.subject_id == project_id)))
        assert amounts == [(Decimal("11481.48"), "补缴保费"), (Decimal("18518.52"), "项目参保保费")]
    tx(check)
    tx(lambda s: pay_open_bills(s, project_id))
    assert tx(lambda s: s.get(Project, project_id).status) is ProjectStatus.COVERED
    with pytest.raises(UserInputError, match="退费"):
        tx(lambda s: projects.change_contract_price(s, employer, project_id, contract_price=Decimal("1.00"),
                                                    installation_cost=None))


def test_extension_is_recorded_with_the_old_date(covered_project, tx):
    employer, project_id = covered_project
    with pytest.raises(UserInputError, match="应晚于原计划"):
        tx(lambda s: projects.extend_project(s, employer, project_id, planned_end=date(2027, 1, 1), reason="设计变更"))
    tx(lambda s: projects.extend_project(s, employer, project_id, planned_end=date(2028, 6, 30), reason="设计变更"))

    def check(sess):
        event = sess.scalars(select(ProjectEvent).where(ProjectEvent.action == "project.extend")).one()
        assert "2027-12-31" in event.message and "2028-06-30" in event.message
        assert sess.get(Project, project_id).planned_end == date(2028, 6, 30)
    tx(check)


def test_clerk_switches_basis_before_payment(actor_for, tx):
    employer, clerk = actor_for("employer"), actor_for("clerk")

    def setup(sess):
        p = enroll(sess, employer, installation_cost=Decimal("10000000.00"))
        projects.submit_project(sess, employer, p.id)
        return p.id
    project_id = tx(setup)
    tx(lambda s: projects.switch_basis(s, clerk, project_id, basis=PremiumBasis.INSTALLATION_COST))

    def check(sess):
        bills = sorted((b.amount, b.status) for b in sess.scalars(select(Bill).where(Bill.subject_id == project_id)))
        assert bills == [(Decimal("15000.00"), BillStatus.ISSUED), (Decimal("18518.52"), BillStatus.CANCELLED)]
        assert sess.get(Project, project_id).premium_billed == Decimal("15000.00")
    tx(check)
    tx(lambda s: pay_open_bills(s, project_id))
    with pytest.raises(ConflictError, match="缴费前"):
        tx(lambda s: projects.switch_basis(s, clerk, project_id, basis=PremiumBasis.CONTRACT_PRICE))


def test_scope_other_employer_and_other_city(covered_project, actor_for, tx):
    _, project_id = covered_project
    for who in ("employer2", "clerk-wuhu", "worker"):
        actor = actor_for(who)
        with pytest.raises(NotFoundError):
            tx(lambda s, actor=actor: projects.get_project(s, actor, project_id))
    assert tx(lambda s: projects.get_project(s, actor_for("clerk"), project_id).id) == project_id
    assert tx(lambda s: projects.get_project(s, actor_for("provincial"), project_id).id) == project_id
    result = tx(lambda s: projects.inbox(s, actor_for("clerk-wuhu")))
    assert result.total == 0
    assert tx(lambda s: projects.inbox(s, actor_for("clerk")).total) == 1


def test_drafts_are_not_shown_to_staff(actor_for, tx):
    employer = actor_for("employer")
    project_id = tx(lambda s: enroll(s, employer).id)
    with pytest.raises(NotFoundError):
        tx(lambda s: projects.get_project(s, actor_for("clerk"), project_id))


def test_start_before_cover_date_is_refused(covered_project, tx):
    employer, project_id = covered_project
    with pytest.raises(UserInputError, match="不能早于缴费参保日期"):
        tx(lambda s: projects.start_project(s, employer, project_id, started_on=local_today() - timedelta(days=3)))
