"""/api/openapi.json: the machine interfaces' contract."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from portal.api.openapi import document, operation
from portal.auth.access import public

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/openapi.json")
@public
@operation(summary="本接口文档 (this OpenAPI document)", tags=["meta"],
           responses={"200": {"description": "OpenAPI 3.1 document",
                              "content": {"application/json": {"schema": {"type": "object"}}}}})
def openapi_document():
    return jsonify(document(current_app, request.host_url))
