"""Application factory of the unified-login sandbox (its own Flask app, its own cookie)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

import structlog
from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from adapters import sandbox_ui
from adapters.gov_platform.codes import SCOPES_SUPPORTED

from .accounts import load_accounts
from .keys import load_or_create_signing_key
from .models import Client
from .oidc import ACCESS_TOKEN_TTL_SECONDS, create_authorization_server
from .service_items import install as install_service_items
from .storage import MemoryStore
from .views import EXTENSION_KEY, bp, end_browser_session

#: Must differ from the portal's ``portal_session``: browsers share cookies across ports.
SESSION_COOKIE_NAME = "govid_session"
#: Responses a client may cache; everything else is ``no-store`` (pages carry CSRF tokens,
#: redirects carry codes).
_CACHEABLE_ENDPOINTS = frozenset({"govid.discovery", "govid.jwks", "sandbox_ui.static"})

log = structlog.get_logger("sandbox.gov_platform")


def create_sandbox_app(
    *,
    issuer: str,
    clients: list[dict],
    key_dir: str | Path | None = None,
    accounts_file: Path | None = None,
    service_item_apps: Mapping[str, str] | None = None,
    service_items_file: Path | None = None,
    testing: bool = False,
) -> Flask:
    """Build the sandbox OpenID Connect provider.

    :param issuer: e.g. ``http://127.0.0.1:5100`` (no trailing slash); every endpoint URL in the
        discovery document derives from it, and a path in it becomes the URL prefix.
    :param clients: ``{"client_id", "client_secret", "redirect_uris": [...],
        "post_logout_redirect_uris": [...]}`` per relying party.
    :param key_dir: where the RS256 signing key is kept as PEM; None = a new key in memory.
    :param accounts_file: demo accounts; default ``config/sandbox_accounts.toml``.
    :param service_item_apps: 一网通办 callers allowed to report 办件, ``{app_id: secret}``
        (the portal's ``gov_platform_app_id`` / ``gov_platform_secret``); none = every call refused.
    :param service_items_file: JSON file keeping 办件 across restarts; None = memory only.
    :param testing: also serve the fault knobs (``POST /gov/_sandbox/faults``) for tests.
    """
    issuer, prefix = _parse_issuer(issuer)
    registered = _register_clients(clients)
    accounts = load_accounts(accounts_file)
    signing_key = load_or_create_signing_key(key_dir)

    app = Flask(__name__, static_folder=None)
    app.config.update(
        # Per process: a restart signs everyone out of the sandbox, nothing else is lost.
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_PATH=prefix or "/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=issuer.startswith("https://"),
        OAUTH2_SCOPES_SUPPORTED=list(SCOPES_SUPPORTED),
        OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": ACCESS_TOKEN_TTL_SECONDS},
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    server = create_authorization_server(
        app, issuer=issuer, clients=registered, accounts=accounts, store=MemoryStore(),
        signing_key=signing_key, on_end_session=end_browser_session)
    app.extensions[EXTENSION_KEY] = server
    app.register_blueprint(bp, url_prefix=prefix)
    app.register_blueprint(sandbox_ui.bp, url_prefix=prefix)
    install_service_items(app, base_url=issuer, apps=service_item_apps, data_file=service_items_file,
                          testing=testing, prefix=prefix)
    _install_security_headers(app, _client_origins(registered.values()))
    _install_error_pages(app)

    log.info("sandbox_started", issuer=issuer, clients=sorted(registered), accounts=len(accounts),
             kid=signing_key.kid)
    return app


def _parse_issuer(issuer: str) -> tuple[str, str | None]:
    issuer = issuer.rstrip("/")
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"issuer must be an http(s) URL without query or fragment: {issuer!r}")
    return issuer, (parts.path or None)


def _register_clients(clients: Iterable[Mapping[str, Any]]) -> dict[str, Client]:
    registered: dict[str, Client] = {}
    for data in clients:
        client = Client.from_dict(data)
        if client.client_id in registered:
            raise ValueError(f"duplicate sandbox client {client.client_id!r}")
        registered[client.client_id] = client
    return registered


def _client_origins(clients: Iterable[Client]) -> list[str]:
    origins = set()
    for client in clients:
        for uri in (*client.redirect_uris, *client.post_logout_redirect_uris):
            parts = urlsplit(uri)
            if parts.scheme and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def _install_security_headers(app: Flask, client_origins: list[str]) -> None:
    # form-action must list the clients: browsers apply it to the redirect that follows the
    # login form's POST, and that redirect goes to the client's redirect URI.
    csp = "; ".join([
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action " + " ".join(["'self'", *client_origins]),
    ])

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.endpoint not in _CACHEABLE_ENDPOINTS:
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


def _install_error_pages(app: Flask) -> None:
    messages = {404: ("页面不存在", "您访问的地址在统一身份认证沙箱中不存在。"),
                405: ("请求方式不受支持", "该地址不支持此请求方式。")}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        heading, message = messages.get(error.code or 500, ("请求无法处理", "请求无法处理，请返回应用重试。"))
        return render_template("error.html", heading=heading, message=message), error.code

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        log.exception("sandbox_error", path=request.path)
        return render_template("error.html", heading="系统错误",
                               message="统一身份认证沙箱出现内部错误，请稍后重试。"), 500
