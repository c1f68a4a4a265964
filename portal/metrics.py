"""Prometheus metrics, served at /metrics to the configured staff networks only."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

#: the media type of :func:`render`'s output (Prometheus text format)
CONTENT_TYPE = CONTENT_TYPE_LATEST
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "portal_http_requests_total", "HTTP requests by endpoint and status",
    ["method", "endpoint", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "portal_http_request_seconds", "HTTP request duration by endpoint",
    ["endpoint"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LOGINS = Counter("portal_logins_total", "Unified-login outcomes", ["outcome"], registry=REGISTRY)
JOBS = Counter("portal_jobs_total", "Background jobs by task and outcome", ["task", "outcome"],
               registry=REGISTRY)


#: the labelled children of REQUESTS and LATENCY by their labels (``labels()`` takes a lock and
#: validates the labels on every call; a child, once made, is the same object for good)
_request_children: dict[tuple[str, str, int], Any] = {}
_latency_children: dict[str, Any] = {}


def observe_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    counter = _request_children.get((method, endpoint, status))
    if counter is None:
        counter = _request_children[(method, endpoint, status)] = REQUESTS.labels(method, endpoint, str(status))
    histogram = _latency_children.get(endpoint)
    if histogram is None:
        histogram = _latency_children[endpoint] = LATENCY.labels(endpoint)
    counter.inc()
    histogram.observe(seconds)


def render() -> bytes:
    return generate_latest(REGISTRY)


@lru_cache(maxsize=8)
def _networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def address_in_networks(address: str | None, spec: str) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(spec))
