"""The OpenID Connect provider proper, on Authlib's server side.

Authorization code flow only. Rules beyond Authlib's defaults, each enforced here:
- PKCE with S256 for every client (stock ``CodeChallenge`` lets confidential clients skip PKCE
  and accepts ``plain``);
- ``openid`` scope and ``nonce`` required; a nonce is accepted once per client;
- the id_token carries ``iss`` (Authlib leaves it out unless ``get_client_claims`` returns it)
  and the signing key's ``kid`` in its JWS header;
- RP-initiated logout checks that an ``id_token_hint`` was signed by us *and* names us as issuer;
- the id_token carries ``sid``, the random id of the browser's session here (as in Front-Channel
  Logout 1.0 §3). A client may log out with ``client_id`` and ``logout_hint=<sid>`` instead of
  an ``id_token_hint`` (RP-Initiated Logout 1.0 §2 leaves ``logout_hint`` to the OP), so it
  need keep no id_token, whose claims carry the ID number and phone, nor put one in a URL.
"""

from __future__ import annotations

import time
from typing import Callable

import structlog
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from authlib.oidc.core import OpenIDCode, UserInfoEndpoint
from authlib.oidc.core.grants.util import is_openid_scope
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from flask import Flask

from .accounts import AccountBook
from .claims import identity_claims
from .keys import SIGNING_ALG, SigningKey
from .models import TOKEN_ENDPOINT_AUTH_METHODS, AuthorizationCode, Client, Token
from .storage import CODE_TTL_SECONDS, MemoryStore, NonceReplayError

ID_TOKEN_TTL_SECONDS = 3600
ACCESS_TOKEN_TTL_SECONDS = 3600

log = structlog.get_logger("sandbox.gov_platform")


class SandboxAuthorizationServer(AuthorizationServer):
    """Authlib's Flask authorization server, carrying the sandbox's issuer, store and accounts
    so grants (which Authlib builds per request from ``(request, server)``) can reach them."""

    def __init__(self, *, issuer: str, clients: dict[str, Client], accounts: AccountBook,
                 store: MemoryStore, signing_key: SigningKey):
        super().__init__()
        self.issuer = issuer
        self.clients = clients
        self.accounts = accounts
        self.store = store
        self.signing_key = signing_key


class S256CodeChallenge(CodeChallenge):
    """PKCE for every client, S256 only (RFC 7636 §4.2; OAuth 2.0 Security BCP, RFC 9700 §2.1.1)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}

    def __init__(self):
        super().__init__(required=True)

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE 'code_challenge_method' must be 'S256'.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        code = grant.request.authorization_code
        if not code.code_challenge or code.code_challenge_method != "S256":
            raise InvalidGrantError("The code was not issued with an S256 challenge.")
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


class SandboxAuthorizationCodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_ENDPOINT_AUTH_METHODS)
    server: SandboxAuthorizationServer

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        if not is_openid_scope(self.request.scope):
            raise InvalidScopeError("The 'openid' scope is required.", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code, request):
        data = request.payload.data
        item = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            user=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            expires_at=self.server.store.now() + CODE_TTL_SECONDS,
        )
        try:
            self.server.store.save_code(item)
        except NonceReplayError:
            raise InvalidRequestError("Replay attack", redirect_uri=request.payload.redirect_uri) from None
        log.info("code_issued", client_id=item.client_id, sub=item.user.get_user_id(), scope=item.scope)

    def query_authorization_code(self, code, client):
        return self.server.store.redeem_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code):
        # Already consumed by redeem_code: a code is single-use from its first redemption attempt.
        pass

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class SandboxOpenIDCode(OpenIDCode):
    """id_token for the code flow: RS256, ``kid`` in the header, ``iss`` and a single ``aud``."""

    def __init__(self, *, issuer: str, signing_key: SigningKey, store: MemoryStore):
        super().__init__(require_nonce=True)
        self.issuer = issuer
        self.signing_key = signing_key
        self.store = store

    def exists_nonce(self, nonce, request):
        return self.store.nonce_used(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client):
        return self.signing_key.private

    def get_client_algorithm(self, client):
        return SIGNING_ALG

    def get_encode_header(self, client):
        return {"alg": SIGNING_ALG, "kid": self.signing_key.kid, "typ": "JWT"}

    def get_client_claims(self, client):
        return {
            "iss": self.issuer,
            "aud": client.get_client_id(),
            "exp": int(time.time()) + ID_TOKEN_TTL_SECONDS,
        }

    def generate_user_info(self, user, scope):
        claims = identity_claims(user.account, scope)
        if user.sid:
            claims["sid"] = user.sid  # id_token only: /userinfo answers identity claims
        return claims


class SandboxBearerTokenValidator(BearerTokenValidator):
    def __init__(self, store: MemoryStore):
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string):
        return self.store.token(token_string)


class SandboxUserInfoEndpoint(UserInfoEndpoint):
    def __init__(self, *, issuer: str, resource_protector: ResourceProtector):
        super().__init__(resource_protector=resource_protector)
        self.issuer = issuer

    def get_issuer(self):
        return self.issuer

    def generate_user_info(self, user, scope):
        log.info("userinfo_served", sub=user.get_user_id())
        return identity_claims(user.account, scope)


class SandboxEndSessionEndpoint(EndSessionEndpoint):
    """OpenID Connect RP-Initiated Logout 1.0; ``on_end_session`` clears the browser session."""

    def __init__(self, *, issuer: str, signing_key: SigningKey,
                 on_end_session: Callable[[EndSessionRequest], None]):
        super().__init__()
        self.issuer = issuer
        self.signing_key = signing_key
        self.on_end_session = on_end_session

    def get_server_jwks(self):
        return self.signing_key.public_key_set()

    def get_algorithms(self):
        return [SIGNING_ALG]

    def validate_request(self, request):
        result = super().validate_request(request)
        if result.id_token_claims is not None and result.id_token_claims.get("iss") != self.issuer:
            raise InvalidRequestError("'id_token_hint' was not issued by this provider.")
        return result

    def is_post_logout_redirect_uri_legitimate(self, request, post_logout_redirect_uri, client,
                                               logout_hint):
        """Without an ``id_token_hint`` (RP-Initiated Logout 1.0 §3, "other means of confirming
        the legitimacy"): Authlib calls this only when the request named its client by
        ``client_id`` and the URI is registered for that very client. Whether the session may end
        without asking is the view's decision (``logout_hint`` must name the session)."""
        return client is not None

    def resolve_client_from_id_token_claims(self, id_token_claims):
        aud = id_token_claims.get("aud")
        if isinstance(aud, list) and len(aud) == 1:
            aud = aud[0]
        return self.server.query_client(aud) if isinstance(aud, str) else None

    def end_session(self, end_session_request):
        self.on_end_session(end_session_request)


def create_authorization_server(
    app: Flask, *, issuer: str, clients: dict[str, Client], accounts: AccountBook,
    store: MemoryStore, signing_key: SigningKey,
    on_end_session: Callable[[EndSessionRequest], None],
) -> SandboxAuthorizationServer:
    """Assemble the provider: code grant (+S256 PKCE, +OpenID), userinfo and end-session endpoints.

    Reads ``OAUTH2_SCOPES_SUPPORTED`` and ``OAUTH2_TOKEN_EXPIRES_IN`` from ``app.config``.
    """
    server = SandboxAuthorizationServer(
        issuer=issuer, clients=clients, accounts=accounts, store=store, signing_key=signing_key)

    def save_token(token: dict, request) -> None:
        store.save_token(
            Token(
                access_token=token["access_token"],
                client=request.client,
                user=request.user,
                scope=token.get("scope", ""),
                issued_at=time.time(),
                expires_in=int(token["expires_in"]),
            ),
            from_code=request.authorization_code.code if request.authorization_code else None,
        )
        log.info("token_issued", client_id=request.client.client_id, sub=request.user.get_user_id())

    server.init_app(app, query_client=clients.get, save_token=save_token)
    server.register_grant(
        SandboxAuthorizationCodeGrant,
        [S256CodeChallenge(), SandboxOpenIDCode(issuer=issuer, signing_key=signing_key, store=store)],
    )
    protector = ResourceProtector()
    protector.register_token_validator(SandboxBearerTokenValidator(store))
    server.register_endpoint(SandboxUserInfoEndpoint(issuer=issuer, resource_protector=protector))
    server.register_endpoint(SandboxEndSessionEndpoint(
        issuer=issuer, signing_key=signing_key, on_end_session=on_end_session))
    return server
