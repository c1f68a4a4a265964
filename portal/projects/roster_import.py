"""Reading a roster upload (.xlsx or .csv) row by row, without holding the sheet in memory.

.xlsx is streamed with openpyxl's read_only mode; formulas are read as their text (not their
cached result) so a formula cell is seen and refused. .csv may be UTF-8 (with or without BOM) or
GBK/GB18030, as saved by Excel on a Chinese Windows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from zipfile import BadZipFile

from portal.errors import UserInputError
from portal.projects.roster import TEMPLATE_HEADER, WorkerInput

#: upload limits (a 20,000-row roster is about 1 MB as .xlsx, 1.5 MB as .csv)
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000

_ALIASES = {"身份证号": "身份证号码", "公民身份号码": "身份证号码", "手机号": "手机号码", "联系电话": "手机号码",
            "进场时间": "进场日期"}


class ImportFileError(UserInputError):
    code = "roster_file_invalid"


def _header_index(header: list) -> dict[str, int]:
    names = [_ALIASES.get(str(h).strip().lstrip("\ufeff"), str(h).strip().lstrip("\ufeff"))
             if h is not None else "" for h in header]
    missing = [h for h in TEMPLATE_HEADER if h not in names and h not in ("手机号码", "班组")]
    if missing:
        raise ImportFileError("第 1 行表头缺少：" + "、".join(missing) + "。请使用页面上提供的模板")
    return {h: names.index(h) for h in TEMPLATE_HEADER if h in names}


def _cell(index: dict[str, int], cells: list, name: str):
    i = index.get(name)
    if i is None or i >= len(cells):
        return ""
    value = cells[i]
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value)


def _rows_to_inputs(rows: Iterator[tuple[int, list]]) -> Iterator[WorkerInput]:
    header_seen = False
    index: dict[str, int] = {}
    for number, cells in rows:
        if not header_seen:
            index = _header_index(cells)
            header_seen = True
            continue
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # blank lines are skipped, not errors

        values = {name: _cell(index, cells, name) for name in TEMPLATE_HEADER}
        yield WorkerInput(name=values["姓名"], id_number=values["身份证号码"], phone=values["手机号码"],
                          trade=values["工种"], team=values["班组"], entry_date=values["进场日期"],
                          row_number=number)
    if not header_seen:
        raise ImportFileError("文件是空的")


def read_upload(filename: str, data: bytes) -> Iterator[WorkerInput]:
    """Rows of an uploaded file. File-level problems raise ImportFileError (nothing is saved)."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请分成几个文件上传")
    if not data:
        raise ImportFileError("文件是空的")
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return _rows_to_inputs(_xlsx_rows(data))
    if name.endswith(".csv"):
        return _rows_to_inputs(_csv_rows(data))
    raise ImportFileError("只能上传 .xlsx 或 .csv 文件")


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError("无法读取该 .xlsx 文件，请用模板另存后重新上传") from exc
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


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
        raise ImportFileError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件") from exc


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        raise ImportFileError("文件编码有误，请另存为 UTF-8 编码的 CSV 文件") from exc
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            yield number, list(row)
    except csv.Error as exc:
        raise ImportFileError(f"CSV 文件格式有误：{exc}") from exc


def template_xlsx() -> bytes:
    """The downloadable template: Chinese header, one example row, ID and phone columns as text."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    sheet.append(list(TEMPLATE_HEADER))
    for column, width in zip("ABCDEF", (12, 22, 16, 12, 18, 14)):
        sheet.column_dimensions[column].width = width
        for cell in sheet[column]:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(TEMPLATE_HEADER)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
