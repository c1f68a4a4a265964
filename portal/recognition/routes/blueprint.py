"""The blueprint of work-injury recognition, and the template helpers its pages share."""

from __future__ import annotations

from flask import Blueprint

from portal.recognition import service
from portal.recognition.models import CaseAction

bp = Blueprint("recognition", __name__, url_prefix="/recognition")


@bp.app_template_filter("recognition_action_label")
def action_label(value: str) -> str:
    """The Chinese name of a step of the procedure (a timeline event's ``action``)."""
    try:
        return CaseAction(value).label
    except ValueError:
        return value


@bp.app_template_global("applicant_role")
def applicant_role(case) -> str:
    """申请人 as every page describes it: 用人单位 / 职工本人 / 近亲属（配偶）."""
    return service.applicant_role(case)


@bp.app_template_global("recognition_office_name")
def recognition_office_name(city_code: str | None) -> str:
    return service.office_name(city_code)
