"""Filing a recognition application (applicant side, services): each step's validation, the
filing windows at their exact boundaries, late filings, required materials, reuse of held
documents, submission once only, and the receipt PDF."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.errors import InvalidFields
from portal.materials import service as materials
from portal.recognition import service as recognition
from portal.recognition.models import (
    CaseEvent,
    CaseMaterial,
    CaseStatus,
    RecognitionCase,
)
from tests.materials import samples
from tests.recognition import factories
from tests.recognition.filing_fixtures import CAL, EMPLOYER_USCC, fill_draft

#: fixtures shared with the office side's tests
people, files_dir = factories.people, factories.files_dir
D = date.fromisoformat
NOW = datetime(2026, 4, 1, 2, 30, tzinfo=timezone.utc)
URL = "https://portal.example.gov.cn/recognition/cases/1"


def _submit(sess, actor, case, files_dir, today):
    return recognition.submit(sess, actor, case.id, today=today, now=NOW, files_dir=files_dir, case_url=URL,
                              calendar=CAL)


def _fields(exc) -> dict:
    return exc.value.errors


# --- who applies ------------------------------------------------------------------------------


def test_a_worker_filing_for_themself_has_the_worker_step_done_from_their_own_identity(sess, people):
    case = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    assert case.status is CaseStatus.DRAFT
    assert case.applicant_account_id == people.worker.account_id
    assert case.worker_person_id == case.applicant_person_id == people.worker.person_id
    assert "worker" in case.steps


def test_a_relative_must_name_a_close_relation(sess, people):
    with pytest.raises(InvalidFields) as exc:
        recognition.create_draft(sess, people.relative, applicant_kind="relative", relation="friend")
    assert "relation" in _fields(exc)
    case = recognition.create_draft(sess, people.relative, applicant_kind="relative", relation="spouse")
    assert case.relation == "spouse" and case.worker_person_id is None


def test_an_employer_draft_takes_its_own_organisation(sess, people):
    case = recognition.create_draft(sess, people.employer, applicant_kind="worker")
    assert case.applicant_kind.value == "employer"
    assert case.applicant_organisation_id == case.employer_organisation_id == people.employer.organisation_id


def test_staff_cannot_file(sess, people):
    from portal.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        recognition.create_draft(sess, people.officer, applicant_kind="worker")


# --- step 1: the worker ---------------------------------------------------------------------------


def test_worker_step_checks_the_id_number_and_finds_the_confirmed_person(sess, people):
    case = recognition.create_draft(sess, people.relative, applicant_kind="relative", relation="spouse")
    with pytest.raises(InvalidFields) as exc:
        recognition.save_worker(sess, people.relative, case.id, name="张伟", id_number="340104199003071234",
                                today=D("2026-04-01"))
    assert _fields(exc)["id_number"] == "身份证号码校验位不正确"
    # another name is not refused: it stays the relative's own unconfirmed record
    recognition.save_worker(sess, people.relative, case.id, name="张三", id_number="340104199003071235",
                            today=D("2026-04-01"))
    assert case.worker.name == "张三" and not case.worker.confirmed
    assert case.worker_person_id != people.worker.person_id
    recognition.save_worker(sess, people.relative, case.id, name="张伟", id_number=" 340104199003071235 ",
                            today=D("2026-04-01"))
    assert case.worker_person_id == people.worker.person_id and "worker" in case.steps


def test_a_new_worker_is_recorded_as_the_employers_unconfirmed_person(sess, people):
    from tests.enrollment.conftest import make_id

    case = recognition.create_draft(sess, people.employer, applicant_kind="employer")
    new_id = make_id("19880512", 123)
    recognition.save_worker(sess, people.employer, case.id, name="钱进", id_number=new_id, today=D("2026-04-01"))
    assert case.worker.name == "钱进" and case.worker.id_number == new_id
    assert not case.worker.confirmed and case.worker.scope == f"organisation:{people.employer.organisation_id}"


def test_a_relative_cannot_name_themself_as_the_injured_worker(sess, people):
    case = recognition.create_draft(sess, people.relative, applicant_kind="relative", relation="spouse")
    with pytest.raises(InvalidFields) as exc:
        recognition.save_worker(sess, people.relative, case.id, name="李秀英", id_number="340202198506124528",
                                today=D("2026-04-01"))
    assert "本人申请" in _fields(exc)["id_number"]
    with pytest.raises(InvalidFields) as exc:  # their own number under another name, too
        recognition.save_worker(sess, people.relative, case.id, name="李秀", id_number="340202198506124528",
                                today=D("2026-04-01"))
    assert "本人申请" in _fields(exc)["id_number"]


# --- step 2: the employer -----------------------------------------------------------------------


def test_employer_step_validates_uscc_and_county_and_sets_the_city(sess, people):
    case = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    with pytest.raises(InvalidFields) as exc:
        recognition.save_employer(sess, people.worker, case.id, uscc="91340100MA2N0A1B5X", name="某公司",
                                  county_code="320102")
    errors = _fields(exc)
    assert errors["uscc"] == "统一社会信用代码校验位不正确"
    assert "不是安徽省的行政区划代码" in errors["county_code"]
    with pytest.raises(InvalidFields) as exc:
        recognition.save_employer(sess, people.worker, case.id, uscc=EMPLOYER_USCC, name="安徽皖建建设工程有限公司",
                                  county_code="340100")
    assert "不是地市的代码" in _fields(exc)["county_code"]
    recognition.save_employer(sess, people.worker, case.id, uscc=EMPLOYER_USCC.lower(), name="安徽皖建建设工程有限公司",
                              county_code="340104")
    assert case.employer_organisation_id == people.employer.organisation_id
    assert (case.county_code, case.city_code) == ("340104", "340100")
    assert "employer" in case.steps


def test_an_unknown_employer_is_recorded_and_a_wuhu_county_sends_the_case_to_wuhu(sess, people):
    from tests.enrollment.conftest import make_uscc

    case = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    code = make_uscc(77)
    recognition.save_employer(sess, people.worker, case.id, uscc=code, name="芜湖某某物流有限公司", county_code="340202")
    assert case.employer.uscc == code and case.city_code == "340200" and case.unit_id is None


def test_an_enrolled_employer_links_its_unit_and_its_county(sess, people):
    from portal.enrollment import service as units
    from tests.enrollment.conftest import UNIT_FIELDS

    unit = units.save_unit(sess, people.employer, **{**UNIT_FIELDS, "county_code": "340111"})
    case = recognition.create_draft(sess, people.employer, applicant_kind="employer")
    assert "employer" in case.steps and case.unit_id == unit.id and case.county_code == "340111"
    worker_case = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    recognition.save_employer(sess, people.worker, worker_case.id, uscc=EMPLOYER_USCC, name="安徽皖建建设工程有限公司",
                              county_code="")
    assert worker_case.unit_id == unit.id and worker_case.county_code == "340111"


# --- step 3: the event --------------------------------------------------------------------------


def _event(sess, actor, case, **overrides):
    fields = dict(event_kind="accident", event_date=D("2026-03-20"), event_time="09:30", event_place="工地",
                  event_account="被钢管砸伤", injury="骨折", died=False, death_date=None, late_reason=None,
                  today=D("2026-04-01"), calendar=CAL)
    fields.update(overrides)
    return recognition.save_event(sess, actor, case.id, **fields)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"event_date": D("2026-04-02")}, "event_date", "日期不能晚于今天"),
    ({"event_date": D("1995-12-31")}, "event_date", "日期不能早于1996年1月1日"),
    ({"event_date": None}, "event_date", "请填写日期"),
    ({"event_kind": "illness"}, "event_kind", "请选择伤害类别"),
    ({"event_time": "25:00"}, "event_time", "时间格式不正确"),
    ({"injury": " "}, "injury", "请填写受伤部位"),
    ({"event_account": "x" * 2001}, "event_account", "不能超过2000个字"),
])
def test_event_step_refuses_bad_input_with_field_messages(sess, people, overrides, field, message):
    case = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    with pytest.raises(InvalidFields) as exc:
        _event(sess, people.worker, case, **overrides)
    assert message in _fields(exc)[field]
    assert "event" not in case.steps


def test_a_death_is_for_relatives_and_employers_and_not_before_the_event(sess, people):
    own = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    with pytest.raises(InvalidFields) as exc:
        _event(sess, people.worker, own, died=True, death_date=D("2026-03-21"))
    assert "近亲属或用人单位申请" in _fields(exc)["died"]
    case = recognition.create_draft(sess, people.relative, applicant_kind="relative", relation="spouse")
    with pytest.raises(InvalidFields) as exc:
        _event(sess, people.relative, case, died=True, death_date=D("2026-03-19"))
    assert "不能早于事故伤害" in _fields(exc)["death_date"]
    with pytest.raises(InvalidFields) as exc:
        _event(sess, people.relative, case, died=True, death_date=None)
    assert _fields(exc)["death_date"] == "请填写死亡日期"
    _event(sess, people.relative, case, died=True, death_date=D("2026-03-21"))
    assert case.died and case.death_date == D("2026-03-21")
    kinds = [r.kind for r in recognition.required_rules(case)]
    assert "death_certificate" in kinds and "kinship_proof" in kinds


def test_injury_text_is_encrypted_at_rest(sess, people):
    case = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    _event(sess, people.worker, case, injury="右手食指骨折")
    sess.flush()
    from sqlalchemy import text

    raw = sess.execute(text("SELECT injury FROM recognition_case WHERE id = :id"), {"id": case.id}).scalar_one()
    assert "食指" not in str(raw)


# --- filing windows ------------------------------------------------------------------------------


@pytest.mark.parametrize(("event", "today", "late"), [
    ("2026-03-02", "2026-04-01", False),  # day 30: a Wednesday, in time
    ("2026-03-02", "2026-04-02", True),   # day 31: late
    ("2025-09-05", "2025-10-09", False),  # day 30 is Sunday 10-05 in the National Day holiday → 10-09
    ("2025-09-05", "2025-10-10", True),
])
def test_employer_window_is_30_days_with_the_holiday_shift(event, today, late):
    window = recognition.filing_window("employer", "accident", D(event), calendar=CAL, today=D(today))
    assert window.late is late
    assert window.statement.startswith("用人单位应当自事故伤害发生之日起30日内提出工伤认定申请")
    assert "《工伤保险条例》第十七条第一款" in window.source


def test_the_holiday_shift_is_explained():
    window = recognition.filing_window("employer", "accident", D("2025-09-05"), calendar=CAL, today=D("2025-09-10"))
    assert window.due_date == D("2025-10-09") and window.nominal_due == D("2025-10-05")
    assert "至2025年10月9日" in window.statement
    assert "顺延" in window.explanation


@pytest.mark.parametrize(("today", "late"), [("2026-03-10", False), ("2026-03-11", True)])
def test_worker_window_is_one_year(today, late):
    window = recognition.filing_window("worker", "disease", D("2025-03-10"), calendar=CAL, today=D(today))
    assert window.late is late
    assert window.statement == "职工或者其近亲属应当自被诊断、鉴定为职业病之日起1年内提出工伤认定申请（至2026年3月10日）"


def test_a_window_ending_in_an_unpublished_year_is_provisional():
    window = recognition.filing_window("worker", "accident", D("2026-06-01"), calendar=CAL, today=D("2026-06-02"))
    assert window.late is False and window.due_date == D("2027-06-01")
    assert "2027年6月1日" in window.statement and window.provisional_reason.startswith("2027年放假安排尚未公布")


def test_a_window_ending_in_a_year_no_source_covers_is_not_late_before_its_nominal_end():
    window = recognition.filing_window("worker", "accident", D("2100-06-01"), calendar=CAL, today=D("2100-06-02"))
    assert window.late is False and window.due_date is None
    assert "2101年6月1日" in window.statement


def test_a_late_worker_needs_a_reason_for_the_lost_time(sess, people):
    case = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    with pytest.raises(InvalidFields) as exc:
        _event(sess, people.worker, case, event_date=D("2025-03-10"), today=D("2026-03-11"))
    from portal.clocks.service import statutory_period

    assert f"超过{statutory_period('worker_filing')}申请时限" in _fields(exc)["late_reason"]
    window = _event(sess, people.worker, case, event_date=D("2025-03-10"), today=D("2026-03-11"),
                    late_reason="2025年3月至2026年2月住院治疗，无法申请。")
    assert window.late and case.late and case.late_reason.startswith("2025年3月")


def test_a_late_employer_may_file_and_the_lateness_is_recorded(sess, people, files_dir):
    case = fill_draft(sess, people.employer, kind="employer", files_dir=files_dir, today=D("2026-04-02"),
                      event_date=D("2026-03-02"))
    assert case.late
    _submit(sess, people.employer, case, files_dir, D("2026-04-02"))
    event = sess.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)).scalar_one()
    assert "用人单位逾期提出申请" in event.note and "第十七条第四款" in event.note
    row = sess.execute(select(AuditEvent).where(AuditEvent.action == "recognition.submit",
                                                AuditEvent.object_id == str(case.id))).scalar_one()
    assert row.detail["late"] is True


def test_the_window_is_checked_again_on_the_day_of_submission(sess, people, files_dir):
    case = fill_draft(sess, people.employer, kind="employer", files_dir=files_dir, today=D("2026-04-01"),
                      event_date=D("2026-03-02"))
    assert not case.late
    _submit(sess, people.employer, case, files_dir, D("2026-04-02"))
    assert case.late


def test_a_worker_late_on_the_day_of_submission_without_a_reason_is_stopped(sess, people, files_dir):
    case = fill_draft(sess, people.worker, files_dir=files_dir, today=D("2026-03-10"), event_date=D("2025-03-10"))
    assert not case.late
    with pytest.raises(recognition.IncompleteFiling) as exc:
        _submit(sess, people.worker, case, files_dir, D("2026-03-11"))
    assert any("耽误的原因" in p for p in exc.value.problems)
    assert case.status is CaseStatus.DRAFT


# --- materials ------------------------------------------------------------------------------------


def test_missing_steps_and_materials_are_listed(sess, people, files_dir):
    case = recognition.create_draft(sess, people.worker, applicant_kind="worker")
    with pytest.raises(recognition.IncompleteFiling) as exc:
        _submit(sess, people.worker, case, files_dir, D("2026-04-01"))
    problems = exc.value.problems
    assert "请填写“用人单位”" in problems and "请填写“事故伤害或职业病情况”" in problems
    case = fill_draft(sess, people.worker, files_dir=files_dir, today=D("2026-04-01"), materials=False)
    recognition.add_material(sess, people.worker, case.id, kind="labour_relation", data=samples.pdf(),
                             filename="劳动合同.pdf", files_dir=files_dir)
    with pytest.raises(recognition.IncompleteFiling) as exc:
        _submit(sess, people.worker, case, files_dir, D("2026-04-01"))
    assert exc.value.problems == ["请上传“医疗诊断证明”", "请上传“受伤害职工的身份证明”"]
    assert sess.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)) == 0


def test_an_upload_of_the_wrong_type_is_refused_in_chinese(sess, people, files_dir):
    from portal.errors import UserInputError

    case = fill_draft(sess, people.worker, files_dir=files_dir, today=D("2026-04-01"), materials=False)
    with pytest.raises(UserInputError) as exc:
        recognition.add_material(sess, people.worker, case.id, kind="id_card", data=b"GIF89a....", filename="x.gif",
                                 files_dir=files_dir)
    assert "PDF" in exc.value.message
    with pytest.raises(InvalidFields):
        recognition.add_material(sess, people.worker, case.id, kind="receipt", data=samples.png(), filename="x.png",
                                 files_dir=files_dir)


def test_documents_held_for_the_worker_are_offered_and_reused_without_a_new_upload(sess, people, files_dir):
    held = materials.store_upload(sess, people.worker, data=samples.png(), filename="身份证.png", kind="id_card",
                                  person_id=people.worker.person_id, files_dir=files_dir)
    case = fill_draft(sess, people.worker, files_dir=files_dir, today=D("2026-04-01"), materials=False)
    slots = {s.kind: s for s in recognition.material_slots(sess, people.worker, case)}
    assert [f.id for f in slots["id_card"].reusable] == [held.id]
    before = sess.scalar(select(func.count()).select_from(materials.StoredFile))
    material = recognition.reuse_material(sess, people.worker, case.id, stored_file_id=held.id)
    assert material.reused and material.stored_file_id == held.id and material.kind == "id_card"
    assert sess.scalar(select(func.count()).select_from(materials.StoredFile)) == before
    slots = {s.kind: s for s in recognition.material_slots(sess, people.worker, case)}
    assert slots["id_card"].done and not slots["id_card"].reusable
    # someone who may not read the document (a relative filing for the same worker) is neither
    # offered it nor may take it
    other = recognition.create_draft(sess, people.relative, applicant_kind="relative", relation="spouse")
    recognition.save_worker(sess, people.relative, other.id, name="张伟", id_number="340104199003071235",
                            today=D("2026-04-01"))
    assert all(not s.reusable for s in recognition.material_slots(sess, people.relative, other))
    from portal.errors import NotFoundError

    with pytest.raises(NotFoundError):
        recognition.reuse_material(sess, people.relative, other.id, stored_file_id=held.id)


def test_removing_a_file_reopens_the_materials_step(sess, people, files_dir):
    case = fill_draft(sess, people.worker, files_dir=files_dir, today=D("2026-04-01"))
    assert "materials" in case.steps
    material = sess.execute(select(CaseMaterial).where(CaseMaterial.case_id == case.id)).scalars().first()
    recognition.remove_material(sess, people.worker, case.id, material.id)
    assert "materials" not in case.steps


# --- submission -----------------------------------------------------------------------------------


def test_submission_gives_a_reference_a_receipt_and_one_event(sess, people, files_dir):
    case = fill_draft(sess, people.worker, files_dir=files_dir, today=D("2026-04-01"))
    _submit(sess, people.worker, case, files_dir, D("2026-04-01"))
    assert case.status is CaseStatus.SUBMITTED
    assert case.reference == f"RD-340100-2026-{case.id:06d}"
    assert case.received_on == D("2026-04-01") and case.submitted_at == NOW
    assert case.receipt_file_id is not None
    with pytest.raises(recognition.AlreadySubmitted):
        _submit(sess, people.worker, case, files_dir, D("2026-04-01"))
    assert sess.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)) == 1
    with pytest.raises(recognition.AlreadySubmitted):
        recognition.save_event(sess, people.worker, case.id, event_kind="accident", event_date=D("2026-04-01"),
                               event_time=None, event_place="x", event_account="x", injury="x", today=D("2026-04-01"),
                               calendar=CAL)


def test_only_the_applicants_account_submits(sess, people, files_dir):
    case = fill_draft(sess, people.relative, kind="relative", files_dir=files_dir, today=D("2026-04-01"))
    from portal.recognition.service import CaseNotFound

    with pytest.raises(CaseNotFound):
        _submit(sess, people.worker, case, files_dir, D("2026-04-01"))


def test_the_receipt_lists_every_file_with_its_sha256_in_cjk_fonts(sess, people, files_dir):
    case = fill_draft(sess, people.relative, kind="relative", files_dir=files_dir, today=D("2026-04-01"),
                      died=True, death_date=D("2026-04-01"))
    _submit(sess, people.relative, case, files_dir, D("2026-04-01"))
    stored = sess.get(materials.StoredFile, case.receipt_file_id)
    assert stored.kind == "receipt" and not stored.medical
    data = materials.read_content(sess, people.relative, stored, files_dir=files_dir)
    reader = PdfReader(io.BytesIO(data))
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert case.reference in text
    assert "工伤认定申请回执" in text and "李秀英" in text and "340104********1235" in text
    assert "本申请在时限内提出" in text
    files = sess.execute(select(materials.StoredFile).join(CaseMaterial, CaseMaterial.stored_file_id == materials.StoredFile.id)
                         .where(CaseMaterial.case_id == case.id)).scalars().all()
    assert len(files) == 5  # labour relation, medical, ID, death certificate, kinship proof
    for f in files:
        assert f.sha256 in text
    assert "右手食指" not in text  # no medical text on the receipt
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in f and "SC" in f for f in fonts), fonts


def test_a_draft_can_be_discarded_but_not_a_submitted_case(sess, people, files_dir):
    case = fill_draft(sess, people.worker, files_dir=files_dir, today=D("2026-04-01"), materials=False)
    recognition.discard_draft(sess, people.worker, case.id)
    assert sess.get(RecognitionCase, case.id) is None
    case = fill_draft(sess, people.worker, files_dir=files_dir, today=D("2026-04-01"))
    _submit(sess, people.worker, case, files_dir, D("2026-04-01"))
    with pytest.raises(recognition.AlreadySubmitted):
        recognition.discard_draft(sess, people.worker, case.id)
