"""The portal and the provincial login sandbox, both served over loopback HTTP in threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from adapters.gov_platform.sandbox import create_sandbox_app
from adapters.sandbox_server import serve_built_in_thread, stop_server
from portal import create_app


@dataclass
class LiveStack:
    portal_url: str
    sandbox_url: str
    app: Flask
    _servers: list

    def stop(self) -> None:
        for server, thread in self._servers:
            stop_server(server, thread)
        self.app.extensions["portal.database"].dispose()


def start_live_stack(settings: dict[str, Any], key_dir) -> LiveStack:
    holder: dict[str, Any] = {}

    def build_portal(portal_url: str) -> Flask:
        sandbox_server, sandbox_thread, sandbox_url = serve_built_in_thread(
            lambda issuer: create_sandbox_app(issuer=issuer, key_dir=key_dir, clients=[{
                "client_id": "wanggong-portal",
                "client_secret": "dev-oidc-client-secret",
                "redirect_uris": [f"{portal_url}/auth/callback"],
                "post_logout_redirect_uris": [f"{portal_url}/"],
            }]))
        holder.update(sandbox=(sandbox_server, sandbox_thread), sandbox_url=sandbox_url)
        app = create_app({**settings, "oidc_issuer": sandbox_url,
                          "oidc_redirect_uri": f"{portal_url}/auth/callback"})
        holder["app"] = app
        return app

    portal_server, portal_thread, portal_url = serve_built_in_thread(build_portal)
    return LiveStack(portal_url, holder["sandbox_url"], holder["app"],
                     [(portal_server, portal_thread), holder["sandbox"]])
