"""Input of the renders area: the job's token in its URL, checked before any query."""

from __future__ import annotations

import re

#: ``secrets.token_urlsafe(24)``: 32 URL-safe characters
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def valid_token(token: str) -> bool:
    return TOKEN.fullmatch(token) is not None
