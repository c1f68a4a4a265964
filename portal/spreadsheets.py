"""Uploaded spreadsheets (.xlsx / .csv), read one row at a time — shared by every bulk import.

An area describes its file with a :class:`Layout` (columns with their Chinese headers, size and
row caps); :func:`read_rows` checks the file as a whole and yields each data row as a dict keyed
by the area's field names. Nothing here holds the sheet in memory: .xlsx is streamed with
openpyxl's read-only mode (formulas read as their text, not their cached result, so a formula
cell is seen and refused), and .csv is checked for its encoding chunk by chunk, then decoded
while it is read. CSV may be UTF-8 (with or without BOM) or GBK/GB18030, as Excel saves it on a
Chinese Windows. Blank lines are skipped; the first non-blank line is the header.

A data row with an invisible control character (NUL, a bidi override: ``portal.characters``)
refuses the file with its row number.

What a file may cost is capped (:class:`SheetLimits`, from ``config/portal.toml``): an .xlsx is
checked before openpyxl opens it — the sum of its unzipped parts, the unzip ratio of each large
part (zip bombs) and the rows its sheets hold, blank ones included (a sheet of 2,000,000 empty
rows is refused in a fraction of a second) — and while reading, every row read counts (blank
ones too) and a deadline covers the reading and whatever the import does between rows. Each
refusal raises :class:`SpreadsheetError` before the import can finish, so nothing is saved.

What every import also needs: the formula-injection test (:func:`is_formula_like`), a cell's text
(:func:`cell_text`), typed dates (:func:`parse_date`), :func:`neutralise` for anything written back
into a spreadsheet, and :class:`RowErrors`, which keeps the first errors by row number and counts
the rest, so a file with 20,000 bad rows does not fill memory with messages; :class:`RowBatches`
is what an all-or-nothing import remembers across rows.
"""

from __future__ import annotations

import codecs
import csv
import heapq
import io
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from portal.characters import (
    INVISIBLE_CONTROLS,
    has_invisible_controls,
    is_formula_like,
)
from portal.errors import UserInputError

#: errors kept per file (the rest are counted; pages show fewer still)
MAX_ERRORS_KEPT = 1000
_XLSX_MAGIC = b"PK\x03\x04"
_CHUNK = 64 * 1024
_MB = 1024 * 1024
#: parts smaller than this may have any unzip ratio (small XML compresses very well)
_RATIO_FLOOR = _MB
#: a row element of SpreadsheetML, with or without a namespace prefix (not <rowBreaks>)
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_NOTHING_IMPORTED = "本次未导入任何人员"


class SpreadsheetError(UserInputError):
    """The file as a whole cannot be used (format, size, encoding, header, empty): nothing is saved."""

    code = "import_file_invalid"


@dataclass(frozen=True)
class Column:
    key: str  #: the area's field name
    header: str  #: the template's header text
    required: bool = True  #: the column must be present (its cells may still be optional)
    aliases: tuple[str, ...] = ()  #: other headers people use for the same column


@dataclass(frozen=True)
class Layout:
    columns: tuple[Column, ...]
    max_bytes: int
    max_rows: int | None = None  #: data rows per file; None when the caller counts

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)


@dataclass(frozen=True)
class SheetLimits:
    """What one uploaded file may cost, whatever its area (the area's :class:`Layout` adds its
    own size and data-row caps)."""

    max_unzipped_bytes: int = 50 * _MB  #: sum of an .xlsx's parts once unzipped
    max_zip_ratio: int = 100  #: unzipped / zipped size of any part over 1 MB
    max_rows_read: int = 50_000  #: every row read, blank ones included
    max_seconds: float = 60  #: reading plus the import's work between rows

    @classmethod
    def from_settings(cls, settings) -> "SheetLimits":
        return cls(max_unzipped_bytes=int(settings.spreadsheet_max_unzipped_mb) * _MB,
                   max_zip_ratio=int(settings.spreadsheet_max_zip_ratio),
                   max_rows_read=int(settings.spreadsheet_max_rows_read),
                   max_seconds=float(settings.spreadsheet_max_seconds))


def configured_limits() -> SheetLimits:
    """The limits of the running app's configuration (``spreadsheet_*`` in config/portal.toml and
    their ``PORTAL_*`` overrides); outside an app (CLI scripts, tests of this module) the defaults.

    Looked up here rather than passed by every caller: the imports are plain services called
    from routes, jobs and the CLI, and the limit is the same for all of them."""
    from flask import current_app, has_app_context

    if has_app_context() and "PORTAL_SETTINGS" in current_app.config:
        return SheetLimits.from_settings(current_app.config["PORTAL_SETTINGS"])
    from portal.config import load_settings

    return SheetLimits.from_settings(load_settings())


#: the clock of the processing deadline (tests replace it to make a slow import deterministic)
_clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class Row:
    number: int  #: as the spreadsheet shows it (header = 1)
    values: dict[str, Any]  #: raw cell values (str, int, float, datetime or None) by field name


def read_rows(filename: str, data: bytes, layout: Layout, limits: SheetLimits | None = None) -> Iterator[Row]:
    """The data rows of the first sheet. File-level problems raise :class:`SpreadsheetError` —
    the format, size, encoding and (.xlsx) unzipped size at once; the header, the row caps and
    the deadline while reading. The deadline starts now and covers the caller's work on each row
    until the next one is read."""
    limits = limits or configured_limits()
    deadline = _clock() + limits.max_seconds
    if not data:
        raise SpreadsheetError("上传的文件是空的")
    if len(data) > layout.max_bytes:
        raise SpreadsheetError(f"文件超过 {layout.max_bytes // (1024 * 1024)} MB，请分成几个文件上传")
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        if not data.startswith(_XLSX_MAGIC):
            raise SpreadsheetError("文件不是有效的 .xlsx 表格，请用模板另存为 Excel 工作簿（.xlsx）")
        _check_xlsx_package(data, limits, deadline)
        cells = _xlsx_cells(data)
    elif name.endswith(".csv"):
        cells = _csv_cells(data)
    else:
        raise SpreadsheetError("只能上传 .xlsx 或 .csv 文件（可从本页下载模板）")
    return _rows(cells, layout, limits, deadline)


def _too_many_rows(limits: SheetLimits) -> SpreadsheetError:
    return SpreadsheetError(f"文件共有超过 {limits.max_rows_read} 行（含空行），请删除表格末尾多余的空行，"
                            f"或分成几个文件上传；{_NOTHING_IMPORTED}")


def _too_slow(limits: SheetLimits) -> SpreadsheetError:
    return SpreadsheetError(f"文件处理超过 {limits.max_seconds:g} 秒仍未完成，请分成几个较小的文件上传；"
                            f"{_NOTHING_IMPORTED}")


def _rows(cells: Iterator[tuple[int, tuple[Any, ...]]], layout: Layout, limits: SheetLimits,
          deadline: float) -> Iterator[Row]:
    index: dict[str, int] | None = None
    count = 0
    for number, values in cells:
        # every row read counts, blank or not: blank rows cost as much to read as any other
        if number > limits.max_rows_read:
            raise _too_many_rows(limits)
        if _clock() > deadline:
            raise _too_slow(limits)
        if is_blank(values):
            continue  # blank lines are skipped, not errors
        if index is None:
            index = _header_index(values, layout)
            continue
        count += 1
        if layout.max_rows is not None and count > layout.max_rows:
            raise SpreadsheetError(f"文件超过 {layout.max_rows} 行人员数据，请分成几个文件上传；本次未导入任何人员")
        picked = {c.key: _pick(values, index.get(c.key)) for c in layout.columns}
        if any(isinstance(v, str) and has_invisible_controls(v) for v in picked.values()):
            raise SpreadsheetError(f"第 {number} 行含有不可见的控制字符，请删除后重新上传；本次未导入任何人员")
        yield Row(number, picked)
    if index is None:
        raise SpreadsheetError("上传的文件是空的（没有表头和数据）")
    if count == 0:
        raise SpreadsheetError("文件中没有人员数据：第一行是表头，请从第二行起每行填写一人")


def _pick(values: tuple[Any, ...], i: int | None) -> Any:
    return values[i] if i is not None and i < len(values) else None


def _header_index(values: tuple[Any, ...], layout: Layout) -> dict[str, int]:
    found = [str(v).strip().lstrip("\ufeff").strip() if v is not None else "" for v in values]
    index: dict[str, int] = {}
    for column in layout.columns:
        for name in (column.header, *column.aliases):
            if name in found:
                index[column.key] = found.index(name)
                break
    missing = [c.header for c in layout.columns if c.required and c.key not in index]
    if missing:
        raise SpreadsheetError(f"第一行表头不正确，缺少：{'、'.join(missing)}。"
                               f"表头应依次为：{'、'.join(layout.headers)}（请使用本页提供的模板）")
    return index


def _check_xlsx_package(data: bytes, limits: SheetLimits, deadline: float) -> None:
    """Refuse an .xlsx whose parts unzip too large (in all, or one part at a zip-bomb ratio) or
    whose sheets hold more rows than may be read, before openpyxl parses anything: openpyxl reads
    shared strings whole and scans a sheet without a <dimension> to its end when it opens the
    file. The sizes a zip declares are the most it will unzip (zipfile stops there and fails the
    CRC), so checking them bounds the work."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SpreadsheetError("无法读取该 .xlsx 文件，请确认文件没有损坏、没有加密，或用模板另存后重新上传") from exc
    mb = limits.max_unzipped_bytes // _MB
    if sum(p.file_size for p in parts) > limits.max_unzipped_bytes:
        raise SpreadsheetError(f"文件解压后超过 {mb} MB，不像是一份人员名单；请删除多余的内容（图片、空行、"
                               f"其他工作表）或分成几个文件上传；{_NOTHING_IMPORTED}")
    for part in parts:
        if part.file_size > _RATIO_FLOOR and part.file_size > limits.max_zip_ratio * max(part.compress_size, 1):
            raise SpreadsheetError(f"文件中的“{part.filename[:60]}”解压后是压缩大小的 {limits.max_zip_ratio} 倍以上，"
                                   f"不是正常的表格文件；请用模板另存为 .xlsx 后重新上传")
    rows = 0
    with archive:
        for part in parts:
            if not (part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml")):
                continue
            try:
                rows += _count_rows(archive, part, limits.max_rows_read - rows)
            except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
                raise SpreadsheetError("无法读取该 .xlsx 文件，请确认文件没有损坏") from exc
            if rows > limits.max_rows_read:
                raise _too_many_rows(limits)
            if _clock() > deadline:
                raise _too_slow(limits)


def _count_rows(archive: zipfile.ZipFile, part: zipfile.ZipInfo, allowed: int) -> int:
    """<row> elements in a sheet part, read in chunks; stops once more than ``allowed`` are seen."""
    count, tail = 0, b""
    with archive.open(part) as stream:
        while chunk := stream.read(_MB):
            window = tail + chunk
            # a tag the chunk cuts in two is counted with the next chunk: keep from its "<" on
            last = window.rfind(b"<", max(len(window) - 64, 0))
            cut = last if last >= 0 else len(window)
            count += len(_ROW_TAG.findall(window, 0, cut))
            tail = window[cut:]
            if count > allowed:
                return count
    return count + len(_ROW_TAG.findall(tail))


def _xlsx_cells(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # zipfile, KeyError, ValueError and openpyxl's own types for odd files
        raise SpreadsheetError("无法读取该 .xlsx 文件，请确认文件没有损坏、没有加密，或用模板另存后重新上传") from exc

    def cells() -> Iterator[tuple[int, tuple[Any, ...]]]:
        try:
            sheet = workbook.worksheets[0]
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise SpreadsheetError("无法读取该 .xlsx 文件，请确认文件没有损坏") from exc
        finally:
            workbook.close()

    return cells()


def _encoding(data: bytes) -> str:
    """utf-8-sig, utf-8 or gb18030 — checked incrementally, without decoding the file at once."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "gb18030")
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(data), _CHUNK):
                if "\x00" in decoder.decode(data[start:start + _CHUNK]):
                    raise SpreadsheetError("文件不是文本格式的 CSV，请用模板另存为 CSV（逗号分隔）")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise SpreadsheetError("无法识别 CSV 文件的文字编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件")


def _csv_cells(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    text = io.TextIOWrapper(io.BytesIO(data), encoding=_encoding(data), newline="")
    reader = csv.reader(text)

    def cells() -> Iterator[tuple[int, tuple[Any, ...]]]:
        try:
            for number, values in enumerate(reader, start=1):
                yield number, tuple(values)
        except csv.Error as exc:
            raise SpreadsheetError(f"CSV 文件格式有误（第 {reader.line_num} 行附近）") from exc

    return cells()


# --- cells ----------------------------------------------------------------------------------------


def is_blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def neutralise(value: Any) -> Any:
    """A cell value safe to write into a spreadsheet people open (no formula can start, also
    after leading spaces) and with no invisible control character (a bidi override)."""
    if not isinstance(value, str):
        return value
    value = INVISIBLE_CONTROLS.sub("", value)
    return "'" + value if is_formula_like(value) else value


def cell_text(value: Any) -> str:
    """A cell as trimmed text; whole-number floats (Excel's numbers) without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def is_number(value: Any) -> bool:
    """A numeric cell (an ID number typed as a number has already lost its last digits)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_date(value: Any) -> date:
    """A date cell or text such as 2026-01-31, 2026/1/31, 2026.1.31, 20260131 or 2026年1月31日.
    Raises ValueError when there is none or it is not a real date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if not text:
        raise ValueError("empty")
    for sep in ("/", ".", "年", "月"):
        text = text.replace(sep, "-")
    text = text.replace("日", "").strip("-")
    parts = text.split("-")
    if len(parts) == 1 and len(text) == 8 and text.isdigit():
        parts = [text[:4], text[4:6], text[6:]]
    if len(parts) != 3 or len(parts[0]) != 4 or not all(p.isdigit() for p in parts):
        raise ValueError(value)
    year, month, day = (int(p) for p in parts)
    return date(year, month, day)


# --- across rows ----------------------------------------------------------------------------------


class FirstRows:
    """The first row each blind index (hex HMAC-SHA256) was seen on, for "与第 N 行重复".

    Kept compactly — the first 128 bits of the digest as an int (a 20,000-row file has a chance
    of about 1e-30 of two different ID numbers sharing them) — since this is the one thing an
    import remembers for every row."""

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}

    def earlier(self, digest: str, row: int) -> int | None:
        """The row ``digest`` was first seen on, or None (and then ``row`` is remembered)."""
        key = int(digest[:32], 16)
        found = self._rows.get(key)
        if found is None:
            self._rows[key] = row
        return found


# --- errors ---------------------------------------------------------------------------------------


class RowErrors:
    """The first :data:`MAX_ERRORS_KEPT` errors by row number, and how many there were in all."""

    def __init__(self, keep: int = MAX_ERRORS_KEPT) -> None:
        self.keep = keep
        self.total = 0
        self._heap: list[tuple[int, int, str]] = []  # (-row, -order, message): a max-heap on row

    def add(self, row: int | None, message: str) -> None:
        self.total += 1
        item = (-(row or 0), -self.total, message)
        if len(self._heap) < self.keep:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def __bool__(self) -> bool:
        return self.total > 0

    def first(self) -> list[tuple[int, str]]:
        """(row, message) in row order (and, within a row, in the order they were found)."""
        return [(-row, message) for row, _, message in sorted(self._heap, reverse=True)]


# --- across batches -------------------------------------------------------------------------------

T = TypeVar("T")


class RowBatches(Generic[T]):
    """What an all-or-nothing import remembers across rows, small whatever the file's size: the
    first errors (:class:`RowErrors`), the first row of each ID number (:class:`FirstRows`), and
    the checked rows waiting to be saved together.

    ``save(batch)`` checks a full batch against the database, adds what it finds to
    :attr:`errors`, and inserts the batch only while the file is still clean, so after the first
    bad row the rest is still checked but no longer saved (the caller's savepoint is then rolled
    back). ``duplicate`` words a repeated ID number, ``{row}`` being the row it first stood on."""

    def __init__(self, save: Callable[[list[T]], None], size: int,
                 duplicate: str = "身份证号码与第 {row} 行重复") -> None:
        self.save, self.size, self.duplicate = save, size, duplicate
        self.errors = RowErrors()
        self.first_rows = FirstRows()
        self.pending: list[T] = []

    def add(self, row: int, digest: str, item: T) -> None:
        """Queue a row that passed its own checks, unless its ID number (blind index ``digest``)
        came earlier in the file; save the batch once it is full."""
        earlier = self.first_rows.earlier(digest, row)
        if earlier is not None:
            self.errors.add(row, self.duplicate.format(row=earlier))
            return
        self.pending.append(item)
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        """Save what is still waiting (at the end of the file)."""
        if self.pending:
            batch, self.pending = self.pending, []
            self.save(batch)
