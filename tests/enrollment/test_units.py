"""单位参保登记 service: states, timeline, audit, scope — on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.audit.models import AuditEvent
from portal.auth.roles import Actor, Role
from portal.enrollment import service as enrollment
from portal.enrollment.models import EnrolledUnit, EnrollmentEvent, UnitStatus
from portal.errors import ConflictError, InvalidFields, NotFoundError
from tests.enrollment.conftest import UNIT_FIELDS, make_uscc


def _actions(sess, unit_id):
    return [e.action for e in sess.execute(select(AuditEvent).where(
        AuditEvent.object_type == "enrolled_unit", AuditEvent.object_id == str(unit_id)).order_by(AuditEvent.seq)
    ).scalars()]


def test_enroll_submit_return_answer_approve_with_timeline_and_audit(sess, actor_for, enroll):
    employer, clerk = actor_for("employer"), actor_for("clerk")
    unit = enroll(sess, submit=False)
    assert unit.status is UnitStatus.DRAFT
    assert (unit.city_code, unit.risk_class) == ("340100", 6)  # E4710 房屋建筑业 -> 六类
    assert unit.contact_phone == "13955101234" and len(unit.contact_phone_hash) == 64
    enrollment.submit_unit(sess, employer)
    enrollment.return_unit(sess, clerk, unit.id, reasons="营业执照地址与填写不一致，请核对单位地址。")
    assert unit.status is UnitStatus.RETURNED
    enrollment.save_unit(sess, employer, **{**UNIT_FIELDS, "address": "合肥市蜀山区长江西路200号"})
    assert unit.status is UnitStatus.RETURNED  # editing answers, resubmitting sends it again
    enrollment.submit_unit(sess, employer)
    enrollment.approve_unit(sess, clerk, unit.id, risk_class="6", band="1.2", effective_date=date(2026, 11, 1))
    assert unit.status is UnitStatus.APPROVED
    assert (unit.rate_band, unit.effective_date) == (Decimal("1.20"), date(2026, 11, 1))

    sess.commit()  # audited reads run in a transaction of their own, which ends this one first
    view = enrollment.read_own_unit(sess, employer)
    timeline = [(e.action, e.to_status, e.by_role) for e in view.events]
    assert timeline == [("create", "draft", "employer"), ("submit", "submitted", "employer"),
                        ("return", "returned", "clerk"), ("edit", "returned", "employer"),
                        ("submit", "submitted", "employer"), ("approve", "approved", "clerk")]
    returned = view.events[2]
    assert returned.reasons == "营业执照地址与填写不一致，请核对单位地址。"
    assert returned.by_office == "合肥市社会保险经办中心" or "经办" in returned.by_office
    assert "陈静" not in returned.by_office  # the office, not the staff member
    assert "六类" in view.events[-1].reasons and "120%" in view.events[-1].reasons
    assert view.contact_phone_masked == "139****1234"
    assert _actions(sess, unit.id) == [
        "enrollment.unit_create", "enrollment.unit_submit", "enrollment.unit_return", "enrollment.unit_edit",
        "enrollment.unit_submit", "enrollment.unit_approve", "enrollment.unit_read_personal_data"]
    assert view.rate.base_rate == Decimal("0.013") and view.rate.band == Decimal("1.20")


def test_a_unit_is_enrolled_once_per_organisation(sess, actor_for, enroll):
    enroll(sess)
    with pytest.raises(ConflictError):
        enrollment.create_unit(sess, actor_for("employer"), **UNIT_FIELDS)
    with pytest.raises(ConflictError):  # under review: no editing either
        enrollment.save_unit(sess, actor_for("employer"), **UNIT_FIELDS)
    assert sess.execute(select(EnrolledUnit)).scalars().all().__len__() == 1


def test_steps_cannot_be_skipped_or_repeated(sess, actor_for, enroll):
    employer, clerk = actor_for("employer"), actor_for("clerk")
    unit = enroll(sess, submit=False)
    with pytest.raises(NotFoundError):  # a draft is not the clerk's yet
        enrollment.approve_unit(sess, clerk, unit.id, risk_class=6, band="1.0", effective_date=date(2026, 11, 1))
    enrollment.submit_unit(sess, employer)
    with pytest.raises(ConflictError):
        enrollment.submit_unit(sess, employer)
    enrollment.approve_unit(sess, clerk, unit.id, risk_class=6, band="1.0", effective_date=date(2026, 11, 1))
    with pytest.raises(ConflictError):
        enrollment.approve_unit(sess, clerk, unit.id, risk_class=6, band="1.0", effective_date=date(2026, 11, 1))
    with pytest.raises(ConflictError):
        enrollment.return_unit(sess, clerk, unit.id, reasons="再退回")
    with pytest.raises(ConflictError):
        enrollment.save_unit(sess, employer, **UNIT_FIELDS)


@pytest.mark.parametrize("field, value, message", [
    ("uscc", "91340100MA2N0E5F43", "须与登录单位的代码一致"),  # employer2's code
    ("uscc", "91340100MA2N0A1B5X", "校验位不正确"),
    ("uscc", "91340100MA2N0A1B5", "应为18位"),
    ("county_code", "320102", "不是安徽省"),
    ("county_code", "340900", "不是安徽省"),  # no such city
    ("county_code", "340100", "后两位不能是00"),
    ("county_code", "34010A", "6位数字"),
    ("industry_code", "Z99999", "格式不正确"),
    ("industry_code", "E3311", "门类字母与大类不符：大类 33（金属制品业）属于门类 C"),
    ("industry_code", "9810", "不在《国民经济行业分类》（GB/T 4754-2017）"),
    ("contact_phone", "0551-1234567", "手机号码格式不正确"),
    ("name", "  ", "请填写单位名称"),
])
def test_bad_details_are_refused_with_field_messages(sess, actor_for, field, value, message):
    with pytest.raises(InvalidFields) as caught:
        enrollment.save_unit(sess, actor_for("employer"), **{**UNIT_FIELDS, field: value})
    assert message in caught.value.errors[field]


def test_letter_first_uscc_is_valid(sess, app):
    organisation = Organisation(uscc="Y1340100MA2N0A1B50"[:17] + "0", name="某民办非企业单位")
    from stdnum.cn import uscc as stdnum_uscc

    body = "Y2340100MA2N0A1B5"
    organisation.uscc = body + stdnum_uscc.calc_check_digit(body)
    sess.add(organisation)
    sess.flush()
    actor = Actor(role=Role.EMPLOYER, account_id=None, display_name=organisation.name,
                  organisation_id=organisation.id)
    unit = enrollment.save_unit(sess, actor, **{**UNIT_FIELDS, "uscc": organisation.uscc.lower(), "name": organisation.name})
    assert unit.uscc == organisation.uscc


def test_a_division_that_needs_a_persons_check_goes_in_and_the_clerk_assigns_the_class(sess, actor_for, enroll):
    unit = enroll(sess, industry_code="N79")  # 土地管理业: new in GB/T 4754-2017, not in the 71号 table
    assert unit.risk_class == 3  # the table's suggestion, which the clerk confirms or changes
    sess.commit()  # audited reads run in a transaction of their own, which ends this one first
    view = enrollment.read_unit_for_review(sess, actor_for("clerk"), unit.id)
    assert view.rate.industry.code == "79" and "新设" in view.rate.industry_review
    assert enrollment.read_own_unit(sess, actor_for("employer")).rate.industry_review  # data only; pages decide
    with pytest.raises(InvalidFields) as caught:
        enrollment.approve_unit(sess, actor_for("clerk"), unit.id, risk_class="", band="1.0", effective_date=date(2026, 11, 1))
    assert "risk_class" in caught.value.errors
    with pytest.raises(InvalidFields) as caught:  # class 一 only floats up
        enrollment.approve_unit(sess, actor_for("clerk"), unit.id, risk_class="1", band="0.5", effective_date=date(2026, 11, 1))
    assert "100%、120%、150%" in caught.value.errors["band"]
    enrollment.approve_unit(sess, actor_for("clerk"), unit.id, risk_class="3", band="1.0", effective_date=date(2026, 11, 1))
    assert unit.risk_class == 3


def test_return_needs_reasons_and_approval_a_sane_date(sess, actor_for, enroll):
    unit = enroll(sess)
    with pytest.raises(InvalidFields) as caught:
        enrollment.return_unit(sess, actor_for("clerk"), unit.id, reasons="   ")
    assert "请填写退回原因" in caught.value.errors["reasons"]
    with pytest.raises(InvalidFields) as caught:
        enrollment.approve_unit(sess, actor_for("clerk"), unit.id, risk_class=6, band="1.0", effective_date=date(2030, 1, 1))
    assert "effective_date" in caught.value.errors
    with pytest.raises(InvalidFields) as caught:  # no rate figures before 2024
        enrollment.approve_unit(sess, actor_for("clerk"), unit.id, risk_class=6, band="1.0", effective_date=date(2023, 6, 1))
    assert "没有适用的政策参数" in caught.value.errors["effective_date"]


def test_scope_other_employer_and_other_city_see_nothing(sess, actor_for, enroll):
    unit = enroll(sess)
    sess.commit()  # audited reads run in a transaction of their own, which ends this one first
    assert enrollment.own_unit(sess, actor_for("employer2")) is None
    with pytest.raises(NotFoundError):
        enrollment.read_unit_for_review(sess, actor_for("clerk-wuhu"), unit.id)
    with pytest.raises(NotFoundError):
        enrollment.return_unit(sess, actor_for("clerk-wuhu"), unit.id, reasons="不是我市的")
    with pytest.raises(NotFoundError):  # provincial staff see, but only the city's clerk decides
        enrollment.approve_unit(sess, actor_for("provincial"), unit.id, risk_class=6, band="1.0",
                           effective_date=date(2026, 11, 1))
    with pytest.raises(NotFoundError):  # another city role of the same city does not review
        enrollment.read_unit_for_review(sess, actor_for("recognition_officer"), unit.id)
    assert enrollment.list_units(sess, actor_for("clerk-wuhu")).total == 0
    assert enrollment.list_units(sess, actor_for("clerk")).total == 1
    assert enrollment.list_units(sess, actor_for("provincial"), city_code="340100").total == 1
    with pytest.raises(NotFoundError):
        enrollment.list_units(sess, actor_for("clerk-wuhu"), city_code="340100")
    assert enrollment.read_unit_for_review(sess, actor_for("provincial"), unit.id).unit.id == unit.id


def test_inbox_filters_and_pages(sess, actor_for):
    clerk = actor_for("clerk")
    for n in range(23):
        organisation = Organisation(uscc=make_uscc(n), name=f"测试单位{n:02d}")
        sess.add(organisation)
        sess.flush()
        actor = Actor(role=Role.EMPLOYER, account_id=None, display_name=organisation.name,
                      organisation_id=organisation.id)
        enrollment.save_unit(sess, actor, **{**UNIT_FIELDS, "uscc": organisation.uscc, "name": organisation.name,
                                        "county_code": "340104" if n % 2 else "340111"})
        if n != 22:
            enrollment.submit_unit(sess, actor)
    first = enrollment.list_units(sess, clerk, status="submitted")
    assert (first.total, len(first.rows), first.pages) == (22, 20, 2)
    assert len(enrollment.list_units(sess, clerk, status="submitted", page=2).rows) == 2
    assert enrollment.list_units(sess, clerk, county_code="340111").total == 11
    assert [r.unit.name for r in enrollment.list_units(sess, clerk, q="单位07").rows] == ["测试单位07"]
    assert enrollment.list_units(sess, clerk, q="100%_").total == 0  # LIKE wildcards are literal
    assert enrollment.list_units(sess, clerk, status="approved").total == 0


def test_province_overview_counts_by_city(sess, actor_for, enroll):
    unit = enroll(sess, approve=True)
    rows = {r.code: r for r in enrollment.province_overview(sess, actor_for("provincial"))}
    assert len(rows) == 16
    assert rows["340100"].by_status == {"submitted": 0, "approved": 1, "returned": 0}
    assert rows["340200"].by_status == {"submitted": 0, "approved": 0, "returned": 0}
    assert rows["340100"].members_active == 0 and rows["340100"].premium_due == Decimal(0)
    with pytest.raises(NotFoundError):
        enrollment.province_overview(sess, actor_for("clerk"))
    assert unit.status is UnitStatus.APPROVED


# --- stateful: random button presses against the real service ---------------------------------------


def test_state_machine_against_the_service(sess, actor_for):
    """Hypothesis drives employer and clerk actions in any order on fresh units; the stored state
    always equals the model's, refused actions change nothing, each change is one timeline line."""
    clerk = actor_for("clerk")
    counter = iter(range(100, 100000))

    class Enrollment(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            organisation = Organisation(uscc=make_uscc(next(counter)), name="状态机单位")
            sess.add(organisation)
            sess.flush()
            self.actor = Actor(role=Role.EMPLOYER, account_id=None, display_name="状态机单位",
                               organisation_id=organisation.id)
            self.expected = None
            self.lines = 0

        def _try(self, call, allowed_from, to):
            before = self.expected
            try:
                call()
            except (ConflictError, NotFoundError):
                assert before not in allowed_from
                return
            assert before in allowed_from, f"{before} -> {to} should have been refused"
            self.expected = to if to != "keep" else before
            self.lines += 1

        def _unit_id(self):
            unit = enrollment.own_unit(sess, self.actor)
            return unit.id if unit else 10 ** 9

        @rule()
        def save(self):
            fields = {**UNIT_FIELDS, "uscc": sess.get(Organisation, self.actor.organisation_id).uscc}
            self._try(lambda: enrollment.save_unit(sess, self.actor, **fields),
                      (None, UnitStatus.DRAFT, UnitStatus.RETURNED),
                      UnitStatus.DRAFT if self.expected is None else "keep")

        @rule()
        def submit(self):
            self._try(lambda: enrollment.submit_unit(sess, self.actor), (UnitStatus.DRAFT, UnitStatus.RETURNED),
                      UnitStatus.SUBMITTED)

        @rule()
        def approve(self):
            self._try(lambda: enrollment.approve_unit(sess, clerk, self._unit_id(), risk_class=6, band="1.0",
                                                 effective_date=date(2026, 11, 1)),
                      (UnitStatus.SUBMITTED,), UnitStatus.APPROVED)

        @rule(reasons=st.sampled_from(["材料不全", "地址有误"]))
        def send_back(self, reasons):
            self._try(lambda: enrollment.return_unit(sess, clerk, self._unit_id(), reasons=reasons),
                      (UnitStatus.SUBMITTED,), UnitStatus.RETURNED)

        @invariant()
        def stored_state_matches(self):
            unit = enrollment.own_unit(sess, self.actor)
            assert (unit.status if unit else None) == self.expected
            if unit is not None:
                events = sess.execute(select(EnrollmentEvent).where(EnrollmentEvent.unit_id == unit.id)).scalars().all()
                assert len(events) == self.lines
                assert all(a.to_status == b.from_status for a, b in zip(events, events[1:]))

    run_state_machine_as_test(Enrollment, settings=settings(
        max_examples=12, stateful_step_count=10, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
