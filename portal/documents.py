"""Documents the portal issues: HTML to PDF (WeasyPrint, CJK fonts embedded) and QR codes.

Templates of PDFs must set ``<html lang="zh-CN">`` and name "Noto Sans CJK SC" / "Noto Serif CJK SC"
(fontconfig may otherwise pick the Japanese variant; stack-notes). Needs the system packages
libpango, libharfbuzz-subset0 (without it WeasyPrint is ~50x slower) and fonts-noto-cjk.
"""

from __future__ import annotations

import segno


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    from weasyprint import HTML  # imported lazily: loading pango costs ~0.3 s

    return HTML(string=html, base_url=base_url).write_pdf()


def qr_svg_data_uri(payload: str, scale: int = 4) -> str:
    """A QR code as an SVG data URI, for <img src> in HTML and PDFs (error correction M)."""
    return segno.make(payload, error="m").svg_data_uri(scale=scale, border=2)
