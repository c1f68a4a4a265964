"""Views of work-injury recognition: the applicant's side (filing, case page, supplement,
pressing) in ``applicant_views`` and the recognition office's side in ``office_views``; both hang
their routes on this one blueprint."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("recognition", __name__, url_prefix="/recognition")


@bp.app_template_filter("recognition_action_label")
def action_label(value: str) -> str:
    from portal.recognition.states import CaseAction

    try:
        return CaseAction(value).label
    except ValueError:
        return value

from portal.recognition import applicant_views, office_views  # noqa: E402,F401  (routes on bp)
