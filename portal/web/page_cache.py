"""Pages that are the same for every anonymous visitor (the public home page): rendered once per
process and kept; only the CSP nonce differs from one visitor to the next, and it is put in per
request.

Configuration is read at start-up, not per request (``portal.config``), so such a page changes
with the code or the configuration, that is with a restart. What else it may depend on is in the
key: the path, the large-text preference, the script root (a reverse proxy's prefix) and the
day (policy figures are effective-dated, so a page shown after midnight is rendered afresh). Anyone
signed in, a session holding anything (a flashed message), htmx requests, query strings and
anything but a plain page (a redirect, an error) bypass the cache.
"""

from __future__ import annotations

import functools
import secrets
from typing import Callable

from flask import current_app, g, request, session

from portal.localtime import local_today
from portal.web.hooks import LARGE_TEXT_COOKIE

#: stands in for the nonce while the page is rendered once; never sent
_NONCE_MARK = f"portal-nonce-{secrets.token_hex(12)}"
_MAX_PAGES = 64
_CACHE = "portal.page_cache"


def _cacheable(req, ctx) -> bool:
    actor = ctx.get("actor")
    return (req.method == "GET" and not req.query_string and not session
            and (actor is None or not actor.is_authenticated)
            and "HX-Request" not in req.headers)


def same_for_every_visitor(view: Callable) -> Callable:
    """Serve an anonymous visitor's page from the process's cache (see the module's docstring)."""

    @functools.wraps(view)
    def cached(*args, **kwargs):
        # the request and g looked up once: each access through Flask's proxies costs
        req, ctx = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
        if not _cacheable(req, ctx):
            return view(*args, **kwargs)
        pages: dict = current_app.extensions.setdefault(_CACHE, {})
        key = (req.endpoint, req.path, req.script_root,
               req.cookies.get(LARGE_TEXT_COOKIE) == "large", local_today())
        body = pages.get(key)
        if body is None:
            nonce, ctx.csp_nonce = ctx.csp_nonce, _NONCE_MARK
            try:
                body = view(*args, **kwargs)
            finally:
                ctx.csp_nonce = nonce
            if not isinstance(body, str):
                return body
            if len(pages) >= _MAX_PAGES:
                pages.clear()  # yesterday's pages, mostly
            pages[key] = body
        return body.replace(_NONCE_MARK, ctx.csp_nonce)

    return cached
