"""Money: Decimal end to end, rounded to the fen by one documented rule, written out as on a bill.

Rounding: half-up to 0.01 yuan of the unrounded result (no official rule found: shared/domain.md
§6 U(none); the mode is policy data ``premium_rounding``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an

FEN = Decimal("0.01")


class MoneyError(ValueError):
    """Carries a Chinese message fit for a form field."""


def to_fen(amount: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return amount.quantize(FEN, rounding=rounding)


def parse_amount(raw: str, *, field: str = "金额", maximum: Decimal = Decimal("999999999999.99")) -> Decimal:
    """Parse a yuan amount typed by a person ("1,234.5" ok); at most two decimals, not negative."""
    text = (raw or "").strip().replace(",", "").replace("，", "").replace("¥", "").replace("元", "")
    if not text:
        raise MoneyError(f"请填写{field}")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise MoneyError(f"{field}格式不正确，请填写数字，如 1234.56") from exc
    if not value.is_finite():
        raise MoneyError(f"{field}格式不正确")
    if value < 0:
        raise MoneyError(f"{field}不能为负数")
    if value != value.quantize(FEN):
        raise MoneyError(f"{field}最多保留两位小数（到分）")
    if value > maximum:
        raise MoneyError(f"{field}超出允许范围")
    return value.quantize(FEN)


def capital(amount: Decimal) -> str:
    """人民币大写 as on a bill: 18518.52 -> 壹万捌仟伍佰壹拾捌元伍角贰分; 10000 -> 壹万元整."""
    amount = to_fen(amount)
    if amount < 0:
        raise MoneyError("金额不能为负数")
    if amount == 0:
        return "零元整"
    return cn2an.an2cn(format(amount, "f"), "rmb")


def yuan(amount: Decimal) -> str:
    """12345.6 -> '12,345.60'."""
    return f"{to_fen(amount):,.2f}"
