"""The Flask side of materials that every area's views use: reading an uploaded file, and
answering with a stored one (:class:`FileResponse`). Web plumbing, imported directly by views
(like ``portal.auth.access``); services never import it.

Werkzeug spools the multipart body to a temporary file once it passed the app-wide
MAX_CONTENT_LENGTH (``max_request_mb``; larger bodies get the Chinese 413 page); of each file only
``upload_max_bytes + 1`` bytes are ever read into memory here.

    data, filename = read_upload(form.file.data)          # MaterialRejected (422) if too big
    stored = service.store_upload(db_session(), g.actor, data=data, filename=filename,
                                  kind="id_card", person_id=..., files_dir=files_dir(),
                                  max_bytes=upload_limit())
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Response
from werkzeug.datastructures import FileStorage

from portal.extensions import settings
from portal.materials.checks import (
    EMPTY,
    MaterialRejected,
    size_label,
    too_large_message,
)
from portal.materials.models import StoredFile


def upload_limit() -> int:
    """The configured cap of one uploaded file, in bytes (``upload_max_bytes``)."""
    return int(settings().upload_max_bytes)


def files_dir() -> Path:
    """Where stored files live (``files_dir``, resolved against the project root)."""
    return Path(settings().files_dir)


def upload_hint() -> str:
    """The hint shown beside every upload field: PDF、JPG、PNG，不超过10MB."""
    return f"PDF、JPG、PNG，不超过{size_label(upload_limit())}"


def read_upload(file_storage: FileStorage | None, *, max_bytes: int | None = None) -> tuple[bytes, str]:
    """The bytes and the client's filename of one uploaded file, refusing it when it is missing,
    empty or larger than the cap (read no further than one byte past the cap)."""
    if file_storage is None or not isinstance(file_storage, FileStorage) or not file_storage.filename:
        raise MaterialRejected("请选择要上传的文件", code="file_missing")
    limit = upload_limit() if max_bytes is None else max_bytes
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise MaterialRejected(too_large_message(limit), code="file_too_large")
    if not data:
        raise MaterialRejected(EMPTY, code="file_empty")
    return data, file_storage.filename


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
