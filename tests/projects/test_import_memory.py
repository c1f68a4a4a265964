"""Roster imports stream: batches inside a savepoint, look-ups per batch, nothing left of a refused file."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import event, func, select

from portal.localtime import local_today
from portal.projects import service as projects
from portal.projects.models import RosterEntry
from portal.projects.service import (  # roster, roster_import: inner modules (batch size, layout)
    RosterRejected,
    WorkerInput,
    roster,
    roster_import,
)
from portal.spreadsheets import MAX_ERRORS_KEPT


def _id(i: int) -> str:
    body = f"3401041980{(i // 900) % 12 + 1:02d}{(i // 30) % 28 + 1:02d}{i % 1000:03d}"[:17]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def _rows(n: int, bad_last: bool = False):
    today = local_today().isoformat()
    for i in range(n):
        trade = "=cmd|' /C calc'!A0" if bad_last and i == n - 1 else "钢筋工"
        yield WorkerInput(name=f"工人{i}", id_number=_id(i), phone=f"139{i:08d}", trade=trade, team="一班",
                          entry_date=today, row_number=i + 2)


def _count(sess, project_id):
    return sess.scalar(select(func.count()).select_from(RosterEntry).where(RosterEntry.project_id == project_id))


def test_a_file_whose_last_row_is_bad_leaves_nothing_after_earlier_batches(covered_project, tx, monkeypatch):
    employer, project_id = covered_project
    monkeypatch.setattr(roster, "BATCH_SIZE", 5)
    seen_in_session = []

    def run(sess):
        with pytest.raises(RosterRejected) as caught:
            projects.import_workers(sess, employer, project_id, _rows(23, bad_last=True), max_rows=100)
        seen_in_session.append(_count(sess, project_id))  # the savepoint is gone already
        return caught.value

    error = tx(run)  # and this transaction commits: still nothing from the file
    assert [(e.row_number, "公式" in e.message) for e in error.errors] == [(24, True)]
    assert seen_in_session == [0]
    assert tx(lambda s: _count(s, project_id)) == 0


def test_batches_are_saved_while_the_file_is_still_being_read(covered_project, tx, monkeypatch):
    employer, project_id = covered_project
    monkeypatch.setattr(roster, "BATCH_SIZE", 10)
    stored_when_read: dict[int, int] = {}

    def run(sess):
        def rows():
            for i, row in enumerate(_rows(35)):
                stored_when_read[i] = _count(sess, project_id)
                yield row
        return projects.import_workers(sess, employer, project_id, rows(), max_rows=100)

    outcome = tx(run)
    assert outcome.imported == 35 and tx(lambda s: _count(s, project_id)) == 35
    # rows 0-9 are read before anything is stored; the first batch is in before row 10 is read
    assert stored_when_read[9] == 0 and stored_when_read[10] == 10 and stored_when_read[34] == 30


def test_person_look_ups_are_one_query_per_batch(app, covered_project, tx, monkeypatch):
    employer, project_id = covered_project
    monkeypatch.setattr(roster, "BATCH_SIZE", 50)
    person_selects = []
    engine = app.extensions["portal.database"].engine

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM person" in statement:
            person_selects.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        outcome = tx(lambda s: projects.import_workers(s, employer, project_id, _rows(260), max_rows=1000))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert outcome.imported == 260
    # ceil(260 / 50) batches × (who is on a roster, the typed person records), not 260 rows
    assert len(person_selects) == 12


def test_errors_are_capped_but_counted(covered_project, tx):
    employer, project_id = covered_project
    rows = [WorkerInput(name="", id_number="", phone="", trade="", team="", entry_date="", row_number=n)
            for n in range(2, MAX_ERRORS_KEPT + 252)]
    with pytest.raises(RosterRejected) as caught:
        tx(lambda s: projects.import_workers(s, employer, project_id, rows, max_rows=5000))
    assert caught.value.total == MAX_ERRORS_KEPT + 250
    assert [e.row_number for e in caught.value.errors] == list(range(2, MAX_ERRORS_KEPT + 2))
    assert f"有 {MAX_ERRORS_KEPT + 250} 处错误" in caught.value.message


def test_upload_whose_last_row_is_bad_saves_nothing_over_http(client, login_as, csrf_token, covered_project,
                                                              tx, monkeypatch):
    _, project_id = covered_project
    monkeypatch.setattr(roster, "BATCH_SIZE", 3)
    today = local_today().isoformat()
    lines = ["姓名,身份证号码,手机号码,工种,班组,进场日期"]
    lines += [f"工人{i},{_id(i)},,钢筋工,一班,{today}" for i in range(10)]
    lines.append(f"工人10,{_id(3)},,钢筋工,一班,{today}")  # the last row repeats row 5
    login_as(client, "employer")
    response = client.post(f"/projects/{project_id}/roster/import", content_type="multipart/form-data",
                           data={"upload-csrf_token": csrf_token(client),
                                 "upload-file": (io.BytesIO("\n".join(lines).encode()), "名册.csv")})
    assert response.status_code == 422
    assert "第 12 行" in response.get_data(as_text=True) and "与第 5 行重复" in response.get_data(as_text=True)
    assert tx(lambda s: _count(s, project_id)) == 0


def test_numeric_id_cells_are_refused_with_the_reason():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(list(projects.TEMPLATE_HEADER))
    workbook.active.append(["张伟", 340104199003071235, "", "钢筋工", "", "2026-03-01"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    row = next(projects.read_upload("a.xlsx", buffer.getvalue()))
    assert roster_import.LAYOUT.headers == projects.TEMPLATE_HEADER
    with pytest.raises(ValueError, match="文本格式"):
        roster.clean_worker(row, None, local_today())  # type: ignore[arg-type]
