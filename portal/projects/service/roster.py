"""实名制花名册: the real-name roster of a project's site workers — plain Python, no Flask.

Cover for a worker starts at the moment the entry is registered, never earlier: an entry date in
the past is kept as declared, but ``cover_from`` is the registration time. Removal records the
exit; rows are never deleted, and re-entry opens a new period. A person already on another
project's active roster is accepted but flagged for the clerk (domain.md §10 audit rule "one
worker on overlapping project rosters"); the contractor never learns about the other project.

A file import streams: rows are validated one by one and saved in batches of :data:`BATCH_SIZE`
inside a savepoint of the caller's transaction; what is remembered across rows is only the blind
index of each ID number seen (for duplicates in the file) and the first errors. One bad row stops
the inserting but not the checking, and at the end the savepoint is rolled back and the file
refused, so nothing from a rejected file is half-saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from portal.accounts.models import Person
from portal.accounts.service import (
    IdentifierError,
    TypingScope,
    id_number_hash,
    normalise_id_number,
    normalise_phone,
    organisation_scope,
    persons_for_typed,
    phone_hash,
)
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import independent_transaction, utcnow
from portal.enrollment import service as enrollment
from portal.errors import ConflictError, InvalidFields, NotFoundError, UserInputError
from portal.localtime import local_today
from portal.paging import capped_count, page_count
from portal.projects.models import INSURED_STATUSES, Project, ProjectStatus, RosterEntry
from portal.projects.service.projects import get_project, local_midnight
from portal.security.masking import mask_id_number, mask_phone
from portal.spreadsheets import (
    RowBatches,
    cell_text,
    is_formula_like,
    is_number,
    parse_date,
)

#: how far ahead an entry date may be declared
MAX_DAYS_AHEAD = 30
PER_PAGE = 50
#: rows checked against the database and inserted together (one look-up query per batch)
BATCH_SIZE = 500


@dataclass
class WorkerInput:
    """One roster line as typed or read from a file (unvalidated: text, or a cell's number/date)."""

    name: Any
    id_number: Any
    phone: Any
    trade: Any
    team: Any
    entry_date: Any
    row_number: int | None = None


@dataclass
class CleanWorker:
    name: str
    id_number: str
    phone: str | None
    trade: str
    team: str | None
    entry_date: date
    row_number: int | None = None
    id_hash: str = ""


@dataclass
class RowError:
    row_number: int | None
    message: str
    #: the :class:`WorkerInput` field it is about, when one worker is added by a form
    field: str | None = None


class RosterRejected(UserInputError):
    """A file (or one worker) with bad rows: nothing was saved. ``errors`` are the first ones by row
    (at most :data:`portal.spreadsheets.MAX_ERRORS_KEPT`), ``total`` how many there were; ``field``
    names the form field a single worker's problem is about."""

    def __init__(self, errors: list[RowError], message: str | None = None, total: int | None = None) -> None:
        self.total = len(errors) if total is None else total
        super().__init__(message or f"有 {self.total} 处错误，文件中的人员均未导入，请修改后重新上传")
        self.errors = errors
        self.field = errors[0].field if errors else None


class BadValue(ValueError):
    """One value's problem, in Chinese, and the :class:`WorkerInput` field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- validation of one line -------------------------------------------------------------------


def parse_entry_date(value) -> date:
    if not cell_text(value) and not isinstance(value, date):
        raise BadValue("entry_date", "请填写进场日期")
    try:
        return parse_date(value)
    except ValueError:
        raise BadValue("entry_date", "进场日期格式不正确，应为 2024-03-01 这样的日期") from None


class BadRow(ValueError):
    """Every problem of one line at once: ``problems`` maps each :class:`WorkerInput` field to its
    Chinese reason; ``str()`` joins them, for a file's row list."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("；".join(problems.values()))
        self.problems = problems


def clean_worker(raw: WorkerInput, project: Project | None, today: date) -> CleanWorker:
    """Validate one line; raises :class:`BadRow` (a ValueError) with every problem of the line, so
    a person fixes a row (or the form) once, not once per field. ``project`` None checks the line
    on its own (no dates against the project)."""
    problems: dict[str, str] = {}

    def check(step) -> Any:
        try:
            return step()
        except BadValue as exc:
            problems.setdefault(exc.field, str(exc))
            return None

    for key, label, value in (("name", "姓名", raw.name), ("id_number", "身份证号码", raw.id_number),
                              ("phone", "手机号码", raw.phone), ("trade", "工种", raw.trade),
                              ("team", "班组", raw.team), ("entry_date", "进场日期", raw.entry_date)):
        if is_formula_like(value):
            problems[key] = (f"{label}以“{value.strip()[:1] or '制表符'}”开头，可能是表格公式，已拒绝；"
                             "请删除开头的符号后重新上传")
    name = cell_text(raw.name)
    if "name" not in problems:
        if not name:
            problems["name"] = "请填写姓名"
        elif len(name) > 50:
            problems["name"] = "姓名过长"
    id_number = ""
    if "id_number" not in problems:
        if is_number(raw.id_number):
            problems["id_number"] = "身份证号码：请将该列设为文本格式后重新填写（数字格式会丢失末几位）"
        else:
            try:
                id_number = normalise_id_number(cell_text(raw.id_number))
            except IdentifierError as exc:
                problems["id_number"] = f"身份证号码：{exc}"
    phone_text = cell_text(raw.phone)
    phone = None
    if phone_text and "phone" not in problems:
        try:
            phone = normalise_phone(phone_text)
        except IdentifierError as exc:
            problems["phone"] = f"手机号码：{exc}"
    trade = cell_text(raw.trade)
    if "trade" not in problems:
        if not trade:
            problems["trade"] = "请填写工种"
        elif len(trade) > 50:
            problems["trade"] = "工种不能超过50个字"
    team = cell_text(raw.team) or None
    if team and len(team) > 100 and "team" not in problems:
        problems["team"] = "班组不能超过100个字"
    entry = check(lambda: parse_entry_date(raw.entry_date)) if "entry_date" not in problems else None
    if entry is not None and project is not None:
        earliest = min(project.planned_start, project.started_on or project.planned_start)
        if entry < earliest:
            problems["entry_date"] = f"进场日期 {entry:%Y-%m-%d} 早于项目开工日期 {earliest:%Y-%m-%d}"
        elif entry > project.planned_end:
            problems["entry_date"] = f"进场日期 {entry:%Y-%m-%d} 晚于项目计划竣工日期 {project.planned_end:%Y-%m-%d}"
        elif entry > today + timedelta(days=MAX_DAYS_AHEAD):
            problems["entry_date"] = f"进场日期 {entry:%Y-%m-%d} 超过今天之后{MAX_DAYS_AHEAD}天，请在人员进场前再登记"
    if problems:
        # in the order of the columns, whatever order they were found in
        order = ("name", "id_number", "phone", "trade", "team", "entry_date")
        raise BadRow({k: problems[k] for k in order if k in problems})
    return CleanWorker(name, id_number, phone, trade, team, entry, raw.row_number, id_number_hash(id_number))  # type: ignore[arg-type]


def cover_from(declared: date, now: datetime) -> datetime:
    """Never backdated: the later of the registration time and the declared entry day."""
    return max(now, local_midnight(declared))


# --- writing ----------------------------------------------------------------------------------


def _insured_project(sess: Session, actor: Actor, project_id: int) -> Project:
    if actor.role is not Role.EMPLOYER:
        raise NotFoundError("未找到该项目")
    project = get_project(sess, actor, project_id, for_update=True)
    if project.status not in INSURED_STATUSES:
        if project.status is ProjectStatus.COMPLETED:
            raise ConflictError("项目已竣工，不能再登记进场人员")
        raise ConflictError("项目缴费参保后才能登记实名制花名册")
    return project


def _active_rosters(sess: Session, project: Project, id_hashes: list[str]) -> tuple[set[str], set[str]]:
    """(on this project's active roster, on another insured project's active roster), by the ID
    number's blind index: each contractor types its own record of a worker until the worker
    signs in, and the same worker on two sites must still be seen by the clerk."""
    here: set[str] = set()
    elsewhere: set[str] = set()
    if not id_hashes:
        return here, elsewhere
    rows = sess.execute(select(Person.id_number_hash, RosterEntry.project_id)
                        .join(RosterEntry, RosterEntry.person_id == Person.id)
                        .join(Project, Project.id == RosterEntry.project_id)
                        .where(Person.id_number_hash.in_(id_hashes), RosterEntry.exited_at.is_(None),
                               Project.status.in_(INSURED_STATUSES))).all()
    for digest, project_id in rows:
        (here if project_id == project.id else elsewhere).add(digest)
    return here, elsewhere


@dataclass
class _Checked:
    """A batch checked against the database: who is on another site, what is wrong."""

    elsewhere: set[str]
    errors: list[RowError]


def _check(sess: Session, project: Project, workers: list[CleanWorker]) -> _Checked:
    here, elsewhere = _active_rosters(sess, project, [w.id_hash for w in workers])
    errors = [RowError(w.row_number, "该人员已在本项目名册中（在册），无需重复登记", "name")
              for w in workers if w.id_hash in here]
    return _Checked(elsewhere, errors)


def roster_scope(project: Project) -> TypingScope:
    """Workers a contractor types belong to the contractor until they sign in themselves."""
    return organisation_scope(project.organisation_id, typed_in=f"项目 {project.code} 实名制花名册",
                              city_code=project.city_code)


def _insert(sess: Session, project: Project, workers: list[CleanWorker], checked: _Checked,
            batch: str | None) -> list[RosterEntry]:
    persons = persons_for_typed(sess, roster_scope(project), [(w.name, w.id_number) for w in workers])
    now = utcnow()
    entries = [RosterEntry(
        project_id=project.id, person_id=persons[w.id_hash].id, name=w.name, phone=w.phone,
        phone_hash=phone_hash(w.phone) if w.phone else None, trade=w.trade, team=w.team,
        declared_entry_date=w.entry_date, cover_from=cover_from(w.entry_date, now),
        overlap_flag=w.id_hash in checked.elsewhere, import_batch=batch, created_at=now)
        for w in workers]
    sess.add_all(entries)
    sess.flush()
    return entries


def add_worker(sess: Session, actor: Actor, project_id: int, raw: WorkerInput) -> RosterEntry:
    """Register one worker on the roster (人员进场)."""
    project = _insured_project(sess, actor, project_id)
    try:
        worker = clean_worker(raw, project, local_today())
    except BadRow as exc:
        raise InvalidFields(exc.problems) from None
    checked = _check(sess, project, [worker])
    if checked.errors:
        raise RosterRejected(checked.errors, checked.errors[0].message)
    entry = _insert(sess, project, [worker], checked, None)[0]
    audit.record(sess, actor, "project.roster_add", object_type="roster_entry", object_id=entry.id,
                 city_code=project.city_code,
                 detail={"project_id": project.id, "fields": ["name", "id_number"] + (["phone"] if worker.phone else []),
                         "flagged": entry.overlap_flag})
    sess.flush()
    return entry


@dataclass
class ImportOutcome:
    imported: int
    flagged: int
    batch: str


def import_workers(sess: Session, actor: Actor, project_id: int, rows: Iterable[WorkerInput], *,
                   max_rows: int) -> ImportOutcome:
    """All or nothing: every bad row is reported (row number + reason) and nothing is saved.

    Rows are read lazily and saved in batches of :data:`BATCH_SIZE` inside a savepoint
    (:class:`portal.spreadsheets.RowBatches`); after the first bad row the rest is still checked
    (so every bad row is reported) but no longer inserted, and the savepoint is rolled back before
    :class:`RosterRejected` is raised."""
    project = _insured_project(sess, actor, project_id)
    today = local_today()
    outcome = ImportOutcome(0, 0, uuid.uuid4().hex[:16])

    def save(workers: list[CleanWorker]) -> None:
        checked = _check(sess, project, workers)
        for error in checked.errors:
            batches.errors.add(error.row_number, error.message)
        if not batches.errors:
            entries = _insert(sess, project, workers, checked, outcome.batch)
            outcome.imported += len(entries)
            outcome.flagged += sum(1 for e in entries if e.overlap_flag)

    batches: RowBatches[CleanWorker] = RowBatches(save, BATCH_SIZE)
    count = 0
    with sess.begin_nested():
        for raw in rows:
            count += 1
            if count > max_rows:
                raise RosterRejected([RowError(raw.row_number, f"文件超过 {max_rows} 行，请分成几个文件上传")],
                                     f"文件超过 {max_rows} 行，请分成几个文件上传；本次未导入任何人员")
            try:
                worker = clean_worker(raw, project, today)
            except ValueError as exc:
                batches.errors.add(raw.row_number, str(exc))
                continue
            batches.add(raw.row_number or 0, worker.id_hash, worker)
        batches.flush()
        if count == 0:
            raise RosterRejected([RowError(None, "文件中没有人员数据（第一行应为表头）")], "文件中没有人员数据")
        if batches.errors:
            raise RosterRejected([RowError(n, m) for n, m in batches.errors.first()], total=batches.errors.total)
    audit.record(sess, actor, "project.roster_import", object_type="project", object_id=project.id,
                 city_code=project.city_code,
                 detail={"batch": outcome.batch, "rows": outcome.imported, "flagged": outcome.flagged,
                         "fields": ["name", "id_number", "phone"]})
    sess.flush()
    return outcome


def remove_worker(sess: Session, actor: Actor, project_id: int, entry_id: int, *, exit_date: date) -> RosterEntry:
    """Record a worker's exit (退场); the row stays as history."""
    if actor.role is not Role.EMPLOYER:
        raise NotFoundError("未找到该项目")
    project = get_project(sess, actor, project_id, for_update=True)
    entry = sess.get(RosterEntry, entry_id)
    if entry is None or entry.project_id != project.id:
        raise NotFoundError("名册中没有这条记录")
    if entry.exited_at is not None:
        raise ConflictError("该人员已经退场")
    if exit_date < entry.declared_entry_date:
        raise UserInputError("退场日期不能早于进场日期")
    if exit_date > local_today():
        raise UserInputError("退场日期不能晚于今天")
    entry.exit_date, entry.exited_at = exit_date, utcnow()
    audit.record(sess, actor, "project.roster_remove", object_type="roster_entry", object_id=entry.id,
                 city_code=project.city_code, detail={"project_id": project.id})
    sess.flush()
    return entry


# --- reading ----------------------------------------------------------------------------------


@dataclass
class RosterRow:
    id: int
    name: str
    id_number_masked: str
    phone_masked: str | None
    trade: str
    team: str | None
    declared_entry_date: date
    cover_from: datetime
    exit_date: date | None
    active: bool
    flagged: bool  #: only ever True for staff viewers
    other_projects: list[str] = field(default_factory=list)


@dataclass
class RosterPage:
    project: Project
    rows: list[RosterRow]
    page: int
    pages: int
    total: int
    active: int  #: 在册人数, counted in full (one project's roster)
    #: more entries match than ``total`` (counted up to portal.paging.COUNT_CAP)
    total_is_capped: bool = False


def read_roster(sess: Session, actor: Actor, project_id: int, *, page: int = 1,
                show: str = "active") -> RosterPage:
    """One page of the roster, numbers masked. The read is audited (one row per page view), in a
    transaction of its own that commits whatever the page answers (a refused form shows it too)."""
    with independent_transaction(sess) as own:
        return _roster_page(own, actor, project_id, page=page, show=show)


def _roster_page(sess: Session, actor: Actor, project_id: int, *, page: int, show: str) -> RosterPage:
    project = get_project(sess, actor, project_id)
    staff = actor.role in (Role.CLERK, Role.PROVINCIAL)
    base = select(RosterEntry).where(RosterEntry.project_id == project.id)
    if show == "active":
        base = base.where(RosterEntry.exited_at.is_(None))
    elif show == "flagged" and staff:
        base = base.where(RosterEntry.overlap_flag.is_(True), RosterEntry.exited_at.is_(None))
    total, capped = capped_count(sess, base)
    active = sess.execute(select(func.count()).where(RosterEntry.project_id == project.id,
                                                     RosterEntry.exited_at.is_(None))).scalar_one()
    pages = page_count(total, PER_PAGE)
    page = min(max(1, page), pages)
    entries = list(sess.execute(base.order_by(RosterEntry.id).offset((page - 1) * PER_PAGE)
                                .limit(PER_PAGE)).scalars())
    # only what the page shows (the masked number) and matches on: phones and bank accounts of
    # the persons stay encrypted
    persons = {p.id: p for p in sess.execute(select(Person).where(
        Person.id.in_([e.person_id for e in entries])).options(
        load_only(Person.id, Person.id_number, Person.id_number_hash, raiseload=True))).scalars()} if entries else {}
    others: dict[str, list[str]] = {}
    if staff:  # by blind index: each contractor may have typed its own record of the worker
        flagged = [persons[e.person_id].id_number_hash for e in entries if e.overlap_flag and e.exited_at is None]
        if flagged:
            for digest, code in sess.execute(
                    select(Person.id_number_hash, Project.code).join(RosterEntry, RosterEntry.person_id == Person.id)
                    .join(Project, Project.id == RosterEntry.project_id)
                    .where(Person.id_number_hash.in_(flagged), RosterEntry.exited_at.is_(None),
                           RosterEntry.project_id != project.id)).all():
                others.setdefault(digest, []).append(code)
    rows = [RosterRow(
        id=e.id, name=e.name, id_number_masked=mask_id_number(persons[e.person_id].id_number),
        phone_masked=mask_phone(e.phone) if e.phone else None, trade=e.trade, team=e.team,
        declared_entry_date=e.declared_entry_date, cover_from=e.cover_from, exit_date=e.exit_date,
        active=e.exited_at is None, flagged=staff and e.overlap_flag,
        other_projects=others.get(persons[e.person_id].id_number_hash, [])) for e in entries]
    if rows:
        audit.record(sess, actor, "project.read_personal_data", object_type="project", object_id=project.id,
                     city_code=project.city_code,
                     detail={"fields": ["id_number", "phone"], "rows": len(rows), "page": page})
    return RosterPage(project, rows, page, pages, total, active, capped)


@dataclass
class CoverLine:
    project_name: str
    project_code: str
    contractor: str
    cover_from: datetime
    status_label: str


def my_cover(sess: Session, actor: Actor) -> list[CoverLine]:
    """The signed-in worker's own active roster periods on insured projects. Nothing about anyone else."""
    if actor.role is not Role.WORKER or actor.person_id is None:
        raise NotFoundError("未找到您的个人信息")
    rows = sess.execute(select(RosterEntry, Project).join(Project, Project.id == RosterEntry.project_id)
                        .where(RosterEntry.person_id == actor.person_id, RosterEntry.exited_at.is_(None),
                               Project.status.in_(INSURED_STATUSES))
                        .order_by(RosterEntry.cover_from)).all()
    return [CoverLine(project.name, project.code, project.organisation.name, entry.cover_from,
                      project.status.label) for entry, project in rows]


@dataclass
class WorkerCover:
    """查参保: the signed-in worker's unit cover (单位参保) and project cover (按项目参保)."""

    units: list[enrollment.UnitCoverLine]
    projects: list[CoverLine]

    @property
    def empty(self) -> bool:
        return not self.units and not self.projects


def worker_cover(sess: Session, actor: Actor) -> WorkerCover:
    """Both kinds of cover of the signed-in worker, their own records only."""
    return WorkerCover(units=enrollment.my_unit_cover(sess, actor), projects=my_cover(sess, actor))


def iter_template_rows() -> Iterator[list[str]]:
    yield list(TEMPLATE_HEADER)


#: the upload file's header row (表头), in this order
TEMPLATE_HEADER = ("姓名", "身份证号码", "手机号码", "工种", "班组", "进场日期")
