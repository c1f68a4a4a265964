"""The industry risk-class table: every GB/T 4754-2017 division, mapped from 人社部发〔2015〕71号's
GB/T 4754-2011 table, with the divisions that do not map one to one flagged for the clerk."""

from collections import Counter
from datetime import date

import pytest

from portal.enrollment.service import rate_info
from portal.policy.figures import industries, industry_for, industry_sources

ON = date(2026, 11, 1)
#: 门类 -> its 大类 range in GB/T 4754-2017
SECTIONS = {"A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52),
            "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72),
            "M": (73, 75), "N": (76, 79), "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90),
            "S": (91, 96), "T": (97, 97)}


def test_every_2017_division_01_to_97_has_a_class_and_its_section():
    table = industries()
    assert sorted(table) == [f"{n:02d}" for n in range(1, 98)]
    for letter, (first, last) in SECTIONS.items():
        for n in range(first, last + 1):
            entry = table[f"{n:02d}"]
            assert entry.section == letter and 1 <= entry.risk_class <= 8 and entry.name, entry


def test_one_to_one_divisions_take_the_2011_class_of_the_71_table():
    table = industries()
    # from the 71号 table (GB/T 4754-2011 names), read through the 2017 codes
    assert table["06"].risk_class == 8 and table["47"].risk_class == 6 and table["49"].risk_class == 5
    assert table["65"].risk_class == 1 and table["51"].risk_class == 2 and table["13"].risk_class == 3
    assert table["25"].risk_class == 7  # renamed 石油、煤炭及其他燃料加工业, same scope
    # 2011 codes 79–96 moved up by one: 居民服务业 80 (二类), 体育 89 (四类), 国际组织 97 (一类)
    assert (table["80"].risk_class, table["80"].from_2011) == (2, ("79",))
    assert (table["89"].name, table["89"].risk_class) == ("体育", 4)
    assert (table["90"].name, table["90"].risk_class) == ("娱乐业", 3)
    assert (table["97"].risk_class, table["97"].from_2011) == (1, ("96",))
    # the 71号 table's 96 divisions had 15/19/16/23/9/7/3/4 in classes 一..八; the 92 one-to-one
    # 2017 divisions keep those counts less the 2011 divisions 58, 59, 64, 75 now flagged
    plain = Counter(e.risk_class for e in table.values() if e.review is None)
    assert [plain[c] for c in range(1, 9)] == [14, 17, 16, 23, 8, 7, 3, 4]


def test_divisions_that_do_not_map_one_to_one_are_flagged_with_why():
    flagged = {code: e for code, e in industries().items() if e.review}
    assert set(flagged) == {"58", "59", "64", "75", "79"}
    assert flagged["59"].from_2011 == ("59", "58") and "二类" in flagged["59"].review and "五类" in flagged["59"].review
    assert flagged["79"].from_2011 == () and "新设" in flagged["79"].review
    assert all(e.unconfirmed for e in flagged.values())


@pytest.mark.parametrize("code, cls, review", [
    ("59", 2, True),      # the division alone: 仓储 or 装卸搬运?
    ("G59", 2, True),
    ("5910", 5, False),   # 装卸搬运: from the 2011 class 五 division
    ("5920", 2, False),   # 通用仓储: from 2011 仓储业, 二类
    ("75", 1, True),
    ("7520", 2, False),   # 知识产权服务, from 2011 商务服务业
    ("7530", 1, False),
    ("79", 3, True),      # new division: always checked by a person
    ("7910", 3, True),
    ("E4710", 6, False),
])
def test_a_precise_code_settles_a_flagged_division(code, cls, review):
    info = rate_info(code, None, None, ON)
    assert info.table_class == cls
    assert (info.industry_review is not None) is review


def test_section_letter_must_match_and_unknown_divisions_are_none():
    assert industry_for("C3311").code == "33"
    assert industry_for("E3311") is None
    assert industry_for("9810") is None and industry_for("00") is None


def test_the_table_names_its_sources():
    sources = industry_sources()
    assert "人社部发〔2015〕71号" in sources["classes"] and "GB/T 4754-2017" in sources["mapping"]
