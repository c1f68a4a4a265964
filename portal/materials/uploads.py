"""Reading an uploaded file in a view, for every area that takes materials (Flask side).

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

from werkzeug.datastructures import FileStorage

from portal.extensions import settings
from portal.materials.checks import (
    EMPTY,
    MaterialRejected,
    size_label,
    too_large_message,
)


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
