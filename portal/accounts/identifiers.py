"""Validation and normalisation of Chinese identifiers.

- Resident ID number (居民身份证号码, GB 11643-1999) via python-stdnum, plus two rules it lacks:
  the birth date may not lie in the future, and spaces are not silently accepted.
- Unified social credit code (统一社会信用代码, GB 32100-2015): python-stdnum's check-digit
  algorithm is right, but its format rule rejects valid codes whose first character is a letter
  (e.g. ``Y`` for "other" registration authorities), so the format is checked here.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from portal.localtime import local_today


class IdentifierError(ValueError):
    """Carries a Chinese message fit to show next to the field."""


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_FORMAT = re.compile(rf"^[{_USCC_ALPHABET}]{{2}}\d{{6}}[{_USCC_ALPHABET}]{{10}}$")


def normalise_id_number(raw: str, *, today: date | None = None) -> str:
    """Return the canonical 18-character ID number or raise :class:`IdentifierError`."""
    value = (raw or "").strip().upper()
    if not value:
        raise IdentifierError("请填写身份证号码")
    if any(ch.isspace() for ch in value):
        raise IdentifierError("身份证号码中不能有空格")
    if len(value) != 18:
        raise IdentifierError("身份证号码应为18位")
    if not value[:17].isdigit() or value[17] not in "0123456789X":
        raise IdentifierError("身份证号码格式不正确（前17位为数字，末位为数字或X）")
    try:
        birth = ric.get_birth_date(value)
    except ValidationError as exc:
        raise IdentifierError("身份证号码中的出生日期不存在") from exc
    if birth > (today or local_today()):
        raise IdentifierError("身份证号码中的出生日期晚于今天")
    if ric.calc_check_digit(value) != value[17]:
        raise IdentifierError("身份证号码校验位不正确")
    return value


def birth_date_of(id_number: str) -> date:
    return ric.get_birth_date(id_number)


def normalise_uscc(raw: str) -> str:
    """Return the canonical USCC or raise :class:`IdentifierError`."""
    value = (raw or "").strip().upper()
    if not value:
        raise IdentifierError("请填写统一社会信用代码")
    if len(value) != 18:
        raise IdentifierError("统一社会信用代码应为18位")
    if not _USCC_FORMAT.match(value):
        raise IdentifierError("统一社会信用代码格式不正确（不含 I、O、S、V、Z）")
    if stdnum_uscc.calc_check_digit(value[:17]) != value[17]:
        raise IdentifierError("统一社会信用代码校验位不正确")
    return value


_PHONE = re.compile(r"^1[3-9]\d{9}$")
_BANK = re.compile(r"^\d{12,30}$")


def _compact(raw: str, separators: str, pattern: re.Pattern[str], missing: str, malformed: str) -> str:
    """``raw`` without its separators (a regex character class), checked against ``pattern``."""
    value = re.sub(separators, "", raw or "")
    if not value:
        raise IdentifierError(missing)
    if not pattern.match(value):
        raise IdentifierError(malformed)
    return value


def normalise_phone(raw: str) -> str:
    return _compact(raw, r"[\s-]", _PHONE, "请填写手机号码", "手机号码格式不正确（11位，以1开头）")


def normalise_bank_account(raw: str) -> str:
    return _compact(raw, r"\s", _BANK, "请填写银行账号", "银行账号应为12至30位数字")
