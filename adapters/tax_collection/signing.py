"""HMAC-SM3 request signatures of the tax collection platform protocol (ours; see ``codes``).

The scheme (canonical form, window, replay rule) is shared with our other peer protocols and
lives in :mod:`adapters.signing`; this protocol carries it in ``X-Tax-Signature`` beside
``X-Tax-Timestamp`` and ``X-Tax-Nonce``. A receiver remembers nonces for the window to refuse
replays (its own storage; see ``portal.payments.service``).
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters import signing as _shared
from adapters.signing import (
    RESPONSE_METHOD,
    WINDOW_SECONDS,
    Verified,
    canonical,
    new_nonce,
    sign,
)

#: the shared scheme's names stay this module's public names, as before the move
__all__ = ["HEADERS", "HEADER_NONCE", "HEADER_SIGNATURE", "HEADER_TIMESTAMP", "RESPONSE_METHOD",
           "WINDOW_SECONDS", "Verified", "canonical", "new_nonce", "sign", "signed_headers", "verify"]

HEADER_TIMESTAMP = "X-Tax-Timestamp"
HEADER_NONCE = "X-Tax-Nonce"
HEADER_SIGNATURE = "X-Tax-Signature"
HEADERS = _shared.HeaderNames(HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)


def signed_headers(key: bytes, method: str, path: str, body: bytes, *, now: float | None = None,
                   nonce: str | None = None) -> dict[str, str]:
    return _shared.signed_headers(HEADERS, key, method, path, body, now=now, nonce=nonce)


def verify(key: bytes, method: str, path: str, headers: Mapping[str, str], body: bytes, *,
           now: float | None = None, window: int = WINDOW_SECONDS) -> Verified:
    """Check one signed message; raises :class:`SignatureError`. Replays are the caller's check."""
    return _shared.verify(HEADERS, key, method, path, headers, body, now=now, window=window)
