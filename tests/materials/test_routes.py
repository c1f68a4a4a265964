"""GET /files/<token>: served only to those allowed (404 to everyone else, so tokens cannot be
probed), with headers that keep the content inert; every read audited. Plus the Flask-side
upload helper, its 413 page and the template partials."""

import io
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import render_template_string, request
from werkzeug.datastructures import FileStorage

from portal.audit.models import AuditEvent
from portal.config import PROJECT_ROOT, ConfigError, load_settings, validate
from portal.materials import service
from portal.materials.checks import MaterialRejected
from portal.materials.uploads import files_dir as configured_files_dir
from portal.materials.uploads import read_upload, upload_hint, upload_limit
from tests.conftest import sign_in_up_front
from tests.materials import samples

MB = 1024 * 1024


@pytest.fixture
def who(actor_for):
    return sign_in_up_front(actor_for, "worker", "relative", "employer", "officer", "province")


@pytest.fixture
def stored(app, who, files_dir):
    """``stored(by, kind=..., data=..., filename=..., person=..., organisation=...)``: a committed upload."""
    def _stored(by: str, *, kind="id_card", data=None, filename="身份证.pdf", person=None, organisation=None):
        actor = who(by)
        with app.extensions["portal.database"].write_transaction() as sess:
            row = service.store_upload(
                sess, actor, data=data or samples.pdf(), filename=filename, kind=kind, files_dir=files_dir,
                person_id=who(person).person_id if person else None,
                organisation_id=who(organisation).organisation_id if organisation else None)
            return row.token

    return _stored


def _audit_actions(app, action: str) -> list:
    with app.extensions["portal.database"].read_session() as sess:
        return sess.execute(sa.select(AuditEvent.actor_account_id, AuditEvent.object_type)
                            .where(AuditEvent.action == action)).all()


def test_the_owner_gets_the_file_with_inert_headers(app, client, login_as, stored, who):
    token = stored("worker", person="worker", filename="身份证 正面.pdf")
    login_as(client, "worker")
    response = client.get(f"/files/{token}")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "inline; filename=\"file.pdf\"; filename*=UTF-8''" + quote("身份证 正面.pdf", safe=""))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert _audit_actions(app, "materials.read") == [(who("worker").account_id, "stored_file")]


def test_download_asks_the_browser_to_save_and_images_keep_their_type(client, login_as, stored):
    token = stored("worker", person="worker", data=samples.jpeg(gps=True), filename="IMG_0001.JPG",
                   kind="accident_proof")
    login_as(client, "worker")
    response = client.get(f"/files/{token}?download=1")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="IMG_0001.jpg"')
    assert response.data.startswith(b"\xff\xd8\xff") and b"Exif" not in response.data


def test_hostile_names_cannot_inject_headers(client, login_as, stored):
    token = stored("worker", person="worker", filename='a"; filename=evil.html\r\nSet-Cookie: x=1\r\n.pdf')
    login_as(client, "worker")
    response = client.get(f"/files/{token}")
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "Set-Cookie" not in response.headers
    assert disposition.startswith('inline; filename="a_; filename=evil.html Set-Cookie_ x=1.pdf"')


@pytest.mark.parametrize("reader", ["relative", "officer", "province", "employer"])
def test_anyone_else_gets_a_404_like_a_missing_file(app, client, login_as, stored, reader):
    token = stored("worker", person="worker", kind="medical_certificate", organisation="employer")
    login_as(client, reader)
    denied = client.get(f"/files/{token}")
    missing = client.get("/files/" + "A" * 32)
    assert denied.status_code == missing.status_code == 404
    assert "页面不存在" in denied.get_data(as_text=True)
    assert denied.headers["Content-Type"].startswith("text/html")
    assert _audit_actions(app, "materials.read") == []


def test_the_employer_reads_its_non_medical_files(client, login_as, stored):
    token = stored("worker", person="worker", kind="labour_relation", organisation="employer")
    login_as(client, "employer")
    assert client.get(f"/files/{token}").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, stored):
    token = stored("worker", person="worker")
    response = client.get(f"/files/{token}")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_staff_read_through_a_registered_rule(app, client, login_as, stored, who):
    token = stored("worker", person="worker", kind="medical_certificate")
    login_as(client, "officer")
    assert client.get(f"/files/{token}").status_code == 404
    rule = service.register_access_rule(
        lambda sess, actor, f: True if actor.role.value == "recognition_officer" else None)
    try:
        response = client.get(f"/files/{token}")
    finally:
        service.unregister_access_rule(rule)
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert _audit_actions(app, "materials.read") == [(who("officer").account_id, "stored_file")]


def test_files_are_not_under_static_and_not_served_by_it(app, client, login_as, stored, files_dir):
    token = stored("worker", person="worker")
    key = next(p for p in files_dir.rglob("*") if p.is_file()).name
    assert PROJECT_ROOT / "static" not in files_dir.parents
    login_as(client, "worker")
    for path in (f"/static/{key}", f"/static/files/{key[:2]}/{key[2:4]}/{key}", f"/files/{key}"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/files/{token}").status_code == 200


# --- the upload helper, through a real multipart request ------------------------------------


def _multipart(app, content: bytes, filename: str = "证明.pdf"):
    return app.test_request_context("/upload", method="POST", content_type="multipart/form-data",
                                    data={"file": (io.BytesIO(content), filename)})


def test_read_upload_takes_a_file_from_a_multipart_request_and_it_can_be_stored(app, client, login_as,
                                                                                 who, files_dir):
    worker = who("worker")
    original = samples.png() + samples.ZIP_TAIL
    with _multipart(app, original, "../../扫描件.png"):
        data, filename = read_upload(request.files["file"])
        assert data == original and filename == "../../扫描件.png"
        with app.extensions["portal.database"].write_transaction() as sess:
            token = service.store_upload(sess, worker, data=data, filename=filename, kind="supplement",
                                         person_id=worker.person_id, files_dir=configured_files_dir(),
                                         max_bytes=upload_limit()).token
        assert configured_files_dir() == files_dir
    login_as(client, "worker")
    response = client.get(f"/files/{token}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert b"PK\x03\x04" not in response.data
    assert "filename*=UTF-8''" + quote("扫描件.png", safe="") in response.headers["Content-Disposition"]
    assert [a for a, _ in _audit_actions(app, "materials.upload")] == [worker.account_id]


def test_read_upload_refuses_oversize_files_without_reading_them_whole(app):
    with app.app_context():
        cap = upload_limit()
    assert cap == 10 * MB
    with _multipart(app, b"%PDF-" + b"\x00" * cap):
        upload = request.files["file"]
        with pytest.raises(MaterialRejected) as caught:
            read_upload(upload)
        assert caught.value.message == "文件不能超过10MB" and caught.value.status == 422
    with _multipart(app, b"x" * cap):
        assert len(read_upload(request.files["file"])[0]) == cap


def test_read_upload_reads_at_most_one_byte_past_the_cap(app):
    class Endless(io.RawIOBase):
        served = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            self.served += len(buffer)
            buffer[:] = b"\x00" * len(buffer)
            return len(buffer)

    stream = Endless()
    with app.app_context(), pytest.raises(MaterialRejected):
        read_upload(FileStorage(stream=io.BufferedReader(stream, 8192), filename="big.pdf"), max_bytes=100_000)
    assert stream.served < 100_000 + 2 * 8192


@pytest.mark.parametrize("storage, message", [
    (None, "请选择要上传的文件"),
    (FileStorage(stream=io.BytesIO(b""), filename=""), "请选择要上传的文件"),
    (FileStorage(stream=io.BytesIO(b""), filename="empty.pdf"), "上传的文件是空的，请重新选择文件"),
], ids=["none", "no-file-chosen", "empty"])
def test_read_upload_refuses_missing_and_empty_files(app, storage, message):
    with app.app_context(), pytest.raises(MaterialRejected) as caught:
        read_upload(storage)
    assert caught.value.message == message


def test_a_request_over_the_app_limit_gets_the_chinese_413_page(client, login_as, csrf_token):
    login_as(client, "worker")
    body = {"csrf_token": csrf_token(client), "file": (io.BytesIO(b"\x00" * (13 * MB)), "big.pdf")}
    response = client.post("/logout", data=body, content_type="multipart/form-data")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "上传内容过大" in text and "超过了大小限制" in text and "Request Entity Too Large" not in text


# --- partials -------------------------------------------------------------------------------


def test_the_upload_field_partial_is_labelled_hinted_and_shows_errors(app):
    template = ('{% from "materials/_upload_field.html" import upload_field %}'
                '{{ upload_field(name="item-3", label="劳动关系证明", errors=["只能上传 PDF、JPG 或 PNG 文件"], required=true) }}')
    with app.test_request_context("/"):
        html = render_template_string(template)
        assert upload_hint() == "PDF、JPG、PNG，不超过10MB"
    assert '<label class="field__label" for="item-3">劳动关系证明' in html
    assert 'id="item-3-hint">PDF、JPG、PNG，不超过10MB</p>' in html
    assert 'aria-describedby="item-3-hint item-3-error"' in html and 'aria-invalid="true"' in html
    assert 'type="file" id="item-3" name="item-3"' in html and "required" in html
    assert 'accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"' in html
    assert "只能上传 PDF、JPG 或 PNG 文件" in html


def test_the_upload_field_partial_takes_a_wtforms_field(app):
    from flask_wtf import FlaskForm
    from flask_wtf.file import FileField

    class Form(FlaskForm):
        class Meta:
            csrf = False

        id_card = FileField("身份证明")

    with app.test_request_context("/"):
        form = Form()
        form.id_card.errors = ["文件不能超过10MB"]
        html = render_template_string('{% from "materials/_upload_field.html" import upload_field %}'
                                      '{{ upload_field(form.id_card) }}', form=form)
    assert 'for="id_card">身份证明' in html and 'name="id_card"' in html and "文件不能超过10MB" in html
    assert "aria-invalid" in html and "（必填）" not in html


def test_the_file_link_partial_shows_name_size_and_hash(app, stored, who):
    token = stored("worker", person="worker", filename="劳动合同.pdf", kind="labour_relation")
    with app.extensions["portal.database"].read_session() as sess:
        row = service.get_by_token(sess, token)
    with app.test_request_context("/"):
        html = render_template_string('{% from "materials/_file_link.html" import file_link %}'
                                      '{{ file_link(f, show_kind=true) }}|{{ file_link(f, link=false) }}', f=row)
    linked, plain = html.split("|")
    assert f'<a href="/files/{token}">劳动合同.pdf</a>' in linked and "<a " not in plain
    assert "劳动关系证明，PDF，" in linked and " KB）" in linked
    assert f"{row.sha256[:8]}…{row.sha256[-8:]}" in linked and row.sha256 in linked
    assert "<details" in linked and "<summary>" in linked


# --- settings -------------------------------------------------------------------------------


def test_files_dir_defaults_under_the_instance_folder_and_is_resolved_against_the_project_root():
    settings = load_settings(environ={})
    assert settings.files_dir == str(PROJECT_ROOT / "instance" / "files")
    assert settings.upload_max_bytes == 10 * MB
    assert load_settings({"files_dir": "/srv/portal/files"}, environ={}).files_dir == "/srv/portal/files"
    assert load_settings(environ={"PORTAL_FILES_DIR": "var/files"}).files_dir == str(PROJECT_ROOT / "var" / "files")


def test_the_upload_cap_cannot_exceed_the_request_cap():
    with pytest.raises(ConfigError) as caught:
        validate(load_settings({"upload_max_bytes": 13 * MB, "max_request_mb": 12}, environ={}), environ={})
    assert "upload_max_bytes" in str(caught.value)
