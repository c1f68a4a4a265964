"""The OpenAPI 3.1 document of every machine endpoint, built from the views themselves.

A machine view declares its contract with ``@operation(...)`` (summary, parameters, responses
with their error codes); ``document(app)`` walks the URL map, so an endpoint cannot be served
without appearing here (a test checks every /api/ route is documented).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask

from portal.characters import INVISIBLE_CONTROLS
from portal.regions import province

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
                "operationId": rule.endpoint.replace(".", "_"), **_with_input_guard(spec)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{province().portal_name} 机器接口 (work-injury insurance portal machine API)",
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


# --- what the input guard refuses on every request (portal.web.input_guard), in the contract ----

#: a text with no invisible control character (NUL, C0/C1 controls but tab/CR/LF, bidi controls)
SAFE_TEXT = f"^[^{INVISIBLE_CONTROLS.pattern[1:-1]}]*$"
_SAFE_EXTRA = {"anyOf": [{"type": ["number", "boolean", "null"]}, {"type": "string", "pattern": SAFE_TEXT}]}
_GUARD_CODE = "invalid_characters"


def _with_input_guard(spec: dict[str, Any]) -> dict[str, Any]:
    """The operation as served: every string input excludes invisible control characters, and
    422 ``invalid_characters`` is among its answers."""
    spec = copy.deepcopy(spec)
    for parameter in spec.get("parameters", []):
        _safe_strings(parameter.get("schema"))
    for media in spec.get("requestBody", {}).get("content", {}).values():
        _safe_strings(media.get("schema"), body=True)
    if spec.get("parameters") or spec.get("requestBody") or spec.get("security"):
        responses = spec.setdefault("responses", {})
        codes = [_GUARD_CODE]
        if "422" in responses:
            enum = (responses["422"].get("content", {}).get("application/json", {}).get("schema", {})
                    .get("allOf", [{}, {}])[1].get("properties", {}).get("error", {}).get("properties", {})
                    .get("code", {}).get("enum", []))
            codes = [*enum, _GUARD_CODE]
        responses["422"] = error_response("请求格式错误或含有不可见的控制字符", codes)
    return spec


def _safe_strings(schema: Any, body: bool = False) -> None:
    if not isinstance(schema, dict):
        return
    types = schema.get("type")
    if (types == "string" or (isinstance(types, list) and "string" in types)) and "pattern" not in schema \
            and "const" not in schema and "enum" not in schema:
        schema["pattern"] = SAFE_TEXT
    if body and types == "object":
        schema.setdefault("propertyNames", {"pattern": SAFE_TEXT})
        schema.setdefault("additionalProperties", _SAFE_EXTRA)
    for child in schema.get("properties", {}).values():
        _safe_strings(child, body)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict) and schema[key] is not _SAFE_EXTRA:
            _safe_strings(schema[key], body)
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key, []):
            _safe_strings(child, body)
