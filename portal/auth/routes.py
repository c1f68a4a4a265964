"""Unified login (统一身份认证): sign in, callback, sign out. The portal has no other login."""

from __future__ import annotations

import requests
import structlog
from authlib.common.errors import AuthlibBaseError
from flask import Blueprint, g, redirect, request, session, url_for

from portal import metrics
from portal.accounts import service as accounts
from portal.auth import oidc
from portal.auth.access import public, signed_in
from portal.errors import DomainError
from portal.extensions import db_session, limiter, settings
from portal.web.errors import error_response
from portal.web.urls import safe_next

bp = Blueprint("auth", __name__)
log = structlog.get_logger("portal.auth")
#: session key of the platform's session id (the id_token's ``sid``), sent back at logout
LOGOUT_HINT = "platform_sid"


def _login_limit() -> str:
    return settings().ratelimit_login


@bp.get("/login")
@public
@limiter.limit(_login_limit)
def login():
    if g.actor.is_authenticated:
        return redirect(url_for("home.index"), 303)
    session["next"] = safe_next(request.args.get("next"))
    redirect_uri = settings().oidc_redirect_uri or url_for("auth.callback", _external=True)
    # After a refused or failed sign-in the platform must ask again (another account may be
    # needed) instead of silently signing the same account in.
    extra = {"prompt": "login"} if session.pop("ask_platform_login", False) else {}
    try:
        return oidc.client().authorize_redirect(redirect_uri, **extra)
    except (requests.RequestException, AuthlibBaseError, ValueError) as exc:
        log.warning("login.platform_unreachable", error=type(exc).__name__)
        return error_response(503, "统一身份认证平台暂时无法访问，请稍后再试。", "idp_unavailable")


@bp.get("/auth/callback")
@public
@limiter.limit(_login_limit)
def callback():
    try:
        claims = dict(oidc.client().authorize_access_token().get("userinfo") or {})
        if not claims:
            raise ValueError("no id_token")
        snapshot = accounts.sign_in_from_platform(db_session(), claims, g.actor.client_addr, g.request_id)
    except DomainError as exc:
        return _failed(exc.code, exc.message)
    except (AuthlibBaseError, requests.RequestException, ValueError, KeyError) as exc:
        reason = getattr(exc, "error", None) or type(exc).__name__
        log.warning("login.failed", reason=reason)
        return _failed(str(reason)[:60], "登录未成功：统一身份认证的返回无效或已过期，请重新登录。")
    next_url = safe_next(session.get("next"))
    session.clear()
    session.rotate()  # a new session id at login (session fixation)
    session.update(snapshot)
    # Of the token response only an opaque logout hint is kept (see portal.auth.oidc).
    hint = oidc.logout_hint(claims)
    if hint:
        session[LOGOUT_HINT] = hint
    metrics.LOGINS.labels("success").inc()
    return redirect(next_url or url_for("home.index"), 303)


def _failed(reason: str, message: str):
    """The service audits the failure in its own transaction: this request's unit of work
    rolls back."""
    metrics.LOGINS.labels("failure").inc()
    session["ask_platform_login"] = True
    accounts.record_login_failure(db_session(), g.actor, reason)
    return error_response(400 if reason != "login_refused" else 403, message, "login_failed")


@bp.post("/logout")
@signed_in
def logout():
    accounts.record_logout(db_session(), g.actor)
    hint = session.get(LOGOUT_HINT)
    session.revoke()
    target = url_for("public.home", _external=True)
    try:
        end_session = oidc.end_session_url(target, hint)
    except (requests.RequestException, AuthlibBaseError, ValueError):
        end_session = None  # the portal session is gone either way
    return redirect(end_session or target, 303)
