"""Signed JSON over HTTP(S): the transport our platform clients share (tax collection, 一网通办).

One call: the payload as UTF-8 JSON, signed with the scheme of :mod:`adapters.signing` over the
full request path (the base URL's path included) in the protocol's own headers, sent with a
timeout. The answer must be signed the same way (method word ``RESPONSE``, same path) and be a
JSON object. Whatever stops a usable answer raises the client's error type ``from`` the cause,
with one of the codes ``timeout``, ``unreachable``, ``server_error`` (5xx), ``unsigned_answer``
or ``unreadable``; a 4xx answer with a readable, signed body is returned for the client to judge.
Every call logs its method, URL, status, outcome and duration (bodies never: a URL must not carry
personal data).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from adapters import signing

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class SignedJsonTransport:
    """The signed-JSON transport of one client.

    :param base_url: the platform's base URL; its path (if any) prefixes every request path.
    :param key: the shared HMAC-SM3 key.
    :param header_names: the headers this protocol carries the signature in.
    :param error: builds the client's exception: ``error(message, code=..., status=...)``.
    :param log: the client's (structlog) logger; ``event`` is the event name of its call lines.
    :param extra_headers: sent with every request (e.g. the caller's registration id).
    :param log_refusals: log a 4xx answer's outcome as ``refused:<code>`` instead of ``answered``.
    """

    def __init__(self, base_url: str, key: bytes, header_names: signing.HeaderNames, *,
                 error: Callable[..., Exception], log: Any, event: str, timeout: float = 5.0,
                 session: requests.Session | None = None, extra_headers: Mapping[str, str] | None = None,
                 log_refusals: bool = False) -> None:
        self.base_url = base_url.rstrip("/")
        self._path_prefix = urlsplit(self.base_url).path
        self._key = key
        self._names = header_names
        self._error = error
        self._log = log
        self._event = event
        self.timeout = timeout
        self.session = session or requests.Session()
        self._extra_headers = dict(extra_headers or {})
        self._log_refusals = log_refusals

    def call(self, method: str, path: str, payload: dict | None, *, op: str) -> tuple[int, dict]:
        """``(status, answer)`` for a signed, readable answer below 500; else raises ``error``."""
        error = self._error
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        full_path = self._path_prefix + path
        headers = signing.signed_headers(self._names, self._key, method, full_path, body)
        headers.update(self._extra_headers)
        if payload is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
        started = time.perf_counter()
        outcome, status = "error", None
        try:
            try:
                response = self.session.request(method, self.base_url + path, data=body or None,
                                                headers=headers, timeout=self.timeout)
            except requests.Timeout as exc:
                outcome = "timeout"
                raise error(f"{op}: no answer within {self.timeout}s", code="timeout") from exc
            except requests.RequestException as exc:
                outcome = "unreachable"
                raise error(f"{op}: platform unreachable", code="unreachable") from exc
            status = response.status_code
            if status >= 500:
                outcome = "server_error"
                raise error(f"{op}: platform error {status}", code="server_error", status=status)
            try:
                signing.verify(self._names, self._key, signing.RESPONSE_METHOD, full_path, response.headers,
                               response.content)
            except signing.SignatureError as exc:
                outcome = "unsigned_answer"
                raise error(f"{op}: answer not signed by the platform ({exc.code})",
                            code="unsigned_answer", status=status) from exc
            try:
                data = json.loads(response.content.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                outcome = "unreadable"
                raise error(f"{op}: unreadable answer", code="unreadable", status=status) from exc
            if not isinstance(data, dict):
                outcome = "unreadable"
                raise error(f"{op}: unreadable answer", code="unreadable", status=status)
            outcome = f"refused:{data.get('code')}" if self._log_refusals and status >= 400 else "answered"
            return status, data
        finally:
            self._log.info(self._event, op=op, method=method, url=self.base_url + path, status=status,
                           outcome=outcome, duration_ms=round((time.perf_counter() - started) * 1000, 1))

    def close(self) -> None:
        self.session.close()


class OnTransport:
    """A client attribute kept on the client's ``_transport`` (so setting it later still counts)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else getattr(obj._transport, self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj._transport, self.name, value)
