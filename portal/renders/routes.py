"""Pages of a background-rendered document: its progress (polled by htmx while it renders) and
the file. Only the session that asked sees either; everyone else gets 404."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template

from portal.auth.access import public
from portal.extensions import db_session
from portal.renders import service
from portal.renders.access import requester_secret
from portal.renders.forms import valid_token
from portal.web.limits import public_pdf_limit
from portal.web.rendering import wants_fragment

bp = Blueprint("renders", __name__, url_prefix="/renders")

STATUS_ID = "render-status"


def _job(token: str):
    if not valid_token(token):
        abort(404)
    return service.get_job(db_session(), token, requester_secret())


@bp.get("/<token>")
@public
def show(token: str):
    """正在生成… then the download link; the status partial polls itself every 2 s meanwhile."""
    job = _job(token)
    template = "renders/_status.html" if wants_fragment(STATUS_ID) else "renders/show.html"
    response = make_response(render_template(template, job=job, status_id=STATUS_ID,
                                                  title=service.title_of(job.kind)))
    response.headers["Vary"] = "HX-Request, HX-Target"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<token>.pdf")
@public
@public_pdf_limit
def download(token: str):
    """The rendered file (stored on the job; nothing is rendered here)."""
    job = _job(token)
    if job.content is None:
        abort(404)
    response = make_response(job.content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{job.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
