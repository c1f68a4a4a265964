"""Who asked for a background-rendered document: a random secret kept in the requester's
session (signed in or not), created when the first document is asked for. Jobs keep only its
SHA-256 (``service.owner_of``)."""

from __future__ import annotations

import secrets

from flask import session

SESSION_KEY = "render_owner"


def requester_secret(*, create: bool = False) -> str | None:
    secret = session.get(SESSION_KEY)
    if secret is None and create:
        secret = session[SESSION_KEY] = secrets.token_urlsafe(24)
    return secret
