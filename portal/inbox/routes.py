"""收件箱 pages of persons (workers, relatives) and employers, and the count in the navigation."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, g, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import BuildError

from portal.auth.access import requires
from portal.auth.roles import Role
from portal.extensions import db_session
from portal.inbox import service
from portal.localtime import to_local
from portal.web.rendering import render_partial_or_page

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

OWNERS = (Role.WORKER, Role.EMPLOYER)
RESULTS_ID = "inbox-results"
SHOW_LABELS = {service.SHOW_ALL: "全部", service.SHOW_ACTION: "待办", service.SHOW_UNREAD: "未读"}


@bp.get("/")
@requires(*OWNERS)
def index():
    show = request.args.get("show", service.SHOW_ALL)
    if show not in service.SHOW_CHOICES:
        show = service.SHOW_ALL
    case_reference = (request.args.get("case") or "").strip()[:40] or None
    sess = db_session()
    result = service.messages_for(sess, g.actor, page=request.args.get("page", 1, type=int),
                                  case_reference=case_reference, show=show)
    unread, outstanding = g._inbox_counts = service.counts_for(sess, g.actor)
    return render_partial_or_page("inbox/index.html", "inbox/_messages.html", RESULTS_ID,
                                  result=result, show_labels=SHOW_LABELS, unread=unread,
                                  outstanding=outstanding, results_id=RESULTS_ID)


@bp.get("/<int:message_id>")
@requires(*OWNERS)
def message(message_id: int):
    # Opening a message records its first reading (送达 evidence) and an audit row.
    found = service.open_message(db_session(), g.actor, message_id)
    return render_template("inbox/message.html", message=found,
                           attachment_url=attachment_url(found.attachment_token))


def attachment_url(token: str | None) -> str | None:
    """Where an attached stored file is downloaded (portal.materials serves and checks access)."""
    if not token:
        return None
    if "materials.download" in current_app.view_functions:
        try:
            return url_for("materials.download", token=token)
        except BuildError:
            pass
    return "/files/" + token


@bp.app_template_filter("inbox_time")
def inbox_time(value: datetime | None) -> str:
    """2026年1月5日 14:30 (北京时间); "—" when there is none."""
    if value is None:
        return "—"
    local = to_local(value)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


@bp.app_template_filter("badge_count")
def badge_count(value: int) -> str:
    """A badge's figure: 99+ beyond ``service.BADGE_CAP`` (the count stops there)."""
    return f"{service.BADGE_CAP}+" if value > service.BADGE_CAP else str(value)


@bp.app_context_processor
def _inbox_navigation() -> dict:
    return {"inbox_counts": nav_counts}


def nav_counts() -> tuple[int, int] | None:
    """(unread, action required) for the navigation of a signed-in person or employer, once per
    request; None for everyone else, and when the database cannot answer (an error page must
    still render)."""
    actor = g.get("actor")
    if actor is None or actor.role not in OWNERS:
        return None
    if "_inbox_counts" not in g:
        try:
            g._inbox_counts = service.counts_for(db_session(), actor)
        except SQLAlchemyError:
            current_app.logger.warning("inbox.counts_unavailable")
            g._inbox_counts = None
    return g._inbox_counts
