"""Per-request plumbing: request id, actor, access policy, commit at the edge, headers, log line."""

from __future__ import annotations

import functools
import re
import secrets
import time
import uuid

import structlog
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)

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
    # one hook each way rather than one per step: Flask's per-hook dispatch is a fair share of a
    # cached page's cost
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_forget_request)
    app.context_processor(_template_context)
    app.ensure_sync = _remembering_sync_functions(app.ensure_sync)  # type: ignore[method-assign]


def _remembering_sync_functions(ensure_sync):
    """Flask asks, for every hook and view of every request, whether it is a coroutine function
    (``inspect``, about a microsecond each, a dozen times a request). The answer for a given
    function never changes: plain functions are remembered and handed back as they are; anything
    else goes through Flask's own conversion every time."""
    plain: set = set()

    def ensure_sync_remembered(func):
        try:
            if func in plain:
                return func
        except TypeError:  # unhashable: not worth remembering
            return ensure_sync(func)
        converted = ensure_sync(func)
        if converted is func:
            if len(plain) >= 4096:  # functions made per request would otherwise pile up
                plain.clear()
            plain.add(func)
        return converted

    return ensure_sync_remembered


def _before_request():
    """Request id, CSP nonce and write intent; the session's readability; the actor; the access
    policy. The request and ``g`` are looked up once (each proxy access costs)."""
    req, ctx = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
    ctx.started = time.perf_counter()
    incoming = req.headers.get("X-Request-ID", "")
    ctx.request_id = request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    ctx.csp_nonce = secrets.token_urlsafe(16)
    set_write_intent(req.method not in SAFE_METHODS)
    _session_readable()
    ctx.actor = actor_from_session(session, req.remote_addr, request_id)
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return _enforce_access_policy(req, ctx.actor)


def _after_request(response: Response) -> Response:
    ctx = g._get_current_object()  # type: ignore[attr-defined]
    return _security_headers(_log_request(response, ctx), ctx)


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


def _enforce_access_policy(req, actor: Actor):
    endpoint = req.endpoint
    if endpoint is None:
        return None  # 404/405: the error handler answers
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    policy = policy_of(app.view_functions.get(endpoint))
    if policy is None:
        log.error("access.no_policy", endpoint=endpoint)
        abort(403)
    staff_net = policy.network_restricted and metrics.address_in_networks(
        req.remote_addr, app.config["PORTAL_SETTINGS"].metrics_allowed_networks)
    decision = policy.decide(actor, staff_net)
    if decision is Decision.ALLOW:
        return None
    if decision is Decision.LOGIN:
        target = url_for("auth.login", next=req.full_path.rstrip("?") if req.method == "GET" else None)
        if req.headers.get("HX-Request") == "true":
            response = Response(status=204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, 303)
    abort(403)


def _forget_request(exc) -> None:
    structlog.contextvars.clear_contextvars()
    set_write_intent(False)  # the thread's next unit of work (a job, a test) starts as a reader


def content_security_policy(nonce: str, conf=None) -> str:
    conf = conf if conf is not None else settings()
    before, after = _policy_around_nonce(conf.oidc_issuer, conf.tax_platform_url)
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


def _security_headers(response: Response, ctx=None) -> Response:
    ctx = ctx if ctx is not None else g._get_current_object()  # type: ignore[attr-defined]
    conf = settings()
    nonce = ctx.get("csp_nonce") or secrets.token_urlsafe(16)
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(nonce, conf)
    headers.update(_STATIC_HEADERS)
    headers["X-Request-ID"] = ctx.get("request_id", "")
    if conf.is_production:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    actor = ctx.get("actor")
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


def _log_request(response: Response, ctx=None) -> Response:
    ctx = ctx if ctx is not None else g._get_current_object()  # type: ignore[attr-defined]
    req = request._get_current_object()  # type: ignore[attr-defined]
    started = ctx.get("started")
    seconds = time.perf_counter() - started if started else 0.0
    endpoint = req.endpoint or "unmatched"
    actor = ctx.get("actor")
    status = response.status_code
    metrics.observe_request(req.method, endpoint, status, seconds)
    if endpoint != "static":
        rule = req.url_rule
        log.info(
            "request", method=req.method, endpoint=endpoint,
            # the URL rule, not the raw path: no identifiers or query strings in logs
            route=rule.rule if rule else None,
            status=status, duration_ms=round(seconds * 1000, 1),
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

