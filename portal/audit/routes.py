"""审计日志查询: provincial staff browse and filter the audit trail."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from portal.audit import service
from portal.audit.forms import AuditFilterForm
from portal.audit.keys import install
from portal.audit.labels import action_label
from portal.auth.access import requires
from portal.auth.roles import Role
from portal.extensions import db_session
from portal.regions import city_name
from portal.web.rendering import render_partial_or_page

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.app_template_filter("audit_action_label")
def audit_action_label(code: str) -> str | None:
    """The Chinese name of an audit action; None for a code without one (shown as the code)."""
    return action_label(code)


@bp.get("/")
@requires(Role.PROVINCIAL)
def index():
    form = AuditFilterForm(request.args)
    if not form.validate():
        return render_template("audit/index.html", form=form, result=None, city_name=city_name), 422
    filters = service.AuditFilter(
        action=form.action.data or None, city_code=form.city_code.data or None,
        actor_account_id=form.actor_account_id.data, object_type=form.object_type.data or None,
        object_id=form.object_id.data or None, date_from=form.date_from.data, date_to=form.date_to.data,
    )
    result = service.browse(db_session(), filters, page=form.page.data or 1)
    return render_partial_or_page("audit/index.html", "audit/_results.html", "audit-results",
                                  form=form, result=result, city_name=city_name,
                                  actions=service.distinct_actions(db_session()))


@bp.record
def _install_audit_keys(state) -> None:
    """The audit keys and checkpoint sinks come from the settings of each app built (like the
    personal-data keyring): services read them without Flask."""
    install(state.app.config["PORTAL_SETTINGS"])
