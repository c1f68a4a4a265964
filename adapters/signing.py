"""HMAC-SM3 request and answer signatures shared by our peer protocols (tax collection, 一网通办).

Neither platform publishes an interface (shared/domain.md §9), so the scheme is ours; each
protocol only names its own headers (:class:`HeaderNames`).

Canonical form (UTF-8, lines joined by ``\\n``)::

    METHOD            upper case, e.g. POST; answers use the word RESPONSE
    PATH              the request path with its query string, e.g. /api/v1/payment-orders
    TIMESTAMP         Unix seconds, decimal
    NONCE             16–64 characters [A-Za-z0-9_-], never reused within the window
    SHA256(BODY)      lower-case hex of the raw body bytes (of b"" when there is none)

Signature: lower-case hex of HMAC-SM3 (GB/T 32905) with the shared key, sent beside the timestamp
and nonce. A receiver refuses a timestamp more than ``WINDOW_SECONDS`` away from its clock
(``stale_timestamp``), a signature that does not match (``bad_signature``; compared in constant
time), and remembers nonces for the window to refuse replays (its own storage).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac

#: How far a timestamp may be from the receiver's clock, either way.
WINDOW_SECONDS = 300
RESPONSE_METHOD = "RESPONSE"

_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class SignatureError(Exception):
    """A signed message was refused: ``code`` is ``bad_signature`` or ``stale_timestamp``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class HeaderNames:
    """The three headers one protocol carries its signature in."""

    timestamp: str
    nonce: str
    signature: str


@dataclass(frozen=True)
class Verified:
    timestamp: int
    nonce: str


def canonical(method: str, path: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, str(int(timestamp)), nonce,
                      hashlib.sha256(body).hexdigest()]).encode("utf-8")


def _mac(key: bytes) -> hmac.HMAC:
    if not key:
        raise ValueError("signing key must not be empty")
    return hmac.HMAC(key, hashes.SM3())


def sign(key: bytes, method: str, path: str, timestamp: int, nonce: str, body: bytes) -> str:
    mac = _mac(key)
    mac.update(canonical(method, path, timestamp, nonce, body))
    return mac.finalize().hex()


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def signed_headers(names: HeaderNames, key: bytes, method: str, path: str, body: bytes, *,
                   now: float | None = None, nonce: str | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    nonce = nonce or new_nonce()
    return {names.timestamp: str(timestamp), names.nonce: nonce,
            names.signature: sign(key, method, path, timestamp, nonce, body)}


def verify(names: HeaderNames, key: bytes, method: str, path: str, headers: Mapping[str, str],
           body: bytes, *, now: float | None = None, window: int = WINDOW_SECONDS) -> Verified:
    """Check one signed message; raises :class:`SignatureError`. Replays are the caller's check."""
    raw_ts = headers.get(names.timestamp) or ""
    nonce = headers.get(names.nonce) or ""
    signature = (headers.get(names.signature) or "").lower()
    if not raw_ts.isdigit() or not _NONCE.match(nonce) or not _HEX64.match(signature):
        raise SignatureError("bad_signature", "缺少签名或签名格式不正确")
    timestamp = int(raw_ts)
    mac = _mac(key)
    mac.update(canonical(method, path, timestamp, nonce, body))
    try:
        mac.verify(bytes.fromhex(signature))  # constant-time comparison
    except InvalidSignature:
        raise SignatureError("bad_signature", "签名无效") from None
    # Only an authentic message learns that its clock is off.
    current = time.time() if now is None else now
    if abs(current - timestamp) > window:
        raise SignatureError("stale_timestamp", "请求时间戳超出允许范围")
    return Verified(timestamp, nonce)
