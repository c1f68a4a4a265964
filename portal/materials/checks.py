"""Content checks of uploaded material: what a file IS, decided from its bytes, never from its
name or the Content-Type the browser sent.

Only three kinds of file are accepted, and none is stored as received:

* JPEG and PNG (magic bytes at offset 0) are decoded with Pillow under a pixel cap, turned
  upright by their EXIF orientation and re-encoded from the pixels alone. Metadata (EXIF with
  GPS, ICC, text chunks) and anything appended (a ZIP or HTML tail: a polyglot) do not survive.
* PDF must start with ``%PDF-`` at offset 0, parse with pypdf, be unencrypted and carry no active
  content (JavaScript, launch actions, embedded files, rich media, XFA forms). It is then
  rewritten by pypdf from the objects it parsed, so bytes appended after ``%%EOF`` or hidden in
  unreachable objects are dropped, and what a viewer reads is what was checked. The rewrite
  keeps no action and no external link (open actions, ``/URI``, ``/GoToR``, additional actions).

Everything else (HTML, SVG, ZIP, executables, GIF, empty files) is refused with a message that
tells the applicant what to do. The size cap is checked before any parsing.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from portal.errors import UserInputError

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"

#: largest image accepted, in pixels (40 MP: a phone photo is 12-50 MP; decoded RGB ≈ 120 MB)
MAX_PIXELS = 40_000_000
#: largest PDF object graph walked (a scanned 100-page PDF has a few thousand objects)
MAX_PDF_OBJECTS = 200_000
#: JPEG quality of re-encoded photos: documents stay legible, size stays moderate
JPEG_QUALITY = 90

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}

# Active content in a PDF (ISO 32000-1 §12.6 actions, §7.11.4 embedded files, §12.7.8 XFA):
# keys that carry it, and the action/annotation types that are it.
_FORBIDDEN_KEYS = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/EF",
                             "/RichMedia", "/RichMediaContent", "/RichMediaExecute", "/XFA"})
_FORBIDDEN_TYPES = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE",
                              "/Rendition", "/RichMedia", "/RichMediaExecute", "/EmbeddedFile",
                              "/FileAttachment"})
_TYPE_KEYS = frozenset({"/S", "/Type", "/Subtype"})


class MaterialRejected(UserInputError):
    """An upload the portal will not store; ``message`` says what to do instead."""

    code = "material_rejected"


WRONG_TYPE = "只能上传 PDF、JPG 或 PNG 文件"
EMPTY = "上传的文件是空的，请重新选择文件"
PDF_ACTIVE = "PDF 文件含有脚本或附件，出于安全原因不能接收，请另存为普通 PDF 后上传"
PDF_ENCRYPTED = "PDF 文件设置了密码或加密，请去除密码后重新上传"
PDF_BROKEN = "PDF 文件已损坏或无法打开，请重新生成后上传"
IMAGE_BROKEN = "图片文件已损坏或无法打开，请重新拍照或扫描后上传"
IMAGE_TOO_BIG = f"图片像素过大（超过{MAX_PIXELS // 10_000}万像素），请缩小后上传"


def size_label(max_bytes: int) -> str:
    """10485760 → "10MB"; a cap that is not whole megabytes keeps one decimal; under 1 MB, KB."""
    if max_bytes < 1024 * 1024:
        return f"{max(1, round(max_bytes / 1024))}KB"
    mb = max_bytes / (1024 * 1024)
    return f"{mb:.0f}MB" if mb == int(mb) else f"{mb:.1f}MB"


def too_large_message(max_bytes: int) -> str:
    return f"文件不能超过{size_label(max_bytes)}"


def check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise MaterialRejected(too_large_message(max_bytes), code="file_too_large")
    if not data:
        raise MaterialRejected(EMPTY, code="file_empty")


@dataclass(frozen=True)
class CheckedContent:
    """The bytes to store (re-encoded or rewritten) and what they are."""

    data: bytes
    content_type: str
    #: SHA-256 (hex) of the bytes as received
    upload_sha256: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The content type by magic bytes at offset 0, or None for anything we do not take."""
    if data.startswith(PDF_MAGIC):
        return PDF
    if data.startswith(JPEG_MAGIC):
        return JPEG
    if data.startswith(PNG_MAGIC):
        return PNG
    return None


def check_content(data: bytes, *, max_bytes: int) -> CheckedContent:
    """Decide what ``data`` is and return a clean copy to store, or raise MaterialRejected."""
    check_size(data, max_bytes)
    content_type = sniff(data)
    if content_type is None:
        raise MaterialRejected(WRONG_TYPE, code="file_type_refused")
    received = hashlib.sha256(data).hexdigest()
    if content_type == PDF:
        return CheckedContent(rewrite_pdf(data), PDF, received)
    return CheckedContent(reencode_image(data, content_type), content_type, received)


# --- images -------------------------------------------------------------------------------


def reencode_image(data: bytes, content_type: str) -> bytes:
    """A fresh JPEG or PNG drawn from the decoded pixels only, upright by its EXIF orientation."""
    formats = ["JPEG"] if content_type == JPEG else ["PNG"]
    with warnings.catch_warnings():
        # Pillow warns (and past 2× its own limit raises) on decompression bombs: refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=formats) as img:
                width, height = img.size
                if width <= 0 or height <= 0:
                    raise MaterialRejected(IMAGE_BROKEN, code="image_broken")
                if width * height > MAX_PIXELS:
                    raise MaterialRejected(IMAGE_TOO_BIG, code="image_too_big")
                if img.format not in ("JPEG", "MPO", "PNG"):
                    raise MaterialRejected(WRONG_TYPE, code="file_type_refused")
                img.load()
                upright = ImageOps.exif_transpose(img)
                pixels = _normalise_mode(upright, content_type)
                # Only the pixels cross over into a new image: no info dict, no EXIF, no ICC,
                # no comments or text chunks (paste copies pixels without an extra bytes copy).
                clean = Image.new(pixels.mode, pixels.size)
                clean.paste(pixels)
                del upright, pixels
        except MaterialRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise MaterialRejected(IMAGE_TOO_BIG, code="image_too_big") from exc
        except Exception as exc:  # Pillow raises OSError, ValueError, SyntaxError, ... on bad input
            raise MaterialRejected(IMAGE_BROKEN, code="image_broken") from exc
    out = io.BytesIO()
    if content_type == JPEG:
        clean.save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        clean.save(out, "PNG")
    return out.getvalue()


def _normalise_mode(img: Image.Image, content_type: str) -> Image.Image:
    if content_type == JPEG:
        return img if img.mode in ("L", "RGB") else img.convert("RGB")
    if img.mode in ("1", "L", "LA", "RGB", "RGBA", "I;16"):
        return img
    if img.mode == "P" and "transparency" not in img.info:
        return img.convert("RGB")
    return img.convert("RGBA")


# --- PDF ----------------------------------------------------------------------------------


def rewrite_pdf(data: bytes) -> bytes:
    """Check a PDF and return pypdf's rewrite of it (only the objects reachable from its root)."""
    if not data.startswith(PDF_MAGIC):
        raise MaterialRejected(WRONG_TYPE, code="file_type_refused")
    reader = _open_pdf(data)
    if has_active_content(reader):
        raise MaterialRejected(PDF_ACTIVE, code="pdf_active_content")
    try:
        writer = PdfWriter(clone_from=reader)
        strip_actions(writer)
        out = io.BytesIO()
        writer.write(out)
    except MaterialRejected:
        raise
    except Exception as exc:
        raise MaterialRejected(PDF_BROKEN, code="pdf_broken") from exc
    rewritten = out.getvalue()
    # What we store is what a viewer will read: check the rewrite the same way.
    check = _open_pdf(rewritten) if rewritten.startswith(PDF_MAGIC) else None
    if check is None or has_active_content(check) or has_actions(check):
        raise MaterialRejected(PDF_ACTIVE, code="pdf_active_content")
    return rewritten


def strip_actions(writer: PdfWriter) -> None:
    """Drop every action and external link from the rewrite, keeping the page content.

    Removed: the document's ``/OpenAction`` and base ``/URI``; every ``/AA`` (additional actions
    of the document, pages, annotations, form fields); every ``/A`` that is an action (links,
    outline items, widgets: ``/URI`` with ``https:`` or ``javascript:``, ``/GoToR``, ``/GoTo``,
    ``/Launch`` ...) — a structure element's ``/A`` (attributes, no ``/S``) stays; and the
    ``/Names`` trees ``/JavaScript`` and ``/EmbeddedFiles``. A link annotation is left inert;
    internal ``/Dest`` jumps still work.
    """
    root = writer.root_object
    for key in ("/OpenAction", "/URI"):
        root.pop(NameObject(key), None)
    names = root.get("/Names")
    names = names.get_object() if names is not None else None
    if isinstance(names, DictionaryObject):
        for key in ("/JavaScript", "/EmbeddedFiles"):
            names.pop(NameObject(key), None)
    for obj in _walk(root):  # an object is changed before its children are visited
        if isinstance(obj, DictionaryObject):
            obj.pop(NameObject("/AA"), None)
            if "/A" in obj and _is_action(obj["/A"].get_object()):
                del obj[NameObject("/A")]


def _is_action(value) -> bool:
    return isinstance(value, DictionaryObject) and ("/S" in value or value.get("/Type") == "/Action")


_ACTION_KINDS = frozenset({"/URI", "/GoToR", "/Launch", "/JavaScript", "/SubmitForm", "/ImportData"})


def has_actions(reader: PdfReader) -> bool:
    """Whether any action or external link is left (the check on what :func:`rewrite_pdf` wrote)."""
    return _any_object(reader, _acts)


def _acts(obj: DictionaryObject) -> bool:
    return (any(key in obj for key in ("/OpenAction", "/AA", "/URI")) or obj.get("/S") in _ACTION_KINDS
            or ("/A" in obj and _is_action(obj["/A"].get_object())))


def _any_object(reader: PdfReader, found) -> bool:
    """Whether ``found`` holds for a dictionary reachable from the trailer (a broken PDF is refused)."""
    try:
        return any(found(obj) for obj in _walk(reader.trailer) if isinstance(obj, DictionaryObject))
    except MaterialRejected:
        raise
    except Exception as exc:
        raise MaterialRejected(PDF_BROKEN, code="pdf_broken") from exc


def _walk(start) -> Iterator:
    """Every dictionary and array reachable from ``start``, once each (references resolved),
    refusing a graph of more than :data:`MAX_PDF_OBJECTS` objects."""
    stack: list = [start]
    seen: set = set()
    walked = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        walked += 1
        if walked > MAX_PDF_OBJECTS:
            raise MaterialRejected("PDF 文件结构过于复杂，请另存为普通 PDF 后上传", code="pdf_too_complex")
        if not isinstance(obj, (DictionaryObject, ArrayObject)) or id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        stack.extend(dict.values(obj) if isinstance(obj, DictionaryObject) else list.__iter__(obj))



def _open_pdf(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise MaterialRejected(PDF_ENCRYPTED, code="pdf_encrypted")
        if len(reader.pages) < 1:
            raise MaterialRejected(PDF_BROKEN, code="pdf_broken")
    except MaterialRejected:
        raise
    except Exception as exc:  # pypdf raises PdfReadError, ValueError, KeyError, ... on bad input
        raise MaterialRejected(PDF_BROKEN, code="pdf_broken") from exc
    return reader


def has_active_content(reader: PdfReader) -> bool:
    """Walk every object reachable from the trailer, looking for scripts, launches and files.

    Names are compared after pypdf decoded them, so ``/J#61vaScript`` is ``/JavaScript``.
    """
    return _any_object(reader, _is_active)  # stream objects are dictionaries too


def _is_active(obj: DictionaryObject) -> bool:
    for key, value in dict.items(obj):
        if key in _FORBIDDEN_KEYS:
            return True
        if key in _TYPE_KEYS:
            name = value.get_object() if isinstance(value, IndirectObject) else value
            if isinstance(name, str) and name in _FORBIDDEN_TYPES:
                return True
    return False


# --- names --------------------------------------------------------------------------------

#: longest display name kept, extension included
MAX_NAME = 120
_WINDOWS_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])$", re.IGNORECASE)
_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*]')
_KNOWN_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".jpe", ".png")


def display_name(filename: str | None, content_type: str, fallback: str = "文件") -> str:
    """The uploader's filename made safe to show and to put in a Content-Disposition header.

    For display only: the file on disk has a random name. Path parts, control and bidi-override
    characters (U+202E makes ``gpj.exe`` look like ``exe.jpg``), leading dots (``.htaccess``)
    and Windows device names (``CON``) are removed or neutralised, the extension is set to the
    one the content really has, and the whole is at most 120 characters.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]  # the last path component only
    name = re.sub(r"[\t\n\r\v\f]", " ", name)
    # Drop control (Cc), format (Cf: bidi overrides, zero-width), surrogate and unassigned chars.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"\.{2,}", ".", name).strip(" .")
    stem = name
    lowered = name.lower()
    for ext in _KNOWN_EXTENSIONS:
        if lowered.endswith(ext):
            stem = name[: -len(ext)].rstrip(" .")
            break
    if not stem:
        stem = fallback
    if _WINDOWS_RESERVED.match(stem.split(".")[0]):
        stem = "_" + stem
    extension = EXTENSIONS[content_type]
    return stem[: MAX_NAME - len(extension)].rstrip(" .") + extension
