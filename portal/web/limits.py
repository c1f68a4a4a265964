"""What a costly request may cost: rate limits keyed by the client's address, and a bounded cache
of rendered documents.

- **Before authentication** a limit can only trust what the network says: the client's address
  (``portal.extensions.client_address``, after the configured trusted proxies). Keying on a client
  id the caller merely claims would let wrong passwords lock the real system out and let rotating
  fake ids go unlimited. :func:`api_limits` puts every /api/ call under a per-address limit, and
  the failed authentications (401) among them under a stricter one, both checked before the view
  runs; :func:`check_client_limit` adds a per-client-id limit once a credential has been checked.
- **Public PDFs** (rendered for anyone, ~1 s of CPU each) share one per-address budget
  (:func:`public_pdf_limit`); a test walks the URL map so none is left out.
- **Rendered documents** whose output depends only on their inputs are kept in a
  :class:`DocumentCache` (per worker, bounded by count and bytes); concurrent requests for the
  same document wait for the first rendering instead of rendering it again.

Limits come from ``ratelimit_*`` in config/portal.toml; a 429 is the Chinese page, or on /api/
the JSON error ``rate_limited``, both with ``Retry-After``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import threading
import time
from collections import OrderedDict
from decimal import Decimal
from typing import Callable, TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter.util import get_qualified_name
from jinja2 import Environment, meta
from limits import parse

from portal.extensions import client_address, limiter, settings

F = TypeVar("F", bound=Callable)

#: shared scopes: one counter per address across every view that carries the limit
API_ADDRESS_SCOPE = "api-address"
API_FAILURE_SCOPE = "api-auth-failures"
PUBLIC_PDF_SCOPE = "public-pdf"
_CLIENT_SCOPE = "api-client"


def address_key() -> str:
    return "addr:" + client_address()


def _is_refused_credential(response) -> bool:
    return response.status_code == 401


def api_limits(view: F) -> F:
    """Every /api/ call: per address, before anything else runs (put it outermost). Failed
    authentications count against a second, stricter per-address limit."""
    limited = limiter.shared_limit(lambda: settings().ratelimit_api_auth_failures, scope=API_FAILURE_SCOPE,
                                   key_func=address_key, deduct_when=_is_refused_credential)(view)
    limited = limiter.shared_limit(lambda: settings().ratelimit_api_address, scope=API_ADDRESS_SCOPE,
                                   key_func=address_key)(limited)
    limited.address_limited = True  # type: ignore[attr-defined]
    return limited  # type: ignore[return-value]


def check_client_limit(client_id: str) -> int | None:
    """Count a call of an authenticated API client; the seconds to wait when it is over its
    ``ratelimit_api_client`` (None while it is within it)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    item = parse(settings().ratelimit_api_client)
    strategy = limiter.limiter
    if strategy.hit(item, _CLIENT_SCOPE, client_id):
        return None
    reset_at = strategy.get_window_stats(item, _CLIENT_SCOPE, client_id).reset_time
    return max(1, int(reset_at - time.time()) + 1)


def public_pdf_limit(view: F) -> F:
    """A PDF rendered for anonymous visitors: one per-address budget shared by all of them."""
    limited = limiter.shared_limit(lambda: settings().ratelimit_public_pdf, scope=PUBLIC_PDF_SCOPE,
                                   key_func=address_key)(view)
    limited.public_pdf_limited = True  # type: ignore[attr-defined]
    return limited  # type: ignore[return-value]


# --- views with nothing to limit -------------------------------------------------------------

_UNLIMITED = "portal.unlimited_endpoints"


def skip_unlimited_views(app: Flask) -> None:
    """Most pages carry no limit; Flask-Limiter would still work out, on every request, that it
    has none to check (a fifth of the home page's cost). A request filter answers that from a
    per-endpoint memo instead. Only while the limiter has no application-wide, default or meta
    limits (then every limit is one a view or blueprint was given, known before the first
    request); with any of those the filter never skips."""
    app.extensions[_UNLIMITED] = {}
    if _nothing_to_limit not in limiter._request_filters:  # one limiter for every app (tests)
        limiter.request_filter(_nothing_to_limit)
    _skip_hooks_of_unlimited_views(app)


_SKIPPED = "_portal_limiter_skipped"


def _skip_hooks_of_unlimited_views(app: Flask) -> None:
    """Even with the filter above, the limiter's three hooks still build its request context and
    look for meta limits and exemptions on every request. On a view with nothing to limit they
    have nothing to do: its before-request hook is skipped, and then its after-request (headers,
    conditional deductions: none without a limit) and teardown (resetting a context never made)
    hooks too."""
    check = limiter._check_request_limit
    before = app.before_request_funcs.get(None, [])
    if check not in before:
        return  # the limiter is not installed as usual: leave it alone

    def check_request_limit():
        if _nothing_to_limit():
            request.environ[_SKIPPED] = True
            return None
        return check()

    before[before.index(check)] = check_request_limit
    after = app.after_request_funcs.get(None, [])
    teardown = app.teardown_request_funcs.get(None, [])
    for hooks in (after, teardown):
        for i, hook in enumerate(hooks):
            if getattr(hook, "func", hook).__qualname__.startswith("Limiter.") or getattr(
                    hook, "__self__", None) is limiter:
                hooks[i] = _unless_skipped(hook)


def _unless_skipped(hook: Callable) -> Callable:
    @functools.wraps(hook)
    def wrapped(arg):
        if request.environ.get(_SKIPPED):
            return arg if isinstance(arg, Response) else None
        return hook(arg)

    return wrapped


def _nothing_to_limit() -> bool:
    memo = current_app.extensions.get(_UNLIMITED)
    endpoint = request.endpoint
    if memo is None or endpoint is None:
        return False
    unlimited = memo.get(endpoint)
    if unlimited is None:
        unlimited = memo[endpoint] = _has_no_limits(endpoint)
    return unlimited and not limiter.limit_manager.has_hints(endpoint)


def _has_no_limits(endpoint: str) -> bool:
    manager = limiter.limit_manager
    if manager.application_limits or manager.default_limits or limiter._meta_limits:
        return False
    view = current_app.view_functions.get(endpoint)
    blueprint = endpoint.rpartition(".")[0]
    return (view is not None and not manager.decorated_limits(get_qualified_name(view))
            and not (blueprint and manager.blueprint_limits(current_app, blueprint)))


# --- rendered documents ----------------------------------------------------------------------


class DocumentCache:
    """Rendered documents by key, least recently used first out, at most ``max_entries`` of them
    and ``max_bytes`` in all (a document larger than a quarter of that is not kept). Thread-safe;
    :meth:`get_or_render` renders a key once even when many requests ask for it at once."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._rendering: dict[str, threading.Lock] = {}
        #: documents rendered and served from the cache (for tests and metrics)
        self.renders = self.hits = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return found

    def put(self, key: str, document: bytes) -> None:
        if len(document) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._size -= len(old) if old is not None else 0
            self._items[key] = document
            self._size += len(document)
            while len(self._items) > self.max_entries or self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def get_or_render(self, key: str, render: Callable[[], bytes]) -> bytes:
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:
            key_lock = self._rendering.setdefault(key, threading.Lock())
        try:
            with key_lock:  # the same document asked for at once: one renders, the others wait
                found = self.get(key)
                if found is not None:
                    return found
                document = render()
                with self._lock:
                    self.renders += 1
                self.put(key, document)
                return document
        finally:
            with self._lock:
                if not key_lock.locked():
                    self._rendering.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


_caches_lock = threading.Lock()


def document_cache(name: str, app: Flask | None = None) -> DocumentCache:
    """The app's cache of the documents called ``name`` (sized by ``estimate_pdf_cache_*``)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    caches = app.extensions.setdefault("portal.document_caches", {})
    with _caches_lock:
        cache = caches.get(name)
        if cache is None:
            config = app.config["PORTAL_SETTINGS"]
            cache = caches[name] = DocumentCache(int(config.estimate_pdf_cache_entries),
                                                 int(config.estimate_pdf_cache_mb) * 1024 * 1024)
        return cache


def template_fingerprint(env: Environment, name: str) -> str:
    """A digest of template ``name`` and of every template it extends, includes or imports: a
    changed template is a different document."""
    digest = hashlib.sha256()
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        source, _, _ = env.loader.get_source(env, current)  # type: ignore[union-attr]
        digest.update(current.encode() + b"\0" + source.encode("utf-8") + b"\0")
        pending.extend(sorted(n for n in meta.find_referenced_templates(env.parse(source)) if n))
    return digest.hexdigest()


def document_key(*parts: object) -> str:
    """A cache key from the parts that decide a document, compared by value: dataclasses field by
    field, decimals by their value (5432.170 is 5432.17), enums by their value."""
    return hashlib.sha256(repr(_canonical(parts)).encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,
                tuple((f.name, _canonical(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, Decimal):
        return ("Decimal", str(value.normalize()) if value.is_finite() else str(value))
    if isinstance(value, enum.Enum):
        return (type(value).__name__, _canonical(value.value))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((repr(k), _canonical(v)) for k, v in value.items()))
    return value
