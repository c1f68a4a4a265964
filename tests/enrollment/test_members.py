"""人员增减 service: add, change, remove, single-insurance rules, masking and audit."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Person
from portal.audit.models import AuditEvent
from portal.enrollment import service as enrollment
from portal.enrollment.models import InsuranceType, UnitMember
from portal.errors import ConflictError, InvalidFields, NotFoundError
from tests.enrollment.conftest import make_id

TODAY = date(2026, 11, 20)


def add(sess, actor, **overrides):
    fields = dict(name="李明", id_number=make_id(), phone="13800001111", wage_base="8000",
                  start_date=date(2026, 11, 1), insurance_type="regular", today=TODAY)
    fields.update(overrides)
    return enrollment.add_member(sess, actor, **fields)


@pytest.fixture
def approved(sess, enroll):
    return enroll(sess, approve=True, effective=date(2026, 1, 1))


def test_add_change_remove_and_add_again_keeps_history(sess, actor_for, approved):
    employer = actor_for("employer")
    member, warning = add(sess, employer, id_number=" " + make_id().lower() + " ")
    assert warning is None
    person = sess.get(Person, member.person_id)
    assert person.id_number == make_id() and person.name == "李明"
    enrollment.change_wage_base(sess, employer, member.id, wage_base="9,000.50", today=TODAY)
    assert member.wage_base == Decimal("9000.50")
    enrollment.remove_member(sess, employer, member.id, end_date=date(2026, 11, 15), today=TODAY)
    with pytest.raises(ConflictError):
        enrollment.remove_member(sess, employer, member.id, end_date=date(2026, 11, 16), today=TODAY)
    with pytest.raises(InvalidFields) as caught:  # the new period must start after the old one
        add(sess, employer, start_date=date(2026, 11, 15))
    assert "2026-11-15" in caught.value.errors["id_number"]
    again, _ = add(sess, employer, start_date=date(2026, 11, 16))
    assert again.id != member.id and again.person_id == member.person_id
    rows = sess.execute(select(UnitMember).order_by(UnitMember.id)).scalars().all()
    assert [(m.start_date, m.end_date) for m in rows] == [(date(2026, 11, 1), date(2026, 11, 15)),
                                                         (date(2026, 11, 16), None)]
    assert sess.execute(select(func.count(Person.id))).scalar_one() >= 1


def test_person_already_active_on_the_unit_is_refused(sess, actor_for, approved):
    add(sess, actor_for("employer"))
    with pytest.raises(InvalidFields) as caught:
        add(sess, actor_for("employer"), start_date=date(2026, 11, 10))
    assert caught.value.errors["id_number"] == "该人员已在本单位参保，不能重复增加"


def test_a_confirmed_person_is_reused_and_the_unit_corrects_its_own_typing(sess, actor_for, approved):
    worker = actor_for("worker")  # 张伟 signed in once: a confirmed person row exists
    person = sess.get(Person, worker.person_id)
    member, _ = add(sess, actor_for("employer"), name="张伟", id_number=person.id_number)
    assert member.person_id == person.id
    other = make_id(seq=457)
    first, _ = add(sess, actor_for("employer"), name="王五", id_number=other)
    assert not first.person.confirmed
    enrollment.remove_member(sess, actor_for("employer"), first.id, end_date=date(2026, 11, 5), today=TODAY)
    # nobody confirmed this number: the unit's own record is reused, with the name now typed
    again, _ = add(sess, actor_for("employer"), name="王六", id_number=other, start_date=date(2026, 11, 10))
    assert again.person_id == first.person_id and again.person.name == "王六"


def test_members_need_an_approved_unit(sess, actor_for, enroll):
    enroll(sess)  # submitted only
    with pytest.raises(ConflictError):
        add(sess, actor_for("employer"))
    with pytest.raises(NotFoundError):
        add(sess, actor_for("employer2"))


@pytest.mark.parametrize("overrides, field, message", [
    ({"wage_base": "4226.62"}, "wage_base", "4,226.63 元至 21,133.14 元"),
    ({"wage_base": "21133.15"}, "wage_base", "4,226.63 元至 21,133.14 元"),
    ({"wage_base": "8000.123"}, "wage_base", "最多保留两位小数"),
    ({"wage_base": "-1"}, "wage_base", "不能为负数"),
    ({"id_number": make_id()[:17] + ("0" if make_id()[17] != "0" else "1")}, "id_number", "校验位不正确"),
    ({"id_number": "3401041990 0307231"[:18]}, "id_number", "空格"),
    ({"id_number": make_id(birth="20991231")}, "id_number", "晚于今天"),
    ({"id_number": make_id(birth="19900231")}, "id_number", "出生日期不存在"),
    ({"start_date": date(2025, 12, 31)}, "start_date", "不能早于本单位参保生效日期"),
    ({"start_date": TODAY + timedelta(days=32)}, "start_date", "不能晚于今天之后31天"),
    ({"start_date": None}, "start_date", "请填写参保日期"),
    ({"phone": "12345"}, "phone", "手机号码格式不正确"),
    ({"insurance_type": "临时工"}, "insurance_type", "参保类型应为"),
    ({"name": ""}, "name", "请填写姓名"),
])
def test_bad_input_is_refused_with_the_reason(sess, actor_for, approved, overrides, field, message):
    with pytest.raises(InvalidFields) as caught:
        add(sess, actor_for("employer"), **overrides)
    assert message in caught.value.errors[field]


def test_wage_base_bounds_are_inclusive(sess, actor_for, approved):
    add(sess, actor_for("employer"), wage_base="4226.63")
    add(sess, actor_for("employer"), wage_base="21133.14", id_number=make_id(seq=233))
    with pytest.raises(InvalidFields) as caught:
        enrollment.change_wage_base(sess, actor_for("employer"), 1, wage_base="30000", today=TODAY)
    assert "4,226.63 元至 21,133.14 元" in caught.value.errors["wage_base"]


def test_single_insurance_rules(sess, actor_for, approved):
    employer = actor_for("employer")
    start = date(2026, 11, 1)
    # man born 1967-06: statutory age 60y8m after the 2025 reform, reached 2028-02-01
    with pytest.raises(InvalidFields) as caught:
        add(sess, employer, id_number=make_id(birth="19670601", seq=111), insurance_type="retired_age")
    message = caught.value.errors["insurance_type"]
    assert "未达到法定退休年龄（男职工，1967年6月出生，法定退休年龄60周岁8个月，2028年2月1日达到）" in message
    # woman born 1969-06: past both original ages (50 and 55, old rule)
    woman, warning = add(sess, employer, id_number=make_id(birth="19690601", seq=222), insurance_type="超龄人员")
    assert woman.insurance_type is InsuranceType.RETIRED_AGE and not woman.age_warning and warning is None
    assert not woman.needs_review
    # woman born 1974-06: past the 50 category (2024-06-01), not the 55 one (56y2m, 2030-08-01)
    unsure, warning = add(sess, employer, id_number=make_id(birth="19740601", seq=224), insurance_type="超龄人员")
    assert unsure.needs_review and not unsure.age_warning
    assert "如原法定退休年龄为55周岁，须到2030年8月1日（56周岁2个月）才达到" in warning
    # man born 1966-06-01 reaches 60y5m exactly on the start date; a day younger is refused
    add(sess, employer, id_number=make_id(birth="19660601", seq=113), insurance_type="retired_age", start_date=start)
    with pytest.raises(InvalidFields) as caught:
        add(sess, employer, id_number=make_id(birth="19660602", seq=121), insurance_type="retired_age",
            start_date=start)
    assert "2026年11月2日达到" in caught.value.errors["insurance_type"]
    # 72: accepted with a warning the clerk sees
    old, warning = add(sess, employer, id_number=make_id(birth="19540101", seq=115), insurance_type="retired_age")
    assert old.age_warning and "超过单险种参保年龄上限70周岁" in warning
    intern, warning = add(sess, employer, id_number=make_id(birth="20050101", seq=117), insurance_type="实习生")
    assert intern.insurance_type is InsuranceType.INTERN and not intern.needs_review and warning is None
    other, warning = add(sess, employer, id_number=make_id(birth="19900101", seq=119), insurance_type="other")
    assert other.needs_review and "审核认定" in warning
    sess.commit()  # audited reads run in a transaction of their own, which ends this one first
    page = enrollment.read_members(sess, actor_for("clerk"), unit_id=approved.id, show="flagged", today=TODAY)
    assert {r.id for r in page.rows} == {old.id, other.id, unsure.id}


def test_lists_are_masked_paged_and_every_view_audited(sess, actor_for, approved):
    employer = actor_for("employer")
    for seq in range(301, 361, 2):
        add(sess, employer, name=f"员工{seq}", id_number=make_id(seq=seq))
    sess.commit()  # audited reads run in a transaction of their own, which ends this one first
    page = enrollment.read_members(sess, employer, today=TODAY)
    assert (page.total, len(page.rows), page.pages) == (30, 30, 1)
    row = page.rows[0]
    assert row.id_number_masked == "340104********" + make_id(seq=301)[-4:]
    assert row.phone_masked == "138****1111"
    assert row.premium.formula == "8,000.00 × 1.30% × 100% = 104.00"  # E4710: 六类 1.3 %
    small = enrollment.read_members(sess, employer, page=2, per_page=20, today=TODAY)
    assert len(small.rows) == 10
    reads = sess.execute(select(AuditEvent).where(AuditEvent.action == "enrollment.members_read_personal_data")
                         .order_by(AuditEvent.seq)).scalars().all()
    assert [e.detail["persons"] for e in reads] == [30, 10]
    assert all(make_id(seq=301) not in str(e.detail) for e in reads)
    view = enrollment.read_own_unit(sess, employer, today=TODAY)
    assert view.members_active == 30 and view.payroll == Decimal("240000.00")
    assert view.premium_formula == "240,000.00 × 1.30% × 100% = 3,120.00"
    overview = {r.code: r for r in enrollment.province_overview(sess, actor_for("provincial"), today=TODAY)}
    assert overview["340100"].members_active == 30 and overview["340100"].premium_due == Decimal("3120.00")


def test_scope_of_member_lists(sess, actor_for, approved):
    add(sess, actor_for("employer"))
    sess.commit()  # audited reads run in a transaction of their own, which ends this one first
    assert enrollment.read_members(sess, actor_for("employer2")) is None
    with pytest.raises(NotFoundError):
        enrollment.read_members(sess, actor_for("clerk-wuhu"), unit_id=approved.id)
    with pytest.raises(NotFoundError):
        enrollment.read_member(sess, actor_for("employer2"), 1)
    with pytest.raises(NotFoundError):
        enrollment.change_wage_base(sess, actor_for("employer2"), 1, wage_base="8000")
    assert enrollment.read_members(sess, actor_for("provincial"), unit_id=approved.id).total == 1
