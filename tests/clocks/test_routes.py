"""节假日维护 pages: provincial staff add and remove overrides (audited), mark a year complete;
other roles are refused; invalid input answers 422 with a Chinese message."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.clocks.calendar import statutory_holidays
from portal.clocks.models import HolidayOverride, YearCompleteness

SOURCE = "国务院办公厅关于2027年部分节假日安排的通知（测试）"
FRAGMENT = {"HX-Request": "true", "HX-Target": "holiday-year"}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _add(client, token, **fields):
    data = {"csrf_token": token, "day": "2027-01-01", "kind": "holiday", "name": "元旦", "source": SOURCE}
    data.update(fields)
    return client.post("/clocks/holidays", data=data)


def _read(app, statement):
    with app.extensions["portal.database"].read_session() as sess:
        return sess.execute(statement).scalars().all()


def test_page(client, login_as):
    login_as(client, "provincial")
    page = client.get("/clocks/holidays?year=2027")
    assert page.status_code == 200
    assert page.text.count("<h1") == 1 and "<h1>节假日维护</h1>" in page.text and "<title>节假日维护" in page.text
    assert "2027年没有录入记录" in page.text and "<strong>暂定</strong>" in page.text
    assert "2027年法定节假日（按现行放假办法推算）" in page.text and page.text.count("<td>未录入</td>") == 13
    assert 'name="csrf_token"' in page.text
    ids = re.findall(r'\bid="([^"]+)"', page.text)
    assert len(ids) == len(set(ids)), "duplicate ids"
    library_year = client.get("/clocks/holidays?year=2025")
    assert "已包含本年度国务院放假安排" in library_year.text and "确认2025年" not in library_year.text


def test_provincial_adds_and_removes_an_override(app, client, login_as):
    login_as(client, "provincial")
    token = _token(client.get("/clocks/holidays?year=2027").text)
    response = _add(client, token)
    assert response.status_code == 303 and response.headers["Location"].endswith("/clocks/holidays?year=2027")
    page = client.get("/clocks/holidays?year=2027")
    assert "已录入：2027-01-01 放假（元旦）" in page.text and "星期五" in page.text
    (override,) = _read(app, sa.select(HolidayOverride))
    # htmx removal answers the year's fragment
    removed = client.post(f"/clocks/holidays/{override.id}/remove", data={"csrf_token": token}, headers=FRAGMENT)
    assert removed.status_code == 200
    assert removed.text.lstrip().startswith("<section id=\"holiday-year\"") and "<h1" not in removed.text
    assert "已删除：2027-01-01 放假（元旦）" in removed.text and "2027年没有录入记录" in removed.text
    assert _read(app, sa.select(HolidayOverride)) == []
    actions = _read(app, sa.select(AuditEvent.action).where(AuditEvent.action.like("clocks.%")).order_by(AuditEvent.seq))
    assert actions == ["clocks.override_added", "clocks.due_dates_recomputed", "clocks.override_removed",
                       "clocks.due_dates_recomputed"]


def test_year_fragment_for_htmx(client, login_as):
    login_as(client, "provincial")
    fragment = client.get("/clocks/holidays?year=2026", headers=FRAGMENT)
    assert fragment.status_code == 200 and "<h1" not in fragment.text and "2026年工作日历" in fragment.text


def test_mark_and_unmark_a_year(app, client, login_as):
    login_as(client, "provincial")
    token = _token(client.get("/clocks/holidays?year=2027").text)
    refused = client.post("/clocks/holidays/year/2027/complete", data={"csrf_token": token, "complete-source": SOURCE})
    assert refused.status_code == 422 and "还没有录入任何放假日期" in refused.text
    _add(client, token)
    missing = client.post("/clocks/holidays/year/2027/complete", data={"csrf_token": token, "complete-source": SOURCE})
    assert missing.status_code == 422 and "缺少：春节 2027-02-05、春节 2027-02-06" in missing.text
    for day, name in statutory_holidays(2027).items():
        if day != date(2027, 1, 1):
            assert _add(client, token, day=day.isoformat(), name=name).status_code == 303
    done = client.post("/clocks/holidays/year/2027/complete", data={"csrf_token": token, "complete-source": SOURCE})
    assert done.status_code == 303
    page = client.get("/clocks/holidays?year=2027")
    assert "已确认2027年放假安排录入完整" in page.text and "可以（已于" in page.text
    assert len(_read(app, sa.select(YearCompleteness))) == 1
    undone = client.post("/clocks/holidays/year/2027/incomplete", data={"csrf_token": token})
    assert undone.status_code == 303 and _read(app, sa.select(YearCompleteness)) == []


@pytest.mark.parametrize("fields,message", [
    ({"day": "2027-02-30"}, "日期格式不正确"),
    ({"day": ""}, "请填写日期"),
    ({"kind": "maybe"}, "请从列表中选择类型"),
    ({"name": ""}, "请填写节日名称"),
    ({"day": "1999-01-01"}, "年度应在2004年至2099年之间"),
])
def test_invalid_input_is_422_in_chinese(client, login_as, fields, message):
    login_as(client, "provincial")
    token = _token(client.get("/clocks/holidays").text)
    response = _add(client, token, **fields)
    assert response.status_code == 422 and message in response.text
    assert "错误提示" in response.text


def test_duplicate_is_422(app, client, login_as):
    login_as(client, "provincial")
    token = _token(client.get("/clocks/holidays").text)
    assert _add(client, token).status_code == 303
    again = _add(client, token, kind="workday")
    assert again.status_code == 422 and "2027年1月1日已有维护记录（放假，元旦）" in again.text
    assert len(_read(app, sa.select(HolidayOverride))) == 1


@pytest.mark.parametrize("who", ["worker", "employer", "clerk", "recognition_officer", "finance"])
def test_other_roles_are_refused(app, client, login_as, who):
    app.config["WTF_CSRF_ENABLED"] = False  # about roles: CSRF is checked before the policy
    login_as(client, who)
    assert client.get("/clocks/holidays").status_code == 403
    assert _add(client, "x").status_code == 403
    assert client.post("/clocks/holidays/1/remove").status_code == 403
    assert client.post("/clocks/holidays/year/2027/complete").status_code == 403


def test_removing_a_missing_override_is_404(client, login_as):
    login_as(client, "provincial")
    token = _token(client.get("/clocks/holidays").text)
    assert client.post("/clocks/holidays/999/remove", data={"csrf_token": token}).status_code == 404
