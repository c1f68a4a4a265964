"""In-memory objects behind Authlib's mixins: registered clients, codes, tokens, the signed-in user."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, list_to_scope, scope_to_list
from authlib.oidc.core import AuthorizationCodeMixin

from adapters.gov_platform.codes import SCOPES_SUPPORTED

from .accounts import Account

#: Both are accepted at /token; "none" (public clients) is not.
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class SignedInUser:
    """An account plus when it authenticated at the sandbox (``auth_time``)."""

    account: Account
    auth_time: int
    #: the browser session's id at the sandbox (random, no personal data), released as the
    #: id_token's ``sid`` claim and accepted back as ``logout_hint`` at RP-initiated logout
    sid: str | None = None

    def get_user_id(self) -> str:
        return self.account.sub


@dataclass(frozen=True)
class Client(ClientMixin):
    """A registered relying party (confidential; authorization code flow only)."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    scope: str = list_to_scope(SCOPES_SUPPORTED)
    client_name: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Client":
        missing = [key for key in ("client_id", "client_secret", "redirect_uris") if not data.get(key)]
        if missing:
            raise ValueError(f"sandbox client lacks {', '.join(missing)}")
        if isinstance(data["redirect_uris"], str):
            raise ValueError("redirect_uris must be a list of URLs")
        return cls(
            client_id=str(data["client_id"]),
            client_secret=str(data["client_secret"]),
            redirect_uris=tuple(data["redirect_uris"]),
            post_logout_redirect_uris=tuple(data.get("post_logout_redirect_uris") or ()),
            scope=data.get("scope") or list_to_scope(SCOPES_SUPPORTED),
            client_name=data.get("client_name"),
        )

    # Read by Authlib's EndSessionEndpoint and UserInfoEndpoint.
    @property
    def client_metadata(self) -> dict[str, Any]:
        return {
            "redirect_uris": list(self.redirect_uris),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "token_endpoint_auth_method": TOKEN_ENDPOINT_AUTH_METHODS[0],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "id_token_signed_response_alg": "RS256",
        }

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # OpenID Connect requires redirect_uri in every authentication request: no default.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.scope))
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match, no prefix or pattern

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.client_secret.encode("utf-8"), client_secret.encode("utf-8"))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method in TOKEN_ENDPOINT_AUTH_METHODS
        return True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str = field(repr=False)
    client_id: str
    redirect_uri: str
    scope: str
    user: SignedInUser
    nonce: str
    code_challenge: str = field(repr=False)
    code_challenge_method: str
    expires_at: float

    def is_expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.user.auth_time


@dataclass
class Token(TokenMixin):
    access_token: str = field(repr=False)
    client: Client
    user: SignedInUser
    scope: str
    issued_at: float
    expires_in: int
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return self.client.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> SignedInUser:
        return self.user

    def get_client(self) -> Client:
        return self.client
