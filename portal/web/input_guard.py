"""One check at the door for invisible control characters in what a request sends.

Every request's query arguments, form fields (not uploaded file parts), JSON string keys and
values, URL path parts and HTTP Basic credentials are checked before any view runs. A NUL byte,
a C0/C1 control character (tab, CR and LF excepted: multi-line fields keep them) or a Unicode
bidi control (a right-to-left override prints an ID number reversed; the set is defined in
``portal.characters``) is refused with ``422``: a Chinese page for browsers, a JSON error with the code ``invalid_characters`` on /api/ and for
JSON clients. Nothing of the refused value is logged, only where it was found.

Characters people really write are untouched: "·" (U+00B7, in minority names), CJK, emoji.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from flask import Flask, request

from portal.characters import INVISIBLE_CONTROLS_MESSAGE as MESSAGE
from portal.characters import has_invisible_controls
from portal.web.errors import error_response

log = structlog.get_logger("portal.input_guard")

CODE = "invalid_characters"

_MAX_JSON_DEPTH = 64


def init_app(app: Flask) -> None:
    app.before_request(_refuse_control_characters)


def _refuse_control_characters():
    where = first_offence(_request_texts())
    if where is None:
        return None
    log.warning("input.refused", reason=CODE, where=where, endpoint=request.endpoint)
    return error_response(422, MESSAGE, CODE)


def first_offence(items: Iterable[tuple[str, str]]) -> str | None:
    """Where the first forbidden character is (a place name, never the value), or None."""
    for where, text in items:
        if has_invisible_controls(text):
            return where
    return None


def _request_texts() -> Iterator[tuple[str, str]]:
    request_ = request._get_current_object()  # type: ignore[attr-defined]  # the proxy once
    if request_.query_string:
        for key, value in request_.args.items(multi=True):
            yield "query", key
            yield "query", value
    for key, value in (request_.view_args or {}).items():
        if isinstance(value, str):
            yield "path", value
    path = request_.path
    if path:
        yield "path", path
    if request_.method not in ("GET", "HEAD", "OPTIONS") and request_.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        # request.form holds the text parts only; uploaded files (request.files) are not text
        for key, value in request_.form.items(multi=True):
            yield "form", key
            yield "form", value
    if request_.is_json:
        body = request_.get_json(silent=True)
        if body is not None:
            yield from (("json", text) for text in _json_strings(body, 0))
    credentials = _basic_credentials(request_.headers.get("Authorization"))
    if credentials is not None:
        yield "authorization", credentials


def _json_strings(value: Any, depth: int) -> Iterator[str]:
    if depth > _MAX_JSON_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, depth + 1)


def _basic_credentials(header: str | None) -> str | None:
    """The decoded ``id:secret`` of an HTTP Basic header (None when there is none to decode:
    the API's own check answers 401 for a malformed one)."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        return base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
