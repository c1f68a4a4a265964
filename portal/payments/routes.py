"""缴费: bills and their payment status (employer and city staff), and the tax collection
platform's signed callback ``POST /api/payments/tax-callback``."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from portal import tax_platform_client
from portal.api.openapi import error_response, operation
from portal.auth.access import public, requires
from portal.auth.roles import Role
from portal.extensions import csrf, db_session, limiter, settings
from portal.money import capital, yuan
from portal.payments import service
from portal.web.limits import api_limits
from portal.web.rendering import render_partial_or_page

bp = Blueprint("payments", __name__)

VIEWERS = (Role.EMPLOYER, Role.CLERK, Role.FINANCE, Role.PROVINCIAL)

_REFRESH_MESSAGES = {
    service.RefreshOutcome.PAID: ("success", "征收平台已确认缴费，缴费单已更新为“已缴费”。"),
    service.RefreshOutcome.ALREADY_FINAL: ("info", "缴费单状态已是最终结果，无需查询。"),
    service.RefreshOutcome.NOT_PAID: ("info", "征收平台尚未收到这张缴费单的缴费。"),
    service.RefreshOutcome.UNKNOWN: ("warning", "暂时无法从征收平台取得缴费结果，缴费单保持“待确认”，系统会自动再次查询。"),
    service.RefreshOutcome.AMOUNT_MISMATCH: ("warning", "实缴金额与应缴金额不符，已转人工核对。"),
    service.RefreshOutcome.REFERENCE_ISSUED: ("success", "已取得缴款码，现在可以去缴费。"),
    service.RefreshOutcome.NO_REFERENCE: ("warning", "社保费征收平台暂时无法连接，尚未取得缴款码，系统会自动重试。"),
    service.RefreshOutcome.REFERENCE_RENEWED: ("info", "原缴款码已在征收平台失效，已重新取得缴款码，请用新的缴款码缴费。"),
}


@bp.get("/payments/bills")
@requires(*VIEWERS)
def bills():
    raw_status = request.args.get("status", "")
    status = service.BillStatus(raw_status) if raw_status in service.BillStatus._value2member_map_ else None
    page = service.list_bills(db_session(), g.actor, status=status, page=request.args.get("page", 1, type=int))
    return render_template("payments/bills.html", page=page, status=status, statuses=list(service.BillStatus))


@bp.get("/payments/bills/<int:bill_id>")
@requires(*VIEWERS)
def bill(bill_id: int):
    found = service.get_bill(db_session(), g.actor, bill_id)
    return render_partial_or_page("payments/bill.html", "payments/_bill_status.html", "bill-status",
                                  bill=found, message=service.status_message(found),
                                  polling=service.awaiting_platform(found), capital=capital(found.amount),
                                  yuan=yuan, can_pay=g.actor.owns_organisation(found.organisation_id))


@bp.post("/payments/bills/<int:bill_id>/pay")
@requires(Role.EMPLOYER)
def pay(bill_id: int):
    found, instead = service.start_payment(db_session(), g.actor, bill_id)
    if instead is not None:  # paid meanwhile, or no valid reference yet: say so on the bill page
        flash(*reversed(_REFRESH_MESSAGES[instead]))
        return redirect(url_for("payments.bill", bill_id=found.id), 303)
    back = url_for("payments.bill", bill_id=found.id, _external=True)
    pay_page = tax_platform_client(current_app).pay_page_url(found.payment_reference)
    return redirect(f"{pay_page}?{urlencode({'return': back})}", 303)


@bp.post("/payments/bills/<int:bill_id>/refresh")
@requires(*VIEWERS)
def refresh(bill_id: int):
    found, outcome = service.refresh_bill(db_session(), g.actor, bill_id)
    flash(*reversed(_REFRESH_MESSAGES[outcome]))
    return redirect(url_for("payments.bill", bill_id=found.id), 303)


@bp.post("/api/payments/tax-callback")
@api_limits  # per address like every /api/ call; refused signatures (401) count as failed authentications
@public
@csrf.exempt  # authenticated by the HMAC-SM3 signature alone (adapters.tax_collection.signing)
@limiter.limit(lambda: settings().ratelimit_tax_callback)
@operation(
    summary="缴费结果通知（社保费征收平台回调）(payment notice from the tax collection platform)",
    description=("由社保费征收平台在缴费成功后调用。仅以 HMAC-SM3 签名认证（见 adapters.tax_collection.signing）："
                 "签名覆盖请求方法、路径、时间戳、随机数和请求体 SHA-256；时间戳须在 5 分钟内，随机数不得重复。"
                 "同一 message_id 重复通知不再改变状态，返回相同结果。"),
    tags=["payments"],
    parameters=[{"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                for name in ("X-Tax-Timestamp", "X-Tax-Nonce", "X-Tax-Signature")],
    requestBody={"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["message_id", "reference", "status", "amount", "paid_at"],
        "properties": {"message_id": {"type": "string", "maxLength": 64},
                       "reference": {"type": "string", "maxLength": 40},
                       "bill_number": {"type": "string"},
                       "status": {"const": "paid"},
                       "amount": {"type": "string", "pattern": r"^\d+\.\d{2}$"},
                       "paid_at": {"type": "string", "format": "date-time"}}}}}},
    responses={
        "200": {"description": "已记录（含重复通知）", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"result": {"const": "ok"}, "bill_number": {"type": "string"},
                                             "status": {"type": "string"}}}}}},
        "401": error_response("签名无效、时间戳过期或随机数重复", ["bad_signature", "stale_timestamp", "replayed_nonce"]),
        "404": error_response("缴款码不存在", ["unknown_reference"]),
        "422": error_response("报文格式错误", ["invalid_payload"]),
        "429": error_response("调用过于频繁", ["rate_limited"]),
    })
def tax_callback():
    """缴费结果通知 from the tax collection platform. 2xx = recorded (also for a duplicate)."""
    try:
        found = service.accept_signed_callback(
            db_session(), g.actor, signing_key=settings().tax_platform_key.encode("utf-8"), path=request.path,
            headers=request.headers, body=request.get_data(cache=True))
    except service.CallbackRefused as exc:
        return jsonify(error={"code": exc.code, "message": exc.message,
                              "request_id": g.get("request_id")}), exc.status
    return jsonify(result="ok", bill_number=found.number, status=found.status.value)
