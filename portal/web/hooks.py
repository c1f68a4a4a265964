"""Per-request plumbing: request id, actor, access policy, commit at the edge, headers, log line."""

from __future__ import annotations

import functools
import re
import secrets
import time
import uuid

import structlog
from flask import Flask, Response, abort, g, redirect, request, session, url_for

from portal import metrics
from portal.auth.access import Decision, policy_of
from portal.auth.roles import Actor, Role, anonymous
from portal.db import set_write_intent
from portal.extensions import settings

log = structlog.get_logger("portal.request")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
LARGE_TEXT_COOKIE = "portal_text_size"


def init_app(app: Flask) -> None:
    app.before_request(_start_request)
    app.before_request(_session_readable)
    app.before_request(_load_actor)
    app.before_request(_enforce_access_policy)
    app.after_request(_security_headers)
    app.after_request(_log_request)
    app.teardown_request(_forget_request)
    app.context_processor(_template_context)


def _start_request() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.csp_nonce = secrets.token_urlsafe(16)
    set_write_intent(request.method not in SAFE_METHODS)


def _session_readable() -> None:
    """A visitor whose session cookie could not be looked up (the database failed) is neither
    signed in nor signed out: the database fault answers 503 (``portal.web.errors``) instead of
    the access policy sending them to sign in again."""
    error = getattr(session, "load_error", None)
    if error is not None:
        raise error


def actor_from_session(data, client_addr: str | None, request_id: str | None) -> Actor:
    """Rebuild the actor from what sign-in stored in the server-side session."""
    role = data.get("role")
    if not role or data.get("account_id") is None:
        return anonymous(client_addr, request_id)
    return Actor(
        role=Role(role), account_id=data["account_id"], display_name=data.get("display_name", ""),
        city_code=data.get("city_code"), person_id=data.get("person_id"),
        organisation_id=data.get("organisation_id"), office=data.get("office"),
        client_addr=client_addr, request_id=request_id,
    )


def _load_actor() -> None:
    g.actor = actor_from_session(session, request.remote_addr, g.request_id)
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def _enforce_access_policy():
    if request.endpoint is None:
        return None  # 404/405: the error handler answers
    policy = policy_of(_view_function())
    if policy is None:
        log.error("access.no_policy", endpoint=request.endpoint)
        abort(403)
    staff_net = policy.network_restricted and metrics.address_in_networks(
        request.remote_addr, settings().metrics_allowed_networks)
    decision = policy.decide(g.actor, staff_net)
    if decision is Decision.ALLOW:
        return None
    if decision is Decision.LOGIN:
        target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if request.headers.get("HX-Request") == "true":
            response = Response(status=204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, 303)
    abort(403)


def _view_function():
    from flask import current_app

    return current_app.view_functions.get(request.endpoint)


def _forget_request(exc) -> None:
    structlog.contextvars.clear_contextvars()
    set_write_intent(False)  # the thread's next unit of work (a job, a test) starts as a reader


def content_security_policy(nonce: str) -> str:
    before, after = _policy_around_nonce(settings().oidc_issuer, settings().tax_platform_url)
    return f"{before}{nonce}{after}"


@functools.lru_cache(maxsize=8)
def _policy_around_nonce(oidc_issuer: str, tax_platform_url: str) -> tuple[str, str]:
    """The policy before and after the nonce: configuration is fixed at start-up, so only the
    nonce changes from one response to the next."""
    marker = "\x00nonce\x00"
    policy = "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{marker}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        # logout and login hand over to the provincial platform; 去缴费 to the tax platform
        f"form-action 'self' {oidc_issuer.rstrip('/')} {tax_platform_url.rstrip('/')}",
    ])
    before, _, after = policy.partition(marker)
    return before, after


def _security_headers(response: Response) -> Response:
    conf = settings()
    nonce = g.get("csp_nonce") or secrets.token_urlsafe(16)
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(nonce)
    headers.update(_STATIC_HEADERS)
    headers["X-Request-ID"] = g.get("request_id", "")
    if conf.is_production:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    actor = g.get("actor")
    if actor is not None and actor.is_authenticated:
        headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    return response


#: the same on every response
_STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _log_request(response: Response) -> Response:
    started = g.get("started")
    seconds = time.perf_counter() - started if started else 0.0
    endpoint = request.endpoint or "unmatched"
    actor = g.get("actor")
    metrics.observe_request(request.method, endpoint, response.status_code, seconds)
    if endpoint != "static":
        log.info(
            "request", method=request.method, endpoint=endpoint,
            # the URL rule, not the raw path: no identifiers or query strings in logs
            route=request.url_rule.rule if request.url_rule else None,
            status=response.status_code, duration_ms=round(seconds * 1000, 1),
            role=actor.role.value if actor is not None and actor.role else None,
            city=actor.city_code if actor is not None else None,
        )
    return response


def _template_context() -> dict:
    return {
        "actor": g.get("actor"),
        "csp_nonce": g.get("csp_nonce", ""),
        "large_text": request.cookies.get(LARGE_TEXT_COOKIE) == "large",
    }

