"""portal.spreadsheets, the reader every bulk import shares: formats, encodings, header, cells, errors."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import spreadsheets
from portal.spreadsheets import Column, Layout, RowErrors, SpreadsheetError

LAYOUT = Layout((Column("name", "姓名"), Column("team", "班组", required=False, aliases=("班组名称",)),
                 Column("day", "日期")), max_bytes=1024 * 1024, max_rows=10_000)


def _read(data: bytes, filename: str = "a.csv", layout: Layout = LAYOUT):
    return [(r.number, r.values) for r in spreadsheets.read_rows(filename, data, layout)]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_long_csv_is_decoded_across_chunk_boundaries(encoding):
    # > 64 KiB of CJK text: multi-byte characters straddle the chunks the encoding check reads
    lines = ["日期,姓名"] + [f"2026-03-01,张三丰{i}号" for i in range(6000)]
    rows = _read("\r\n".join(lines).encode(encoding))
    assert len(rows) == 6000
    assert rows[0] == (2, {"name": "张三丰0号", "team": None, "day": "2026-03-01"})
    assert rows[-1][1]["name"] == "张三丰5999号"


def test_header_by_name_alias_and_order_blank_lines_skipped():
    rows = _read("\r\n,,\r\n班组名称,日期,姓名,备注\r\n一班,2026-03-01,李四,x\r\n,,,\r\n二班,2026-03-02,王五\r\n".encode())
    assert rows == [(4, {"name": "李四", "team": "一班", "day": "2026-03-01"}),
                    (6, {"name": "王五", "team": "二班", "day": "2026-03-02"})]


@pytest.mark.parametrize("data, filename, message", [
    (b"", "a.csv", "空的"),
    (b"x" * (1024 * 1024 + 1), "a.csv", "超过 1 MB"),
    (b"abc", "a.xls", "只能上传 .xlsx 或 .csv"),
    (b"\xef\xbb\xbf\xff\xfe", "a.csv", "编码"),
    ("姓名,日期\x00".encode(), "a.csv", "不是文本格式"),
    (b"PK\x03\x04 broken", "a.xlsx", "无法读取"),
    ("姓名,班组\r\n张三,一班\r\n".encode(), "a.csv", "缺少：日期"),
    ("姓名,日期\r\n".encode(), "a.csv", "没有人员数据"),
    (b"\r\n\r\n", "a.csv", "没有表头和数据"),
])
def test_whole_file_refusals(data, filename, message):
    with pytest.raises(SpreadsheetError) as caught:
        _read(data, filename)
    assert message in caught.value.message


def test_row_cap_and_xlsx_with_formula_text_and_dates():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "日期"])
    sheet.append(["=HYPERLINK(\"http://x\")", datetime(2026, 3, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _read(buffer.getvalue(), "a.XLSX") == [(2, {"name": "=HYPERLINK(\"http://x\")", "team": None,
                                                       "day": datetime(2026, 3, 1)})]
    small = Layout(LAYOUT.columns, max_bytes=1024, max_rows=2)
    with pytest.raises(SpreadsheetError, match="超过 2 行"):
        _read("姓名,日期\n甲,1\n乙,2\n丙,3\n".encode(), layout=small)


@pytest.mark.parametrize("value, expected", [
    ("2026-03-01", date(2026, 3, 1)), ("2026/3/1", date(2026, 3, 1)), ("2026.03.01", date(2026, 3, 1)),
    ("20260301", date(2026, 3, 1)), ("2026年3月1日", date(2026, 3, 1)), (datetime(2026, 3, 1, 8), date(2026, 3, 1)),
    (date(2026, 3, 1), date(2026, 3, 1)),
])
def test_parse_date(value, expected):
    assert spreadsheets.parse_date(value) == expected


@pytest.mark.parametrize("value", ["", None, "31/12/2026", "2026-13-01", "2026-02-30", "明天", "2026-03"])
def test_parse_date_refuses(value):
    with pytest.raises(ValueError):
        spreadsheets.parse_date(value)


@pytest.mark.parametrize("value, formula", [
    ("=1+1", True), (" =1+1", True), ("+86139", True), ("-1", True), ("@SUM(A1)", True), ("\tabc", True),
    ("\rabc", True), ("张三", False), ("", False), (None, False), (8000, False), ("a=b", False),
])
def test_formula_like(value, formula):
    assert spreadsheets.is_formula_like(value) is formula


def test_cell_text_and_neutralise():
    assert spreadsheets.cell_text(13912345678.0) == "13912345678"
    assert spreadsheets.cell_text("  张三 ") == "张三" and spreadsheets.cell_text(None) == ""
    assert spreadsheets.neutralise("=cmd") == "'=cmd" and spreadsheets.neutralise(5) == 5


@given(st.lists(st.tuples(st.integers(min_value=2, max_value=400), st.text(max_size=3)), max_size=300),
       st.integers(min_value=1, max_value=50))
def test_row_errors_keep_the_first_by_row_and_count_all(errors, keep):
    kept = RowErrors(keep)
    for row, message in errors:
        kept.add(row, message)
    assert kept.total == len(errors) and bool(kept) == bool(errors)
    expected = sorted(errors, key=lambda e: e[0])[:keep]  # stable: same row keeps the order found
    assert kept.first() == expected
