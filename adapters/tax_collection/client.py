"""The portal's client of the tax collection platform (protocol in ``codes``).

Every call has a timeout, is signed, checks the answer's signature, logs its duration and
outcome, and raises :class:`TaxPlatformError` (``from`` the cause) when there is no usable
answer. A definite answer ("this reference does not exist") is a result, not an error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlsplit

import requests
import structlog

from adapters.tax_collection import signing
from adapters.tax_collection.codes import API_PREFIX, PaymentState, ResultCode
from adapters.tax_collection.errors import SignatureError, TaxPlatformError

log = structlog.get_logger("adapters.tax_collection")


@dataclass(frozen=True)
class PaymentStatus:
    """The platform's word on one payment reference."""

    reference: str
    state: PaymentState
    amount: Decimal | None = None
    paid_at: datetime | None = None


class TaxPlatformClient:
    def __init__(self, base_url: str, key: bytes, *, timeout: float = 5.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._path_prefix = urlsplit(self.base_url).path
        self._key = key
        self.timeout = timeout
        self._http = session or requests.Session()

    # --- the calls -----------------------------------------------------------------------

    def issue_reference(self, *, bill_number: str, amount: Decimal, payer: str, purpose: str,
                        city_code: str, currency: str = "CNY") -> str:
        """缴款码 for the bill; the same bill number always gets the same reference."""
        body = {"bill_number": bill_number, "amount": f"{amount:.2f}", "currency": currency,
                "payer": payer, "purpose": purpose, "city_code": city_code}
        status, data = self._call("POST", f"{API_PREFIX}/payment-orders", body, op="issue_reference")
        if status not in (200, 201) or data.get("code") != ResultCode.OK:
            raise TaxPlatformError(f"platform refused the payment order: {data.get('code')}",
                                   code=str(data.get("code") or "refused"), status=status)
        reference = data.get("reference")
        if not isinstance(reference, str) or not reference:
            raise TaxPlatformError("answer without reference", code="unreadable", status=status)
        return reference

    def query_payment(self, reference: str) -> PaymentStatus:
        status, data = self._call("GET", f"{API_PREFIX}/payment-orders/{quote(reference, safe='')}",
                                  None, op="query_payment")
        if status == 404 and data.get("code") == ResultCode.REFERENCE_NOT_FOUND:
            return PaymentStatus(reference, PaymentState.NOT_FOUND)
        if status != 200 or data.get("code") != ResultCode.OK:
            raise TaxPlatformError(f"query refused: {data.get('code')}", code="refused", status=status)
        try:
            state = PaymentState(data["status"])
            amount = Decimal(str(data["amount"])) if data.get("amount") is not None else None
            paid_at = datetime.fromisoformat(data["paid_at"]) if data.get("paid_at") else None
        except (KeyError, ValueError, InvalidOperation, TypeError) as exc:
            raise TaxPlatformError("unreadable query answer", code="unreadable", status=status) from exc
        if paid_at is not None and paid_at.tzinfo is None:
            raise TaxPlatformError("paid_at without time zone", code="unreadable", status=status)
        if state is PaymentState.PAID and (amount is None or paid_at is None):
            raise TaxPlatformError("paid without amount or time", code="unreadable", status=status)
        return PaymentStatus(reference, state, amount, paid_at)

    def pay_page_url(self, reference: str) -> str:
        """Where the payer's browser pays (the sandbox's 确认缴费 page in the demo)."""
        return f"{self.base_url}/pay/{quote(reference, safe='')}"

    # --- transport -----------------------------------------------------------------------

    def _call(self, method: str, path: str, payload: dict | None, *, op: str) -> tuple[int, dict]:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        full_path = self._path_prefix + path
        headers = signing.signed_headers(self._key, method, full_path, body)
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        started = time.perf_counter()
        outcome, status = "error", None
        try:
            try:
                response = self._http.request(method, self.base_url + path, data=body or None,
                                              headers=headers, timeout=self.timeout)
            except requests.Timeout as exc:
                outcome = "timeout"
                raise TaxPlatformError(f"{op}: no answer within {self.timeout}s", code="timeout") from exc
            except requests.RequestException as exc:
                outcome = "unreachable"
                raise TaxPlatformError(f"{op}: platform unreachable", code="unreachable") from exc
            status = response.status_code
            if status >= 500:
                outcome = "server_error"
                raise TaxPlatformError(f"{op}: platform error {status}", code="server_error", status=status)
            try:
                signing.verify(self._key, signing.RESPONSE_METHOD, full_path, response.headers,
                               response.content)
            except SignatureError as exc:
                outcome = "unsigned_answer"
                raise TaxPlatformError(f"{op}: answer not signed by the platform ({exc.code})",
                                       code="unsigned_answer", status=status) from exc
            try:
                data = json.loads(response.content.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                outcome = "unreadable"
                raise TaxPlatformError(f"{op}: unreadable answer", code="unreadable", status=status) from exc
            if not isinstance(data, dict):
                outcome = "unreadable"
                raise TaxPlatformError(f"{op}: unreadable answer", code="unreadable", status=status)
            outcome = "answered"
            return status, data
        finally:
            log.info("tax_platform.call", op=op, method=method, url=self.base_url + path, status=status,
                     outcome=outcome, duration_ms=round((time.perf_counter() - started) * 1000, 1))

    def close(self) -> None:
        self._http.close()
