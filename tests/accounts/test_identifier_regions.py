"""ID numbers: region codes that have ever existed (any year), residence permits, 15-digit numbers."""

from datetime import date

import pytest
from stdnum.cn import ric

from portal.accounts import service as accounts
from portal.accounts.claims import Identity
from portal.accounts.identifiers import (
    IdentifierError,
    birth_date_of,
    normalise_id_number,
    region_code_known,
)
from portal.accounts.models import AccountKind

TODAY = date(2026, 11, 23)


def _number(region: str, birth: str = "19900307", seq: str = "123") -> str:
    """An 18-digit number with a correct check digit, whatever its region code."""
    body = f"{region}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize("region", ["990000", "990101", "000000", "999999", "119999", "340199"])
def test_unknown_region_codes_are_refused_even_with_a_correct_check_digit(region):
    number = _number(region)
    assert ric.calc_check_digit(number) == number[-1]
    with pytest.raises(IdentifierError, match=r"前6位（地区码）不正确"):
        normalise_id_number(number, today=TODAY)


@pytest.mark.parametrize("region,birth", [
    ("110103", "19850101"),   # 崇文区, merged into 东城区 in 2010: no longer exists today
    ("110104", "19700615"),   # 宣武区, likewise
    ("340208", "19800101"),   # 芜湖市三山区 (2005–2020), issued after 2005 to someone born in 1980
    ("110112", "19600101"),   # 通州区, created 1997, issued to someone born in 1960
    ("500157", "19900101"),   # 两江新区, created 2025
])
def test_codes_that_ever_existed_are_accepted_whatever_the_birth_year(region, birth):
    number = _number(region, birth)
    assert normalise_id_number(number, today=TODAY) == number


def test_a_code_created_after_birth_is_accepted_although_stdnum_refuses_it():
    number = _number("110112", "19600101")   # 通州区 [1997-]
    assert not ric.is_valid(number)          # the library keys the code to the birth year
    assert normalise_id_number(number, today=TODAY) == number


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_residence_permits_for_hong_kong_macau_and_taiwan_residents_are_accepted(region):
    number = _number(region, "19880808", "004")
    assert normalise_id_number(number.lower(), today=TODAY) == number


def test_the_region_table_is_stdnums_any_year_table():
    assert region_code_known("340104") and region_code_known("110103")
    assert not region_code_known("830000")   # the permit code is not a GB/T 2260 code
    assert not region_code_known("000000") and not region_code_known("99") and not region_code_known("11010a")


def test_a_15_digit_number_is_converted_to_18_digits():
    # 110105 491231 002 -> 110105 19 491231 002 + check character. GB 11643 MOD 11-2 by hand:
    # digits  1 1  0 1 0 5 1 9 4 9 1 2  3 1 0 0 2
    # weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    # products 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2; "10X98765432"[2] = "X"
    assert normalise_id_number("110105491231002", today=TODAY) == "11010519491231002X"
    # the demo worker's number, typed as its first-generation form
    assert normalise_id_number(" 340104900307123 ", today=TODAY) == "340104199003071235"
    assert birth_date_of("340104900307123") == date(1990, 3, 7)


@pytest.mark.parametrize("raw,message", [
    ("110105490229002", "出生日期不存在"),      # 1949 was not a leap year
    ("110105491331002", "出生日期不存在"),      # month 13
    ("110105491200002", "出生日期不存在"),      # day 0
    ("99000049123100 ", "应为18位"),            # 14 characters after trimming
    ("11010549123100X", "15位身份证号码应全部为数字"),
    ("990000491231002", "地区码"),
    ("810000881231002", "地区码"),               # permits were never 15 digits
])
def test_bad_15_digit_numbers_are_refused(raw, message):
    with pytest.raises(IdentifierError, match=message):
        normalise_id_number(raw, today=TODAY)


def test_same_person_whether_typed_with_15_or_18_digits(app, db):
    with app.extensions["portal.database"].write_transaction() as sess:
        accounts.sign_in(sess, Identity(subject="first-gen", kind=AccountKind.PERSON, name="王老汉",
                                        id_number="110105491231002"), None, None)
    found = accounts.find_person_by_id_number(db, "11010519491231002X")
    assert found is not None and found.name == "王老汉"
    assert found.id_number == "11010519491231002X"   # stored as 18 digits
    assert accounts.find_person_by_id_number(db, "110105491231002").id == found.id
