"""A retried form POST never writes twice: one-time submission keys (提交键).

Every form carries ``{{ submission_field() }}`` beside its CSRF token: a hidden ``submission_key``
with a fresh random value each time the page is rendered. (The CSRF token cannot serve: Flask-WTF's
is one per session, the same in every form.) :func:`portal.web.forms.handle_form`:

1. a POST whose key is already recorded gets the first answer again (its 303 and location) and
   nothing runs: the person pressed twice, or the client retried because the first answer was
   lost (a node died after its commit, a proxy timed out);
2. otherwise, once the form validates, the key is recorded **in the request's own transaction**
   before the service runs, so it commits with what the service wrote or rolls back with it
   (a refused form records nothing and may be sent again). A second POST of the same key that
   arrives while the first is still running waits on the key's primary key (PostgreSQL) or on
   the write lock (SQLite), then answers as in 1;
3. the answer is stored with the key (status, location).

The API's only POST, the tax platform's payment callback, is idempotent by itself (signed, nonce
checked, a repeated notice of a recorded payment answers 2xx and writes nothing); a form POST may
also carry its key as an ``Idempotency-Key`` header instead of the field.

A POST without a key works as before (forms of older pages, htmx buttons outside forms). A key
recorded by another account is refused (409), so a leaked key replays nothing of someone else's.
Keys are purged after ``submission_key_hours`` by the sweeper (``portal.tasks.jobs``).
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, redirect, request
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from portal.extensions import db_session
from portal.ops import service as ops
from portal.web import unit_of_work

FIELD = "submission_key"
HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[A-Za-z0-9_-]{16,100}$")


def init_app(app: Flask) -> None:
    app.add_template_global(submission_field, "submission_field")


def new_key() -> str:
    return secrets.token_urlsafe(18)


def submission_field() -> Markup:
    """The hidden input every POST form carries (a fresh key per rendering)."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{new_key()}">')


def key_of_request() -> str | None:
    """The submission key of this POST, if it carries a well-formed one: the form's hidden field,
    else an ``Idempotency-Key`` header (a script or client posting the form itself)."""
    if request.method != "POST":
        return None
    key = request.form.get(FIELD) or request.headers.get(HEADER, "")
    return key if _VALID.match(key) else None


def _account_id() -> int | None:
    actor = g.get("actor")
    return getattr(actor, "account_id", None)


class KeyOfAnotherAccount(Exception):
    """The key was recorded for someone else: refuse, replay nothing."""


def replay(key: str) -> Response | None:
    """The first answer to ``key`` again, or None when the key is new."""
    row = ops.find_submission(db_session(), key)
    if row is None:
        return None
    if row.account_id != _account_id():
        raise KeyOfAnotherAccount()
    return _answer(row.status_code, row.location)


def reserve(key: str) -> Response | None:
    """Record ``key`` in the request's transaction before the service runs. When another request
    recorded it meanwhile, roll this one back and return that request's answer."""
    sess = db_session()
    try:
        ops.record_submission(sess, key, account_id=_account_id(), path=request.path, status_code=0,
                              location=None)
    except IntegrityError:
        unit_of_work.abandon()
        answer = replay(key)
        return answer if answer is not None else _answer(0, None)
    return None


def remember(key: str, response: Any) -> None:
    """Store the answer with the reserved key (same transaction as the service's writes)."""
    row = ops.find_submission(db_session(), key)
    if row is None:
        return
    status = getattr(response, "status_code", None)
    location = getattr(response, "location", None) if isinstance(response, Response) else None
    if status is None and isinstance(response, tuple) and len(response) > 1 and isinstance(response[1], int):
        status = response[1]
    row.status_code = int(status or 200)
    row.location = _local(location)
    db_session().flush()


def _local(location: str | None) -> str | None:
    """Only a path on this site is replayed (never a redirect elsewhere)."""
    if not location:
        return None
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        return None
    return location[:1000]


def _answer(status: int, location: str | None) -> Response:
    """A redirect answer goes to the same place again; any other answer (a fragment, a page, or
    a first request still in flight) sends the person back to the page the form was on."""
    if location and 300 <= status < 400:
        return redirect(location, status)
    back = _local(_referrer_path())
    return redirect(back or "/", 303)


def _referrer_path() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")

