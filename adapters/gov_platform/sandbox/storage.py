"""Thread-safe in-memory storage of codes, tokens and used nonces (a sandbox peer keeps no disk state).

Rules kept here, under one lock:
- a code lives ``CODE_TTL_SECONDS`` and is redeemed at most once; the first redemption attempt by
  its own client consumes it, whatever happens next (RFC 6749 §4.1.2);
- presenting a redeemed code again revokes the tokens issued for it (RFC 6749 §4.1.2, "SHOULD");
- a nonce is remembered per client once a code carries it, so it cannot be replayed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .models import AuthorizationCode, Token

CODE_TTL_SECONDS = 300
#: How long a used nonce is remembered: longer than any id_token or access token lives.
NONCE_TTL_SECONDS = 24 * 3600


class NonceReplayError(Exception):
    pass


@dataclass
class _Redeemed:
    expires_at: float
    access_tokens: list[str] = field(default_factory=list)


class MemoryStore:
    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, AuthorizationCode] = {}
        self._redeemed: dict[str, _Redeemed] = {}
        self._tokens: dict[str, Token] = {}
        self._nonces: dict[tuple[str, str], float] = {}

    def now(self) -> float:
        return self._clock()

    # -- nonces ------------------------------------------------------------------------------
    def nonce_used(self, client_id: str, nonce: str) -> bool:
        with self._lock:
            expires_at = self._nonces.get((client_id, nonce))
            return expires_at is not None and expires_at > self._clock()

    # -- codes -------------------------------------------------------------------------------
    def save_code(self, code: AuthorizationCode) -> None:
        """Store a fresh code and mark its nonce used, atomically (two racing requests with one
        nonce cannot both get a code)."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            key = (code.client_id, code.nonce)
            if self._nonces.get(key, 0) > now:
                raise NonceReplayError()
            self._nonces[key] = now + NONCE_TTL_SECONDS
            self._codes[code.code] = code

    def redeem_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code if it is live and was issued to ``client_id``; it is consumed by this call."""
        with self._lock:
            now = self._clock()
            item = self._codes.get(code)
            if item is None:
                redeemed = self._redeemed.get(code)
                if redeemed is not None:
                    for access_token in redeemed.access_tokens:
                        if access_token in self._tokens:
                            self._tokens[access_token].revoked = True
                return None
            if item.client_id != client_id:
                return None
            del self._codes[code]
            if item.is_expired(now):
                return None
            self._redeemed[code] = _Redeemed(expires_at=now + NONCE_TTL_SECONDS)
            return item

    # -- tokens ------------------------------------------------------------------------------
    def save_token(self, token: Token, from_code: str | None = None) -> None:
        with self._lock:
            self._tokens[token.access_token] = token
            if from_code is not None and from_code in self._redeemed:
                self._redeemed[from_code].access_tokens.append(token.access_token)

    def token(self, access_token: str) -> Token | None:
        with self._lock:
            return self._tokens.get(access_token)

    # -- housekeeping ------------------------------------------------------------------------
    def _prune(self, now: float) -> None:
        for code in [c for c, item in self._codes.items() if item.is_expired(now)]:
            del self._codes[code]
        for code in [c for c, r in self._redeemed.items() if r.expires_at <= now]:
            del self._redeemed[code]
        for key in [k for k, expires_at in self._nonces.items() if expires_at <= now]:
            del self._nonces[key]
        for value in [v for v, t in self._tokens.items() if now >= t.issued_at + t.expires_in]:
            del self._tokens[value]
