"""Uploaded PDFs are rewritten with no action and no external link left (issue 12, point 5):
open actions, /GoToR, /URI and ``javascript:`` links, additional actions, the catalog's base URI.
Scripts, launches, form submission, data import and attachments are refused outright."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)

from portal.documents import html_to_pdf
from portal.materials import checks
from portal.materials.checks import MaterialRejected, check_content

ACTION_KINDS = ("/URI", "/GoToR", "/Launch", "/JavaScript", "/SubmitForm", "/ImportData")


def _action(kind: str) -> DictionaryObject:
    action = DictionaryObject({NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject(kind)})
    if kind == "/URI":
        action[NameObject("/URI")] = TextStringObject("javascript:app.alert(1)")
    elif kind in ("/GoToR", "/Launch", "/SubmitForm", "/ImportData"):
        action[NameObject("/F")] = TextStringObject("\\\\evil.example\\share\\x.pdf")
        if kind == "/GoToR":
            action[NameObject("/D")] = ArrayObject([FloatObject(0), NameObject("/Fit")])
    elif kind == "/JavaScript":
        action[NameObject("/JS")] = TextStringObject("app.alert(1)")
    return action


def _link(writer: PdfWriter, action: DictionaryObject):
    return writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (10, 10, 100, 30)]),
        NameObject("/A"): action,
    }))


def _hostile_pdf(kind: str) -> bytes:
    """A PDF with text (from HTML, with a real https link) carrying ``kind`` everywhere an action
    can sit: the document's open action and /AA, a page's /AA, a link annotation, an outline."""
    base = html_to_pdf('<html lang="zh-CN"><body><p>劳动关系证明</p>'
                       '<p><a href="https://evil.example/track">点此查看</a></p></body></html>')
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
    root = writer.root_object
    root[NameObject("/OpenAction")] = _action(kind)
    root[NameObject("/AA")] = DictionaryObject({NameObject("/WC"): _action(kind)})
    root[NameObject("/URI")] = DictionaryObject({NameObject("/Base"): TextStringObject("https://evil.example/")})
    page = writer.pages[0]
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): _action(kind)})
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else ArrayObject()
    annots.append(_link(writer, _action(kind)))
    page[NameObject("/Annots")] = annots
    writer.add_outline_item(title="第一页", page_number=0)
    outline_item = writer.root_object["/Outlines"].get_object()["/First"].get_object()
    outline_item[NameObject("/A")] = _action(kind)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _left(data: bytes) -> list[str]:
    """What is left of actions and links: a reader of the stored file would act on these."""
    reader = PdfReader(io.BytesIO(data))
    found = []
    stack, seen = [reader.trailer["/Root"]], set()
    while stack:
        obj = stack.pop()
        obj = obj.get_object() if hasattr(obj, "get_object") else obj
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, DictionaryObject):
            found += [key for key in ("/OpenAction", "/AA", "/JavaScript", "/EmbeddedFiles") if key in obj]
            if "/URI" in obj:  # the catalog's base URI or a link's target
                uri = obj["/URI"].get_object()
                found.append(f"link:{uri.get('/Base') if isinstance(uri, DictionaryObject) else uri}")
            if obj.get("/S") in ACTION_KINDS or obj.get("/S") == "/GoTo":
                found.append(str(obj.get("/S")))
            stack.extend(dict.values(obj))
        elif isinstance(obj, ArrayObject):
            stack.extend(list.__iter__(obj))
    return found


def test_the_html_link_itself_is_an_external_uri_action_before_the_rewrite():
    """The sample really carries what the rewrite must remove (the test is not vacuous)."""
    before = _left(_hostile_pdf("/URI"))
    assert {"/OpenAction", "/AA", "/URI", "link:https://evil.example/track",
            "link:javascript:app.alert(1)", "link:https://evil.example/"} <= set(before)


@pytest.mark.parametrize("kind", ["/URI", "/GoToR"])
def test_links_and_open_actions_are_removed_and_the_page_is_kept(kind):
    checked = check_content(_hostile_pdf(kind), max_bytes=10 * 1024 * 1024)
    assert _left(checked.data) == []
    reader = PdfReader(io.BytesIO(checked.data))
    assert "劳动关系证明" in reader.pages[0].extract_text()
    assert len(reader.outline) == 1  # the outline item stays, without its action


@pytest.mark.parametrize("kind", ["/Launch", "/JavaScript", "/SubmitForm", "/ImportData"])
def test_active_actions_are_refused(kind):
    with pytest.raises(MaterialRejected) as caught:
        check_content(_hostile_pdf(kind), max_bytes=10 * 1024 * 1024)
    assert caught.value.code == "pdf_active_content"


def test_a_plain_go_to_open_action_is_dropped_too():
    data = checks.rewrite_pdf(_plain_with_goto())
    assert _left(data) == []


def test_a_structure_element_attribute_dictionary_is_not_taken_for_an_action():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    attrs = DictionaryObject({NameObject("/O"): NameObject("/Layout"), NameObject("/Placement"): NameObject("/Block")})
    writer.root_object[NameObject("/StructTreeRoot")] = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/StructTreeRoot"),
        NameObject("/K"): DictionaryObject({NameObject("/S"): NameObject("/P"), NameObject("/A"): attrs}),
    }))
    out = io.BytesIO()
    writer.write(out)
    rewritten = PdfReader(io.BytesIO(checks.rewrite_pdf(out.getvalue())))
    element = rewritten.trailer["/Root"]["/StructTreeRoot"].get_object()["/K"]
    assert element["/A"]["/Placement"] == "/Block"


def _plain_with_goto() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/GoTo"),
        NameObject("/D"): ArrayObject([writer.pages[0].indirect_reference, NameObject("/Fit")])})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
