"""Issue 14 point 3: a heavy document a person need not wait for (the public estimate PDF) is
rendered by the background worker; the person sees 正在生成… (polled by htmx every 2 s), then
the download link; only the session that asked may see the job or fetch the file."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from sqlalchemy import func, select

from portal.renders import service
from portal.renders.models import DocumentJob, RenderStatus
from tests.renders.helpers import assert_one_cjk_sc_font, run_worker

ESTIMATE = {"date": "2024-05-10", "outcome": "disability", "grade": "7", "own_monthly_wage": "6100",
            "average_monthly_wage": "8000"}
PDF_URL = "/benefits/estimate.pdf?" + urlencode(ESTIMATE)
STATUS = {"HX-Request": "true", "HX-Target": "render-status"}


def _jobs(app) -> int:
    with app.extensions["portal.database"].read_session() as sess:
        return sess.execute(select(func.count()).select_from(DocumentJob)).scalar_one()


def test_the_estimate_pdf_is_rendered_in_the_background_with_progress(app, client):
    asked = client.get(PDF_URL)
    assert asked.status_code == 303
    location = asked.headers["Location"]
    token = re.fullmatch(r"/renders/([A-Za-z0-9_-]+)", location).group(1)
    page = client.get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "正在生成…" in html and 'hx-trigger="every 2s"' in html and f'hx-get="/renders/{token}"' in html
    assert client.get(location + ".pdf").status_code == 404  # nothing to fetch yet
    # the poll answers the status partial alone, still polling
    fragment = client.get(location, headers=STATUS).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="render-status"') and "<html" not in fragment
    assert "every 2s" in fragment

    assert run_worker(app) == 1  # what `portal worker` does
    done = client.get(location, headers=STATUS).get_data(as_text=True)
    assert "文件已生成" in done and "hx-trigger" not in done and f'href="/renders/{token}.pdf"' in done
    pdf = client.get(location + ".pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'inline; filename="benefits-estimate.pdf"'
    assert_one_cjk_sc_font(pdf.data)
    # asked again (this or another visitor): the file is served at once, nothing is queued
    again = app.test_client().get(PDF_URL)
    assert again.status_code == 200 and again.data == pdf.data and _jobs(app) == 1


def test_asking_twice_before_it_is_done_is_one_job(app, client):
    first, second = client.get(PDF_URL), client.get(PDF_URL)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"] and _jobs(app) == 1


def test_only_the_session_that_asked_sees_the_job_or_the_file(app, client):
    location = client.get(PDF_URL).headers["Location"]
    run_worker(app)
    assert client.get(location + ".pdf").status_code == 200
    stranger = app.test_client()
    for url in (location, location + ".pdf"):
        refused = stranger.get(url)
        assert refused.status_code == 404 and "application/pdf" not in refused.mimetype
    stranger.get(PDF_URL)  # a session of its own that asked for something: still not this job
    assert stranger.get(location + ".pdf").status_code == 404
    assert client.get("/renders/not-a-token!").status_code == 404


def test_a_failed_rendering_says_so_and_stops_polling(app, client):
    def broken(params):
        raise RuntimeError("renderer broke")

    service.register_renderer("tests.broken", broken, title="测试文件")
    try:
        with client.session_transaction() as session:
            session["render_owner"] = "secret-of-the-test"
        with app.extensions["portal.database"].write_transaction() as sess:
            job = service.start_render(sess, kind="tests.broken", document_key="k" * 64, params={},
                                       owner_secret="secret-of-the-test", filename="x.pdf",
                                       enqueue=lambda job_id: None)
        assert job.status is RenderStatus.QUEUED
        assert run_worker(app) == 1  # a delivery without retries left: failed for good
        with app.extensions["portal.database"].read_session() as sess:
            failed = sess.get(DocumentJob, job.id)
            assert failed.status is RenderStatus.FAILED and "renderer broke" in failed.error
            assert failed.attempts == 1 and failed.content is None
        page = client.get(f"/renders/{job.token}", headers=STATUS).get_data(as_text=True)
        assert "文件生成失败" in page and "hx-trigger" not in page and "renderer broke" not in page
        assert run_worker(app) == 0  # nothing is left queued
    finally:
        service._RENDERERS.pop("tests.broken", None)
