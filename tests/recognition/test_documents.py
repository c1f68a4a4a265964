"""The office's documents as PDFs (both databases): what each says, read back with pypdf, and that
a CJK SC font is embedded (WeasyPrint renders Chinese as boxes without one, silently)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.materials import service as materials
from portal.materials.models import StoredFile
from portal.recognition import service as recognition
from portal.recognition.models import CaseMaterial
from tests.recognition import factories
from tests.recognition.factories import accepted_case, submitted_case

#: fixtures shared by the recognition tests
people, files_dir = factories.people, factories.files_dir


def _read(sess, actor, file_id, files_dir) -> tuple[str, set[str]]:
    stored = sess.get(StoredFile, file_id)
    data = materials.read_content(sess, actor, stored, files_dir=files_dir)
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return re.sub(r"\s+", "", text), fonts


def _has_cjk_sc(fonts: set[str]) -> bool:
    return any("CJK" in f and "SC" in f for f in fonts)


def test_the_decision_states_number_ground_basis_and_rights_of_appeal(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir, applicant="relative", received_on=date(2025, 9, 15))
    recognition.decide_case(sess, people.officer, case.id, outcome="recognised", ground_code="r14_1",
                            reasoning="张伟在工地搬运钢管时被砸伤左手，有监控录像和同事证言证实。",
                            files_dir=files_dir, on=date(2025, 10, 9))
    text, fonts = _read(sess, people.officer, case.decision_file_id, files_dir)
    assert _has_cjk_sc(fonts), fonts
    assert "认定工伤决定书" in text and "合肥人社工伤认字〔2025〕1号" in text
    assert "《工伤保险条例》第十四条第（一）项" in text and "在工作时间和工作场所内，因工作原因受到事故伤害的" in text
    assert "第二十条" in text and "有监控录像和同事证言证实" in text
    # rights of appeal, periods from the deadline rules, authorities named generically
    assert "60日内向合肥市人民政府申请行政复议" in text and "《行政复议法》" in text
    assert "6个月内依法向人民法院提起行政诉讼" in text and "《行政诉讼法》第四十六条" in text
    assert "合肥市人力资源和社会保障局（印）" in text and "2025年10月9日" in text
    # worker identified by a masked ID number; the applicant is the relative (配偶)
    assert "340104********1235" in text and "340104199003071235" not in text
    assert "李秀英" in text and "配偶" in text
    # the parties may open it (the relative through the case; the employer: not medical)
    for reader in (people.relative, people.worker, people.employer):
        assert _read(sess, reader, case.decision_file_id, files_dir)[0] == text


@pytest.mark.parametrize(("outcome", "ground", "title", "article"), [
    ("deemed", "r15_2", "视同工伤决定书", "第十五条第一款第（二）项"),
    ("not_recognised", "r16_2", "不予认定工伤决定书", "第十六条第（二）项"),
])
def test_the_title_follows_the_outcome(sess, people, files_dir, outcome, ground, title, article):
    case = accepted_case(sess, people, files_dir)
    recognition.decide_case(sess, people.officer, case.id, outcome=outcome, ground_code=ground,
                            reasoning="经调查核实的事实。", files_dir=files_dir, on=date(2025, 9, 30))
    text, _fonts = _read(sess, people.officer, case.decision_file_id, files_dir)
    assert text.count(title) >= 1 and article in text


def test_the_acceptance_decision_states_the_limit_suspension_and_burden_of_proof(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir, received_on=date(2025, 9, 15), accepted_on=date(2025, 9, 16))
    text, fonts = _read(sess, people.employer, case.acceptance_file_id, files_dir)
    assert _has_cjk_sc(fonts)
    assert "工伤认定申请受理决定书" in text and "合肥人社工伤受字〔2025〕1号" in text
    assert "2025年9月15日" in text and "2025年9月16日" in text
    assert "60日内作出工伤认定决定" in text and "2025年11月17日" in text
    assert "第二十条第三款" in text and "中止" in text
    assert "第十九条第二款" in text and "承担举证责任" in text


def test_the_simplified_acceptance_says_15_days(sess, people, files_dir):
    case = accepted_case(sess, people, files_dir, received_on=date(2025, 9, 26), simplified=True)
    text, _fonts = _read(sess, people.officer, case.acceptance_file_id, files_dir)
    assert "适用简易程序" in text and "15日内作出工伤认定决定" in text and "2025年10月11日" in text


def test_the_refusal_states_reasons_and_appeal(sess, people, files_dir):
    case = submitted_case(sess, people, received_on=date(2025, 9, 15))
    recognition.refuse_case(sess, people.officer, case.id, reasons="超过申请时限且无正当理由",
                            files_dir=files_dir, on=date(2025, 9, 20))
    text, _fonts = _read(sess, people.employer, case.acceptance_file_id, files_dir)
    assert "不予受理决定书" in text and "合肥人社工伤不受字〔2025〕1号" in text
    assert "超过申请时限且无正当理由" in text and "60日内" in text and "6个月内" in text


def test_the_supplement_and_suspension_notices(sess, people, files_dir):
    case = submitted_case(sess, people, received_on=date(2025, 9, 15))
    recognition.request_supplement(sess, people.officer, case.id, files_dir=files_dir, on=date(2025, 9, 18), items=[
        recognition.SupplementRequest("labour_relation", "请提供劳动合同"),
        recognition.SupplementRequest("other", "请提供事故现场照片")])
    notice = sess.execute(select(CaseMaterial).where(CaseMaterial.case_id == case.id,
                                                     CaseMaterial.kind == recognition.SUPPLEMENT_NOTICE)).scalar_one()
    text, fonts = _read(sess, people.employer, notice.stored_file_id, files_dir)
    assert _has_cjk_sc(fonts)
    assert "补正材料通知书" in text and "合肥人社工伤补字〔2025〕1号" in text and "一次性书面告知" in text
    assert "请提供劳动合同" in text and "请提供事故现场照片" in text and "《工伤认定办法》第八条" in text
    assert "2025年9月18日" in text and "2025年9月30日" in text and "停止计算" in text

    other = accepted_case(sess, people, files_dir, received_on=date(2025, 9, 15))
    recognition.suspend_case(sess, people.officer, other.id, reason="劳动关系争议待仲裁裁决", files_dir=files_dir,
                             on=date(2025, 10, 10))
    notice = sess.execute(select(CaseMaterial).where(CaseMaterial.case_id == other.id,
                                                     CaseMaterial.kind == recognition.SUSPENSION_NOTICE)).scalar_one()
    text, _fonts = _read(sess, people.worker, notice.stored_file_id, files_dir)
    assert "中止通知书" in text and "合肥人社工伤中字〔2025〕1号" in text
    assert "劳动关系争议待仲裁裁决" in text and "2025年10月10日" in text and "不计入" in text
