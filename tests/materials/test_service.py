"""Storing and reading materials through the service, on both databases: encrypted at rest,
read only by those allowed, every upload and read audited without personal data."""

import hashlib
import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.audit.models import AuditEvent
from portal.errors import NotFoundError, UserInputError
from portal.materials import service, storage
from portal.materials.checks import MaterialRejected
from portal.materials.models import StoredFile
from portal.security.crypto import DecryptionError, parse_keyring
from portal.security.fields import keyring as installed_keyring
from tests.conftest import sign_in_up_front
from tests.materials import samples

WHO = ("worker", "relative", "employer", "employer2", "officer", "province")


@pytest.fixture
def who(actor_for):
    return sign_in_up_front(actor_for, *WHO)


def _upload(sess, actor, files_dir, *, data=None, kind="id_card", filename="身份证.pdf", person_id=None,
            organisation_id=None, **kwargs) -> StoredFile:
    return service.store_upload(sess, actor, data=data or samples.pdf(), filename=filename, kind=kind,
                                person_id=person_id, organisation_id=organisation_id, files_dir=files_dir,
                                **kwargs)


def test_an_upload_is_checked_stored_and_described(sess, who, files_dir):
    worker = who("worker")
    original = samples.pdf() + samples.HTML_TAIL
    stored = _upload(sess, worker, files_dir, data=original, person_id=worker.person_id)
    assert len(stored.token) >= 32 and stored.token != str(stored.id)
    assert stored.kind == "id_card" and stored.medical is False
    assert stored.display_name == "身份证.pdf" and stored.content_type == "application/pdf"
    assert stored.upload_sha256 == hashlib.sha256(original).hexdigest()
    content = service.read_content(sess, worker, stored, files_dir=files_dir)
    assert stored.sha256 == hashlib.sha256(content).hexdigest() != stored.upload_sha256
    assert stored.size == len(content) and samples.HTML_TAIL not in content
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    assert stored.uploaded_by == worker.account_id and stored.created_at.tzinfo is not None


def test_the_kind_decides_the_medical_flag_unless_told(sess, who, files_dir):
    worker = who("worker")
    assert _upload(sess, worker, files_dir, kind="medical_certificate").medical is True
    assert _upload(sess, worker, files_dir, kind="labour_relation").medical is False
    assert _upload(sess, worker, files_dir, kind="supplement", medical=False).medical is False


def test_unknown_kinds_and_bad_content_are_refused_and_nothing_is_stored(sess, who, files_dir):
    worker = who("worker")
    with pytest.raises(UserInputError) as caught:
        _upload(sess, worker, files_dir, kind="passport_scan")
    assert caught.value.code == "unknown_material_kind"
    with pytest.raises(MaterialRejected) as caught:
        _upload(sess, worker, files_dir, data=b"<html><script>alert(1)</script></html>", filename="a.pdf")
    assert caught.value.message == "只能上传 PDF、JPG 或 PNG 文件"
    assert sess.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0
    assert not files_dir.exists() or not any(p.is_file() for p in files_dir.rglob("*"))


def test_the_service_enforces_the_size_cap(sess, who, files_dir):
    with pytest.raises(MaterialRejected) as caught:
        _upload(sess, who("worker"), files_dir, data=samples.pdf() + b"\x00" * (10 * 1024 * 1024))
    assert caught.value.message == "文件不能超过10MB"
    with pytest.raises(MaterialRejected):
        _upload(sess, who("worker"), files_dir, data=samples.jpeg(), max_bytes=100)


def test_content_is_encrypted_at_rest_under_a_random_name(sess, who, files_dir):
    worker = who("worker")
    image = samples.jpeg(size=(300, 200))
    stored = _upload(sess, worker, files_dir, data=samples.pdf(), filename="张伟-身份证.pdf")
    photo = _upload(sess, worker, files_dir, data=image, filename="photo.jpg", kind="accident_proof")
    on_disk = [p for p in files_dir.rglob("*") if p.is_file()]
    assert sorted(p.name for p in on_disk) == sorted([stored.storage_key, photo.storage_key])
    for path in on_disk:
        assert path.relative_to(files_dir).parts == (path.name[:2], path.name[2:4], path.name)
        assert "张伟" not in str(path) and "photo" not in str(path) and ".pdf" not in str(path)
        assert path.stat().st_mode & 0o077 == 0  # readable by the portal's user only
    pdf_raw = storage.path_for(files_dir, stored.storage_key).read_bytes()
    pdf_plain = service.read_content(sess, worker, stored, files_dir=files_dir)
    assert b"%PDF" not in pdf_raw and pdf_plain not in pdf_raw and pdf_plain[:64] not in pdf_raw
    assert pdf_raw.startswith(b"v1.dev1.")
    jpeg_raw = storage.path_for(files_dir, photo.storage_key).read_bytes()
    assert b"\xff\xd8\xff" not in jpeg_raw[:64] and b"JFIF" not in jpeg_raw
    # The storage key is the associated data: a file copied under another key does not decrypt.
    with pytest.raises(DecryptionError):
        installed_keyring().decrypt_bytes(pdf_raw, photo.storage_key.encode())


def test_tampered_files_are_not_served(sess, who, files_dir):
    worker = who("worker")
    stored = _upload(sess, worker, files_dir)
    path = storage.path_for(files_dir, stored.storage_key)
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(DecryptionError):
        service.read_content(sess, worker, stored, files_dir=files_dir)


# --- access ---------------------------------------------------------------------------------


@pytest.fixture
def may(files_dir):
    """``may(sess, actor, stored)``: does reading the content succeed (else: NotFoundError)?"""
    def _may(sess, actor, stored) -> bool:
        try:
            service.read_content(sess, actor, stored, files_dir=files_dir)
        except NotFoundError:
            return False
        return True

    return _may


def test_owner_and_uploader_may_read_others_may_not(sess, who, files_dir, may):
    worker, relative, employer = who("worker"), who("relative"), who("employer")
    own = _upload(sess, worker, files_dir, person_id=worker.person_id)
    assert may(sess, worker, own)
    assert not may(sess, relative, own)  # another worker (a relative needs a case rule)
    assert not may(sess, who("officer"), own)  # staff only through a registered rule
    assert not may(sess, who("province"), own)
    assert not may(sess, employer, own)
    # uploaded by the relative for the worker: both may read it
    for_worker = _upload(sess, relative, files_dir, person_id=worker.person_id, kind="kinship_proof")
    assert may(sess, relative, for_worker) and may(sess, worker, for_worker)


def test_the_organisation_reads_its_files_but_never_medical_ones(sess, who, files_dir, may):
    worker, employer, employer2 = who("worker"), who("employer"), who("employer2")
    labour = _upload(sess, worker, files_dir, kind="labour_relation", person_id=worker.person_id,
                     organisation_id=employer.organisation_id)
    medical = _upload(sess, worker, files_dir, kind="medical_certificate", person_id=worker.person_id,
                      organisation_id=employer.organisation_id)
    assert may(sess, employer, labour) and not may(sess, employer2, labour)
    assert not may(sess, employer, medical) and may(sess, worker, medical)
    # not even the employer who uploaded it, and not even when a rule says yes
    own_upload = _upload(sess, employer, files_dir, kind="medical_certificate", person_id=worker.person_id,
                         organisation_id=employer.organisation_id)
    rule = service.register_access_rule(lambda s, actor, f: True)
    try:
        assert not may(sess, employer, own_upload) and not may(sess, employer, medical)
        assert may(sess, worker, own_upload)
    finally:
        service.unregister_access_rule(rule)


def test_registered_rules_allow_staff_and_can_deny(sess, who, files_dir, may):
    worker, officer, province = who("worker"), who("officer"), who("province")
    stored = _upload(sess, worker, files_dir, kind="medical_certificate", person_id=worker.person_id)
    seen = []

    def officers_of_hefei(s, actor, f):
        seen.append(f.id)
        return True if actor.can_see_city("340100") and actor.role.value == "recognition_officer" else None

    service.register_access_rule(officers_of_hefei)
    service.register_access_rule(officers_of_hefei)  # registering twice is harmless
    try:
        assert may(sess, officer, stored) and not may(sess, province, stored)
        assert seen.count(stored.id) == 2
        blocker = service.register_access_rule(lambda s, actor, f: False)
        try:  # any rule answering False denies, even the owner
            assert not may(sess, officer, stored) and not may(sess, worker, stored)
        finally:
            service.unregister_access_rule(blocker)
    finally:
        service.unregister_access_rule(officers_of_hefei)
    assert not may(sess, officer, stored)


def test_anonymous_actors_never_read(sess, who, files_dir, may):
    from portal.auth.roles import anonymous

    worker = who("worker")
    stored = _upload(sess, worker, files_dir, person_id=worker.person_id)
    rule = service.register_access_rule(lambda s, actor, f: True)
    try:
        assert not may(sess, anonymous(), stored)
    finally:
        service.unregister_access_rule(rule)


def test_tokens_are_looked_up_safely(sess, who, files_dir):
    worker = who("worker")
    stored = _upload(sess, worker, files_dir, person_id=worker.person_id)
    assert service.get_by_token(sess, stored.token).id == stored.id
    for bad in ("", "x", str(stored.id), stored.token + "/../x", "' OR 1=1 --", "a" * 200):
        assert service.get_by_token(sess, bad) is None
    with pytest.raises(NotFoundError):
        service.readable_by_token(sess, who("relative"), stored.token)
    with pytest.raises(NotFoundError):
        service.readable_by_token(sess, worker, "A" * 32)
    assert service.readable_by_token(sess, worker, stored.token).id == stored.id


# --- audit ----------------------------------------------------------------------------------


def test_uploads_and_reads_are_audited_without_personal_data(sess, who, files_dir):
    worker = who("worker")
    stored = _upload(sess, worker, files_dir, filename="张伟 340104199003071235 身份证.pdf",
                     person_id=worker.person_id)
    service.read_content(sess, worker, stored, files_dir=files_dir)
    rows = sess.scalars(sa.select(AuditEvent).where(AuditEvent.action.like("materials.%"))
                        .order_by(AuditEvent.seq)).all()
    assert [r.action for r in rows] == ["materials.upload", "materials.read"]
    upload, read = rows
    assert upload.object_type == "stored_file" and upload.object_id == str(stored.id)
    assert upload.actor_account_id == worker.account_id
    assert upload.detail["kind"] == "id_card" and upload.detail["sha256"] == stored.sha256
    assert upload.detail["reencoded"] is True
    assert read.detail == {"kind": "id_card"}
    for row in rows:
        text = str(row.detail)
        assert "340104199003071235" not in text and "张伟" not in text and "身份证.pdf" not in text


def test_a_refused_read_writes_no_read_audit(sess, who, files_dir):
    worker, relative = who("worker"), who("relative")
    stored = _upload(sess, worker, files_dir, person_id=worker.person_id)
    with pytest.raises(NotFoundError):
        service.read_content(sess, relative, stored, files_dir=files_dir)
    actions = sess.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "materials.read")).all()
    assert actions == []


# --- generated documents --------------------------------------------------------------------


def test_generated_documents_are_stored_byte_for_byte(sess, who, files_dir):
    from portal.documents import html_to_pdf

    officer, worker, employer = who("officer"), who("worker"), who("employer")
    pdf = html_to_pdf('<html lang="zh-CN"><body><h1>认定工伤决定书</h1></body></html>')
    stored = service.store_generated(sess, officer, data=pdf, filename="认定工伤决定书.pdf", kind="decision",
                                     content_type="application/pdf", person_id=worker.person_id,
                                     organisation_id=employer.organisation_id, files_dir=files_dir)
    assert stored.sha256 == stored.upload_sha256 == hashlib.sha256(pdf).hexdigest()
    assert stored.display_name == "认定工伤决定书.pdf" and stored.medical is False
    for reader in (officer, worker, employer):
        assert service.read_content(sess, reader, stored, files_dir=files_dir) == pdf
    action = sess.scalar(sa.select(AuditEvent.action).where(AuditEvent.object_type == "stored_file",
                                                            AuditEvent.object_id == str(stored.id))
                         .order_by(AuditEvent.seq))
    assert action == "materials.generate"
    with pytest.raises(ValueError):
        service.store_generated(sess, officer, data=b"<html></html>", filename="x.pdf", kind="receipt",
                                content_type="application/pdf", files_dir=files_dir)


# --- reuse ----------------------------------------------------------------------------------


def test_reusable_documents_are_the_latest_of_each_reusable_kind(sess, who, files_dir):
    worker, relative, employer = who("worker"), who("relative"), who("employer")
    assert service.reusable_documents(sess, worker.person_id) == []
    _upload(sess, worker, files_dir, kind="id_card", filename="old-id.pdf", person_id=worker.person_id)
    newer_id = _upload(sess, worker, files_dir, kind="id_card", filename="new-id.jpg", data=samples.jpeg(),
                       person_id=worker.person_id)
    labour = _upload(sess, employer, files_dir, kind="labour_relation", person_id=worker.person_id,
                     organisation_id=employer.organisation_id)
    _upload(sess, worker, files_dir, kind="medical_certificate", person_id=worker.person_id)
    _upload(sess, relative, files_dir, kind="id_card", person_id=relative.person_id)
    reusable = service.reusable_documents(sess, worker.person_id)
    assert [(f.kind, f.id) for f in reusable] == [("id_card", newer_id.id), ("labour_relation", labour.id)]
    assert [f.kind for f in service.reusable_documents(sess, relative.person_id)] == ["id_card"]


# --- key rotation ---------------------------------------------------------------------------


def test_files_stay_readable_across_key_rotation_and_can_be_resealed(sess, who, files_dir):
    worker = who("worker")
    stored = _upload(sess, worker, files_dir)
    content = service.read_content(sess, worker, stored, files_dir=files_dir)
    rotated = parse_keyring("dev1:000102030405060708090a0b0c0d0e0f,k2:" + "ab" * 16, "k2")
    assert storage.read(files_dir, rotated, stored.storage_key) == content  # old key still configured
    result = service.reseal_all_files(sess, files_dir, rotated)
    assert (result.resealed, result.already_current) == (1, 0)
    assert storage.key_id(files_dir, stored.storage_key) == "k2"
    assert storage.read(files_dir, rotated, stored.storage_key) == content
    assert service.reseal_all_files(sess, files_dir, rotated).already_current == 1
    with pytest.raises(DecryptionError):  # the old keyring alone no longer opens it
        storage.read(files_dir, installed_keyring(), stored.storage_key)
    assert not [p for p in files_dir.rglob("*.tmp")]
