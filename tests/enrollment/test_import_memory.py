"""批量增员 streams: batches inside a savepoint, errors capped but counted, nothing left of a refused file."""

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Person
from portal.enrollment import service as enrollment
from portal.enrollment.models import UnitMember
from portal.enrollment.service import (
    ImportRejected,
    imports,  # internals: batch size and row limit
)
from portal.spreadsheets import MAX_ERRORS_KEPT
from tests.enrollment.conftest import make_id
from tests.enrollment.test_imports import csv_bytes, row

TODAY = date(2026, 11, 20)


@pytest.fixture
def approved(app, actor_for, enroll):
    with app.app_context(), app.extensions["portal.database"].write_transaction() as s:
        enroll(s, approve=True, effective=date(2026, 1, 1))


def _count(app, model):
    with app.app_context(), app.extensions["portal.database"].write_transaction() as s:
        return s.execute(select(func.count(model.id))).scalar_one()


def test_a_file_whose_last_row_is_bad_leaves_nothing_after_earlier_batches(app, actor_for, approved, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 4)
    persons_before = _count(app, Person)
    rows = [row(601 + 2 * i) for i in range(13)] + [row(699, wage="100")]  # last row: wage below the floor
    in_session = []
    with app.app_context(), app.extensions["portal.database"].write_transaction() as s:
        with pytest.raises(ImportRejected) as caught:
            enrollment.import_members(s, actor_for("employer"), "a.csv", csv_bytes(rows), today=TODAY)
        in_session.append(s.execute(select(func.count(UnitMember.id))).scalar_one())
    # the transaction above committed, yet nothing of the 13 good rows (3 batches flushed) remains
    assert [e.row for e in caught.value.errors] == [15] and caught.value.rows == 14
    assert in_session == [0]
    assert _count(app, UnitMember) == 0 and _count(app, Person) == persons_before


def test_upload_whose_last_row_is_bad_saves_nothing_over_http(app, client, login_as, csrf_token, approved,
                                                              monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    start = date.today().isoformat()
    rows = [row(701 + 2 * i, start=start) for i in range(7)] + [row(701, start=start)]  # repeats row 2
    login_as(client, "employer")
    response = client.post("/enrollment/members/import", content_type="multipart/form-data",
                           data={"csrf_token": csrf_token(client), "file": (io.BytesIO(csv_bytes(rows)), "a.csv")})
    html = response.get_data(as_text=True)
    assert "第 9 行" in html and "与第 2 行重复" in html
    assert "第 9 行" in html and "与第 2 行重复" in html, html[html.find("<main"):][:1500]
    assert _count(app, UnitMember) == 0


def test_every_bad_row_counted_first_ones_listed(sess, actor_for, enroll):
    enroll(sess, approve=True, effective=date(2026, 1, 1))
    bad = MAX_ERRORS_KEPT + 30
    data = csv_bytes([row(1), *[("", make_id(seq=i % 999), "", "", "", "") for i in range(bad)]])
    with pytest.raises(ImportRejected) as caught:
        enrollment.import_members(sess, actor_for("employer"), "a.csv", data, today=TODAY)
    assert caught.value.total == bad and caught.value.rows == bad + 1
    assert [e.row for e in caught.value.errors] == list(range(3, MAX_ERRORS_KEPT + 3))
    assert f"文件中有 {bad} 行存在问题" in caught.value.message
    assert sess.execute(select(func.count(UnitMember.id))).scalar_one() == 0
