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
    in-process; every response must be below 500 and conform to the documented responses."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, calls = [], []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call()
            calls.append(operation.label)
            if response.status_code >= 500:
                failures.append((operation.label, response.status_code))
            case.validate_response(response)

        run()
    assert failures == []
    assert len(set(calls)) == len(list(schema.get_all_operations()))  # every operation was exercised
