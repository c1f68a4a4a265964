"""Views of materials: serving a stored file to those allowed to read it.

``FileResponse`` (defined in ``portal.materials.uploads``, the view-side helpers every area's views
use) stays importable from here for the views that took it from this module.
"""

from __future__ import annotations

from flask import Blueprint, g, request

from portal.auth.access import signed_in
from portal.extensions import db_session
from portal.materials import service
from portal.materials.uploads import FileResponse, files_dir, upload_hint

__all__ = ["FileResponse", "bp"]

bp = Blueprint("materials", __name__, url_prefix="/files")


@bp.get("/<string:token>")
@signed_in
def download(token: str):
    """The file, decrypted, for its owner, its organisation (not medical) or staff a rule allows.

    404 when missing or not allowed alike. The service audits the read in its own committed
    transaction before any byte is sent. ``?download=1`` asks the browser to save rather than
    show it.
    """
    stored, data = service.read_file(db_session(), g.actor, token, files_dir=files_dir())
    disposition = "attachment" if request.args.get("download") == "1" else "inline"
    return FileResponse(data, stored, disposition)


@bp.app_template_filter("file_size")
def file_size(size: int | None) -> str:
    """350 KB, 1.2 MB: sizes as applicants read them."""
    if size is None:
        return "—"
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@bp.app_template_global("material_kind_label")
def material_kind_label(code: str) -> str:
    return service.kind_label(code)


@bp.app_template_global("materials_upload_hint")
def materials_upload_hint() -> str:
    return upload_hint()
