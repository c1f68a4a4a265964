"""The machine interfaces' OpenAPI 3.1 document, and a property-based fuzzer run against it."""

import schemathesis
from hypothesis import HealthCheck, given, settings

from portal.api.openapi import openapi_path


def test_document_is_openapi_31_with_error_schema(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert "Error" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"
    assert "/healthz" in doc["paths"] and "/api/openapi.json" in doc["paths"]


def test_every_api_route_is_documented(app, client):
    documented = client.get("/api/openapi.json").json["paths"]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in documented.get(openapi_path(rule.rule), {}), rule.rule


def test_openapi_path_conversion():
    assert openapi_path("/api/v1/projects/<code>/cover") == "/api/v1/projects/{code}/cover"
    assert openapi_path("/x/<int:bill_id>") == "/x/{bill_id}"


def test_fuzzing_the_documented_api_finds_no_server_error(app):
    """Schemathesis generates requests from the document (valid and invalid) against the app
    in-process, with a valid agency credential so authenticated paths are reached too; every
    response must be below 500 and conform to the documented responses."""
    import base64

    from portal.api import clients
    from portal.auth.roles import Actor

    with app.extensions["portal.database"].write_transaction() as sess:
        issued = clients.create_client(sess, Actor(role=None, display_name="fuzz"), client_id="fuzz-client",
                                       name="测试调用方", scopes=["project_cover:read"], city_code=None)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{issued.client_id}:{issued.secret}".encode()).decode()}
    app.config["RATELIMIT_ENABLED"] = False
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, calls = [], []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers=auth)
            calls.append(operation.label)
            if response.status_code >= 500:
                failures.append((operation.label, response.status_code))
            case.validate_response(response)

        run()
    assert failures == []
    assert len(set(calls)) == len(list(schema.get_all_operations()))  # every operation was exercised
