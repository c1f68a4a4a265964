"""The look shared by every sandbox peer's pages: one stylesheet and one page layout.

A sandbox app registers ``bp`` (under its own URL prefix) and its base template extends
``sandbox_ui/base.html``, filling the blocks ``platform_name``, ``sandbox_notice`` and
``footer_note``.
"""

from flask import Blueprint

bp = Blueprint("sandbox_ui", __name__, static_folder="static", template_folder="templates",
               static_url_path="/static/sandbox-ui")
