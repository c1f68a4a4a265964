"""The inbox service: delivery (once per dedupe key), validation, order, isolation, reading, 待办."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditEvent
from portal.errors import ConflictError, NotFoundError, UserInputError
from portal.inbox import service
from portal.inbox.models import InboxKind, InboxMessage
from tests.inbox.conftest import deliver_to, recipient


def _count(sess, *where) -> int:
    return sess.scalar(select(func.count()).select_from(InboxMessage).where(*where))


# --- delivery -------------------------------------------------------------------------------------


def test_deliver_stores_every_field_with_aware_utc_delivery_time(sess, people):
    before = datetime.now(UTC)
    message = service.deliver(
        sess, person_id=people.worker.person_id, kind="request", subject="  请补正工伤认定申请材料 ",
        body="请上传：\n1. 劳动关系证明\n2. 医疗诊断证明", link="/recognition/cases/12", link_label="查看并补正",
        case_reference="RD2026340100000012", attachment_token="a" * 64, action_required=True,
        dedupe_key="recognition:12:supplement:person")
    sess.commit()
    stored = sess.get(InboxMessage, message.id)
    sess.expire(stored)
    assert stored.recipient_person_id == people.worker.person_id and stored.recipient_organisation_id is None
    assert stored.kind is InboxKind.REQUEST and stored.kind.label == "补正/待办"
    assert stored.subject == "请补正工伤认定申请材料"
    assert stored.body.splitlines() == ["请上传：", "1. 劳动关系证明", "2. 医疗诊断证明"]
    assert (stored.link, stored.link_label) == ("/recognition/cases/12", "查看并补正")
    assert stored.case_reference == "RD2026340100000012" and stored.attachment_token == "a" * 64
    assert stored.action_required and stored.needs_action and stored.action_done_at is None
    assert stored.is_unread and stored.read_at is None
    assert stored.delivered_at.tzinfo is not None and stored.delivered_at.utcoffset() == timedelta(0)
    assert before <= stored.delivered_at <= datetime.now(UTC)


def test_same_dedupe_key_delivers_once(sess, people):
    first = deliver_to(sess, people.worker, kind="decision", subject="认定工伤决定书", dedupe_key="rc:1:decision:p")
    again = deliver_to(sess, people.worker, kind="decision", subject="认定工伤决定书", dedupe_key="rc:1:decision:p")
    sess.commit()
    assert again.id == first.id
    assert _count(sess, InboxMessage.dedupe_key == "rc:1:decision:p") == 1
    # Messages without a key are never merged.
    deliver_to(sess, people.worker)
    deliver_to(sess, people.worker)
    assert _count(sess, InboxMessage.dedupe_key.is_(None)) == 2


def test_dedupe_key_of_another_recipient_is_a_conflict(sess, people):
    deliver_to(sess, people.worker, dedupe_key="rc:2:notice")
    with pytest.raises(ConflictError) as caught:
        deliver_to(sess, people.employer, dedupe_key="rc:2:notice")
    assert caught.value.code == "inbox_dedupe_conflict"


@pytest.mark.parametrize("recipients", [{}, "both"])
def test_exactly_one_recipient(sess, people, recipients):
    if recipients == "both":
        recipients = {"person_id": people.worker.person_id, "organisation_id": people.employer.organisation_id}
    with pytest.raises(UserInputError) as caught:
        service.deliver(sess, kind="notice", subject="s", body="b", **recipients)
    assert caught.value.code == "inbox_recipient"


@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<script>x</script>",
    "//evil.example/phish", "ftp://files.example/x", "recognition/cases/1", "https://", "https://gov.cn@evil.example/",
    "/recognition/cases/1\nSet-Cookie: x", "/a b", "\\\\evil.example", "https://" + "a" * 300 + ".cn/",
])
def test_unsafe_or_malformed_links_are_refused(sess, people, link):
    with pytest.raises(UserInputError) as caught:
        deliver_to(sess, people.worker, link=link)
    assert caught.value.code == "inbox_bad_link"
    assert _count(sess) == 0


@pytest.mark.parametrize("link", [
    "/recognition/cases/12", "/inbox/?show=action", "https://www.ahzwfw.gov.cn/evaluate?id=abc",
    "http://127.0.0.1:8001/evaluate/XY12",
])
def test_internal_paths_and_web_links_are_accepted(sess, people, link):
    assert deliver_to(sess, people.worker, link=link).link == link


def test_unknown_kind_and_empty_text_are_refused(sess, people):
    with pytest.raises(UserInputError):
        deliver_to(sess, people.worker, kind="spam")
    with pytest.raises(UserInputError):
        deliver_to(sess, people.worker, subject="  ")
    with pytest.raises(UserInputError):
        deliver_to(sess, people.worker, body="")
    with pytest.raises(UserInputError):
        deliver_to(sess, people.worker, subject="长" * 201)


def test_a_resident_id_number_in_the_text_is_refused(sess, people):
    with pytest.raises(UserInputError) as caught:
        deliver_to(sess, people.employer, body="职工张伟（身份证号码340104199003071235）的申请已受理。")
    assert caught.value.code == "inbox_personal_data"
    with pytest.raises(UserInputError):
        deliver_to(sess, people.worker, subject="340104199003071235 的决定")
    # a first-generation (15-digit) number is an ID number too
    with pytest.raises(UserInputError):
        deliver_to(sess, people.worker, body="旧身份证号码 340104900307123。")
    # Long numbers that are not ID numbers (a wrong check digit, a reference) are fine.
    deliver_to(sess, people.worker, body="缴费单号 340104199003071236，申请编号 RD2026340100000012。")


def test_a_failed_insert_is_not_swallowed_and_keeps_earlier_work(sess, people):
    """An integrity error that is not a lost race (an unknown recipient) reaches the caller; the
    savepoint keeps what the caller did before in the same transaction."""
    earlier = deliver_to(sess, people.worker, subject="同一事务中之前的消息")
    with pytest.raises(IntegrityError):
        service.deliver(sess, person_id=987654, kind="notice", subject="s", body="b", dedupe_key="nobody")
    sess.commit()
    assert sess.get(InboxMessage, earlier.id).subject == "同一事务中之前的消息"
    assert service.delivery_record(sess, dedupe_key="nobody") is None


# --- reading ----------------------------------------------------------------------------------------


def test_inbox_order_action_first_then_unread_then_newest(sess, people):
    base = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)

    def at(hours: int, **fields) -> InboxMessage:
        message = deliver_to(sess, people.worker, **fields)
        message.delivered_at = base + timedelta(hours=hours)
        return message

    old_read = at(1, subject="旧的已读通知")
    action_old = at(2, subject="较早的补正要求", kind="request", action_required=True, case_reference="C1")
    unread_new = at(6, subject="新的未读通知")
    read_newest = at(9, subject="最新的已读通知")
    action_new = at(3, subject="较新的补正要求", kind="request", action_required=True, case_reference="C2")
    done = at(8, subject="已补正的要求", kind="request", action_required=True, case_reference="C3")
    unread_old = at(4, subject="旧的未读通知")
    sess.flush()
    for message in (old_read, read_newest, action_old):
        service.open_message(sess, people.worker, message.id)
    assert service.complete_actions(sess, case_reference="C3") == 1
    page = service.messages_for(sess, people.worker)
    assert [m.subject for m in page.items] == [m.subject for m in (
        action_new,  # 待办 (unread) newest first
        action_old,  # 待办, already read
        done,  # done: unread, the newest unread
        unread_new,
        unread_old,
        read_newest,
        old_read,
    )]
    assert service.counts_for(sess, people.worker) == (4, 2)
    assert [m.subject for m in service.messages_for(sess, people.worker, show="action").items] == [
        "较新的补正要求", "较早的补正要求"]
    assert {m.subject for m in service.messages_for(sess, people.worker, show="unread").items} == {
        "较新的补正要求", "已补正的要求", "新的未读通知", "旧的未读通知"}
    assert [m.subject for m in service.messages_for(sess, people.worker, case_reference="C2").items] == ["较新的补正要求"]
    with pytest.raises(UserInputError):
        service.messages_for(sess, people.worker, show="everything")


def test_paging(sess, people):
    for n in range(23):
        deliver_to(sess, people.employer, subject=f"通知 {n:02d}")
    sess.flush()
    first = service.messages_for(sess, people.employer, per_page=10)
    last = service.messages_for(sess, people.employer, page=3, per_page=10)
    beyond = service.messages_for(sess, people.employer, page=99, per_page=10)
    assert (first.total, first.pages, len(first.items)) == (23, 3, 10)
    assert (last.page, len(last.items)) == (3, 3)
    assert beyond.page == 3 and [m.id for m in beyond.items] == [m.id for m in last.items]
    seen = [m.id for p in (1, 2, 3) for m in service.messages_for(sess, people.employer, page=p, per_page=10).items]
    assert len(seen) == len(set(seen)) == 23


def test_each_actor_sees_only_its_own_inbox(sess, people):
    mine = deliver_to(sess, people.worker, subject="张伟的通知")
    relatives = deliver_to(sess, people.relative, subject="李秀英的通知")
    employers = deliver_to(sess, people.employer, subject="单位的通知")
    others = deliver_to(sess, people.employer2, subject="另一单位的通知")
    sess.flush()
    expected = {"worker": mine, "relative": relatives, "employer": employers, "employer2": others}
    for who, message in expected.items():
        actor = getattr(people, who)
        assert [m.id for m in service.messages_for(sess, actor).items] == [message.id], who
        assert service.counts_for(sess, actor) == (1, 0), who
        for other_who, other in expected.items():
            if other_who == who:
                assert service.open_message(sess, actor, other.id).id == other.id
            else:
                with pytest.raises(NotFoundError):
                    service.open_message(sess, actor, other.id)
    with pytest.raises(NotFoundError):
        service.open_message(sess, people.worker, 999999)
    # Staff have no inbox: nothing listed, nothing opened (the pages answer 403 before this).
    officer = people.officer
    assert service.messages_for(sess, officer).items == []
    assert service.counts_for(sess, officer) == (0, 0)
    with pytest.raises(NotFoundError):
        service.open_message(sess, officer, mine.id)


def test_opening_sets_read_at_once_and_audits_every_opening(sess, people):
    message = deliver_to(sess, people.employer, kind="decision", subject="认定工伤决定书", case_reference="C9")
    sess.commit()
    opened = service.open_message(sess, people.employer, message.id)
    first_read = opened.read_at
    assert first_read is not None and first_read.tzinfo is not None
    sess.commit()
    again = service.open_message(sess, people.employer, message.id)
    sess.commit()
    assert again.read_at == first_read
    assert service.delivery_record(sess, dedupe_key="missing") is None
    events = sess.execute(select(AuditEvent).where(AuditEvent.action == "inbox.read")
                          .order_by(AuditEvent.seq)).scalars().all()
    assert [(e.object_type, e.object_id, e.detail["first_read"]) for e in events] == [
        ("inbox_message", str(message.id), True), ("inbox_message", str(message.id), False)]
    assert events[0].detail == {"kind": "decision", "first_read": True, "case_reference": "C9"}
    assert events[0].actor_account_id == people.employer.account_id


def test_complete_actions_marks_outstanding_requests_of_the_case_only(sess, people):
    request_w = deliver_to(sess, people.worker, kind="request", case_reference="C1", action_required=True)
    request_e = deliver_to(sess, people.employer, kind="request", case_reference="C1", action_required=True)
    evaluation = deliver_to(sess, people.worker, kind="evaluation", case_reference="C1", action_required=True)
    notice = deliver_to(sess, people.worker, kind="notice", case_reference="C1")
    other_case = deliver_to(sess, people.worker, kind="request", case_reference="C2", action_required=True)
    sess.flush()
    assert service.complete_actions(sess, case_reference="C1", kind="request") == 2
    sess.commit()
    for message in (request_w, request_e, evaluation, notice, other_case):
        sess.refresh(message)
    assert request_w.action_done_at is not None and request_e.action_done_at is not None
    assert not request_w.needs_action
    assert evaluation.needs_action and other_case.needs_action
    assert notice.action_done_at is None  # nothing to do, nothing done
    done_at = request_w.action_done_at
    assert service.complete_actions(sess, case_reference="C1", kind="request") == 0
    sess.refresh(request_w)
    assert request_w.action_done_at == done_at
    assert service.complete_actions(sess, case_reference="C1") == 1  # the evaluation
    assert service.counts_for(sess, people.worker) == (4, 1)


def test_delivery_record_gives_delivery_and_first_read(sess, people):
    key = "recognition:7:decision:organisation"
    deliver_to(sess, people.employer, kind="decision", subject="认定工伤决定书", dedupe_key=key)
    sess.commit()
    record = service.delivery_record(sess, dedupe_key=key)
    assert record.delivered_at is not None and record.read_at is None
    service.open_message(sess, people.employer, record.id)
    sess.commit()
    assert service.delivery_record(sess, dedupe_key=key).read_at is not None


def test_recipient_helper_matches_the_actor(people):
    assert recipient(people.worker) == {"person_id": people.worker.person_id}
    assert recipient(people.employer) == {"organisation_id": people.employer.organisation_id}
    assert people.worker.person_id != people.relative.person_id


def test_badge_counts_stop_past_the_cap_and_show_99_plus(app, sess, people):
    from portal.inbox.routes import badge_count

    for n in range(service.BADGE_CAP + 3):
        deliver_to(sess, people.employer, subject=f"通知 {n:03d}",
                   **({"kind": "request", "action_required": True} if n < 2 else {}))
    sess.flush()
    unread, outstanding = service.counts_for(sess, people.employer)
    assert (unread, outstanding) == (service.BADGE_CAP + 1, 2)  # counting stopped one past the cap
    assert badge_count(unread) == "99+" and badge_count(service.BADGE_CAP) == "99" and badge_count(2) == "2"
