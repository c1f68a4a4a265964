"""/metrics is refused outside the configured staff networks (here: loopback is not one)."""

import pytest


@pytest.fixture
def app_overrides():
    return {"metrics_allowed_networks": "10.0.0.0/8"}


def test_metrics_refused_from_outside_the_staff_networks(client):
    response = client.get("/metrics")
    assert response.status_code == 403
    assert "portal_http_requests_total" not in response.text


def test_metrics_refused_even_when_signed_in_as_provincial_staff(client, login_as):
    login_as(client, "provincial")
    assert client.get("/metrics").status_code == 403


def test_metrics_served_inside_the_staff_networks(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert response.status_code == 200
    assert "portal_http_requests_total" in response.text


def test_healthz_stays_public(client):
    assert client.get("/healthz").status_code == 200
