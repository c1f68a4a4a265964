"""OpenID Provider metadata (OpenID Connect Discovery 1.0 §3; RP-Initiated Logout 1.0 §2.1)."""

from __future__ import annotations

from adapters.gov_platform.codes import CLAIMS_SUPPORTED, SCOPES_SUPPORTED

from .keys import SIGNING_ALG
from .models import TOKEN_ENDPOINT_AUTH_METHODS

#: Paths below the issuer. The issuer's own path (if any) is the blueprint's URL prefix.
AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/token"
USERINFO_PATH = "/userinfo"
JWKS_PATH = "/jwks.json"
LOGOUT_PATH = "/logout"
DISCOVERY_PATH = "/.well-known/openid-configuration"


def provider_metadata(issuer: str) -> dict:
    """Every endpoint URL derives from ``issuer`` (no trailing slash)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE_PATH,
        "token_endpoint": issuer + TOKEN_PATH,
        "userinfo_endpoint": issuer + USERINFO_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "end_session_endpoint": issuer + LOGOUT_PATH,
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": [SIGNING_ALG],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": list(TOKEN_ENDPOINT_AUTH_METHODS),
        "claims_supported": [*CLAIMS_SUPPORTED, "sid"],
        "claim_types_supported": ["normal"],
        "prompt_values_supported": ["none", "login"],
        "ui_locales_supported": ["zh-CN"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
