"""/api/openapi.json: the machine interfaces' contract."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from portal.api import service
from portal.api.decorators import machine_endpoint
from portal.api.openapi import document, error_response, operation
from portal.auth.access import public
from portal.db import utcnow
from portal.extensions import db_session
from portal.web.limits import api_limits

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/openapi.json")
@api_limits
@public
@operation(summary="本接口文档 (this OpenAPI document)", tags=["meta"],
           responses={"200": {"description": "OpenAPI 3.1 document",
                              "content": {"application/json": {"schema": {"type": "object"}}}}})
def openapi_document():
    return jsonify(document(current_app, request.host_url))


COVER_SCHEMA = {
    "type": "object",
    "required": ["project_code", "name", "contractor", "city_code", "status", "covered", "checked_at"],
    "properties": {
        "project_code": {"type": "string", "description": "项目编号"},
        "name": {"type": "string", "description": "项目名称"},
        "contractor": {"type": "string", "description": "施工总承包单位"},
        "city_code": {"type": ["string", "null"], "description": "项目所在地市代码"},
        "cover_from": {"type": ["string", "null"], "format": "date", "description": "参保起始日"},
        "cover_to": {"type": ["string", "null"], "format": "date", "description": "参保截止日（计划竣工或实际竣工）"},
        "status": {"type": "string", "description": "参保状态：待缴费 / 已参保 / 已开工 / 已竣工"},
        "covered": {"type": "boolean", "description": "当前是否在保（先参保、后开工：为 true 方可开工）"},
        "permit_number": {"type": ["string", "null"], "description": "施工许可证编号"},
        "checked_at": {"type": "string", "format": "date-time"},
    },
}


@bp.get("/v1/projects/<code>/cover")
@api_limits  # outermost: per address, before the credential is looked at
@machine_endpoint("project_cover:read")  # then per calling system (ratelimit_api_client)
@operation(
    summary="查询工程建设项目参保状态（住建部门核验：先参保、后开工）",
    description="按项目编号查询按项目参保的工程建设项目是否在保。地市调用方只能查询本地市项目。不返回任何个人信息。",
    tags=["projects"],
    security=[{"basicAuth": []}],
    parameters=[{"name": "code", "in": "path", "required": True,
                 "schema": {"type": "string", "minLength": 1, "maxLength": 32},
                 "description": "项目编号，如 XM340100202600001"}],
    responses={
        "200": {"description": "项目参保状态", "content": {"application/json": {"schema": COVER_SCHEMA}}},
        "401": error_response("缺少或无效的接口凭证", ["unauthorized"]),
        "403": error_response("凭证无权调用此接口", ["insufficient_scope"]),
        "404": error_response("没有该项目，或不在调用方所属地市", ["not_found"]),
        "429": error_response("调用过于频繁", ["rate_limited"]),
    },
)
def project_cover(code: str):
    cover = service.project_cover(db_session(), g.machine_actor, g.api_client, code)
    facts = cover.facts
    return jsonify({
        "project_code": facts.reference, "name": facts.title, "contractor": facts.holder,
        "city_code": facts.city_code,
        "cover_from": facts.period_from.isoformat() if facts.period_from else None,
        "cover_to": facts.period_to.isoformat() if facts.period_to else None,
        "status": facts.status, "covered": facts.covered,
        "permit_number": cover.permit_number,
        "checked_at": utcnow().isoformat(),
    })
