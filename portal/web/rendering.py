"""Full page or htmx fragment from the same partial (Hypermedia Systems, Contact.app)."""

from __future__ import annotations

from flask import render_template, request


def wants_fragment(target_id: str | None = None) -> bool:
    """True for an htmx request aimed at a fragment; history restores get the full page."""
    if request.headers.get("HX-Request") != "true" or request.headers.get("HX-History-Restore-Request"):
        return False
    if target_id is None:
        return True
    return request.headers.get("HX-Target") == target_id


def render_partial_or_page(page: str, partial: str, target_id: str, **context) -> str:
    return render_template(partial if wants_fragment(target_id) else page, **context)
