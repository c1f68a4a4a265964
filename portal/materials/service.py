"""Storing and reading materials (材料). Plain Python: no Flask.

Who may read a stored file:

* never anyone not signed in, and never an employer when the file is medical (医疗内容), whatever
  any rule says;
* otherwise, if any registered access rule answers False, no one;
* otherwise the uploader's own account, the person the file belongs to, and the organisation it
  concerns (not medical) may read it;
* anyone else only when a registered rule answers True. Areas that link files to their own
  records (e.g. recognition cases: the officer of the case's city) register such rules with
  :func:`register_access_rule`.

Not allowed and not there look the same from outside (NotFoundError), so tokens cannot be probed.

This module is the materials area's one door: it also gives the kinds of material
(:mod:`portal.materials.kinds`, ``config/policy/material_kinds.toml``) and the refusal of an
upload (:class:`MaterialRejected`, from :mod:`portal.materials.checks`). Reading an upload in a
view and answering with a stored file are web plumbing in :mod:`portal.materials.uploads`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import independent_transaction
from portal.errors import NotFoundError
from portal.materials import checks, storage
from portal.materials.checks import MaterialRejected
from portal.materials.kinds import (
    MaterialKind,
    kind_label,
    material_kind,
    material_kinds,
    reusable_kinds,
)
from portal.materials.models import StoredFile
from portal.security.crypto import Keyring
from portal.security.fields import keyring as installed_keyring

__all__ = [
    # kinds of material
    "MaterialKind", "kind_label", "material_kind", "material_kinds", "reusable_kinds",
    # storing
    "DEFAULT_MAX_BYTES", "MaterialRejected", "StoredFile", "store_generated", "store_upload",
    # who may read, and reading
    "AccessRule", "StoredFileCorrupt", "get_by_token", "may_read", "read_content", "read_file",
    "readable_by_token", "register_access_rule", "reusable_documents", "unregister_access_rule",
    # key rotation
    "ResealResult", "reseal_all_files",
]

#: the default upload cap (settings: upload_max_bytes); routes pass the configured one
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

#: an access rule: True allows, False denies (overrides every allow), None has no opinion
AccessRule = Callable[[Session, Actor, StoredFile], bool | None]
_access_rules: list[AccessRule] = []

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class StoredFileCorrupt(RuntimeError):
    """The decrypted content does not match the SHA-256 recorded when it was stored."""


def register_access_rule(rule: AccessRule) -> AccessRule:
    """Let another area decide who may read files it links; usable as a decorator. Idempotent."""
    if rule not in _access_rules:
        _access_rules.append(rule)
    return rule


def unregister_access_rule(rule: AccessRule) -> None:
    if rule in _access_rules:
        _access_rules.remove(rule)


def may_read(sess: Session, actor: Actor, stored_file: StoredFile) -> bool:
    if not actor.is_authenticated:
        return False
    if actor.role is Role.EMPLOYER and stored_file.medical:
        return False  # employers never see medical content
    opinions = [rule(sess, actor, stored_file) for rule in list(_access_rules)]
    if any(opinion is False for opinion in opinions):
        return False
    if _allowed_by_default(actor, stored_file):
        return True
    return any(opinion is True for opinion in opinions)


def _allowed_by_default(actor: Actor, stored_file: StoredFile) -> bool:
    if actor.account_id is not None and actor.account_id == stored_file.uploaded_by:
        return True
    if actor.owns_person(stored_file.person_id):
        return True
    return actor.owns_organisation(stored_file.organisation_id) and not stored_file.medical


def store_upload(
    sess: Session,
    actor: Actor,
    *,
    data: bytes,
    filename: str,
    kind: str,
    person_id: int | None = None,
    organisation_id: int | None = None,
    files_dir: Path,
    medical: bool | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> StoredFile:
    """Check an upload by its content, re-encode or rewrite it, store it encrypted, record it.

    ``kind`` is a code from config/policy/material_kinds.toml; ``medical`` defaults to the kind's
    flag. The caller decides whose document it is (``person_id``, ``organisation_id``): those
    are who may read it by default. Raises MaterialRejected (422) with a Chinese message.
    """
    material = material_kind(kind)
    checked = checks.check_content(data, max_bytes=max_bytes)
    stored = _store(sess, actor, data=checked.data, upload_sha256=checked.upload_sha256,
                    content_type=checked.content_type, filename=filename, fallback_name=material.label,
                    kind=material.code, medical=material.medical if medical is None else medical,
                    person_id=person_id, organisation_id=organisation_id, files_dir=files_dir)
    audit.record(sess, actor, "materials.upload", object_type="stored_file", object_id=stored.id,
                 detail={"kind": stored.kind, "content_type": stored.content_type, "size": stored.size,
                         "sha256": stored.sha256, "reencoded": stored.sha256 != stored.upload_sha256})
    return stored


def store_generated(
    sess: Session,
    actor: Actor,
    *,
    data: bytes,
    filename: str,
    kind: str,
    content_type: str = checks.PDF,
    person_id: int | None = None,
    organisation_id: int | None = None,
    files_dir: Path,
    medical: bool | None = None,
) -> StoredFile:
    """Store a document the portal itself issued (receipt, decision) as it is: no re-encoding,
    so the SHA-256 printed or sent elsewhere is that of the exact bytes."""
    material = material_kind(kind)
    if content_type not in checks.EXTENSIONS or checks.sniff(data) != content_type:
        raise ValueError(f"generated document is not {content_type}")
    digest = hashlib.sha256(data).hexdigest()
    stored = _store(sess, actor, data=data, upload_sha256=digest, content_type=content_type,
                    filename=filename, fallback_name=material.label, kind=material.code,
                    medical=material.medical if medical is None else medical,
                    person_id=person_id, organisation_id=organisation_id, files_dir=files_dir)
    audit.record(sess, actor, "materials.generate", object_type="stored_file", object_id=stored.id,
                 detail={"kind": stored.kind, "content_type": stored.content_type, "size": stored.size,
                         "sha256": stored.sha256})
    return stored


def _store(sess: Session, actor: Actor, *, data: bytes, upload_sha256: str, content_type: str,
           filename: str, fallback_name: str, kind: str, medical: bool, person_id: int | None,
           organisation_id: int | None, files_dir: Path) -> StoredFile:
    # The file is written before the row; a rolled-back transaction leaves an unreferenced
    # encrypted file behind (harmless, and unreadable without its row's key).
    key = storage.write(Path(files_dir), installed_keyring(), data)
    stored = StoredFile(
        token=secrets.token_urlsafe(24), person_id=person_id, organisation_id=organisation_id,
        kind=kind, medical=medical,
        display_name=checks.display_name(filename, content_type, fallback=fallback_name),
        content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        upload_sha256=upload_sha256, storage_key=key, uploaded_by=actor.account_id,
    )
    sess.add(stored)
    sess.flush()
    return stored


def get_by_token(sess: Session, token: str) -> StoredFile | None:
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    return sess.scalars(select(StoredFile).where(StoredFile.token == token)).one_or_none()


def readable_by_token(sess: Session, actor: Actor, token: str) -> StoredFile:
    """The file behind ``token`` if ``actor`` may read it; NotFoundError otherwise (both cases)."""
    stored = get_by_token(sess, token)
    if stored is None or not may_read(sess, actor, stored):
        raise NotFoundError("文件不存在，或您无权查看", code="file_not_found")
    return stored


def read_content(sess: Session, actor: Actor, stored_file: StoredFile, *, files_dir: Path) -> bytes:
    """The decrypted content, if ``actor`` may read it; the read is audited in ``sess``."""
    if not may_read(sess, actor, stored_file):
        raise NotFoundError("文件不存在，或您无权查看", code="file_not_found")
    data = storage.read(Path(files_dir), installed_keyring(), stored_file.storage_key)
    if hashlib.sha256(data).hexdigest() != stored_file.sha256:
        raise StoredFileCorrupt(f"stored file {stored_file.id} does not match its SHA-256")
    audit.record(sess, actor, "materials.read", object_type="stored_file", object_id=stored_file.id,
                 detail={"kind": stored_file.kind})
    return data


def read_file(sess: Session, actor: Actor, token: str, *, files_dir: Path) -> tuple[StoredFile, bytes]:
    """The file behind ``token`` and its decrypted content, if ``actor`` may read it.

    The read is audited in an independent transaction, committed before any byte is sent: a
    download stays on record whatever becomes of the response. NotFoundError when the file is
    missing or not the actor's to read (both look the same)."""
    with independent_transaction(sess) as own:
        stored = readable_by_token(own, actor, token)
        return stored, read_content(own, actor, stored, files_dir=files_dir)


def reusable_documents(sess: Session, person_id: int) -> list[StoredFile]:
    """The latest file of each reusable kind (身份证明, 劳动关系证明) held for the person, in the
    configured order: offered for reuse instead of being asked for again."""
    kinds = reusable_kinds()
    rows = sess.scalars(
        select(StoredFile).where(StoredFile.person_id == person_id, StoredFile.kind.in_(kinds))
        .order_by(StoredFile.created_at.desc(), StoredFile.id.desc())
    ).all()
    latest: dict[str, StoredFile] = {}
    for row in rows:
        latest.setdefault(row.kind, row)
    return [latest[kind] for kind in kinds if kind in latest]


@dataclass(frozen=True)
class ResealResult:
    resealed: int
    already_current: int


def reseal_all_files(sess: Session, files_dir: Path, keyring: Keyring | None = None) -> ResealResult:
    """Re-encrypt every stored file under the active key (密钥轮换, like ``portal keys rotate``
    does for columns), so an old key can later be removed. Safe to run again."""
    keyring = keyring or installed_keyring()
    resealed = current = 0
    for key in sess.scalars(select(StoredFile.storage_key).order_by(StoredFile.id)):
        if storage.reseal(Path(files_dir), keyring, key):
            resealed += 1
        else:
            current += 1
    return ResealResult(resealed, current)
