"""The portal as an OpenID Connect client of the provincial platform (Authlib).

Authorization code flow with S256 PKCE and a nonce, id_token verified against the platform's JWKS
(``kid`` picked from the header; keys re-fetched when an unknown ``kid`` appears).
"""

from __future__ import annotations

from urllib.parse import urlencode

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

CLIENT_NAME = "gov"


def init_oidc(app: Flask, settings) -> None:
    # One registry per app: Authlib caches clients (and the provider's metadata) in it.
    oauth = OAuth(app)
    app.extensions["portal.oauth"] = oauth
    issuer = settings.oidc_issuer.rstrip("/")
    oauth.register(
        CLIENT_NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "timeout": settings.oidc_timeout_seconds,
        },
    )


def client():
    return current_app.extensions["portal.oauth"].create_client(CLIENT_NAME)


def end_session_url(id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
    """RP-initiated logout URL at the platform, or None if it offers none."""
    metadata = client().load_server_metadata()
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    params = {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": client().client_id}
    if id_token_hint:
        params["id_token_hint"] = id_token_hint
    return f"{endpoint}?{urlencode(params)}"
