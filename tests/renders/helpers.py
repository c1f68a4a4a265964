"""Follow a document rendered by the background worker, as a person would: the request is
answered with the progress page (303, 正在生成…); the worker renders it (here: the task run in
the test's process, as ``portal worker`` would); the page then shows the download link."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from portal.renders.models import DocumentJob, RenderStatus


def run_worker(app) -> int:
    """Run the render task of every queued job (what ``portal worker`` does); how many ran."""
    from portal.renders.tasks import render_document

    with app.extensions["portal.database"].read_session() as sess:
        queued = list(sess.execute(select(DocumentJob.id).where(DocumentJob.status == RenderStatus.QUEUED)
                                   .order_by(DocumentJob.id)).scalars())
    for job_id in queued:
        render_document.call_local(job_id)
    return len(queued)


def fetch_rendered(client, url: str, **kwargs):
    """The PDF response for ``url`` whether it was served at once (200) or rendered in the
    background (303 → progress page → worker → download)."""
    first = client.get(url, **kwargs)
    if first.status_code != 303:
        return first
    location = first.headers["Location"]
    assert "/renders/" in location, location
    assert "正在生成" in client.get(location, **kwargs).get_data(as_text=True)
    assert run_worker(client.application) >= 1
    page = client.get(location, **kwargs)
    assert page.status_code == 200 and "文件已生成" in page.get_data(as_text=True)
    return client.get(location + ".pdf", **kwargs)


def embedded_fonts(data: bytes) -> set[str]:
    """The base names of the fonts a PDF embeds, over all its pages."""
    reader = PdfReader(io.BytesIO(data))
    return {str(font.get_object()["/BaseFont"]) for page in reader.pages
            for font in page["/Resources"]["/Font"].values()}


def assert_one_cjk_sc_font(data: bytes) -> None:
    """Every portal PDF embeds exactly one font, a CJK SC one (portal.documents)."""
    fonts = embedded_fonts(data)
    assert len(fonts) == 1 and "CJK-SC" in next(iter(fonts)), fonts
