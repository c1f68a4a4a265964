"""Issue 13 point 5: the applicant is described with the chosen relation everywhere (近亲属（配偶）);
the decision names the applicant once and keeps the office's seal line and the date on one page;
issued documents carry the issuing office; after a decision the worker sees the next steps."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader

from portal.materials import service as materials
from portal.materials.models import StoredFile
from portal.recognition import service as recognition
from portal.recognition.models import Outcome
from portal.recognition.service import documents
from portal.regions import province
from tests.recognition import factories
from tests.recognition.factories import HEFEI, accepted_case, submitted_case

people, files_dir = factories.people, factories.files_dir
HEFEI_OFFICE = "合肥市人力资源和社会保障局"


def _pages(data: bytes) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def _stored_pages(sess, actor, file_id, files_dir) -> list[str]:
    stored = sess.get(StoredFile, file_id)
    return _pages(materials.read_content(sess, actor, stored, files_dir=files_dir))


def test_the_role_names_the_relation(sess, people):
    relative = submitted_case(sess, people, applicant="relative")
    assert recognition.applicant_role(relative) == "近亲属（配偶）"
    assert recognition.applicant_role(submitted_case(sess, people, applicant="worker")) == "职工本人"
    assert recognition.applicant_role(submitted_case(sess, people, applicant="employer")) == "用人单位"
    assert recognition.applicant_name(sess, relative).endswith("，近亲属（配偶）")


def test_the_decision_names_the_applicant_once_with_the_relation(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir, applicant="relative", received_on=date(2025, 9, 15))
    recognition.decide_case(sess, people.officer, case.id, outcome="recognised", ground_code="r14_1",
                            reasoning="张伟在工地搬运钢管时被砸伤左手。", files_dir=files_dir, on=date(2025, 10, 9))
    text = "".join(_stored_pages(sess, people.officer, case.decision_file_id, files_dir))
    applicant = case.applicant_person.name
    assert text.count(applicant) == 1, text
    assert f"{applicant}，近亲属（配偶）" in text and "申请人于2025年9月15日提出" in text
    assert text.startswith(HEFEI_OFFICE)  # the issuing office heads the document


def test_the_seal_line_and_the_date_stay_on_one_page(sess, people, files_dir):
    """Whatever the length of the facts, the office's seal line and the decision's date are
    printed on the same page (the closing block may not break)."""
    case = accepted_case(sess, people, files_dir, received_on=date(2025, 9, 15))
    ground = recognition.ground("r14_1")
    case.outcome = Outcome.RECOGNISED
    seal_pages = set()
    for lines in range(14, 40, 2):
        case.decision_reasoning = "\n".join(f"第{n}项：经调查核实的事实。" for n in range(1, lines + 1))
        pages = _pages(documents.decision_pdf(case, number="合肥人社工伤认字〔2025〕1号", ground=ground,
                                              on=date(2025, 10, 9)))
        seal = [i for i, page in enumerate(pages) if f"{HEFEI_OFFICE}（印）" in page]
        assert len(seal) == 1, (lines, seal)
        assert "2025年10月9日" in pages[seal[0]], (lines, pages[seal[0]][-80:])
        seal_pages.add((seal[0], len(pages)))
    # the sweep crossed a page boundary: the block moved to the next page at least once
    assert any(index > 0 for index, _count in seal_pages), seal_pages


def test_the_receipt_and_every_letter_carry_the_issuing_office(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir, applicant="relative")
    pages = _stored_pages(sess, people.officer, case.acceptance_file_id, files_dir)
    assert pages[0].startswith(HEFEI_OFFICE) and "近亲属（配偶）" in pages[0]


def test_the_receipt_names_the_office_and_the_relation(app, tmp_path, actor_for):
    from portal.recognition.service import receipt

    with app.extensions["portal.database"].write_transaction() as sess:
        who = _signed_in(actor_for)
        case = submitted_case(sess, who, applicant="relative")
        pdf = receipt.render_receipt(case=case, applicant=recognition.applicant_name(sess, case), files=[],
                                     labels={}, window=_Window(), issued_at=datetime(2025, 9, 15, 2, tzinfo=timezone.utc),
                                     case_url="http://localhost/recognition/cases/1",
                                     office=recognition.office_name(case.city_code))
    text = "".join(_pages(pdf))
    assert text.startswith(HEFEI_OFFICE) and "近亲属（配偶）" in text


def _signed_in(actor_for) -> factories.People:
    return factories.People(worker=actor_for("worker"), relative=actor_for("relative"),
                            employer=actor_for("employer"), employer2=actor_for("employer2"),
                            officer=actor_for("officer"), province=actor_for("province"),
                            clerk_wuhu=actor_for("clerk-wuhu"))


class _Window:
    statement = "职工或者其近亲属应当自事故伤害发生之日起1年内提出"
    source = "《工伤保险条例》第十七条"
    late_note = ""


# --- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def relative_client(app, login_as):
    client = app.test_client()
    login_as(client, "relative")
    return client


def test_the_task_list_says_which_relative_applies(app, relative_client, csrf_token):
    response = relative_client.post("/recognition/new", data={"csrf_token": csrf_token(relative_client),
                                                              "applicant_kind": "relative", "relation": "spouse"})
    assert response.status_code == 303
    html = relative_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "申请人：近亲属（配偶）" in html and "（近亲属）（近亲属）" not in html


def test_after_a_recognition_the_worker_sees_the_next_steps(app, actor_for, login_as, tmp_path):
    signed_in = _signed_in(actor_for)
    files = tmp_path / "files"
    files.mkdir()
    with app.extensions["portal.database"].write_transaction() as sess:
        case = accepted_case(sess, signed_in, files, applicant="worker")
        recognition.decide_case(sess, signed_in.officer, case.id, outcome="recognised", ground_code="r14_1",
                                reasoning="经调查核实的事实。", files_dir=files, on=date(2025, 9, 20))
        recognition.serve_case(sess, signed_in.officer, case.id, on=date(2025, 9, 21))
        case_id = case.id
    client = app.test_client()
    login_as(client, "worker")
    html = client.get(f"/recognition/cases/{case_id}").get_data(as_text=True)
    assert "下一步" in html
    assert 'href="/services/work-ability-appraisal"' in html and "劳动能力鉴定" in html
    assert 'href="/services/benefit-claim"' in html and f'href="/benefits/estimate?case={case_id}"' in html


def test_no_next_steps_before_the_decision_is_served(app, actor_for, login_as, tmp_path):
    signed_in = _signed_in(actor_for)
    with app.extensions["portal.database"].write_transaction() as sess:
        case_id = submitted_case(sess, signed_in, applicant="worker").id
    client = app.test_client()
    login_as(client, "worker")
    html = client.get(f"/recognition/cases/{case_id}").get_data(as_text=True)
    assert "next-steps-title" not in html


def test_the_office_is_named_from_the_province_configuration():
    assert province().office("recognition_office", HEFEI) == HEFEI_OFFICE
