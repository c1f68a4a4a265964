"""The platform side of our signed protocols, shared by the sandbox peers (tax collection, 一网通办).

A sandbox checks each API request's signature (:mod:`adapters.signing`) and refuses a reused
nonce, then signs its answer with the method word ``RESPONSE`` over the request path, so a client
can tell a platform answer from a proxy's error page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, request

from adapters import signing

#: The refusal reason for a nonce seen before (besides ``signing.SignatureError``'s codes).
REPLAYED_NONCE = "replayed_nonce"


class NonceMemory:
    """Nonces of authentic requests, remembered for two signature windows."""

    def __init__(self, lock: threading.Lock | None = None) -> None:
        self._lock = lock or threading.Lock()
        self._seen: dict[str, float] = {}

    def use(self, nonce: str) -> bool:
        """True the first time a nonce is used, False for a replay."""
        now = time.time()
        with self._lock:
            for old, seen in list(self._seen.items()):
                if now - seen > 2 * signing.WINDOW_SECONDS:
                    del self._seen[old]
            if nonce in self._seen:
                return False
            self._seen[nonce] = now
            return True


def verify_request(names: signing.HeaderNames, key: bytes, use_nonce: Callable[[str], bool]) -> signing.Verified:
    """Check the current Flask request's signature, then spend its nonce (``use_nonce``: False
    for a replay, e.g. :meth:`NonceMemory.use`).

    Raises :class:`signing.SignatureError` with the code ``bad_signature``, ``stale_timestamp``
    or :data:`REPLAYED_NONCE`.
    """
    verified = signing.verify(names, key, request.method, request.path, request.headers, request.get_data())
    if not use_nonce(verified.nonce):
        raise signing.SignatureError(REPLAYED_NONCE, "请求重复提交")
    return verified


def refusal_code(codes: Any, error: signing.SignatureError) -> Any:
    """The protocol's result code for a refused request: each protocol's ``ResultCode`` has the
    members ``BAD_SIGNATURE``, ``STALE_TIMESTAMP`` and ``REPLAYED_NONCE``."""
    return {"stale_timestamp": codes.STALE_TIMESTAMP, REPLAYED_NONCE: codes.REPLAYED_NONCE}.get(
        error.code, codes.BAD_SIGNATURE)


def sign_answer(names: signing.HeaderNames, key: bytes, response: Response) -> Response:
    """Sign an answer to the current request (method word ``RESPONSE``, the request path)."""
    response.headers.update(signing.signed_headers(
        names, key, signing.RESPONSE_METHOD, request.path, response.get_data()))
    return response


def refused_unless(check: Callable[[], Any]) -> Callable:
    """A sandbox API view runs only when ``check()`` (faults, caller, signature, nonce) answers
    None; otherwise its refusal is the answer."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            refused = check()
            return refused if refused is not None else view(*args, **kwargs)

        return guarded

    return decorate
