"""批量增员 from .xlsx and .csv: all or nothing, each bad row named with its number and reason."""

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.accounts.models import Person
from portal.audit.models import AuditEvent
from portal.enrollment import service as enrollment
from portal.enrollment.models import UnitMember
from portal.enrollment.service import (
    HEADERS,
    ImportFileError,
    ImportRejected,
    imports,  # internals: batch size and row limit
)
from portal.spreadsheets import neutralise
from tests.enrollment.conftest import make_id

TODAY = date(2026, 11, 20)


def xlsx(rows, headers=HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if headers is not None:
        sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig") -> bytes:
    lines = [",".join(headers)] if headers is not None else []
    lines += [",".join("" if c is None else str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def row(seq, name=None, wage="8000", start="2026-11-01", kind="", phone="", birth="19900307"):
    return (name or f"员工{seq}", make_id(birth=birth, seq=seq), phone, wage, start, kind)


@pytest.fixture
def approved(sess, enroll):
    return enroll(sess, approve=True, effective=date(2026, 1, 1))


def run(sess, actor_for, filename, data):
    return enrollment.import_members(sess, actor_for("employer"), filename, data, today=TODAY)


def stored(sess):
    return sess.execute(select(func.count(UnitMember.id))).scalar_one()


def rejected(sess, actor_for, filename, data) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        run(sess, actor_for, filename, data)
    assert stored(sess) == 0, "a rejected file must leave nothing behind"
    return caught.value


def test_xlsx_import_adds_everyone_with_single_insurance_groups(sess, actor_for, approved):
    data = xlsx([row(301), row(303, kind="超龄人员", birth="19540101"), row(305, kind="实习生", birth="20050101"),
                 (None, None, None, None, None, None),  # a blank line is skipped
                 ("赵六", make_id(seq=307), "13900001111", 9000.5, datetime(2026, 11, 2), "other")])
    result = run(sess, actor_for, "名单.xlsx", data)
    assert result.added == 4
    assert [(w.row, "上限" in w.message or "认定" in w.message) for w in result.warnings] == [(3, True), (6, True)]
    sess.commit()  # audited reads run in a transaction of their own, which ends this one first
    page = enrollment.read_members(sess, actor_for("employer"), today=TODAY)
    assert page.total == 4
    assert all("*" in r.id_number_masked for r in page.rows)
    audit = sess.execute(select(AuditEvent).where(AuditEvent.action == "enrollment.member_import")).scalar_one()
    assert audit.detail["rows"] == 4 and make_id(seq=301) not in str(audit.detail)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_with_and_without_bom_and_in_gbk(sess, actor_for, approved, encoding):
    result = run(sess, actor_for, "名单.CSV", csv_bytes([row(311, name="张三丰"), row(313, start="2026/11/03")],
                                                      encoding=encoding))
    assert result.added == 2
    names = set(sess.execute(select(Person.name)).scalars())
    assert {"张三丰", "员工313"} <= names


def test_duplicates_in_the_file_are_reported_with_both_rows(sess, actor_for, approved):
    error = rejected(sess, actor_for, "a.xlsx", xlsx([row(321), row(323), row(321, name="员工321")]))
    assert [(e.row, e.message) for e in error.errors] == [(4, "身份证号码：与第 2 行重复")]
    assert error.rows == 3


def test_person_already_active_on_this_unit(sess, actor_for, approved):
    run(sess, actor_for, "a.csv", csv_bytes([row(331)]))
    with pytest.raises(ImportRejected) as caught:
        run(sess, actor_for, "b.csv", csv_bytes([row(333), row(331)]))
    assert [(e.row, e.message) for e in caught.value.errors] == [(3, "该人员已在本单位参保，不能重复增加")]
    assert stored(sess) == 1  # only the first file's person


def test_every_bad_row_is_reported_and_nothing_saved(sess, actor_for, approved):
    bad_check = make_id(seq=341)[:17] + ("1" if make_id(seq=341)[17] != "1" else "2")
    data = csv_bytes([
        row(343),                                                          # 2 good
        ("甲", bad_check, "", "8000", "2026-11-01", ""),                   # 3 check digit
        ("乙", make_id(birth="20991231", seq=345), "", "8000", "2026-11-01", ""),  # 4 future birth
        ("丙", make_id(seq=347)[:9] + " " + make_id(seq=347)[9:17], "", "8000", "2026-11-01", ""),  # 5 space
        row(349, start="2025-12-31"),                                      # 6 before the unit's cover
        row(351, start="2027-06-01"),                                      # 7 too far ahead
        row(353, start="31/12/2026"),                                      # 8 date format
        row(355, wage="100"),                                              # 9 below the floor
        row(357, kind="超龄人员", birth="19800101"),                         # 10 not retired
        ("=HYPERLINK(\"http://x\",\"点我\")", make_id(seq=359), "", "8000", "2026-11-01", ""),  # 11 formula
        ("丁", make_id(seq=361), "+8613900001111", "8000", "2026-11-01", ""),  # 12 formula-like phone
        ("戊", make_id(seq=363), "", "-8000", "2026-11-01", ""),            # 13 minus
        ("己", make_id(seq=365), "", "8000", "2026-11-01", "@SUM(A1)"),     # 14 at-sign
        ("", make_id(seq=367), "", "", "", ""),                            # 15 name, wage, date missing
    ])
    error = rejected(sess, actor_for, "bad.csv", data)
    by_row = {e.row: e.message for e in error.errors}
    assert sorted(by_row) == list(range(3, 16))
    assert "校验位不正确" in by_row[3]
    assert "晚于今天" in by_row[4]
    assert "空格" in by_row[5] or "18位" in by_row[5]
    assert "不能早于本单位参保生效日期" in by_row[6]
    assert "不能晚于今天之后31天" in by_row[7]
    assert "日期格式不正确" in by_row[8]
    assert "4,226.63 元至 21,133.14 元" in by_row[9]
    assert "未达到法定退休年龄" in by_row[10]
    for n in (11, 12, 13, 14):
        assert "疑似公式" in by_row[n], by_row[n]
    assert by_row[11].startswith("姓名：") and by_row[12].startswith("手机号码：")
    assert "请填写姓名" in by_row[15] and "请填写月缴费工资基数" in by_row[15] and "请填写参保日期" in by_row[15]
    assert sess.execute(select(func.count(Person.id)).where(Person.name == "员工343")).scalar_one() == 0


def test_xlsx_formula_cells_and_numeric_id_numbers_are_refused(sess, actor_for, approved):
    data = xlsx([("=1+1", make_id(seq=371), None, 8000, "2026-11-01", None),
                 ("庚", int(make_id(seq=373)[:17] + "0"), None, 8000, "2026-11-01", None)])
    error = rejected(sess, actor_for, "f.xlsx", data)
    assert "疑似公式" in error.errors[0].message
    assert "文本格式" in error.errors[1].message


@pytest.mark.parametrize("filename, data, message", [
    ("a.csv", b"", "空的"),
    ("a.xlsx", b"", "空的"),
    ("a.csv", b"\r\n\r\n", "没有表头和数据"),
    ("a.csv", csv_bytes([]), "没有人员数据"),
    ("a.xlsx", xlsx([]), "没有人员数据"),
    ("a.csv", csv_bytes([row(381)], headers=("姓名", "身份证", "电话", "工资", "日期", "类型")), "表头不正确"),
    ("a.xlsx", xlsx([row(381)], headers=("name", "id")), "表头不正确"),
    ("a.xlsx", b"PK\x03\x04 not really a zip", "无法读取"),
    ("a.xlsx", "姓名,身份证号码".encode(), "不是有效的 .xlsx"),
    ("a.xls", b"\xd0\xcf\x11\xe0", "只能上传 .xlsx 或 .csv"),
    ("a.csv", b"\xff\xfe\x00\x00\x81\x30", "编码"),
])
def test_unusable_files_are_refused_as_a_whole(sess, actor_for, approved, filename, data, message):
    with pytest.raises(ImportFileError) as caught:
        run(sess, actor_for, filename, data)
    assert message in caught.value.message
    assert stored(sess) == 0


def test_oversized_files_and_too_many_rows(sess, actor_for, approved, monkeypatch):
    huge = csv_bytes([row(391)]) + b"x" * enrollment.MAX_BYTES
    with pytest.raises(ImportFileError) as caught:
        run(sess, actor_for, "big.csv", huge)
    assert "超过 5 MB" in caught.value.message
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    with pytest.raises(ImportFileError) as caught:
        run(sess, actor_for, "many.csv", csv_bytes([row(401 + 2 * i) for i in range(6)]))
    assert "超过 5 行" in caught.value.message
    assert stored(sess) == 0


def test_the_template_round_trips_and_neutralises_formulas(sess, actor_for, approved):
    template = load_workbook(io.BytesIO(enrollment.template_xlsx()))
    sheet = template["参保人员"]
    assert tuple(c.value for c in sheet[1]) == HEADERS
    assert sheet["B2"].number_format == "@"
    assert "填写说明" in template.sheetnames
    sheet.append(list(row(411)))
    buffer = io.BytesIO()
    template.save(buffer)
    assert run(sess, actor_for, "模板.xlsx", buffer.getvalue()).added == 1
    text = enrollment.template_csv().decode("utf-8")
    assert text.startswith("\ufeff姓名,身份证号码")
    assert neutralise("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert neutralise("@x") == "'@x" and neutralise("张三") == "张三"
    assert neutralise(8000) == 8000
