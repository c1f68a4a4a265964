"""Result codes and payment states of the tax collection platform protocol.

NO PUBLIC INTERFACE SPECIFICATION EXISTS for the social-insurance-fee collection platform of the
tax bureau (税务部门 社保费征收) or for its data-sharing platform (shared/domain.md §9: format
U(none)). The protocol below is therefore OURS, implemented by ``adapters.tax_collection.sandbox``
and spoken by ``adapters.tax_collection.client``. A real platform with another protocol needs a
new client behind the same small interface (``portal.payments.service.PaymentPlatform``), not a
change in the portal.

Protocol (all bodies UTF-8 JSON, amounts as strings with two decimals, times ISO 8601 UTC)
------------------------------------------------------------------------------------------
Every machine request in both directions is signed (``adapters.tax_collection.signing``): headers
``X-Tax-Timestamp`` (Unix seconds), ``X-Tax-Nonce`` (random, single use), ``X-Tax-Signature``
(hex HMAC-SM3 over method, path, timestamp, nonce and the body's SHA-256). Answers from the
platform are signed the same way over ``RESPONSE``, the request path, and the answer body.

``POST /api/v1/payment-orders``  portal → platform: issue a payment reference (缴款码) for a bill
    body ``{"bill_number", "amount", "currency", "payer", "purpose", "city_code"}``;
    answer 201 (200 when the bill number was seen before: same reference, idempotent)
    ``{"code": "0000", "reference", "bill_number", "amount", "status", "pay_url"}``.
``GET /api/v1/payment-orders/<reference>``  portal → platform: query a payment
    answer 200 ``{"code": "0000", "reference", "bill_number", "amount", "status", "paid_at"}``;
    404 ``{"code": "2001"}`` when the reference is unknown.
``GET|POST /pay/<reference>``  the payer's browser: the pay page with a 确认缴费 button (demo).
``POST <portal callback URL>``  platform → portal, after a payment
    body ``{"message_id", "reference", "bill_number", "status": "paid", "amount", "paid_at"}``;
    the portal answers 2xx when it has recorded the message (also for a duplicate); anything
    else, or no answer, is retried with exponential backoff a bounded number of times, always
    with the same ``message_id`` and a fresh timestamp, nonce and signature.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

#: Protocol version in the URL path.
API_PREFIX = "/api/v1"


class ResultCode(enum.StrEnum):
    OK = "0000"  #: 成功
    BAD_SIGNATURE = "1001"  #: 签名无效
    STALE_TIMESTAMP = "1002"  #: 时间戳超出允许范围
    REPLAYED_NONCE = "1003"  #: 随机数重复（重放）
    INVALID_PAYLOAD = "1004"  #: 报文格式错误
    REFERENCE_NOT_FOUND = "2001"  #: 缴款码不存在
    BILL_CONFLICT = "2002"  #: 同一缴费单号的金额不一致
    INTERNAL_ERROR = "9999"  #: 平台内部错误


RESULT_MESSAGES = MappingProxyType({
    ResultCode.OK: "成功",
    ResultCode.BAD_SIGNATURE: "签名无效",
    ResultCode.STALE_TIMESTAMP: "时间戳超出允许范围",
    ResultCode.REPLAYED_NONCE: "请求重复提交",
    ResultCode.INVALID_PAYLOAD: "报文格式错误",
    ResultCode.REFERENCE_NOT_FOUND: "缴款码不存在",
    ResultCode.BILL_CONFLICT: "同一缴费单号已以不同金额申请过缴款码",
    ResultCode.INTERNAL_ERROR: "平台内部错误",
})


class PaymentState(enum.StrEnum):
    """State of a payment order at the platform (``status`` field)."""

    UNPAID = "unpaid"  #: 未缴费
    PAID = "paid"  #: 已缴费
    NOT_FOUND = "not_found"  #: 平台无此缴款码 (client side only: a definite 404 answer)


PAYMENT_STATE_LABELS = MappingProxyType({
    PaymentState.UNPAID: "未缴费",
    PaymentState.PAID: "已缴费",
    PaymentState.NOT_FOUND: "缴款码不存在",
})
