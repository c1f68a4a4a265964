"""Public pages: the portal's home, the service catalogue (办事指南) and its look-up, the blank forms
of its items (PDF), the contact page (咨询电话, 办理地点), and the large-text preference (适老化大字
模式). No sign-in needed; nothing here reads personal data.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import validate_csrf
from werkzeug.routing import BuildError
from wtforms.validators import ValidationError

from portal.auth.access import public
from portal.documents import html_to_pdf
from portal.extensions import csrf, limiter, settings
from portal.public import service
from portal.web.errors import error_response
from portal.web.hooks import LARGE_TEXT_COOKIE
from portal.web.limits import (
    document_cache,
    document_key,
    public_pdf_limit,
    template_fingerprint,
)
from portal.web.page_cache import same_for_every_visitor
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
    """Load and validate the catalogue and the contacts when the app is built: a broken file
    stops start-up."""
    service.catalogue()
    service.contacts(_state.app.config["PORTAL_SETTINGS"].contact_hotline)


@bp.app_template_global("contact")
def contact() -> service.Contacts:
    """The hotline and the city offices (footer, error pages, service guide, /contact)."""
    values = settings()
    return service.contacts(values.contact_hotline, values.contact_hotline_name)


@bp.app_template_global("service_link")
def service_link(code: str) -> tuple[str, str] | None:
    """(name, URL) of a catalogue item: where it starts online here, else its service guide;
    None when the catalogue has no such item."""
    item = service.catalogue().get(code)
    if item is None:
        return None
    return item.name, online_url(item) or url_for("public.service", code=code)


@bp.app_template_global("online_url")
def online_url(item: service.ServiceItem) -> str | None:
    """Where an item starts online in this portal; None when it is not online here."""
    if not item.online:
        return None
    try:
        return url_for(item.online)
    except BuildError:
        return None


@bp.get("/")
@public
@same_for_every_visitor
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


@bp.get("/services/<code>/forms/<form_code>.pdf", endpoint="blank_form")
@public
@public_pdf_limit
def blank_form(code: str, form_code: str):
    """A blank form of an item (e.g. 工伤认定申请表) as a PDF to print and fill in by hand. The same
    for everyone: rendered once per template version and kept in the document cache."""
    catalogue = service.catalogue()
    form = catalogue.form(code, form_code)
    if form is None:
        abort(404)
    item = catalogue.get(code)

    def render() -> bytes:
        return html_to_pdf(render_template(form.template, form=form, item=item))

    key = document_key("public.blank_form", code, form_code,
                       template_fingerprint(current_app.jinja_env, form.template), contact())
    pdf = document_cache("public.blank_forms").get_or_render(key, render)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    download = "attachment" if request.args.get("download") == "1" else "inline"
    response.headers["Content-Disposition"] = f'{download}; filename="{form_code}.pdf"'
    return response


@bp.get("/contact", endpoint="contact")
@public
def show_contact():
    """联系我们: the hotline and, per city, where to apply in person."""
    return render_template("public/contact.html")


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
