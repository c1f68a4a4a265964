"""ID numbers (GB 11643) and unified social credit codes (GB 32100)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from portal.accounts.identifiers import (
    IdentifierError,
    normalise_bank_account,
    normalise_id_number,
    normalise_phone,
    normalise_uscc,
)


@pytest.mark.parametrize("raw,expected", [
    ("11010519491231002X", "11010519491231002X"),
    ("11010519491231002x", "11010519491231002X"),
    (" 340104199003071235 ", "340104199003071235"),
])
def test_valid_id_numbers(raw, expected):
    assert normalise_id_number(raw) == expected


@pytest.mark.parametrize("raw,message", [
    ("", "请填写"),
    ("110105194912310021", "校验位"),
    ("11010519491331002X", "出生日期不存在"),
    ("11010519490229002X", "出生日期不存在"),
    ("1101051949123100 2X", "空格"),
    ("11010519491231002", "18位"),
    ("1101051949123100AX", "格式"),
])
def test_invalid_id_numbers_say_why(raw, message):
    with pytest.raises(IdentifierError, match=message):
        normalise_id_number(raw)


def test_future_birth_date_is_refused_although_stdnum_accepts_it():
    future = "11010520291231" + "002"
    number = future + ric.calc_check_digit(future + "0")
    ric.validate(number)  # the library alone lets it through
    with pytest.raises(IdentifierError, match="晚于今天"):
        normalise_id_number(number, today=date(2026, 11, 23))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)), st.integers(0, 999))
def test_any_well_formed_number_is_accepted(birth, seq):
    body = f"340104{birth:%Y%m%d}{seq:03d}"
    number = body + ric.calc_check_digit(body + "0")
    assert normalise_id_number(number.lower()) == number


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",   # python-stdnum's own sample
    "91340100MA2N0A1B5E",
    "Y1340100MA2N0G7H9Q",   # letter-first: valid under GB 32100, refused by stdnum's format rule
])
def test_valid_uscc(code):
    assert normalise_uscc(code.lower()) == code


@pytest.mark.parametrize("code,message", [
    ("91350100M000100Y44", "校验位"),
    ("91350100M000100Y4", "18位"),
    ("9135010OM000100Y43", "格式"),   # letter O is not in the alphabet
    ("", "请填写"),
])
def test_invalid_uscc(code, message):
    with pytest.raises(IdentifierError, match=message):
        normalise_uscc(code)


def test_phone_and_bank_account():
    assert normalise_phone("139 5510 0001") == "13955100001"
    with pytest.raises(IdentifierError):
        normalise_phone("12345")
    assert normalise_bank_account("6222 0212 3456 7890 123") == "6222021234567890123"
    with pytest.raises(IdentifierError, match="12至30位"):
        normalise_bank_account("62220A")
