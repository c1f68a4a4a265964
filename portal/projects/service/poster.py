"""The site poster (工地公示牌): a PDF with the project's cover status and a QR code that takes
a worker to the self-check page (我的参保情况). No personal data on it."""

from __future__ import annotations

import base64

import segno
from sqlalchemy.orm import Session

from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import will_write
from portal.documents import html_to_pdf
from portal.errors import NotFoundError
from portal.projects.service.projects import get_project


def qr_data_uri(url: str) -> str:
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=6, border=2, dark="#000")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def poster_pdf(sess: Session, actor: Actor, project_id: int, *, self_check_url: str,
               render_html) -> bytes:
    """The poster of the contractor's project; the download is audited. ``render_html(template,
    **context)`` is Flask's render_template, passed in so this module stays free of Flask."""
    if actor.role is not Role.EMPLOYER:
        raise NotFoundError("未找到该项目")
    will_write(sess)
    project = get_project(sess, actor, project_id)
    html = render_html("projects/poster.html", project=project, self_check_url=self_check_url,
                       qr=qr_data_uri(self_check_url))
    audit.record(sess, actor, "project.poster", object_type="project", object_id=project.id,
                 city_code=project.city_code)
    return html_to_pdf(html)
