"""Validation and normalisation of Chinese identifiers.

- Resident ID number (居民身份证号码, GB 11643-1999) via python-stdnum, plus rules it lacks or
  gets wrong: the birth date may not lie in the future; spaces are not silently accepted; the
  region code (first 6 digits) must be one that has *ever* existed, in any year (see
  :func:`region_code_known`); 15-digit first-generation numbers are converted to 18 digits, the
  form that is stored, compared and blind-indexed.
- Unified social credit code (统一社会信用代码, GB 32100-2015): python-stdnum's check-digit
  algorithm is right, but its format rule rejects valid codes whose first character is a letter
  (e.g. ``Y`` for "other" registration authorities), so the format is checked here.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from portal.localtime import local_today


class IdentifierError(ValueError):
    """Carries a Chinese message fit to show next to the field."""


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_FORMAT = re.compile(rf"^[{_USCC_ALPHABET}]{{2}}\d{{6}}[{_USCC_ALPHABET}]{{10}}$")


# Residence permits for Hong Kong, Macau and Taiwan residents (港澳台居民居住证, issued since
# 2018-09-01) carry an ID-format number whose first 6 digits are 810000, 820000 or 830000. They
# are 18-digit only; 830000 is not a GB/T 2260 code, so the table below does not have it.
PERMIT_REGION_CODES = frozenset({"810000", "820000", "830000"})


def region_code_known(code: str) -> bool:
    """Whether ``code`` is a GB/T 2260 administrative division code that existed in *any* year.

    The table is python-stdnum's ``stdnum/cn/loc.dat`` (county-level codes with the years each
    was in use; python-stdnum 2.2's copy runs to 2025 changes, e.g. 500157 两江新区). The years
    are deliberately ignored: a number's code is where and when the number was issued, which can
    be long after birth (a person born in 1960 re-registered in 通州区, created 1997), so a
    check keyed to the birth year, as ``ric.get_birth_place`` does, refuses real people.
    A code created after the installed python-stdnum's data is refused until python-stdnum is
    upgraded; no codes are added here by hand.
    """
    if len(code) != 6 or not code.isdigit():
        return False
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def _upgrade_first_generation(value: str) -> str:
    """A 15-digit number (region, YYMMDD, sequence) as 18 digits: "19" before the year (they
    were issued to people born in the 1900s) and the ISO 7064 MOD 11-2 check character."""
    body = value[:6] + "19" + value[6:]
    return body + ric.calc_check_digit(body + "0")


def normalise_id_number(raw: str, *, today: date | None = None) -> str:
    """Return the canonical 18-character ID number or raise :class:`IdentifierError`.

    A valid 15-digit first-generation number is returned converted to 18 digits."""
    value = (raw or "").strip().upper()
    if not value:
        raise IdentifierError("请填写身份证号码")
    if any(ch.isspace() for ch in value):
        raise IdentifierError("身份证号码中不能有空格")
    if len(value) == 15:
        if not value.isdigit():
            raise IdentifierError("15位身份证号码应全部为数字")
        first_generation = True
    elif len(value) == 18:
        if not value[:17].isdigit() or value[17] not in "0123456789X":
            raise IdentifierError("身份证号码格式不正确（前17位为数字，末位为数字或X）")
        first_generation = False
    else:
        raise IdentifierError("身份证号码应为18位（第一代身份证为15位）")
    region = value[:6]
    if first_generation:   # permits were never 15 digits, although 810000/820000 are in GB/T 2260
        region_ok = region_code_known(region) and region not in PERMIT_REGION_CODES
    else:
        region_ok = region_code_known(region) or region in PERMIT_REGION_CODES
    if not region_ok:
        raise IdentifierError("身份证号码前6位（地区码）不正确")
    number = _upgrade_first_generation(value) if first_generation else value
    try:
        birth = ric.get_birth_date(number)
    except ValidationError as exc:
        raise IdentifierError("身份证号码中的出生日期不存在") from exc
    if birth > (today or local_today()):
        raise IdentifierError("身份证号码中的出生日期晚于今天")
    if ric.calc_check_digit(number) != number[17]:
        raise IdentifierError("身份证号码校验位不正确")
    return number


def birth_date_of(id_number: str) -> date:
    """The birth date in a (normalised) ID number; a 15-digit number is read as 19YYMMDD."""
    value = id_number.strip()
    if len(value) == 15:
        value = _upgrade_first_generation(value)
    return ric.get_birth_date(value)


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
