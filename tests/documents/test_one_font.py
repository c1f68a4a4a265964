"""Issue 14 point 3: every PDF is set in one CJK face (portal.documents), so the fonts it embeds
and subsets on each render are one, not three; a CJK SC one (Chinese renders as boxes without).
The certificate and poster tests check their own PDFs the same way."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from portal.documents import FONT_FAMILY, STYLESHEET, html_to_pdf
from portal.materials import service as materials
from portal.materials.models import StoredFile
from portal.recognition import service as recognition
from tests.recognition import factories
from tests.recognition.factories import decided_case, submitted_case
from tests.renders.helpers import assert_one_cjk_sc_font, embedded_fonts

people, files_dir = factories.people, factories.files_dir
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _pdf_templates() -> list[Path]:
    """Every template that extends the PDF layout, directly or through another one."""
    extends = re.compile(r'{%-?\s*extends\s+"([^"]+)"')
    parents = {}
    for path in TEMPLATES.rglob("*.html"):
        found = extends.search(path.read_text(encoding="utf-8"))
        parents[path.relative_to(TEMPLATES).as_posix()] = found.group(1) if found else None

    def is_pdf(name: str | None) -> bool:
        while name is not None:
            if name == "_pdf.html":
                return True
            name = parents.get(name)
        return False

    return [TEMPLATES / name for name in parents if is_pdf(name)]


def test_only_the_shared_stylesheet_names_a_font_and_no_document_asks_for_bold():
    templates = _pdf_templates()
    assert len(templates) >= 10  # the letters, the decision, receipt, certificate, poster, forms, estimate
    offenders = []
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for rule in ("font-family", "monospace"):
            if rule in text:
                offenders.append(f"{path.relative_to(TEMPLATES)}: {rule}")
        if re.search(r"font-weight:\s*(bold|[6-9]00)", text) or re.search(r"<b>", text):
            offenders.append(f"{path.relative_to(TEMPLATES)}: bold")
    assert offenders == []
    families = set(re.findall(r'font-family:\s*"([^"]+)"', STYLESHEET.read_text(encoding="utf-8")))
    assert families == {FONT_FAMILY}


def test_bold_and_headings_in_any_document_stay_in_the_one_face():
    pdf = html_to_pdf('<html lang="zh-CN"><body><h1>认定工伤决定书</h1><h2>救济途径</h2><table><tr><th>申请人</th>'
                      '<td><strong>张伟</strong> <b>ABC123</b></td></tr></table></body></html>')
    assert embedded_fonts(pdf) and all("Noto-Serif-CJK-SC" in f for f in embedded_fonts(pdf))
    assert_one_cjk_sc_font(pdf)


def _stored(sess, actor, file_id, files_dir) -> bytes:
    return materials.read_content(sess, actor, sess.get(StoredFile, file_id), files_dir=files_dir)


def test_the_office_letters_and_the_decision_embed_one_font(sess, people, files_dir):
    case = decided_case(sess, people, files_dir, on=date(2025, 9, 20))
    for file_id in (case.acceptance_file_id, case.decision_file_id):
        assert_one_cjk_sc_font(_stored(sess, people.officer, file_id, files_dir))


def test_the_receipt_embeds_one_font(sess, people):
    from portal.recognition.service import receipt

    case = submitted_case(sess, people)

    class Window:
        statement, source, late_note = "用人单位应当自事故伤害发生之日起30日内提出", "《工伤保险条例》第十七条", ""

    pdf = receipt.render_receipt(case=case, applicant=recognition.applicant_name(sess, case), files=[], labels={},
                                 window=Window(), issued_at=datetime(2025, 9, 15, 2, tzinfo=timezone.utc),
                                 case_url="http://localhost/recognition/cases/1",
                                 office=recognition.office_name(case.city_code))
    assert_one_cjk_sc_font(pdf)


@pytest.mark.parametrize("path", ["/services/injury-recognition/forms/injury-recognition-application.pdf"])
def test_a_blank_form_embeds_one_font(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert_one_cjk_sc_font(response.data)
