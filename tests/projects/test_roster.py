"""Real-name roster: one by one and by file, all-or-nothing, never backdated, overlap flags."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.errors import ConflictError
from portal.localtime import local_today
from portal.projects import service as projects
from portal.projects.models import RosterEntry
from portal.projects.service import RosterRejected, WorkerInput
from portal.projects.service.roster import cover_from
from tests.projects.conftest import enroll, pay_open_bills

# valid ID numbers (check digits computed per GB 11643)
ZHANG_WEI = "340104199003071235"  # the demo worker


def _id(seq: int) -> str:
    body = f"340104198501{(seq % 28) + 1:02d}{seq % 1000:03d}"[:17]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return body + check


def _row(name="李强", id_number=None, phone="13912345678", trade="钢筋工", team="一班", entry=None, n=None):
    return WorkerInput(name=name, id_number=id_number or _id(1), phone=phone, trade=trade, team=team,
                       entry_date=entry or local_today().isoformat(), row_number=n)


def _count(tx, project_id):
    return tx(lambda s: s.scalar(select(func.count()).select_from(RosterEntry).where(RosterEntry.project_id == project_id)))


def test_cover_is_never_backdated():
    now = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    assert cover_from(date(2026, 3, 1), now) == now
    future = cover_from(date(2026, 3, 20), now)
    assert future > now and future.isoformat().startswith("2026-03-20T00:00:00+08:00")


def test_add_worker_one_by_one_and_refuse_twice(covered_project, tx):
    employer, project_id = covered_project
    past = (local_today() - timedelta(days=5)).isoformat()
    entry = tx(lambda s: projects.add_worker(s, employer, project_id, _row(name="张伟", id_number=ZHANG_WEI, entry=past)))
    assert entry.declared_entry_date.isoformat() == past
    assert entry.cover_from >= entry.created_at - timedelta(seconds=1)  # registration time, not the past date
    with pytest.raises(RosterRejected, match="已在本项目名册"):
        tx(lambda s: projects.add_worker(s, employer, project_id, _row(name="张伟", id_number=ZHANG_WEI)))
    # exit, then re-entry is a new period; history kept
    tx(lambda s: projects.remove_worker(s, employer, project_id, entry.id, exit_date=local_today()))
    tx(lambda s: projects.add_worker(s, employer, project_id, _row(name="张伟", id_number=ZHANG_WEI)))
    assert _count(tx, project_id) == 2


def test_roster_refused_before_cover(actor_for, tx):
    employer = actor_for("employer")
    project_id = tx(lambda s: enroll(s, employer).id)
    with pytest.raises(ConflictError, match="缴费参保后"):
        tx(lambda s: projects.add_worker(s, employer, project_id, _row()))


def test_a_name_is_never_refused_for_what_another_record_says(covered_project, tx):
    employer, project_id = covered_project
    first = tx(lambda s: projects.add_worker(s, employer, project_id, _row(name="王五", id_number=_id(3))))
    tx(lambda s: projects.remove_worker(s, employer, project_id, first.id, exit_date=local_today()))
    # the contractor's own (unconfirmed) record: its correction is taken, not refused
    again = tx(lambda s: projects.add_worker(s, employer, project_id, _row(name="王六", id_number=_id(3))))
    assert again.person_id == first.person_id and again.name == "王六"


def _import(tx, employer, project_id, rows, max_rows=projects.MAX_ROWS):
    return tx(lambda s: projects.import_workers(s, employer, project_id, rows, max_rows=max_rows))


def test_file_with_bad_rows_saves_nothing_and_reports_each(covered_project, tx):
    employer, project_id = covered_project
    today = local_today()
    bad_id = _id(5)[:-1] + ("0" if _id(5)[-1] != "0" else "1")
    rows = [
        _row(name="甲", id_number=_id(4), n=2),
        _row(name="乙", id_number=bad_id, n=3),                      # bad check digit
        _row(name="丙", id_number=_id(4), n=4),                      # duplicate of row 2
        _row(name="丁", id_number=_id(6), entry="2020-01-01", n=5),  # before the project starts
        _row(name="戊", id_number=_id(7), entry=(today + timedelta(days=90)).isoformat(), n=6),  # too far ahead
        _row(name="=HYPERLINK(\"http://x\")", id_number=_id(8), n=7),  # formula injection
        _row(name="己", id_number=_id(9), phone="+8613912345678", n=8),
        _row(name="庚", id_number=_id(10), trade="@SUM(A1)", n=9),
        _row(name="辛", id_number=_id(11), entry="2024-13-45", n=10),
    ]
    with pytest.raises(RosterRejected) as caught:
        _import(tx, employer, project_id, rows)
    by_row = {e.row_number: e.message for e in caught.value.errors}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "校验" in by_row[3] or "身份证号码" in by_row[3]
    assert "与第 2 行重复" in by_row[4]
    assert "早于项目开工日期" in by_row[5]
    assert "超过今天之后" in by_row[6]
    assert "公式" in by_row[7] and "公式" in by_row[8] and "公式" in by_row[9]
    assert "格式不正确" in by_row[10]
    assert _count(tx, project_id) == 0


def test_person_on_another_project_is_accepted_but_flagged_for_staff_only(covered_project, actor_for, tx):
    employer, project_id = covered_project
    tx(lambda s: projects.add_worker(s, employer, project_id, _row(name="张伟", id_number=ZHANG_WEI)))
    other = actor_for("employer2")

    def second(sess):
        p = enroll(sess, other, name="芜湖另一工地", county_code="340202")
        projects.submit_project(sess, other, p.id)
        pay_open_bills(sess, p.id)
        return p.id
    other_id = tx(second)
    outcome = _import(tx, other, other_id, [_row(name="张伟", id_number=ZHANG_WEI, n=2),
                                              _row(name="李四", id_number=_id(12), n=3)])
    assert (outcome.imported, outcome.flagged) == (2, 1)
    seen_by_contractor = tx(lambda s: projects.read_roster(s, other, other_id))
    assert not any(r.flagged or r.other_projects for r in seen_by_contractor.rows)
    clerk_wuhu = actor_for("clerk-wuhu")
    seen_by_clerk = tx(lambda s: projects.read_roster(s, clerk_wuhu, other_id, show="flagged"))
    assert [r.name for r in seen_by_clerk.rows] == ["张伟"]
    assert seen_by_clerk.rows[0].id_number_masked == "340104********1235"
    assert seen_by_clerk.rows[0].other_projects and seen_by_clerk.rows[0].other_projects[0].startswith("XM340100")


def test_row_cap(covered_project, tx):
    employer, project_id = covered_project
    rows = [_row(name=f"人{i}", id_number=_id(i), n=i + 1) for i in range(1, 6)]
    with pytest.raises(RosterRejected, match="超过 3 行"):
        _import(tx, employer, project_id, rows, max_rows=3)
    assert _count(tx, project_id) == 0


def _csv_bytes(rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(projects.TEMPLATE_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_encodings(encoding):
    data = _csv_bytes([["张伟", ZHANG_WEI, "13912345678", "钢筋工", "一班", "2026-03-01"]], encoding)
    rows = list(projects.read_upload("名册.csv", data))
    assert [(r.name, r.id_number, r.trade, r.row_number) for r in rows] == [("张伟", ZHANG_WEI, "钢筋工", 2)]


def test_xlsx_streamed_with_formula_cells_kept_as_text():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(projects.TEMPLATE_HEADER))
    sheet.append(["张伟", ZHANG_WEI, "13912345678", "钢筋工", "一班", datetime(2026, 3, 1)])
    sheet.append(["李四", "=1+1", "", "木工", "", "2026-03-02"])
    sheet.append([None] * 6)  # blank line: skipped
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = list(projects.read_upload("a.xlsx", buffer.getvalue()))
    assert [r.row_number for r in rows] == [2, 3]
    assert rows[0].entry_date == datetime(2026, 3, 1)
    assert rows[1].id_number == "=1+1"


def test_file_level_refusals():
    with pytest.raises(projects.ImportFileError, match="MB"):
        projects.read_upload("a.csv", b"x" * (projects.MAX_BYTES + 1))
    with pytest.raises(projects.ImportFileError, match=".xlsx 或 .csv"):
        projects.read_upload("a.xls", b"abc")
    with pytest.raises(projects.ImportFileError, match="表头不正确"):
        list(projects.read_upload("a.csv", "名字,号码\n张三,1\n".encode()))
    with pytest.raises(projects.ImportFileError, match="不是有效的 .xlsx|无法读取"):
        list(projects.read_upload("a.xlsx", b"not a zip"))


def test_large_import_in_one_transaction(covered_project, tx):
    employer, project_id = covered_project
    start = local_today().isoformat()
    rows = [_row(name=f"工人{i}", id_number=_big_id(i), n=i + 2) for i in range(2000)]
    outcome = _import(tx, employer, project_id, rows)
    assert outcome.imported == 2000 and _count(tx, project_id) == 2000
    assert start


def _big_id(i: int) -> str:
    body = f"3401041980{(i // 900) % 12 + 1:02d}{(i // 30) % 28 + 1:02d}{i % 1000:03d}"[:17]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def test_worker_self_check_shows_only_their_own_rows(covered_project, actor_for, tx):
    employer, project_id = covered_project
    worker = actor_for("worker")
    assert tx(lambda s: projects.my_cover(s, worker)) == []
    tx(lambda s: projects.add_worker(s, employer, project_id, _row(name="李四", id_number=_id(20))))
    assert tx(lambda s: projects.my_cover(s, worker)) == []
    tx(lambda s: projects.add_worker(s, employer, project_id, _row(name="张伟", id_number=ZHANG_WEI)))
    lines = tx(lambda s: projects.my_cover(s, worker))
    assert [(l.project_name, l.contractor) for l in lines] == [("合肥市滨湖新区安置房项目", "安徽皖建建设工程有限公司")]
