"""Application factory and in-memory state of the tax collection platform sandbox."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import structlog
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException

from adapters import sandbox_signing, sandbox_ui
from adapters.tax_collection import signing
from adapters.tax_collection.codes import (
    API_PREFIX,
    PAYMENT_STATE_LABELS,
    RESULT_MESSAGES,
    PaymentState,
    ResultCode,
)
from adapters.tax_collection.errors import SignatureError

log = structlog.get_logger("sandbox.tax_collection")

EXTENSION_KEY = "tax_sandbox"
SESSION_COOKIE_NAME = "taxsandbox_session"


@dataclass
class Delivery:
    attempt: int
    status: int | None
    error: str | None
    at: datetime


@dataclass
class Order:
    """A payment order (缴费单) at the platform."""

    reference: str
    bill_number: str
    amount: Decimal
    currency: str
    payer: str
    purpose: str
    city_code: str
    status: PaymentState = PaymentState.UNPAID
    paid_at: datetime | None = None
    message_id: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    delivered: threading.Event = field(default_factory=threading.Event)
    gave_up: threading.Event = field(default_factory=threading.Event)

    def public(self) -> dict[str, Any]:
        return {"reference": self.reference, "bill_number": self.bill_number,
                "amount": f"{self.amount:.2f}", "currency": self.currency, "status": self.status.value,
                "paid_at": self.paid_at.isoformat() if self.paid_at else None}


class SandboxState:
    """The platform's memory, plus knobs tests turn to imitate a misbehaving platform."""

    def __init__(self, *, signing_key: bytes, portal_callback_url: str, callback_attempts: int,
                 callback_backoff_seconds: float, callback_timeout_seconds: float) -> None:
        self.signing_key = signing_key
        self.portal_callback_url = portal_callback_url
        self.callback_attempts = callback_attempts
        self.callback_backoff_seconds = callback_backoff_seconds
        self.callback_timeout_seconds = callback_timeout_seconds
        self.lock = threading.Lock()
        self.orders: dict[str, Order] = {}
        self.by_bill: dict[str, str] = {}
        self._nonces = sandbox_signing.NonceMemory(self.lock)
        #: Knobs: answer API calls this many seconds late / with 503 (platform overloaded).
        self.api_delay_seconds: float = 0.0
        self.api_unavailable: bool = False
        #: Set when an API request arrives, before any delay (tests wait for it: clear, act, wait).
        self.api_request_arrived = threading.Event()
        #: Knob: wait this long after 确认缴费 before the first callback (a slow platform).
        self.callback_delay_seconds: float = 0.0
        #: Knob: paid amount differs from the order by this much (tests of a mismatch).
        self.paid_amount_offset: Decimal = Decimal(0)
        self._threads: list[threading.Thread] = []

    # --- orders ----------------------------------------------------------------------------

    def create_order(self, data: dict[str, Any]) -> tuple[Order, bool]:
        with self.lock:
            existing = self.by_bill.get(data["bill_number"])
            if existing is not None:
                return self.orders[existing], False
            reference = "34" + datetime.now(UTC).strftime("%Y%m%d") + f"{secrets.randbelow(10**10):010d}"
            order = Order(reference=reference, **data)
            self.orders[reference] = order
            self.by_bill[order.bill_number] = reference
            return order, True

    def forget(self, reference: str) -> None:
        """Knob: the platform purges an unpaid order (an expired 缴款码): it no longer knows the
        reference, and the bill number may be filed again under a new one."""
        with self.lock:
            order = self.orders.pop(reference, None)
            if order is not None:
                self.by_bill.pop(order.bill_number, None)

    def get(self, reference: str) -> Order | None:
        with self.lock:
            return self.orders.get(reference)

    def pay(self, reference: str) -> Order:
        """确认缴费: mark paid (once) and start delivering the callback."""
        with self.lock:
            order = self.orders[reference]
            if order.status is PaymentState.PAID:
                return order
            order.status = PaymentState.PAID
            order.paid_at = datetime.now(UTC).replace(microsecond=0)
            order.message_id = uuid.uuid4().hex
        thread = threading.Thread(target=self._deliver, args=(order,), daemon=True,
                                  name=f"tax-callback-{reference}")
        self._threads.append(thread)
        thread.start()
        return order

    # --- nonces (replay protection for requests the sandbox receives) ----------------------

    def use_nonce(self, nonce: str) -> bool:
        return self._nonces.use(nonce)

    # --- callback delivery -----------------------------------------------------------------

    def callback_body(self, order: Order) -> bytes:
        paid_amount = order.amount + self.paid_amount_offset
        return json.dumps({"message_id": order.message_id, "reference": order.reference,
                           "bill_number": order.bill_number, "status": order.status.value,
                           "amount": f"{paid_amount:.2f}",
                           "paid_at": order.paid_at.isoformat() if order.paid_at else None},
                          ensure_ascii=False).encode("utf-8")

    def _deliver(self, order: Order) -> None:
        body = self.callback_body(order)
        path = urlsplit(self.portal_callback_url).path or "/"
        if self.callback_delay_seconds:
            time.sleep(self.callback_delay_seconds)
        for attempt in range(1, self.callback_attempts + 1):
            headers = signing.signed_headers(self.signing_key, "POST", path, body)
            headers["Content-Type"] = "application/json; charset=utf-8"
            status, error = None, None
            try:
                response = requests.post(self.portal_callback_url, data=body, headers=headers,
                                         timeout=self.callback_timeout_seconds)
                status = response.status_code
            except requests.RequestException as exc:
                error = type(exc).__name__
            order.deliveries.append(Delivery(attempt, status, error, datetime.now(UTC)))
            log.info("tax_sandbox.callback", reference=order.reference, message_id=order.message_id,
                     attempt=attempt, status=status, error=error)
            if status is not None and 200 <= status < 300:
                order.delivered.set()
                return
            if attempt < self.callback_attempts:
                time.sleep(self.callback_backoff_seconds * 2 ** (attempt - 1))
        order.gave_up.set()
        log.warning("tax_sandbox.callback_gave_up", reference=order.reference, message_id=order.message_id)

    def join(self, timeout: float = 5.0) -> None:
        for thread in list(self._threads):
            thread.join(timeout)


bp = Blueprint("taxsandbox", __name__, template_folder="templates")


def _state() -> SandboxState:
    return current_app.extensions[EXTENSION_KEY]


def _api_error(code: ResultCode, status: int):
    return jsonify(code=code.value, message=RESULT_MESSAGES[code]), status


def _verify_api_request() -> tuple[Any, int] | None:
    state = _state()
    state.api_request_arrived.set()
    if state.api_delay_seconds:
        time.sleep(state.api_delay_seconds)
    if state.api_unavailable:
        return _api_error(ResultCode.INTERNAL_ERROR, 503)
    try:
        sandbox_signing.verify_request(signing.HEADERS, state.signing_key, state.use_nonce)
    except SignatureError as exc:
        return _api_error(sandbox_signing.refusal_code(ResultCode, exc), 401)
    return None


_REQUIRED = ("bill_number", "amount", "payer", "purpose", "city_code")


@bp.post(f"{API_PREFIX}/payment-orders")
@sandbox_signing.refused_unless(_verify_api_request)
def create_order():
    try:
        data = json.loads(request.get_data().decode("utf-8"))
        fields = {k: str(data[k]).strip() for k in _REQUIRED}
        amount = Decimal(fields.pop("amount"))
        currency = str(data.get("currency") or "CNY")
    except (ValueError, KeyError, TypeError, InvalidOperation, AttributeError):
        return _api_error(ResultCode.INVALID_PAYLOAD, 422)
    if not all(fields.values()) or amount <= 0 or amount != amount.quantize(Decimal("0.01")) or currency != "CNY":
        return _api_error(ResultCode.INVALID_PAYLOAD, 422)
    order, created = _state().create_order({**fields, "amount": amount, "currency": currency})
    if not created and order.amount != amount:
        return _api_error(ResultCode.BILL_CONFLICT, 409)
    return jsonify(code=ResultCode.OK.value, pay_url=_pay_url(order), **order.public()), 201 if created else 200


@bp.get(f"{API_PREFIX}/payment-orders/<reference>")
@sandbox_signing.refused_unless(_verify_api_request)
def query_order(reference: str):
    order = _state().get(reference)
    if order is None:
        return _api_error(ResultCode.REFERENCE_NOT_FOUND, 404)
    return jsonify(code=ResultCode.OK.value, **order.public())


def _pay_url(order: Order) -> str:
    return f"{current_app.config['TAX_SANDBOX_BASE_URL']}/pay/{order.reference}"


def _form_token(reference: str) -> str:
    return std_hmac.new(current_app.config["SECRET_KEY"].encode(), reference.encode(), hashlib.sha256).hexdigest()


def _return_url() -> str | None:
    """Back to the portal, only to the portal's own origin (no open redirect)."""
    value = request.values.get("return", "")
    portal = urlsplit(_state().portal_callback_url)
    target = urlsplit(value)
    if value and (target.scheme, target.netloc) == (portal.scheme, portal.netloc):
        return value
    return None


@bp.get("/pay/<reference>")
def pay_page(reference: str):
    order = _state().get(reference) or abort(404)
    return render_template("pay.html", order=order, token=_form_token(reference),
                           return_url=_return_url(), labels=PAYMENT_STATE_LABELS)


@bp.post("/pay/<reference>")
def confirm_payment(reference: str):
    order = _state().get(reference) or abort(404)
    if not std_hmac.compare_digest(request.form.get("token", ""), _form_token(reference)):
        abort(400)
    _state().pay(reference)
    return_url = _return_url()
    target = f"{current_app.config['TAX_SANDBOX_BASE_URL']}/pay/{order.reference}"
    if return_url:
        target += "?" + urlencode({"return": return_url})
    return redirect(target, 303)


@bp.get("/")
def index():
    return render_template("index.html")


def create_tax_sandbox_app(*, base_url: str, portal_callback_url: str, signing_key: bytes,
                           callback_attempts: int = 6, callback_backoff_seconds: float = 1.0,
                           callback_timeout_seconds: float = 5.0) -> Flask:
    """Build the sandbox.

    :param base_url: where it is served, e.g. ``http://127.0.0.1:5200`` (a path becomes a prefix).
    :param portal_callback_url: where payments are reported, e.g.
        ``http://127.0.0.1:5000/api/payments/tax-callback``.
    :param signing_key: the HMAC-SM3 key shared with the portal (``tax_platform_key``).
    :param callback_attempts: deliveries tried per payment before giving up (bounded).
    :param callback_backoff_seconds: wait before the 2nd attempt; doubles after each failure.
    """
    if not signing_key:
        raise ValueError("signing_key must not be empty")
    base_url = base_url.rstrip("/")
    prefix = urlsplit(base_url).path or None
    app = Flask(__name__, static_folder=None)
    app.config.update(SECRET_KEY=secrets.token_hex(32), SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
                      TAX_SANDBOX_BASE_URL=base_url)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = SandboxState(
        signing_key=signing_key, portal_callback_url=portal_callback_url,
        callback_attempts=max(1, callback_attempts), callback_backoff_seconds=callback_backoff_seconds,
        callback_timeout_seconds=callback_timeout_seconds)
    app.register_blueprint(bp, url_prefix=prefix)
    app.register_blueprint(sandbox_ui.bp, url_prefix=prefix)
    portal = urlsplit(portal_callback_url)
    csp = "; ".join(["default-src 'none'", "style-src 'self'", "img-src 'self'", "base-uri 'none'",
                     "frame-ancestors 'none'", f"form-action 'self' {portal.scheme}://{portal.netloc}"])

    @app.after_request
    def finish(response: Response) -> Response:
        if request.path.startswith((prefix or "") + API_PREFIX):
            # Answers are signed so the portal can tell a platform answer from anything else.
            sandbox_signing.sign_answer(signing.HEADERS, signing_key, response)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith((prefix or "") + API_PREFIX):
            return jsonify(code=ResultCode.INVALID_PAYLOAD.value, message=error.name), error.code
        messages = {404: ("缴费单不存在", "没有找到该缴款码对应的缴费单，请回到门户重新获取。"),
                    400: ("请求无效", "页面已过期，请回到门户重新进入缴费页面。")}
        heading, message = messages.get(error.code or 500, ("请求无法处理", "请返回门户重试。"))
        return render_template("sandbox_ui/error.html", heading=heading, message=message), error.code

    log.info("tax_sandbox_started", base_url=base_url, callback=portal_callback_url)
    return app
