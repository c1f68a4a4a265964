"""The inbox pages over HTTP: list, filters (page and htmx fragment), one message, scope, nav count."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from portal.auth.roles import Actor, Role
from portal.inbox.models import InboxMessage
from tests.frontend.test_pages import check_page

HX_RESULTS = {"HX-Request": "true", "HX-Target": "inbox-results"}


def text(response) -> str:
    return response.get_data(as_text=True)


def _actor(snapshot: dict) -> Actor:
    return Actor(role=Role(snapshot["role"]), account_id=snapshot["account_id"],
                 person_id=snapshot.get("person_id"), organisation_id=snapshot.get("organisation_id"))


@pytest.fixture
def signed_in(app, login_as):
    """``signed_in("worker")`` → (client, actor)."""

    def _signed_in(who: str):
        client = app.test_client()
        return client, _actor(login_as(client, who))

    return _signed_in


def _set_delivered(database, message_id: int, when: datetime) -> None:
    with database.write_transaction() as sess:
        sess.execute(update(InboxMessage).where(InboxMessage.id == message_id).values(delivered_at=when))


def _message(database, message_id: int) -> InboxMessage:
    with database.read_session() as sess:
        message = sess.get(InboxMessage, message_id)
        sess.expunge(message)
        return message


def test_inbox_list_page(signed_in, deliver_committed, database):
    client, worker = signed_in("worker")
    request_id = deliver_committed(worker, kind="request", subject="请补正工伤认定申请材料", action_required=True,
                                   case_reference="RD2026340100000012", link="/recognition/cases/12")
    notice_id = deliver_committed(worker, kind="notice", subject="工伤认定申请已受理")
    _set_delivered(database, notice_id, datetime(2026, 1, 5, 6, 30, tzinfo=UTC))  # 14:30 Beijing
    response = client.get("/inbox/")
    assert response.status_code == 200
    page = check_page(response)
    assert page.h1 == ["收件箱"]
    html = text(response)
    # 待办 first, even though the notice is unread too
    assert html.index("请补正工伤认定申请材料") < html.index("工伤认定申请已受理")
    assert f'href="/inbox/{request_id}"' in html and f'href="/inbox/{notice_id}"' in html
    assert "补正/待办" in html and "通知" in html and "需要您处理" in html
    assert html.count(">未读</span>") == 2  # the unread marker is a word, not only a colour
    assert "RD2026340100000012" in html and 'href="/inbox/?case=RD2026340100000012"' in html
    assert '<time datetime="2026-01-05T06:30:00+00:00">2026年1月5日 14:30</time>' in html
    current = [a for a in page.find("a") if a.get("aria-current") == "page" and "pagination__link" in a.get("class", "")]
    assert [a["href"] for a in current] == ["/inbox/"]
    assert "待办（1）" in html and "未读（2）" in html
    # the navigation shows the counts in words
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.DOTALL).group(0)
    assert re.search(r'href="/inbox/" aria-current="page">收件箱\s*<span class="badge">未读 2</span>\s*'
                     r'<span class="badge badge--unconfirmed">待办 1</span>', nav), nav


def test_filters_work_as_pages_and_as_htmx_fragments(signed_in, deliver_committed):
    client, employer = signed_in("employer")
    deliver_committed(employer, kind="request", subject="请提交单位意见", action_required=True, case_reference="C1")
    deliver_committed(employer, kind="notice", subject="职工申请已受理", case_reference="C2")
    opened = deliver_committed(employer, kind="decision", subject="认定工伤决定书", case_reference="C2")
    assert client.get(f"/inbox/{opened}").status_code == 200

    full = client.get("/inbox/?show=action")
    page = check_page(full)
    assert "请提交单位意见" in text(full) and "职工申请已受理" not in text(full)
    assert [a["href"] for a in page.find("a") if a.get("aria-current") == "page"
            and "pagination__link" in a.get("class", "")] == ["/inbox/?show=action"]

    fragment = client.get("/inbox/?show=unread", headers=HX_RESULTS)
    body = text(fragment)
    assert fragment.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="inbox-results"')
    assert "职工申请已受理" in body and "请提交单位意见" in body and "认定工伤决定书" not in body
    assert 'aria-current="page"' in body and 'hx-target="#inbox-results"' in body
    assert 'hx-get="/inbox/?show=action"' in body

    by_case = text(client.get("/inbox/?case=C2"))
    assert "职工申请已受理" in by_case and "认定工伤决定书" in by_case and "请提交单位意见" not in by_case
    assert "只显示案件编号" in by_case

    # An unknown filter shows everything rather than failing.
    assert "请提交单位意见" in text(client.get("/inbox/?show=bogus"))


def test_empty_states(signed_in):
    client, _ = signed_in("relative")
    response = client.get("/inbox/")
    check_page(response)
    assert "收件箱里还没有消息" in text(response)
    assert "没有需要您处理的事项" in text(client.get("/inbox/?show=action"))
    assert "没有未读消息" in text(client.get("/inbox/?show=unread"))


def test_paging_keeps_the_filter(signed_in, app, database):
    client, worker = signed_in("worker")
    from portal.inbox import service

    with app.app_context(), database.write_transaction() as sess:
        for n in range(service.PER_PAGE + 3):
            service.deliver(sess, person_id=worker.person_id, kind="notice", subject=f"通知第{n:02d}号", body="正文")
    first = client.get("/inbox/?show=unread")
    check_page(first)
    assert 'href="/inbox/?page=2&amp;show=unread"' in text(first) or 'href="/inbox/?show=unread&amp;page=2"' in text(first)
    second = client.get("/inbox/?show=unread&page=2", headers=HX_RESULTS)
    assert text(second).count('class="service-list__item"') == 3


def test_message_page_marks_read_once_and_escapes_the_body(signed_in, deliver_committed, database):
    client, worker = signed_in("worker")
    message_id = deliver_committed(
        worker, kind="decision", subject="认定工伤决定书",
        body="经调查核实，你于2026年10月8日受到的事故伤害属于工伤。\n如不服本决定，可依法申请行政复议。\n\n"
             "<script>alert(1)</script> & <b>粗体</b>",
        link="https://www.ahzwfw.gov.cn/evaluate?id=1", link_label="评价本次服务",
        case_reference="RD2026340100000012", attachment_token="tok_" + "a" * 40)
    _set_delivered(database, message_id, datetime(2026, 11, 20, 1, 5, tzinfo=UTC))
    assert _message(database, message_id).read_at is None

    response = client.get(f"/inbox/{message_id}")
    assert response.status_code == 200
    page = check_page(response)
    assert page.h1 == ["认定工伤决定书"]
    html = text(response)
    assert "<script>alert(1)</script>" not in html and "<b>粗体</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;粗体&lt;/b&gt;" in html
    assert "属于工伤。<br>如不服本决定" in html
    assert "送达时间" in html and "2026年11月20日 09:05" in html and "首次阅读时间" in html
    link = next(a for a in page.find("a") if a.get("href") == "https://www.ahzwfw.gov.cn/evaluate?id=1")
    assert link.get("rel") == "noopener noreferrer" and "外部网站 www.ahzwfw.gov.cn" in html
    assert any(a.get("href") == "/files/tok_" + "a" * 40 for a in page.find("a"))  # 下载附件
    first_read = _message(database, message_id).read_at
    assert first_read is not None

    client.get(f"/inbox/{message_id}")
    assert _message(database, message_id).read_at == first_read
    listing = text(client.get("/inbox/"))
    assert ">未读</span>" not in listing


def test_internal_link_has_no_external_hint(signed_in, deliver_committed):
    client, worker = signed_in("worker")
    message_id = deliver_committed(worker, kind="request", subject="请补正材料", link="/recognition/cases/3",
                                   link_label="去补正", action_required=True)
    html = text(client.get(f"/inbox/{message_id}"))
    assert '<a class="button" href="/recognition/cases/3">去补正</a>' in html
    assert "外部网站" not in html and "需要您处理" in html


def test_scope_other_inboxes_are_not_found_and_staff_are_refused(signed_in, deliver_committed, database):
    _, worker = signed_in("worker")
    _, employer = signed_in("employer")
    workers = deliver_committed(worker, subject="张伟的通知")
    employers = deliver_committed(employer, subject="单位的通知")

    relative, _ = signed_in("relative")
    assert relative.get(f"/inbox/{workers}").status_code == 404
    assert "张伟的通知" not in text(relative.get("/inbox/"))
    employer2, _ = signed_in("employer2")
    assert employer2.get(f"/inbox/{employers}").status_code == 404
    assert "单位的通知" not in text(employer2.get("/inbox/"))
    worker_client, _ = signed_in("worker")
    assert worker_client.get(f"/inbox/{employers}").status_code == 404
    for who in ("officer", "clerk", "provincial", "clerk-wuhu"):
        staff, _ = signed_in(who)
        assert staff.get("/inbox/").status_code == 403, who
        assert staff.get(f"/inbox/{workers}").status_code == 403, who
    # Nobody but the recipient read them.
    assert _message(database, workers).read_at is None and _message(database, employers).read_at is None
    assert worker_client.get("/inbox/", follow_redirects=False).status_code == 200


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/inbox/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_navigation_counts_on_every_page_for_persons_and_employers_only(signed_in, deliver_committed):
    worker_client, worker = signed_in("worker")
    employer_client, employer = signed_in("employer")
    deliver_committed(worker, kind="request", subject="补正", action_required=True)
    deliver_committed(worker, subject="通知一")
    deliver_committed(employer, subject="单位通知")

    home = worker_client.get("/home/worker")
    page = check_page(home)
    nav_link = next(a for a in page.find("a") if a.get("href") == "/inbox/" and "site-nav__link" in a.get("class", ""))
    assert nav_link.get("aria-current") is None
    html = text(home)
    assert re.search(r'>收件箱\s*<span class="badge">未读 2</span>\s*<span class="badge badge--unconfirmed">待办 1</span></a>', html)
    assert '<a href="/inbox/">收件箱</a>' in html  # the card on the home page

    employer_home = text(employer_client.get("/home/employer"))
    assert re.search(r'>收件箱\s*<span class="badge">未读 1</span></a>', employer_home)
    assert "待办 " not in employer_home
    assert '<a href="/inbox/">收件箱</a>' in employer_home

    staff, _ = signed_in("officer")
    assert 'href="/inbox/"' not in text(staff.get("/home/staff"))


def test_nav_marks_the_inbox_current_on_a_message(signed_in, deliver_committed):
    client, worker = signed_in("worker")
    message_id = deliver_committed(worker, subject="通知")
    page = check_page(client.get(f"/inbox/{message_id}"))
    nav_link = next(a for a in page.find("a") if a.get("href") == "/inbox/" and "site-nav__link" in a.get("class", ""))
    assert nav_link.get("aria-current") == "true"
    # read now: the nav count is gone on the same response
    html = text(client.get("/home/worker"))
    assert not re.search(r'>收件箱\s*<span class="badge">', html)


def test_opening_is_audited_with_the_reader(signed_in, deliver_committed, database):
    from portal.audit.models import AuditEvent

    client, employer = signed_in("employer")
    message_id = deliver_committed(employer, kind="decision", subject="认定工伤决定书")
    client.get(f"/inbox/{message_id}")
    with database.read_session() as sess:
        event = sess.execute(select(AuditEvent).where(AuditEvent.action == "inbox.read")).scalar_one()
        assert (event.object_id, event.actor_account_id, event.role) == (str(message_id), employer.account_id, "employer")
