"""Documents the portal issues: HTML to PDF (WeasyPrint, one CJK font embedded) and QR codes.

**One font.** Every PDF is set in one face, :data:`FONT_FAMILY` (Noto Serif CJK SC, regular),
named once in the one stylesheet of the portal's PDFs, ``templates/_pdf.css``, which
:func:`html_to_pdf` applies to every document. Each face a document uses is copied out of its
~25 MB font collection and subset (HarfBuzz) on every render: three faces (serif body, sans
headings, sans bold) made a decision letter ~5x a one-line page, one face ~2x. So documents
name no other family and no bold (emphasis is size, rule or underline); a test checks that every
document embeds exactly one font, a ``CJK-SC`` one. A character the face lacks still falls back
through fontconfig (a rare name), at that render's cost only.

**Per thread, reused.** The WeasyPrint ``FontConfiguration`` (Pango font map, fontconfig
look-ups), the parsed shared stylesheet and the parsed ``<style>`` block of each template are
built once per thread and reused: Pango's font map is not thread-safe, so threads never share
one. A document's ``<style>`` block is taken out of its HTML and applied after the shared
stylesheet, parsed once per distinct text (it is fixed per template). Subsetting stays on
(WeasyPrint's default).

Templates of PDFs set ``<html lang="zh-CN">`` (fontconfig may otherwise pick the Japanese
variant; stack-notes). Needs the system packages libpango, libharfbuzz-subset0 (without it
WeasyPrint is ~50x slower) and fonts-noto-cjk.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import segno

from portal.config import PROJECT_ROOT

#: the one font family of every PDF (its regular face only; see the module docstring)
FONT_FAMILY = "Noto Serif CJK SC"
#: the shared stylesheet of every PDF, applied by :func:`html_to_pdf` (parsed once per thread)
STYLESHEET = PROJECT_ROOT / "templates" / "_pdf.css"

#: parsed ``<style>`` blocks kept per thread (one per template, in practice)
STYLE_BLOCKS_KEPT = 32

_local = threading.local()
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.S)


def _tools():
    """(FontConfiguration, parsed shared stylesheet) of this thread; the stylesheet is parsed
    again when its file changes (development)."""
    from weasyprint import CSS  # imported lazily: loading pango costs ~0.3 s
    from weasyprint.text.fonts import FontConfiguration

    stamp = STYLESHEET.stat().st_mtime_ns
    state = getattr(_local, "state", None)
    if state is None or state[2] != stamp:
        fonts = state[0] if state is not None else FontConfiguration()
        state = (fonts, CSS(string=STYLESHEET.read_text(encoding="utf-8"), font_config=fonts), stamp)
        _local.state = state
    return state[0], state[1]


def _style_block(text: str, fonts):
    from weasyprint import CSS

    kept = getattr(_local, "blocks", None)
    if kept is None:
        kept = _local.blocks = OrderedDict()
    sheet = kept.get(text)
    if sheet is None:
        sheet = kept[text] = CSS(string=text, font_config=fonts)
        if len(kept) > STYLE_BLOCKS_KEPT:
            kept.popitem(last=False)
    else:
        kept.move_to_end(text)
    return sheet


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of ``html``: the shared stylesheet (A4, the one font, page numbers), then the
    document's own ``<style>`` blocks, both parsed once per thread."""
    from weasyprint import HTML

    fonts, stylesheet = _tools()
    sheets = [stylesheet] + [_style_block(text, fonts) for text in _STYLE_BLOCK.findall(html)]
    return HTML(string=_STYLE_BLOCK.sub("", html), base_url=base_url).write_pdf(stylesheets=sheets,
                                                                             font_config=fonts)


def qr_svg_data_uri(payload: str, scale: int = 4) -> str:
    """A QR code as an SVG data URI, for <img src> in HTML and PDFs (error correction M)."""
    return segno.make(payload, error="m").svg_data_uri(scale=scale, border=2)
