"""Reading a roster upload (.xlsx or .csv) row by row, without holding the sheet in memory.

The reading itself (formats, encodings, header, blank lines) is :mod:`portal.spreadsheets`; this
module names the roster's columns and turns each row into a :class:`WorkerInput`, which
:func:`portal.projects.service.roster.import_workers` validates and saves in batches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from portal import spreadsheets
from portal.projects.service.roster import TEMPLATE_HEADER, WorkerInput
from portal.spreadsheets import Column, Layout

#: upload limits (a 20,000-row roster is about 1 MB as .xlsx, 1.5 MB as .csv)
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000

#: the roster's columns; phone and team may be left out of a file altogether
LAYOUT = Layout(columns=(
    Column("name", "姓名"),
    Column("id_number", "身份证号码", aliases=("身份证号", "公民身份号码")),
    Column("phone", "手机号码", required=False, aliases=("手机号", "联系电话")),
    Column("trade", "工种"),
    Column("team", "班组", required=False),
    Column("entry_date", "进场日期", aliases=("进场时间",)),
), max_bytes=MAX_BYTES)

#: errors on one file (size, format, header, encoding): nothing is saved
ImportFileError = spreadsheets.SpreadsheetError


def read_upload(filename: str, data: bytes) -> Iterator[WorkerInput]:
    """Rows of an uploaded file, lazily; the row cap is import_workers' ``max_rows``."""
    return (WorkerInput(row_number=row.number, **row.values)
            for row in spreadsheets.read_rows(filename, data, LAYOUT))


def template_xlsx() -> bytes:
    """The downloadable template: Chinese header, ID, phone and date columns as text."""
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
