"""批量增员: insured persons from an .xlsx or .csv file, all or nothing.

Every bad row is reported with its row number and a Chinese reason, and if any row is bad nothing
from the file is saved. The file is read by :mod:`portal.spreadsheets` (streamed .xlsx, UTF-8 or
GBK CSV, header by name); cells starting with = + - @ (or a tab / carriage return) are refused as
formula injection, and anything written back into a spreadsheet goes through :func:`neutralise`.
Rows are checked one by one and saved in batches of :data:`BATCH_SIZE` inside a savepoint of the
caller's transaction; across rows only the blind index of each ID number seen and the first
errors are kept, so memory does not grow with the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from portal import spreadsheets
from portal.accounts.service import id_number_hash, persons_for_typed
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.enrollment.models import EnrolledUnit, InsuranceType
from portal.enrollment.service.members import (
    MemberDetails,
    _new_member,
    approved_own_unit,
    check_member_details,
    member_scope,
    open_periods,
    overlap_message,
)
from portal.enrollment.service.premiums import wage_bounds
from portal.errors import InvalidFields, UserInputError
from portal.localtime import local_today
from portal.spreadsheets import (
    Column,
    FirstRows,
    Layout,
    RowErrors,
    cell_text,
    is_formula_like,
    is_number,
    neutralise,
)

#: the template's columns, in this order (phone and insurance type may be left empty)
COLUMNS = (
    Column("name", "姓名"),
    Column("id_number", "身份证号码", aliases=("身份证号", "公民身份号码")),
    Column("phone", "手机号码", required=False, aliases=("手机号", "联系电话")),
    Column("wage_base", "月缴费工资基数", aliases=("缴费工资基数", "工资基数")),
    Column("start_date", "参保日期"),
    Column("insurance_type", "参保类型", required=False),
)
HEADERS = tuple(c.header for c in COLUMNS)
FIELDS = tuple(c.key for c in COLUMNS)
LABELS = dict(zip(FIELDS, HEADERS))
MAX_BYTES = 5 * 1024 * 1024  #: upload size cap (5 MB)
MAX_ROWS = 20_000  #: data rows per file
#: people checked against the database and saved together (one look-up query per batch)
BATCH_SIZE = 500

#: the file as a whole cannot be used (format, size, headers, empty)
ImportFileError = spreadsheets.SpreadsheetError


@dataclass(frozen=True, order=True)
class RowError:
    row: int  #: the row number as the spreadsheet shows it (header = 1)
    message: str


class ImportRejected(UserInputError):
    """At least one bad row: nothing was saved. ``errors`` are the first ones by row (at most
    :data:`portal.spreadsheets.MAX_ERRORS_KEPT`), ``total`` how many there were."""

    code = "import_rejected"

    def __init__(self, errors: Sequence[RowError], rows: int, total: int | None = None) -> None:
        self.total = len(errors) if total is None else total
        super().__init__(f"文件中有 {self.total} 行存在问题，整个文件未导入，请修改后重新上传")
        self.errors = sorted(errors)
        self.rows = rows


@dataclass
class ImportResult:
    added: int
    warnings: list[RowError] = field(default_factory=list)


# --- one row ------------------------------------------------------------------------------------


def _wage(value: Any) -> Any:
    if isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        try:
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            return str(value)
        return str(amount)
    return cell_text(value)


def _row_problem(errors: dict[str, str]) -> str:
    return "；".join(f"{LABELS.get(k, k)}：{m}" for k, m in errors.items())


def _check_row(unit: EnrolledUnit, values: dict[str, Any], today: date) -> MemberDetails:
    """One row's details, or :class:`InvalidFields` with every problem of the row."""
    problems: dict[str, str] = {}
    for key in FIELDS:
        if is_formula_like(values[key]):
            problems[key] = "不能以 = + - @ 开头（疑似公式，已拒绝）"
    if is_number(values["id_number"]):
        problems.setdefault("id_number", "请将身份证号码按文本格式填写（数字格式会丢失末几位）")
    start = None
    if "start_date" not in problems and cell_text(values["start_date"]):
        try:
            start = spreadsheets.parse_date(values["start_date"])
        except ValueError:
            problems["start_date"] = "日期格式不正确，请按 2026-01-31 的格式填写"
    if problems:
        raise InvalidFields(problems)
    return check_member_details(
        unit, name=cell_text(values["name"]), id_number=cell_text(values["id_number"]),
        phone=cell_text(values["phone"]), wage_base=_wage(values["wage_base"]), start_date=start,
        insurance_type=cell_text(values["insurance_type"]), today=today)


# --- importing ----------------------------------------------------------------------------------


@dataclass
class _Import:
    """What an import remembers across rows: small, whatever the file's size."""

    sess: Session
    unit: EnrolledUnit
    errors: RowErrors = field(default_factory=RowErrors)
    first_rows: FirstRows = field(default_factory=FirstRows)  #: ID blind index -> first row number
    pending: list[tuple[int, str, MemberDetails]] = field(default_factory=list)
    added: int = 0
    single_insurance: int = 0
    warnings: list[RowError] = field(default_factory=list)

    def save_pending(self) -> None:
        """Check the pending batch against this unit's members (already insured here); insert it
        while the file is still clean. The persons come from the one rule for typed persons
        (:func:`portal.accounts.service.persons_for_typed`): nothing another account typed matters."""
        sess, batch = self.sess, self.pending
        self.pending = []
        periods = open_periods(sess, self.unit.id, [d for _, d, _ in batch])
        for number, digest, details in batch:
            problem = overlap_message(periods.get(digest), details.start_date)
            if problem:
                self.errors.add(number, problem)
        if self.errors:
            return
        persons = persons_for_typed(sess, member_scope(self.unit), [(d.name, d.id_number) for _, _, d in batch])
        for number, digest, details in batch:
            sess.add(_new_member(self.unit, persons[digest], details))
            self.single_insurance += details.insurance_type is not InsuranceType.REGULAR
            if details.warning:
                self.warnings.append(RowError(number, details.warning))
        sess.flush()
        self.added += len(batch)


def import_members(sess: Session, actor: Actor, filename: str, data: bytes,
                   today: date | None = None) -> ImportResult:
    """Add every person in the file to the employer's approved unit, or none of them.

    Rows are read lazily and saved in batches inside a savepoint; after the first bad row the rest
    is still checked (so every bad row is reported) but no longer saved, and the savepoint is rolled
    back before :class:`ImportRejected` is raised."""
    unit = approved_own_unit(sess, actor)
    today = today or local_today()
    layout = Layout(COLUMNS, max_bytes=MAX_BYTES, max_rows=MAX_ROWS)
    rows = spreadsheets.read_rows(filename, data, layout)
    state = _Import(sess, unit)
    count = 0
    with sess.begin_nested():
        for row in rows:
            count += 1
            try:
                details = _check_row(unit, row.values, today)
            except InvalidFields as exc:
                state.errors.add(row.number, _row_problem(exc.errors))
                continue
            digest = id_number_hash(details.id_number)
            earlier = state.first_rows.earlier(digest, row.number)
            if earlier is not None:
                state.errors.add(row.number, f"身份证号码：与第 {earlier} 行重复")
                continue
            state.pending.append((row.number, digest, details))
            if len(state.pending) >= BATCH_SIZE:
                state.save_pending()
        if state.pending:
            state.save_pending()
        if state.errors:
            raise ImportRejected([RowError(n, m) for n, m in state.errors.first()], count, total=state.errors.total)
    audit.record(sess, actor, "enrollment.member_import", object_type="enrolled_unit", object_id=unit.id,
                 city_code=unit.city_code,
                 detail={"rows": state.added,
                         "fields": ["id_number", "phone"], "single_insurance": state.single_insurance})
    return ImportResult(added=state.added, warnings=state.warnings)


# --- the template ---------------------------------------------------------------------------------

def instructions(today: date | None = None) -> tuple[tuple[str, str], ...]:
    """The template's 填写说明 sheet; the wage-base bounds come from the policy data in force."""
    try:
        bounds = wage_bounds(today or local_today())
        wage_rule = f"应在 {bounds.text}之间（{bounds.basis_text}）"
    except UserInputError:
        wage_rule = "应在缴费工资基数上下限之间（以经办机构公布的为准）"
    return (
        ("填写说明", ""),
        ("姓名", "必填，与身份证一致"),
        ("身份证号码", "必填，18位居民身份证号码（第一代15位号码自动换算），末位X大写；请保持“文本”格式，不要有空格"),
        ("手机号码", "选填，11位手机号码"),
        ("月缴费工资基数", f"必填，单位：元，最多两位小数；{wage_rule}"),
        ("参保日期", "必填，格式 2026-01-31；不能早于本单位参保生效日期"),
        ("参保类型", "选填，留空为“一般参保”；单险种参保填写：超龄人员、实习生、其他特定人员"),
        ("其他", (f"第一行表头不要修改；每行一人；一次最多 {MAX_ROWS} 行、文件不超过 {MAX_BYTES // (1024 * 1024)} MB；"
                  "单元格不能以 = + - @ 开头；有任何一行有误时整个文件都不会导入")),
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
    for item in instructions():
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
