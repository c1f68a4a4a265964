"""批量增员: insured persons from an .xlsx or .csv file, all or nothing.

Every bad row is reported with its row number and a Chinese reason, and if any row is bad nothing
from the file is saved (the caller's one transaction). .xlsx is read with openpyxl in read-only
(streaming) mode; CSV may be UTF-8 (with or without BOM) or GBK/GB18030, as Excel saves it on
Chinese Windows. Cells starting with = + - @ (or a tab / carriage return) are refused as formula
injection, and anything written back into a spreadsheet goes through :func:`neutralise`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Person
from portal.accounts.service import id_number_hash
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.enrollment.members import (
    MemberDetails,
    _new_member,
    approved_own_unit,
    check_member_details,
    name_mismatch,
    open_periods,
    overlap_message,
)
from portal.enrollment.models import InsuranceType
from portal.enrollment.units import InvalidFields, local_today
from portal.errors import UserInputError

#: the template's header row, in this order
HEADERS = ("姓名", "身份证号码", "手机号码", "月缴费工资基数", "参保日期", "参保类型")
FIELDS = ("name", "id_number", "phone", "wage_base", "start_date", "insurance_type")
LABELS = dict(zip(FIELDS, HEADERS))
MAX_BYTES = 5 * 1024 * 1024  #: upload size cap (5 MB)
MAX_ROWS = 20_000  #: data rows per file
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_XLSX_MAGIC = b"PK\x03\x04"


class ImportFileError(UserInputError):
    """The file as a whole cannot be used (format, size, headers, empty)."""

    code = "import_file_invalid"


@dataclass(frozen=True, order=True)
class RowError:
    row: int  #: the row number as the spreadsheet shows it (header = 1)
    message: str


class ImportRejected(UserInputError):
    """At least one bad row: nothing was saved."""

    code = "import_rejected"

    def __init__(self, errors: Sequence[RowError], rows: int) -> None:
        super().__init__(f"文件中有 {len(errors)} 行存在问题，整个文件未导入，请修改后重新上传")
        self.errors = sorted(errors)
        self.rows = rows


@dataclass
class ImportResult:
    added: int
    warnings: list[RowError] = field(default_factory=list)


def neutralise(value: Any) -> Any:
    """A cell value safe to write into a spreadsheet people open (no formula can start)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- reading ------------------------------------------------------------------------------------


def read_table(filename: str, data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, cells) for every row of the first sheet, header included."""
    name = (filename or "").lower()
    if not data:
        raise ImportFileError("上传的文件是空的")
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请分批上传")
    if name.endswith(".xlsx"):
        if not data.startswith(_XLSX_MAGIC):
            raise ImportFileError("文件不是有效的 .xlsx 表格，请用模板另存为 Excel 工作簿（.xlsx）")
        return _read_xlsx(data)
    if name.endswith(".csv"):
        return _read_csv(data)
    raise ImportFileError("只能上传 .xlsx 或 .csv 文件（可从本页下载模板）")


def _read_xlsx(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError("无法读取该 .xlsx 文件，请确认文件没有损坏、没有加密") from exc
    except Exception as exc:  # openpyxl raises its own types for odd files
        raise ImportFileError("无法读取该 .xlsx 文件，请确认文件没有损坏、没有加密") from exc

    def rows() -> Iterator[tuple[int, tuple[Any, ...]]]:
        try:
            sheet = workbook.worksheets[0]
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, tuple(cells)
        finally:
            workbook.close()

    return rows()


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileError("无法识别 CSV 文件的文字编码，请另存为 UTF-8 或 GBK 编码") from exc


def _read_csv(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        raise ImportFileError("CSV 文件的文字编码不正确，请另存为 UTF-8 编码") from exc
    if "\x00" in text:
        raise ImportFileError("文件不是文本格式的 CSV，请用模板另存为 CSV（逗号分隔）")
    reader = csv.reader(io.StringIO(text, newline=""))

    def rows() -> Iterator[tuple[int, tuple[Any, ...]]]:
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, tuple(cells)
        except csv.Error as exc:
            raise ImportFileError(f"CSV 文件格式有误（第 {reader.line_num} 行附近）") from exc

    return rows()


def _blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _check_header(cells: Sequence[Any]) -> None:
    found = [str(c).strip().lstrip("\ufeff") if c is not None else "" for c in cells]
    while found and not found[-1]:
        found.pop()
    if tuple(found) != HEADERS:
        raise ImportFileError("表头不正确。第一行应依次为：" + "、".join(HEADERS) + "（请使用本页提供的模板）")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _wage(value: Any) -> Any:
    if isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        try:
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            return str(value)
        return str(amount)
    return _text(value)


def _row_problem(number: int, errors: dict[str, str]) -> RowError:
    return RowError(number, "；".join(f"{LABELS.get(k, k)}：{m}" for k, m in errors.items()))


# --- importing ----------------------------------------------------------------------------------


def import_members(sess: Session, actor: Actor, filename: str, data: bytes,
                   today: date | None = None) -> ImportResult:
    """Add every person in the file to the employer's approved unit, or none of them."""
    unit = approved_own_unit(sess, actor)
    today = today or local_today()
    rows = read_table(filename, data)
    header_seen = False
    count = 0
    errors: list[RowError] = []
    valid: list[tuple[int, MemberDetails]] = []
    seen: dict[str, int] = {}
    for number, cells in rows:
        if _blank(cells):
            continue
        if not header_seen:
            _check_header(cells)
            header_seen = True
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportFileError(f"文件超过 {MAX_ROWS} 行人员数据，请分批上传")
        # columns beyond the template's are ignored; short rows are padded
        cells = tuple(cells[:len(HEADERS)]) + (None,) * max(0, len(HEADERS) - len(cells))
        problems: dict[str, str] = {}
        for key, cell in zip(FIELDS, cells):
            if isinstance(cell, str) and cell.lstrip(" ").startswith(FORMULA_PREFIXES):
                problems[key] = "不能以 = + - @ 开头（疑似公式，已拒绝）"
        if isinstance(cells[1], (int, float)) and not isinstance(cells[1], bool):
            problems.setdefault("id_number", "请将身份证号码按文本格式填写（数字格式会丢失末几位）")
        start = None
        if "start_date" not in problems:
            try:
                start = _date(cells[4])
            except ValueError:
                problems["start_date"] = "日期格式不正确，请按 2026-01-31 的格式填写"
        if problems:
            errors.append(_row_problem(number, problems))
            continue
        try:
            details = check_member_details(
                unit, name=_text(cells[0]), id_number=_text(cells[1]), phone=_text(cells[2]),
                wage_base=_wage(cells[3]), start_date=start, insurance_type=_text(cells[5]), today=today)
        except InvalidFields as exc:
            errors.append(_row_problem(number, exc.errors))
            continue
        earlier = seen.get(details.id_number)
        if earlier is not None:
            errors.append(RowError(number, f"身份证号码：与第 {earlier} 行重复"))
            continue
        seen[details.id_number] = number
        valid.append((number, details))
    if not header_seen:
        raise ImportFileError("上传的文件是空的（没有表头和数据）")
    if count == 0:
        raise ImportFileError("文件中没有人员数据：第一行是表头，请从第二行起每行填写一人")

    # Against what is already stored: the same ID number under another name, or already insured here.
    persons: dict[str, Person] = {}
    digests = {id_number_hash(d.id_number): (n, d) for n, d in valid}
    keys = list(digests)
    for i in range(0, len(keys), 500):
        for person in sess.execute(select(Person).where(Person.id_number_hash.in_(keys[i:i + 500]))).scalars():
            persons[person.id_number_hash] = person
    periods = open_periods(sess, unit.id, [p.id for p in persons.values()])
    for digest, (number, details) in digests.items():
        person = persons.get(digest)
        problem = name_mismatch(person, details.name)
        if problem is None and person is not None:
            problem = overlap_message(periods.get(person.id), details.start_date)
        if problem:
            errors.append(RowError(number, problem))
    if errors:
        raise ImportRejected(errors, count)

    created = 0
    for digest, (number, details) in digests.items():
        person = persons.get(digest)
        if person is None:
            person = Person(name=details.name, id_number=details.id_number, id_number_hash=digest)
            sess.add(person)
            created += 1
        sess.add(_new_member(unit, person, details))
    sess.flush()
    audit.record(sess, actor, "enrollment.member_import", object_type="enrolled_unit", object_id=unit.id,
                 city_code=unit.city_code,
                 detail={"rows": len(valid), "persons_created": created, "fields": ["id_number", "phone"],
                         "single_insurance": sum(1 for _, d in valid if d.insurance_type is not InsuranceType.REGULAR)})
    return ImportResult(added=len(valid),
                        warnings=[RowError(n, d.warning) for n, d in valid if d.warning])


# --- the template ---------------------------------------------------------------------------------

INSTRUCTIONS = (
    ("填写说明", ""),
    ("姓名", "必填，与身份证一致"),
    ("身份证号码", "必填，18位居民身份证号码，末位X大写；请保持“文本”格式，不要有空格"),
    ("手机号码", "选填，11位手机号码"),
    ("月缴费工资基数", "必填，单位：元，最多两位小数；应在全省职工月平均工资的60%～300%之间"),
    ("参保日期", "必填，格式 2026-01-31；不能早于本单位参保生效日期"),
    ("参保类型", "选填，留空为“一般参保”；单险种参保填写：超龄人员、实习生、其他特定人员"),
    ("其他", f"第一行表头不要修改；每行一人；一次最多 {MAX_ROWS} 行、文件不超过 {MAX_BYTES // (1024 * 1024)} MB；"
             "单元格不能以 = + - @ 开头；有任何一行有误时整个文件都不会导入"),
)


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "参保人员"
    sheet.append([neutralise(h) for h in HEADERS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEF", (12, 22, 15, 16, 13, 14)):
        sheet.column_dimensions[column].width = width
    # ID and phone numbers as text, so Excel does not turn them into rounded numbers
    for row in range(2, 1002):
        for column in ("B", "C", "E"):
            sheet[f"{column}{row}"].number_format = "@"
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    for item in INSTRUCTIONS:
        notes.append([neutralise(v) for v in item])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    """UTF-8 with BOM, so Excel on Chinese Windows opens it with the right characters."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(h) for h in HEADERS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
