"""Stored files (材料): the record of each uploaded or issued document. The bytes live encrypted
in ``files_dir`` under ``storage_key``, never in the database and never under ``static/``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class StoredFile(Base):
    """One document as the portal holds it (已存材料), after content checks and re-encoding."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: random URL-safe public id used in links (/files/<token>); never the integer id
    token: Mapped[str] = mapped_column(String(64), unique=True)
    #: whose document it is (e.g. the injured worker); NULL for an organisation's own document
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    #: the employer (用人单位) the document concerns
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: 材料种类 code from config/policy/material_kinds.toml (id_card, medical_certificate, ...)
    kind: Mapped[str] = mapped_column(String(40))
    #: 医疗内容: employers never see medical files
    medical: Mapped[bool] = mapped_column(default=False)
    #: the uploader's filename, sanitised, for display only (never used on disk)
    display_name: Mapped[str] = mapped_column(String(120))
    #: application/pdf, image/jpeg or image/png, decided from the content
    content_type: Mapped[str] = mapped_column(String(40))
    #: size in bytes of the content as stored (before encryption)
    size: Mapped[int]
    #: SHA-256 (hex) of the content as stored, after re-encoding: what receipts print
    sha256: Mapped[str] = mapped_column(String(64))
    #: SHA-256 (hex) of the bytes as received, before re-encoding
    upload_sha256: Mapped[str] = mapped_column(String(64))
    #: random name of the encrypted file under files_dir (also its encryption context)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    @property
    def is_image(self) -> bool:
        return self.content_type in ("image/jpeg", "image/png")
