"""Which characters people never type: the one definition shared by the web input guard
(``portal.web.input_guard``), form validators (``portal.web.fields``) and bulk imports
(``portal.spreadsheets``). Plain Python.

Refused: NUL and the other C0 controls except tab, LF and CR (multi-line text keeps those);
DEL and the C1 controls; the Unicode bidi controls — marks (U+200E, U+200F, U+061C),
embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069), with which a
right-to-left override prints an ID number reversed. "·" (U+00B7, in minority names), CJK and
every other printable character are kept.
"""

from __future__ import annotations

import re

from markupsafe import Markup

INVISIBLE_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

#: what people are told when their text carries one of them
INVISIBLE_CONTROLS_MESSAGE = "提交的内容含有不可见的控制字符，请删除后重新提交"

#: a text starting with one of these would run as a formula in a spreadsheet (CSV injection)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def has_invisible_controls(text: str) -> bool:
    return INVISIBLE_CONTROLS.search(text) is not None


def is_formula_like(value) -> bool:
    """A text a spreadsheet would run as a formula: it starts with a tab or carriage return, or
    its first visible character is = + - @."""
    if not isinstance(value, str):
        return False
    stripped = value.strip()
    return value[:1] in ("\t", "\r") or (bool(stripped) and stripped[0] in FORMULA_PREFIXES)


def without_invisible_controls(value):
    """Jinja's ``finalize`` for pages and documents: text stored before the input guard existed
    (or arriving from a peer) is printed without those characters, so an override can never
    reverse an ID number on a receipt. Safe markup stays safe."""
    if isinstance(value, str) and has_invisible_controls(value):
        cleaned = INVISIBLE_CONTROLS.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value
