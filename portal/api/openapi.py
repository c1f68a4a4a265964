"""The OpenAPI 3.1 document of every machine endpoint, built from the views themselves.

A machine view declares its contract with ``@operation(...)`` (summary, parameters, responses
with their error codes); ``document(app)`` walks the URL map, so an endpoint cannot be served
without appearing here (a test checks every /api/ route is documented).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "稳定的错误代码 (stable error code)"},
            "message": {"type": "string", "description": "中文说明"},
            "request_id": {"type": ["string", "null"]},
        },
    }},
}


def error_response(description: str, codes: list[str]) -> dict[str, Any]:
    """A documented error response whose ``error.code`` is one of ``codes``."""
    schema = {"allOf": [{"$ref": "#/components/schemas/Error"}, {
        "type": "object", "properties": {"error": {"type": "object", "properties": {
            "code": {"enum": codes}}}}}]}
    return {"description": f"{description}（错误代码：{', '.join(codes)}）",
            "content": {"application/json": {"schema": schema}}}


def operation(**spec: Any):
    """Attach an OpenAPI operation object (summary, parameters, responses, security, ...)."""
    def decorate(view):
        view.openapi = spec  # type: ignore[attr-defined]
        return view

    return decorate


_CONVERTER = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>")


def openapi_path(rule: str) -> str:
    return _CONVERTER.sub(r"{\1}", rule)


def document(app: Flask, server_url: str = "/") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        spec = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if spec is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = {
                "operationId": rule.endpoint.replace(".", "_"), **spec}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "安徽省工伤保险公共服务门户 机器接口 (work-injury insurance portal machine API)",
            "version": "1.0.0",
            "description": "供其他部门系统调用的接口。凭证由省级管理员签发（HTTP Basic）；每次调用均记入审计日志。",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic",
                                              "description": "调用方编号:密钥 (client id : secret)"}},
        },
    }
