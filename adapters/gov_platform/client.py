"""The portal's client of the provincial government-service platform's 一网通办 interface (办件上报).

Protocol (OURS: no public specification exists, shared/domain.md §9; names and codes in
:mod:`adapters.gov_platform.service_items`). JSON (UTF-8) over HTTPS below the platform's base URL.

Every request carries ``X-Gov-App-Id`` (the portal's registration at the platform) and an
HMAC-SM3 signature with the app's shared secret in ``X-Gov-Timestamp`` / ``X-Gov-Nonce`` /
``X-Gov-Signature`` (the scheme of :mod:`adapters.signing`: canonical form METHOD, PATH,
TIMESTAMP, NONCE, SHA256(BODY); ±300 s window; a nonce is used once). Every answer is signed the
same way with the method word ``RESPONSE`` and the request path, so the portal can tell a platform
answer from a proxy's error page. Every answer is ``{"code": <result code>, "message": ..., ...}``.

``PUT /gov/api/v1/service-items/{item_no}``
    Register or update a 办件. Body: ``item_no``, ``item_code`` (事项编码), ``item_name``,
    ``applicant_sub`` (the applicant's unified-login subject), ``applicant_name``,
    ``applicant_kind`` (``natural`` | ``legal``), ``department`` (受理部门), ``city_code``,
    ``received_at`` (ISO 8601 with offset, +08:00). 201 created, 200 updated; 409
    ``item_completed`` once the item is 办结.

``POST /gov/api/v1/service-items/{item_no}/events``
    Report one stage. Body: ``event_id`` (the sender's idempotency key), ``stage`` (see
    ``Stage``), ``stage_label`` (Chinese), ``occurred_at`` (ISO 8601, +08:00), ``detail`` (short
    Chinese text without personal data), ``completed`` (bool), ``result`` (for completion, e.g.
    认定工伤 / 不予认定 / 不予受理). 201 recorded; 200 ``{"duplicate": true}`` when that event id
    was recorded before (the first answer's content is repeated); 404 ``item_not_found``; 409
    ``item_completed`` for a new event on a completed item. The answer to a ``completed`` event
    carries the 好差评 invitation ``{"evaluation": {"url": ".../gov/evaluate/<token>",
    "expires_at": ISO}}`` (also on a duplicate, so a lost answer loses nothing).

``GET /gov/api/v1/service-items/{item_no}``
    The item and its events, as the platform holds them; 404 ``item_not_found``.

Every call has a timeout, logs its duration and outcome (no personal data), and raises
:class:`GovPlatformError` ``from`` the cause when there is no usable or no positive answer; a
duplicate is a success.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
import structlog

from adapters import BEIJING_TIME
from adapters.gov_platform.errors import GovPlatformError
from adapters.gov_platform.service_items import (
    API_PREFIX,
    HEADER_APP_ID,
    HEADERS,
    ApplicantKind,
    ResultCode,
    Stage,
)
from adapters.signed_json import OnTransport, SignedJsonTransport

log = structlog.get_logger("adapters.gov_platform")


#: Refusals that the same request may overcome later unchanged (clock skew, a nonce collision).
_RETRYABLE_CODES = frozenset({ResultCode.STALE_TIMESTAMP, ResultCode.REPLAYED_NONCE, ResultCode.UNAVAILABLE})


def local_iso(moment: datetime) -> str:
    """ISO 8601 in China Standard Time (+08:00), seconds precision; refuses naive datetimes."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the platform needs an explicit offset")
    return moment.astimezone(BEIJING_TIME).replace(microsecond=0).isoformat()


class ServiceItemsClient:
    base_url = OnTransport()
    timeout = OnTransport()

    def __init__(self, base_url: str, app_id: str, secret: str | bytes, timeout: float = 5.0,
                 session: requests.Session | None = None) -> None:
        if not app_id or not secret:
            raise ValueError("app_id and secret are required")
        self.app_id = app_id
        # Paths hold the 办件 number only (no personal data); bodies are never logged.
        self._transport = SignedJsonTransport(
            base_url, secret.encode("utf-8") if isinstance(secret, str) else secret, HEADERS,
            error=GovPlatformError, log=log, event="gov_platform.call", timeout=timeout, session=session,
            extra_headers={HEADER_APP_ID: app_id}, log_refusals=True)

    # --- the calls -----------------------------------------------------------------------

    def register_item(self, *, item_no: str, item_code: str, item_name: str, applicant_sub: str,
                      applicant_name: str, applicant_kind: str, department: str, city_code: str,
                      received_at: datetime | str) -> dict[str, Any]:
        """登记/更新办件. Returns the platform's answer (``created`` tells which)."""
        body = {"item_no": item_no, "item_code": item_code, "item_name": item_name,
                "applicant_sub": applicant_sub, "applicant_name": applicant_name,
                "applicant_kind": ApplicantKind(applicant_kind).value, "department": department,
                "city_code": city_code,
                "received_at": local_iso(received_at) if isinstance(received_at, datetime) else received_at}
        status, data = self._transport.call("PUT", self._item_path(item_no), body, op="register_item")
        if status in (200, 201) and data.get("code") == ResultCode.OK:
            return {**data, "created": status == 201}
        raise self._refusal("register_item", status, data)

    def report_event(self, *, item_no: str, event_id: str, stage: str, stage_label: str,
                     occurred_at: datetime | str, detail: str = "", completed: bool = False,
                     result: str | None = None) -> dict[str, Any]:
        """上报办件环节. Returns the answer: ``duplicate`` (bool) and, on completion, ``evaluation``."""
        body = {"event_id": event_id, "stage": Stage(stage).value, "stage_label": stage_label,
                "occurred_at": local_iso(occurred_at) if isinstance(occurred_at, datetime) else occurred_at,
                "detail": detail, "completed": bool(completed), "result": result}
        status, data = self._transport.call("POST", self._item_path(item_no) + "/events", body, op="report_event")
        if status in (200, 201) and data.get("code") == ResultCode.OK:
            return {**data, "duplicate": bool(data.get("duplicate")) or status == 200}
        raise self._refusal("report_event", status, data)

    def get_item(self, item_no: str) -> dict[str, Any] | None:
        """The item with its events as the platform holds it; None when it does not know it."""
        status, data = self._transport.call("GET", self._item_path(item_no), None, op="get_item")
        if status == 404 and data.get("code") == ResultCode.ITEM_NOT_FOUND:
            return None
        if status == 200 and data.get("code") == ResultCode.OK:
            return data
        raise self._refusal("get_item", status, data)

    # --- transport -----------------------------------------------------------------------

    @staticmethod
    def _item_path(item_no: str) -> str:
        return f"{API_PREFIX}/service-items/{quote(item_no, safe='')}"

    @staticmethod
    def _refusal(op: str, status: int, data: dict) -> GovPlatformError:
        code = str(data.get("code") or "refused")
        return GovPlatformError(f"{op}: platform refused ({status} {code})", code=code, status=status,
                                retryable=code in _RETRYABLE_CODES or status == 429)

    def close(self) -> None:
        self._transport.close()
