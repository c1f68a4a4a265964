"""HTTP endpoints of the sandbox provider: discovery, JWKS, login page, token, userinfo, logout."""

from __future__ import annotations

import time

import structlog
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, jsonify, render_template, request

from adapters.gov_platform.codes import ACCOUNT_TYPE_LABELS

from . import web_session
from .discovery import (
    AUTHORIZE_PATH,
    DISCOVERY_PATH,
    JWKS_PATH,
    LOGOUT_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    provider_metadata,
)
from .oidc import SandboxAuthorizationServer

EXTENSION_KEY = "gov_platform_sandbox"
#: Logout parameters carried through the confirmation page (RP-Initiated Logout 1.0 §2).
LOGOUT_PARAMS = ("id_token_hint", "post_logout_redirect_uri", "state", "client_id", "logout_hint",
                 "ui_locales")

bp = Blueprint("govid", __name__)
log = structlog.get_logger("sandbox.gov_platform")

#: Chinese explanations of OAuth error codes shown when the browser cannot be sent back.
ERROR_MESSAGES = {
    "invalid_client": "发起登录的应用未在统一身份认证平台登记。",
    "invalid_request": "应用提交的登录请求参数不完整或不正确（例如回调地址未登记）。",
    "unsupported_response_type": "应用请求的响应类型不受支持，仅支持授权码模式。",
    "invalid_scope": "应用请求的授权范围不受支持。",
    "unauthorized_client": "该应用无权使用此登录方式。",
    "insecure_transport": "登录地址必须使用 HTTPS。",
}


def _server() -> SandboxAuthorizationServer:
    return current_app.extensions[EXTENSION_KEY]


@bp.get(DISCOVERY_PATH)
def discovery():
    return jsonify(provider_metadata(_server().issuer))


@bp.get(JWKS_PATH)
def jwks():
    return jsonify(_server().signing_key.public_jwks())


@bp.get(AUTHORIZE_PATH)
def authorize():
    """Authentication request: sign in silently if the browser already has a session (SSO),
    unless the client asks for ``prompt=login`` or a ``max_age`` the session exceeds."""
    server = _server()
    user = web_session.current_user(server.accounts)
    if user is not None and _exceeds_max_age(user.auth_time, request.args.get("max_age")):
        user = None
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _authorization_error(error)
    if user is not None and grant.prompt != "login":
        log.info("sso_reused", client_id=grant.client.client_id, sub=user.get_user_id())
        return server.create_authorization_response(grant_user=user, grant=grant)
    return _login_page(grant)


@bp.post(AUTHORIZE_PATH)
def sign_in():
    """The login form posts back to the authorization URL (its query string kept), so the
    authorization request is validated again from the same parameters."""
    server = _server()
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _authorization_error(error)
    if not web_session.csrf_valid(request.form.get("csrf_token")):
        log.warning("login_csrf_rejected", client_id=grant.client.client_id)
        return _login_page(grant, error="页面已过期，请重新输入用户名和密码。", status=400)

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    field_errors = {}
    if not username:
        field_errors["username"] = "请填写用户名"
    if not password:
        field_errors["password"] = "请填写密码"
    if field_errors:
        return _login_page(grant, username=username, field_errors=field_errors, status=422)

    account = server.accounts.authenticate(username, password)
    if account is None:
        log.info("login_failed", client_id=grant.client.client_id)
        return _login_page(grant, username=username, error="用户名或密码错误，请重新输入。")

    user = web_session.sign_in(account)
    log.info("login_succeeded", client_id=grant.client.client_id, sub=account.sub,
             account_type=account.account_type.value)
    return server.create_authorization_response(grant_user=user, grant=grant)


@bp.post(TOKEN_PATH)
def token():
    return _server().create_token_response()


@bp.route(USERINFO_PATH, methods=["GET", "POST"])
def userinfo():
    return _server().create_endpoint_response("userinfo")


@bp.route(LOGOUT_PATH, methods=["GET", "POST"])
def logout():
    """RP-Initiated Logout 1.0. A request that names the browser's session ends it at once: a
    valid ``id_token_hint`` for the signed-in person, or ``logout_hint`` equal to the session's
    ``sid`` (the id_token's claim; random, no personal data). It then returns to a
    ``post_logout_redirect_uri`` registered for the client named by ``client_id`` or by the
    hint's ``aud`` (with ``state``). Otherwise a signed-in person confirms first (§6:
    unauthenticated logout requests are a denial-of-service vector); nothing is redirected after
    an invalid request (§4)."""
    server = _server()
    try:
        end_request = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        log.warning("logout_request_rejected", error=error.error)
        end_request = None

    user = web_session.current_user(server.accounts)
    trusted = end_request is not None and not end_request.needs_confirmation
    needs_confirmation = user is not None and not _names_this_session(end_request, user)
    confirmed = (request.method == "POST" and request.form.get("confirm") == "1"
                 and web_session.csrf_valid(request.form.get("csrf_token")))
    if needs_confirmation and not confirmed:
        return render_template("confirm_logout.html", account=user.account,
                       hint_rejected=bool(request.values.get("id_token_hint")) and not trusted,
                       params=[(k, request.values[k]) for k in LOGOUT_PARAMS if request.values.get(k)],
                       csrf_token=web_session.csrf_token())

    if end_request is not None:
        response = server.create_endpoint_response("end_session", end_request)
        if response is not None:
            return response
    else:
        web_session.sign_out()
    return render_template("logged_out.html",
                   redirect_refused=bool(request.values.get("post_logout_redirect_uri")))


def end_browser_session(end_request) -> None:
    """Callback of the end-session endpoint."""
    client = end_request.client.client_id if end_request.client else None
    log.info("logout", client_id=client, redirected=bool(end_request.redirect_uri))
    web_session.sign_out()


# -- helpers -------------------------------------------------------------------------------------
def _names_this_session(end_request, user) -> bool:
    if end_request is None:
        return False
    if end_request.id_token_claims is not None:
        return end_request.id_token_claims.get("sub") == user.get_user_id()
    return web_session.is_this_session(user, end_request.logout_hint)


def _exceeds_max_age(auth_time: int, max_age: str | None) -> bool:
    """OpenID Connect Core §3.1.2.1: re-authenticate when the session is max_age seconds old or
    older (so ``max_age=0`` always asks again)."""
    if max_age is None:
        return False
    try:
        return time.time() - auth_time >= int(max_age)
    except ValueError:
        return False


def _authorization_error(error: OAuth2Error):
    """Back to the client with ``error`` when its redirect URI is trusted; otherwise (unknown
    client, unregistered redirect URI) a Chinese page here, never a redirect (RFC 6749 §4.1.2.1)."""
    log.info("authorization_request_rejected", error=error.error,
             redirected=bool(error.redirect_uri), client_id=request.values.get("client_id"))
    if error.redirect_uri:
        return _server().handle_error_response(None, error)
    message = ERROR_MESSAGES.get(error.error, "应用提交的登录请求无效。")
    return render_template("error.html", heading="登录请求无效", message=message,
                   error_code=error.error, error_description=error.description), 400


def _login_page(grant, *, username: str = "", error: str | None = None,
                field_errors: dict[str, str] | None = None, status: int = 200):
    server = _server()
    accounts = [
        {"username": a.username, "type_label": ACCOUNT_TYPE_LABELS[a.account_type], "name": a.name}
        for a in server.accounts
    ]
    page = render_template(
        "login.html",
        action=request.script_root + request.full_path,
        client=grant.client,
        username=username,
        error=error,
        field_errors=field_errors or {},
        accounts=accounts,
        csrf_token=web_session.csrf_token(),
    )
    return page, status
