"""Public pages: the portal's home, the service catalogue (办事指南) and its look-up, and the
large-text preference (适老化大字模式). No sign-in needed; nothing here reads personal data.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from portal.auth.access import public
from portal.extensions import csrf, limiter, settings
from portal.public import service
from portal.web.errors import error_response
from portal.web.hooks import LARGE_TEXT_COOKIE
from portal.web.rendering import render_partial_or_page
from portal.web.urls import safe_next

bp = Blueprint("public", __name__)

#: the look-up ignores anything longer (no item name comes close)
MAX_QUERY_LENGTH = 50
TEXT_SIZES = ("large", "normal")
TEXT_SIZE_MAX_AGE = 365 * 24 * 3600
_CSRF_MESSAGE = "页面已过期或表单校验失败，请刷新页面后重新提交。"


@bp.record_once
def _check_catalogue(_state) -> None:
    """Load and validate the catalogue when the app is built: a broken file stops start-up."""
    service.catalogue()


@bp.get("/")
@public
def home():
    catalogue = service.catalogue()
    return render_template("public/home.html", catalogue=catalogue, items=catalogue.items, query="")


@bp.get("/services/search", endpoint="search")
@public
@limiter.limit(lambda: settings().ratelimit_public_lookup)
def search_services():
    """Filter the catalogue by keyword (name, applicants, materials); htmx gets the result list."""
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    catalogue = service.catalogue()
    return render_partial_or_page("public/search.html", "public/_catalogue_results.html",
                                  "catalogue-results", catalogue=catalogue, items=catalogue.search(query),
                                  query=query)


@bp.get("/services/<code>", endpoint="service")
@public
def show_service(code: str):
    catalogue = service.catalogue()
    item = catalogue.get(code)
    if item is None:
        abort(404)
    return render_template("public/service.html", catalogue=catalogue, item=item)


@bp.post("/preferences/text-size")
@public
@csrf.exempt  # checked below: the form token when there is a session, the origin otherwise
def set_text_size():
    """Switch large-text mode (大字模式) on or off with a cookie, then go back where the form was.

    Signed-in visitors post the standard Flask-WTF form token. Anonymous visitors get no server
    session (public pages write nothing), so there is no token to check; for them the request
    must not come from another site (Origin / Sec-Fetch-Site). Either way the worst a forged
    request could do is change the text size.
    """
    token = request.form.get("csrf_token")
    if token or g.actor.is_authenticated:
        try:
            validate_csrf(token)
        except ValidationError:
            return error_response(400, _CSRF_MESSAGE, "csrf_failed")
    elif _cross_site():
        return error_response(400, _CSRF_MESSAGE, "csrf_failed")
    size = request.form.get("size", "")
    if size not in TEXT_SIZES:
        return error_response(422, "字号设置无效，请在页面上选择“大字模式”或“标准字号”。", "invalid_text_size")
    response = redirect(safe_next(request.form.get("next")) or url_for("public.home"), 303)
    secure = bool(settings().session_cookie_secure) or settings().is_production
    if size == "large":
        response.set_cookie(LARGE_TEXT_COOKIE, "large", max_age=TEXT_SIZE_MAX_AGE, path="/",
                            samesite="Lax", httponly=True, secure=secure)
    else:
        response.delete_cookie(LARGE_TEXT_COOKIE, path="/", samesite="Lax", httponly=True, secure=secure)
    return response


def _cross_site() -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin != request.host_url.rstrip("/")
    return False  # non-browser client: nothing to protect here
