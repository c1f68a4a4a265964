"""PDFs: the time to render each kind of document the portal issues, as a throughput ratio
against a one-line CJK page rendered the same way (``portal.documents.html_to_pdf``: the shared
stylesheet, the one font, the reused font configuration).

Target (issue 14 point 3): the recognition decision (认定工伤决定书, two pages) ≥ 0.5× the
one-line page. Before, the documents used three faces (serif body, sans headings, sans bold);
each face is copied out of its ~25 MB font collection and subset on every render, and the
decision cost about 5× the one-line page. The row "decision, three faces (before)" renders the
same decision with those faces again, for comparison.

Every document goes through its real template and rendering function with realistic facts
(in-memory rows, no database): the decision (``recognition.service.documents.decision_pdf``),
the application receipt (``receipt.render_receipt``, six files), the 参保证明 (the
certificates template through Flask's environment) and the public benefits estimate
(``benefits.routes.render_estimate_pdf``, what the background worker runs). Rounds are
interleaved; the median of each is reported. Rendering is single-threaded and CPU-bound, so the
figure is the process's CPU time per document (``time.process_time``): other load on the
machine does not inflate it as it does wall-clock time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

TARGET = 0.5
ROUNDS = 15
ONE_LINE = '<html lang="zh-CN"><head><meta charset="utf-8"></head><body><p>工伤保险待遇测算</p></body></html>'
#: the faces the documents used before issue 14: serif body, sans headings and table heads, bold
THREE_FACES = ('<style>body { font-family: "Noto Serif CJK SC"; } h1, h2, h3, th, .office '
               '{ font-family: "Noto Sans CJK SC"; font-weight: bold; }</style></head>')
ESTIMATE = {"date": "2024-05-10", "outcome": "disability", "grade": "5", "own_monthly_wage": "6100",
            "average_monthly_wage": "8000", "ends_employment": "y", "leaving_date": "2025-03-01",
            "care_level": "partial"}


def _case():
    from portal.accounts.models import Organisation, Person
    from portal.recognition.models import (
        ApplicantKind,
        EventKind,
        Outcome,
        RecognitionCase,
    )

    worker = Person(name="张伟", id_number="340104198507121234")
    employer = Organisation(name="合肥某建筑工程有限公司")
    return RecognitionCase(
        city_code="340100", reference="AH3401-2025-000123", outcome=Outcome.RECOGNISED, worker=worker,
        employer=employer, received_on=date(2025, 9, 15), accepted_on=date(2025, 9, 16),
        event_kind=EventKind.ACCIDENT, event_date=date(2025, 9, 10), applicant_kind=ApplicantKind.EMPLOYER,
        late=False,
        decision_reasoning=(
            "经调查核实，张伟于2025年9月10日9时30分在合肥市蜀山区某工地3号楼脚手架上搬运钢管时，被滑落的钢管砸伤"
            "左手，当即送合肥市第一人民医院救治，经诊断为左手食指近节指骨骨折。\n"
            "以上事实有现场证人证言、事故调查笔录、医疗诊断证明、劳动合同及考勤记录等材料为证。"))


def _documents(app):
    """name → a function rendering that document once."""
    from flask import render_template

    from portal.benefits.routes import render_estimate_pdf
    from portal.certificates import service as certificates
    from portal.certificates.models import Certificate
    from portal.documents import html_to_pdf, qr_svg_data_uri
    from portal.recognition.models import Outcome
    from portal.recognition.service import documents, policy, receipt
    from portal.regions import city_name

    case = _case()
    ground = next(g for g in policy.grounds("recognised") if g.code == "r14_1")
    on = date(2025, 10, 9)
    number = "合肥人社工伤认字〔2025〕1号"

    def decision() -> bytes:
        return documents.decision_pdf(case, number=number, ground=ground, on=on)

    def decision_three_faces() -> bytes:
        html = documents.render_html("decision.html", case=case, number=number, on=on, ground=ground,
                                     title=documents.decision_title(Outcome.RECOGNISED),
                                     basis=documents.DECISION_BASIS[Outcome.RECOGNISED],
                                     appeal=documents.appeal_rights(case, on), **documents._parties(case))
        return html_to_pdf(html.replace("</head>", THREE_FACES, 1))

    files = [SimpleNamespace(id=i, kind="other", display_name=f"{name}.pdf", size=183_000 + i * 7_919,
                             sha256=f"{i:02d}" + "9f3b2c4d5e6f7a8b" * 3 + "0123456789abcd")
             for i, name in enumerate(("工伤认定申请表", "劳动合同", "医疗诊断证明书", "事故经过说明",
                                       "证人证言", "身份证复印件"), 1)]
    labels = {f.id: label for f, label in zip(files, ("工伤认定申请表", "劳动关系证明", "医疗诊断证明",
                                                       "事故经过", "证人证言", "身份证明"))}
    window = SimpleNamespace(statement="用人单位应当自事故伤害发生之日起30日内提出工伤认定申请",
                             source="《工伤保险条例》第十七条", late_note="")

    def receipt_pdf() -> bytes:
        return receipt.render_receipt(case=case, applicant="合肥某建筑工程有限公司", files=files, labels=labels,
                                      window=window, issued_at=datetime(2025, 9, 15, 2, 30, tzinfo=timezone.utc),
                                      case_url="https://portal.example.cn/recognition/cases/123",
                                      office="合肥市人力资源和社会保障局")

    facts = {"title": "合肥市滨湖新区安置房项目（二期）", "holder": "安徽某建工集团有限公司", "reference": "XM3401202500017",
             "period_from": "2025-03-01", "period_to": "2026-12-31", "status": "已参保", "covered": True,
             "city_code": "340100", "extra": [["参保方式", "按项目参保"], ["花名册人数", "312 人"]]}
    certificate = Certificate(number="CB2025100912345678", subject_type="project", subject_id=17, facts=facts,
                              seal="8f1c2e3d4a5b6c7d8e9f0a1b2c3d4e5f" * 2,
                              issued_at=datetime(2025, 10, 9, 2, 0, tzinfo=timezone.utc))

    def certificate_pdf() -> bytes:
        code = certificates.check_code(certificate)
        verify_url = f"https://portal.example.cn/verify?n={certificate.number}&c={code}"
        with app.test_request_context("/"):
            html = render_template("certificates/certificate_pdf.html", certificate=certificate, code=code,
                                   verify_url=verify_url, qr=qr_svg_data_uri(verify_url),
                                   facts=certificates.printed_facts(certificate),
                                   source=certificates.provider("project"), city_name=city_name)
            return html_to_pdf(html, base_url="https://portal.example.cn/")

    def estimate_pdf() -> bytes:
        with app.app_context():
            return render_estimate_pdf({"query": urlencode(ESTIMATE), "base_url": "https://portal.example.cn/"})

    def one_line() -> bytes:
        return html_to_pdf(ONE_LINE)

    return {"one-line CJK page (baseline)": one_line, "recognition decision": decision,
            "decision, three faces (before)": decision_three_faces, "application receipt": receipt_pdf,
            "insurance certificate (参保证明)": certificate_pdf, "benefits estimate": estimate_pdf}


def main(argv: list[str] | None = None) -> dict:
    from portal import create_app

    rounds = ROUNDS
    if argv and "--rounds" in argv:
        rounds = int(argv[argv.index("--rounds") + 1])
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"env": "testing", "database_url": f"sqlite:///{Path(tmp) / 'bench.db'}",
                          "log_level": "WARNING", "queue_url": f"sqlite:///{Path(tmp) / 'q.db'}",
                          "audit_checkpoint_sink": f"file:{Path(tmp) / 'checkpoints.jsonl'}"})
        with app.app_context():
            docs = _documents(app)
            pages = {}
            for name, render in docs.items():  # warm up: fonts, stylesheets, templates
                pages[name] = _pages(render())
            times: dict[str, list[float]] = {name: [] for name in docs}
            for _ in range(rounds):
                for name, render in docs.items():
                    started = time.process_time()
                    render()
                    times[name].append(time.process_time() - started)
        app.extensions["portal.database"].dispose()
    base = statistics.median(times["one-line CJK page (baseline)"])
    print(f"pdf: CPU time per document, median of {rounds} interleaved rounds; "
          "ratio = one-line page time / document time (throughput)")
    results = {}
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = base / median
        results[name] = {"ms": median * 1000, "ratio": ratio, "pages": pages[name]}
        note = ""
        if name == "recognition decision":
            note = f"  (target >= {TARGET:.1f}x) {'OK' if ratio >= TARGET else 'MISSED'}"
        print(f"  {name:<34} {median * 1000:7.1f} ms  {pages[name]} page(s)  {ratio:5.2f}x baseline{note}")
    return results


def _pages(data: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


if __name__ == "__main__":
    main()
