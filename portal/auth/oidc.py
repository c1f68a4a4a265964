"""The portal as an OpenID Connect client of the provincial platform (Authlib).

Authorization code flow with S256 PKCE and a nonce, id_token verified against the platform's JWKS
(``kid`` picked from the header; keys re-fetched when an unknown ``kid`` appears).

Nothing of the token response is kept: the id_token's claims carry the ID number and phone
(base64url is not encryption), so it is neither stored nor sent back as ``id_token_hint``.
RP-initiated logout names the portal by ``client_id`` and the platform session by
``logout_hint``, the id_token's ``sid`` claim: an opaque session id with no personal data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
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


#: What a session id may look like: short and URL-safe (the platform's ``sid`` is random).
_SID = re.compile(r"[A-Za-z0-9._~-]{16,128}")


def logout_hint(claims: Mapping[str, Any]) -> str | None:
    """The id_token's ``sid`` if it has the shape of an opaque session id, else None (the
    platform then asks the person to confirm the logout)."""
    sid = claims.get("sid")
    return sid if isinstance(sid, str) and _SID.fullmatch(sid) else None


def end_session_url(post_logout_redirect_uri: str, hint: str | None = None) -> str | None:
    """RP-initiated logout URL at the platform, or None if it offers none."""
    metadata = client().load_server_metadata()
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    params = {"client_id": client().client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    if hint:
        params["logout_hint"] = hint
    return f"{endpoint}?{urlencode(params)}"
