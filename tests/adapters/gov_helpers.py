"""The 一网通办 sandbox peer for tests: served in a thread on 127.0.0.1, its fault knobs reset."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from adapters.gov_platform.sandbox import create_sandbox_app
from adapters.gov_platform.sandbox.service_items import ServiceItemsState
from adapters.sandbox_server import serve_built_in_thread, stop_server

#: The portal's unified-login registration at the peer.
CLIENT = {"client_id": "wanggong-portal", "client_secret": "x",
          "redirect_uris": ["http://127.0.0.1:5999/auth/callback"]}


@contextmanager
def running_peer(service_item_apps: Mapping[str, str]) -> Iterator[tuple[str, ServiceItemsState]]:
    """``(base_url, state)`` of a peer (testing mode) that knows ``service_item_apps``."""
    holder = {}

    def build(base_url):
        holder["app"] = create_sandbox_app(issuer=base_url, clients=[CLIENT],
                                           service_item_apps=service_item_apps, testing=True)
        return holder["app"]

    server, thread, url = serve_built_in_thread(build)
    try:
        yield url, holder["app"].extensions["gov_service_items"]
    finally:
        stop_server(server, thread)


def peer_fixture(service_item_apps: Mapping[str, str]):
    """A module-scoped ``peer`` fixture: one running peer for all the tests of a module."""

    @pytest.fixture(scope="module")
    def peer():
        with running_peer(service_item_apps) as running:
            yield running

    return peer


@contextmanager
def faults_off(state: ServiceItemsState) -> Iterator[ServiceItemsState]:
    """The peer answers normally before and after (a test may turn its fault knobs)."""
    state.fault_mode, state.fault_delay_seconds = "ok", 0.0
    yield state
    state.fault_mode, state.fault_delay_seconds = "ok", 0.0
