"""The portal, the provincial login sandbox and the tax collection platform sandbox, all served
over loopback HTTP in threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from adapters.gov_platform.sandbox import create_sandbox_app
from adapters.sandbox_server import serve_built_in_thread, stop_server
from adapters.tax_collection.sandbox import create_tax_sandbox_app
from portal import create_app
from portal.config import load_defaults


@dataclass
class LiveStack:
    portal_url: str
    sandbox_url: str
    app: Flask
    _servers: list
    #: the tax collection platform sandbox (社保费征收), wired to the portal's callback URL
    tax_url: str = ""
    tax_sandbox: Flask | None = None
    #: the unified-login sandbox app, which also serves 一网通办 (办件上报) in testing mode
    sandbox_app: Flask | None = None

    @property
    def gov_items(self):
        """The 一网通办 sandbox's state (``ServiceItemsState``): items, events, evaluations, knobs."""
        return self.sandbox_app.extensions["gov_service_items"] if self.sandbox_app else None

    @property
    def tax_state(self):
        """The tax sandbox's state and test knobs (``SandboxState``)."""
        return self.tax_sandbox.extensions["tax_sandbox"] if self.tax_sandbox else None

    def stop(self) -> None:
        for server, thread in self._servers:
            stop_server(server, thread)
        self.app.extensions["portal.database"].dispose()


def start_live_stack(settings: dict[str, Any], key_dir) -> LiveStack:
    holder: dict[str, Any] = {}

    defaults = load_defaults()
    gov_apps = {settings.get("gov_platform_app_id") or defaults["gov_platform_app_id"]:
                settings.get("gov_platform_secret") or defaults["gov_platform_secret"]}

    def build_portal(portal_url: str) -> Flask:
        def build_sandbox(issuer: str) -> Flask:
            holder["sandbox_app"] = create_sandbox_app(
                issuer=issuer, key_dir=key_dir, service_item_apps=gov_apps, testing=True, clients=[{
                    "client_id": "wanggong-portal",
                    "client_secret": "dev-oidc-client-secret",
                    "redirect_uris": [f"{portal_url}/auth/callback"],
                    "post_logout_redirect_uris": [f"{portal_url}/"],
                }])
            return holder["sandbox_app"]

        sandbox_server, sandbox_thread, sandbox_url = serve_built_in_thread(build_sandbox)
        holder.update(sandbox=(sandbox_server, sandbox_thread), sandbox_url=sandbox_url)
        tax_key = settings.get("tax_platform_key") or load_defaults()["tax_platform_key"]

        def build_tax(tax_url: str) -> Flask:
            holder["tax_app"] = create_tax_sandbox_app(
                base_url=tax_url, portal_callback_url=f"{portal_url}/api/payments/tax-callback",
                signing_key=tax_key.encode("utf-8"), callback_attempts=8, callback_backoff_seconds=0.2,
                callback_timeout_seconds=3)
            return holder["tax_app"]

        tax_server, tax_thread, tax_url = serve_built_in_thread(build_tax)
        holder.update(tax=(tax_server, tax_thread), tax_url=tax_url)
        app = create_app({"tax_platform_url": tax_url, "gov_platform_url": sandbox_url, **settings,
                          "oidc_issuer": sandbox_url,
                          "oidc_redirect_uri": f"{portal_url}/auth/callback"})
        holder["app"] = app
        return app

    portal_server, portal_thread, portal_url = serve_built_in_thread(build_portal)
    return LiveStack(portal_url, holder["sandbox_url"], holder["app"],
                     [(portal_server, portal_thread), holder["sandbox"], holder["tax"]],
                     tax_url=holder["tax_url"], tax_sandbox=holder["tax_app"],
                     sandbox_app=holder["sandbox_app"])
