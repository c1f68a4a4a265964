"""Views of materials: serving a stored file to those allowed to read it."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, g, request

from portal.auth.access import signed_in
from portal.extensions import separate_transaction
from portal.materials import service
from portal.materials.kinds import kind_label
from portal.materials.models import StoredFile
from portal.materials.uploads import files_dir, upload_hint

bp = Blueprint("materials", __name__, url_prefix="/files")


@bp.get("/<string:token>")
@signed_in
def download(token: str):
    """The file, decrypted, for its owner, its organisation (not medical) or staff a rule allows.

    404 when missing or not allowed alike. The read is audited in its own committed transaction
    before any byte is sent. ``?download=1`` asks the browser to save rather than show it.
    """
    with separate_transaction() as sess:
        stored = service.readable_by_token(sess, g.actor, token)
        data = service.read_content(sess, g.actor, stored, files_dir=files_dir())
    disposition = "attachment" if request.args.get("download") == "1" else "inline"
    return FileResponse(data, stored, disposition)


class FileResponse(Response):
    """A stored file with headers that make it inert in the browser.

    The app-wide after-request hook sets the page CSP and ``Cache-Control: no-store`` on every
    response; these headers are applied last, when the response is sent, so a file keeps its own
    stricter policy: no scripts, no plugins, no same-origin access (``sandbox``), nothing loaded
    (``default-src 'none'``), never sniffed as HTML, never cached by a shared cache.
    """

    def __init__(self, data: bytes, stored: StoredFile, disposition: str) -> None:
        super().__init__(data, mimetype=stored.content_type)
        name = stored.display_name
        ascii_name = name if name.isascii() else f"file{name[name.rfind('.'):]}"
        self.file_headers = {
            "Content-Type": stored.content_type,
            "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; "
                                   f"filename*=UTF-8''{quote(name, safe='')}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        }
        self.headers.update(self.file_headers)

    def get_wsgi_headers(self, environ):
        headers = super().get_wsgi_headers(environ)
        for key, value in self.file_headers.items():
            headers[key] = value
        return headers


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
    return kind_label(code)


@bp.app_template_global("materials_upload_hint")
def materials_upload_hint() -> str:
    return upload_hint()
