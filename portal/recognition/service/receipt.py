"""申请回执 (receipt of a recognition application): a PDF the applicant keeps as proof of what
was filed and when.

It states the reference number, the time of receipt (Beijing time), the applicant, the injured
worker (masked ID number), the employer and the competent office, every file with its kind,
name, size and full SHA-256 (so anyone can check a copy against it), the filing-window statement
with a late flag, and a QR code to the case page. No medical text. Rendered from
``templates/recognition/receipt_pdf.html`` with Noto CJK SC fonts (``lang="zh-CN"``).

Plain Python: its own Jinja environment over the portal's templates, no Flask.
"""

from __future__ import annotations

from datetime import datetime

from portal.documents import html_to_pdf, qr_svg_data_uri
from portal.localtime import to_local
from portal.recognition.service.documents import document_environment
from portal.security.masking import mask_id_number


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def hash_groups(digest: str) -> str:
    """A hex digest in groups of eight, as people read and compare it (the PDF then breaks lines
    between groups; breaking inside a 64-character word letter by letter cost about a quarter
    of the receipt's rendering time)."""
    return " ".join(digest[i:i + 8] for i in range(0, len(digest), 8))


def render_receipt(*, case, applicant: str, files, labels: dict[int, str], window, issued_at: datetime,
                   case_url: str, office: str) -> bytes:
    """The receipt PDF of a case being submitted (its reference already given); ``labels`` names
    each file's kind of material (by stored file id)."""
    rows = [{"kind": labels.get(f.id, f.kind), "name": f.display_name, "size": file_size(f.size),
             "sha256": hash_groups(f.sha256)} for f in files]
    worker = case.worker
    html = document_environment().get_template("recognition/receipt_pdf.html").render(
        case=case, applicant=applicant, worker_name=worker.name if worker else "",
        worker_id=mask_id_number(worker.id_number) if worker else "",
        employer=case.employer.name if case.employer else "", office=office, files=rows, window=window,
        issued=to_local(issued_at).strftime("%Y年%m月%d日 %H:%M:%S"), case_url=case_url,
        qr=qr_svg_data_uri(case_url))
    return html_to_pdf(html)
