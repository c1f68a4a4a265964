"""The portal's client of the tax collection platform (protocol in ``codes``).

Every call has a timeout, is signed, checks the answer's signature, logs its duration and
outcome, and raises :class:`TaxPlatformError` (``from`` the cause) when there is no usable
answer. A definite answer ("this reference does not exist") is a result, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import requests
import structlog

from adapters.signed_json import OnTransport, SignedJsonTransport
from adapters.tax_collection import signing
from adapters.tax_collection.codes import API_PREFIX, PaymentState, ResultCode
from adapters.tax_collection.errors import TaxPlatformError

log = structlog.get_logger("adapters.tax_collection")


@dataclass(frozen=True)
class PaymentStatus:
    """The platform's word on one payment reference."""

    reference: str
    state: PaymentState
    amount: Decimal | None = None
    paid_at: datetime | None = None


class TaxPlatformClient:
    base_url = OnTransport()
    timeout = OnTransport()

    def __init__(self, base_url: str, key: bytes, *, timeout: float = 5.0,
                 session: requests.Session | None = None) -> None:
        self._transport = SignedJsonTransport(base_url, key, signing.HEADERS, error=TaxPlatformError, log=log,
                                              event="tax_platform.call", timeout=timeout, session=session)

    # --- the calls -----------------------------------------------------------------------

    def issue_reference(self, *, bill_number: str, amount: Decimal, payer: str, purpose: str,
                        city_code: str, currency: str = "CNY") -> str:
        """缴款码 for the bill; the same bill number always gets the same reference."""
        body = {"bill_number": bill_number, "amount": f"{amount:.2f}", "currency": currency,
                "payer": payer, "purpose": purpose, "city_code": city_code}
        status, data = self._transport.call("POST", f"{API_PREFIX}/payment-orders", body, op="issue_reference")
        if status not in (200, 201) or data.get("code") != ResultCode.OK:
            raise TaxPlatformError(f"platform refused the payment order: {data.get('code')}",
                                   code=str(data.get("code") or "refused"), status=status)
        reference = data.get("reference")
        if not isinstance(reference, str) or not reference:
            raise TaxPlatformError("answer without reference", code="unreadable", status=status)
        return reference

    def query_payment(self, reference: str) -> PaymentStatus:
        status, data = self._transport.call("GET", f"{API_PREFIX}/payment-orders/{quote(reference, safe='')}",
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

    def close(self) -> None:
        self._transport.close()
