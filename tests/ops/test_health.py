"""/healthz answers load balancers on both databases; /metrics serves Prometheus text locally."""

from portal import create_app
from tests.conftest import settings_for_tests


def test_healthz_reports_database_and_queue(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    backend = app.extensions["portal.database"].backend
    assert backend in ("sqlite", "postgresql")
    assert body["status"] == "ok"
    assert body["database"]["backend"] == backend
    assert body["database"]["ok"] is True
    assert isinstance(body["database"]["latency_ms"], (int, float)) and body["database"]["latency_ms"] >= 0
    assert body["queue"] == {"backend": "sqlite"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'no-such-dir' / 'portal.db'}"
    app = create_app(settings_for_tests(unreachable, tmp_path))
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["portal.database"].dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is False
    assert body["database"]["backend"] == "sqlite"


def test_healthz_needs_no_login_and_writes_no_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_metrics_served_to_loopback(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert "portal_http_requests_total" in response.text
    assert 'endpoint="ops.healthz"' in response.text
    assert "portal_jobs_total" in response.text
