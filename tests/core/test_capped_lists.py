"""Lists count at most a cap of rows (portal/paging.py, issue 14 point 1): "共 N 条" under the cap,
"超过 N 条", pages up to the cap and a hint to narrow the filter above it. The cap is made small
here (``portal.paging.COUNT_CAP``, the one place it is set) so a few dozen rows exceed it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import paging
from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.db import utcnow
from tests.core.test_list_query_budgets import (  # noqa: F401  (signed_in: a fixture)
    HEFEI,
    bill,
    messages,
    organisation,
    organisation_of,
    projects,
    signed_in,
    units,
)

CAP = 40  # two pages of 20


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", CAP)


def text_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return re.sub(r"<[^>]+>", "", response.get_data(as_text=True))


def page_links(client, url: str) -> set[int]:
    html = client.get(url).get_data(as_text=True)
    return {int(n) for n in re.findall(r"[?&]page=(\d+)", html)}


def assert_capped(client, url: str, noun: str) -> None:
    shown = text_of(client, url)
    assert f"超过 {CAP} {noun}" in shown and "结果较多，请缩小查询范围" in shown, shown
    assert max(page_links(client, url)) == CAP // 20  # pages up to the cap, no further
    sep = "&" if "?" in url else "?"
    assert "第 2 / 2 页" in text_of(client, f"{url}{sep}page=9") or "第 2 页，共 2 页" in text_of(
        client, f"{url}{sep}page=9")  # a page past the cap shows the last


def assert_counted(client, url: str, n: int, noun: str) -> None:
    shown = text_of(client, url)
    assert f"共 {n} {noun}" in shown and "结果较多" not in shown and "超过" not in shown, shown


def test_capped_count_counts_up_to_the_cap(db, tx):
    org_id = tx(lambda s: organisation(s).id)
    tx(lambda s: [bill(s, org_id) for _ in range(7)])
    from portal.payments.models import Bill

    query = select(Bill).where(Bill.organisation_id == org_id).order_by(Bill.id.desc())
    assert paging.capped_count(db, query, 10) == (7, False)
    assert paging.capped_count(db, query, 7) == (7, False)
    assert paging.capped_count(db, query, 6) == (6, True)


def test_enrollment_review_list(app, tx, signed_in, small_cap):  # noqa: F811
    clerk, _ = signed_in("clerk")
    tx(lambda s: units(s, 30))
    assert_counted(clerk, "/enrollment/review?status=submitted", 30, "家单位")
    tx(lambda s: units(s, 15))
    assert_capped(clerk, "/enrollment/review?status=submitted", "家单位")


def test_project_list(app, tx, signed_in, small_cap):  # noqa: F811
    clerk, _ = signed_in("clerk")
    tx(lambda s: projects(s, 25, organisation(s).id))
    assert_counted(clerk, "/projects/inbox", 25, "个项目")
    tx(lambda s: projects(s, 20, organisation(s).id))
    assert_capped(clerk, "/projects/inbox", "个项目")


def test_bills_and_inbox(app, tx, signed_in, small_cap):  # noqa: F811
    employer, snapshot = signed_in("employer")
    org_id = organisation_of(tx, snapshot)
    tx(lambda s: [bill(s, org_id) for _ in range(CAP + 3)])
    assert_capped(employer, "/payments/bills", "张")
    tx(lambda s: messages(s, 30, org_id))
    assert_counted(employer, "/inbox/", 30, "条")
    tx(lambda s: messages(s, 30, org_id))
    assert_capped(employer, "/inbox/", "条")


def _audit(sess, actions, *, city=HEFEI):
    start = utcnow() - timedelta(hours=1)
    for i, action in enumerate(actions):
        sess.add(AuditEvent(at=start + timedelta(seconds=i), actor_label="测试", role="clerk", city_code=city,
                            action=action, object_type="person", object_id=str(i), detail={}))
    sess.flush()


def test_audit_browser_filtered(app, tx, signed_in, small_cap):  # noqa: F811
    provincial, _ = signed_in("provincial")
    url = f"/audit/?city_code={HEFEI}&action=test.capped"
    tx(lambda s: _audit(s, ["test.capped"] * 30))
    assert_counted(provincial, url, 30, "条")
    tx(lambda s: _audit(s, ["test.capped"] * 60))
    shown = text_of(provincial, url)  # 50 rows a page: the cap of 40 is reached on page 1
    assert f"超过 {CAP} 条" in shown and "结果较多，请缩小查询范围" in shown


def test_audit_action_prefix_merges_the_actions_newest_first(db, tx):
    """A prefix naming several actions reads each action's newest rows and merges them: the
    pages are those of one query over all of them."""
    tx(lambda s: _audit(s, ["test.merge.a", "test.merge.b", "test.merge.c", "test.merge.a"] * 4))
    tx(lambda s: _audit(s, ["test.merge.a"] * 3, city="340200"))
    filters = audit.AuditFilter(action="test.merge", city_code=HEFEI)
    expected = [e.id for e in db.execute(
        select(AuditEvent).where(AuditEvent.action.like("test.merge.%"), AuditEvent.city_code == HEFEI)
        .order_by(AuditEvent.id.desc())).scalars()]
    assert len(expected) == 16
    pages = [audit.browse(db, filters, page=n, per_page=5) for n in (1, 2, 3, 4)]
    assert [e.id for p in pages for e in p.rows] == expected
    assert pages[0].total == 16 and not pages[0].total_is_capped and pages[0].pages == 4


def test_project_roster_caps_its_list_not_its_headcount(app, tx, signed_in, small_cap):  # noqa: F811
    clerk, _ = signed_in("clerk")
    project_id = tx(lambda s: projects(s, 1, organisation(s).id, workers=CAP + 5)[0].id)
    shown = text_of(clerk, f"/projects/{project_id}/roster")
    assert f"超过 {CAP} 条；在册 {CAP + 5} 人" in shown and "结果较多，请缩小查询范围" in shown, shown
