"""Cases reported as 办件 to the 一网通办 sandbox peer through the outbox, on both databases, over
real loopback HTTP: order, peer down, peer slow (answer lost), peer answering twice, concurrent
dispatchers, the 好差评 invitation reaching the applicant's inbox, and the applicant reading the
case status on the platform through its unified login.
"""

from __future__ import annotations

import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import func, select

from adapters.gov_platform.client import ServiceItemsClient
from adapters.gov_platform.service_items import ServiceItem
from portal.config import load_defaults
from portal.db import utcnow
from portal.inbox import service as inbox
from portal.inbox.models import InboxMessage
from portal.outbox import gov_items
from portal.outbox import service as outbox
from portal.outbox.models import OutboxMessage
from portal.regions import province
from portal.tasks.outbox import dispatch_outbox, outbox_dispatch
from tests.adapters.gov_helpers import faults_off, peer_fixture
from tests.conftest import sign_in_up_front

DEFAULTS = load_defaults()
APP_ID, SECRET = DEFAULTS["gov_platform_app_id"], DEFAULTS["gov_platform_secret"]
ITEM_CODE, ITEM_NAME = province().platform_item(ServiceItem.RECOGNITION.value)
FILED = datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc)
HEFEI_HRSS = "合肥市人力资源和社会保障局"
CLIENT_TIMEOUT = 1


peer = peer_fixture({APP_ID: SECRET})


@pytest.fixture
def state(peer):
    with faults_off(peer[1]) as peer_state:
        yield peer_state


@pytest.fixture
def app_overrides(peer):
    return {"gov_platform_url": peer[0], "gov_platform_timeout_seconds": CLIENT_TIMEOUT}


@pytest.fixture
def database(app):
    return app.extensions["portal.database"]


@pytest.fixture
def people(actor_for):
    return sign_in_up_front(actor_for, "worker", "employer")


def _item_no() -> str:
    return "GSRD" + uuid.uuid4().hex[:12].upper()


def _file(database, actor, item_no, stages=("received", "accepted")):
    """The business transaction of a case: register the 办件 and report its stages."""
    with database.write_transaction() as sess:
        gov_items.report_item(
            sess, item_no=item_no, item_code=ITEM_CODE, item_name=ITEM_NAME,
            applicant_account_id=actor.account_id, applicant_person_id=actor.person_id,
            applicant_organisation_id=None if actor.person_id else actor.organisation_id,
            department=HEFEI_HRSS, city_code="340100", received_at=FILED)
        for n, stage in enumerate(stages):
            _stage(sess, item_no, stage, minutes=n)


def _stage(sess, item_no, stage, minutes=0, **extra):
    return gov_items.report_stage(sess, item_no=item_no, stage=stage, stage_label=gov_items.Stage(stage).label,
                                  occurred_at=FILED + timedelta(minutes=minutes), detail="", event_key=f"{item_no}:{stage}",
                                  **extra)


def _complete(database, item_no, result="认定工伤"):
    with database.write_transaction() as sess:
        _stage(sess, item_no, "completed", minutes=30, completed=True, result=result)


def _messages(database, item_no) -> list[OutboxMessage]:
    with database.read_session() as sess:
        return list(sess.scalars(select(OutboxMessage).where(OutboxMessage.aggregate == item_no)
                                 .order_by(OutboxMessage.id)))


def state_url(state) -> str:
    """The peer's base URL (its evaluation links start with it)."""
    return state.base_url


def _later(hours=2):
    return utcnow() + timedelta(hours=hours)


def test_a_case_reaches_the_platform_in_order_with_the_applicants_login_subject(app, database, people, state):
    item_no = _item_no()
    _file(database, people("worker"), item_no, stages=("received", "accepted", "supplement_requested"))
    assert dispatch_outbox(app) == {"delivered": 4, "failed": 0}

    item = state.item(item_no)
    assert (item.applicant_sub, item.applicant_name, item.applicant_kind) == ("np-0001", "张伟", "natural")
    assert (item.item_code, item.department, item.received_at) == (ITEM_CODE, HEFEI_HRSS, "2026-03-02T09:30:00+08:00")
    assert [e.stage for e in item.events] == ["received", "accepted", "supplement_requested"]
    assert [e.stage_label for e in item.events] == ["已收件", "已受理", "一次性告知补正"]
    for message in _messages(database, item_no):  # no ID number travels or waits in the outbox
        assert "340104199003071235" not in message.payload and message.delivered_at is not None
    # Nothing left, nothing sent twice.
    assert dispatch_outbox(app, now=_later()) == {"delivered": 0, "failed": 0}
    assert all(state.event_posts[f"{item_no}:{s}"] == 1 for s in ("received", "accepted", "supplement_requested"))


def test_peer_down_nothing_lost_and_later_delivered_once(app, database, people, state, peer):
    item_no = _item_no()
    _file(database, people("worker"), item_no)
    requests.post(f"{peer[0]}/gov/_sandbox/faults", json={"mode": "down"}, timeout=5).raise_for_status()
    now = utcnow()
    # Only the registration is tried: the stages wait behind it.
    assert dispatch_outbox(app, now=now) == {"delivered": 0, "failed": 1}
    registration, *stages = _messages(database, item_no)
    assert registration.attempts == 1 and registration.last_error.startswith("server_error")
    assert now + timedelta(seconds=15) <= registration.next_attempt_at <= now + timedelta(seconds=30)
    assert all(m.attempts == 0 for m in stages) and state.item(item_no) is None
    assert dispatch_outbox(app, now=now) == {"delivered": 0, "failed": 0}  # backing off

    requests.post(f"{peer[0]}/gov/_sandbox/faults", json={"mode": "ok"}, timeout=5).raise_for_status()
    assert dispatch_outbox(app, now=_later()) == {"delivered": 3, "failed": 0}
    assert [e.stage for e in state.events_of(item_no)] == ["received", "accepted"]
    assert state.event_posts[f"{item_no}:received"] == state.event_posts[f"{item_no}:accepted"] == 1


def test_peer_unreachable_is_retried_with_backoff(database, people, state):
    item_no = _item_no()
    _file(database, people("worker"), item_no, stages=("received",))
    closed = ServiceItemsClient("http://127.0.0.1:9", APP_ID, SECRET, timeout=CLIENT_TIMEOUT)
    now = utcnow()
    for attempt in (1, 2):
        assert outbox.dispatch(database, handlers=gov_items.handlers_for(closed), now=now) == \
            {"delivered": 0, "failed": 1}
        registration = _messages(database, item_no)[0]
        assert registration.attempts == attempt and registration.last_error.startswith("unreachable")
        now = registration.next_attempt_at
    reachable = ServiceItemsClient(state_url(state), APP_ID, SECRET, timeout=CLIENT_TIMEOUT)
    assert outbox.dispatch(database, handlers=gov_items.handlers_for(reachable), now=now) == \
        {"delivered": 2, "failed": 0}
    assert [e.stage for e in state.events_of(item_no)] == ["received"]




def test_peer_slow_answer_lost_then_duplicate_marks_delivered(app, database, people, state, peer):
    item_no = _item_no()
    _file(database, people("worker"), item_no, stages=())
    assert dispatch_outbox(app) == {"delivered": 1, "failed": 0}
    with database.write_transaction() as sess:
        _stage(sess, item_no, "accepted")
    requests.post(f"{peer[0]}/gov/_sandbox/faults", json={"mode": "slow", "delay_seconds": CLIENT_TIMEOUT + 1},
                  timeout=5).raise_for_status()
    assert dispatch_outbox(app) == {"delivered": 0, "failed": 1}
    event = _messages(database, item_no)[1]
    assert event.delivered_at is None and event.last_error.startswith("timeout")
    assert [e.stage for e in state.events_of(item_no)] == ["accepted"]  # received, answer lost

    requests.post(f"{peer[0]}/gov/_sandbox/faults", json={"mode": "ok"}, timeout=5).raise_for_status()
    assert dispatch_outbox(app, now=_later()) == {"delivered": 1, "failed": 0}
    event = _messages(database, item_no)[1]
    assert event.delivered_at is not None and event.response_data["duplicate"] is True
    assert [e.stage for e in state.events_of(item_no)] == ["accepted"]  # still exactly one
    assert state.event_posts[f"{item_no}:accepted"] == 2


def _evaluations(database, item_no) -> list[InboxMessage]:
    with database.read_session() as sess:
        return list(sess.scalars(select(InboxMessage).where(InboxMessage.case_reference == item_no,
                                                            InboxMessage.kind == "evaluation")))


def test_completion_brings_the_evaluation_to_the_applicants_inbox_once(app, database, people, state):
    worker = people("worker")
    item_no = _item_no()
    _file(database, worker, item_no)
    _complete(database, item_no)
    assert dispatch_outbox(app) == {"delivered": 4, "failed": 0}

    item = state.item(item_no)
    assert item.completed and item.result == "认定工伤"
    (message,) = _evaluations(database, item_no)
    assert message.recipient_person_id == worker.person_id and message.recipient_organisation_id is None
    assert message.link == f"{state_url(state)}/gov/evaluate/{item.evaluation_token}"
    assert message.link_label == "去评价" and "工伤认定" in message.subject
    with database.read_session() as sess:
        assert inbox.delivery_record(sess, dedupe_key=f"evaluation:{item_no}").id == message.id

    # The peer answers twice: the portal lost its mark (crash after the call), sends again, and
    # the peer says "duplicate" with the same invitation. One event there, one evaluation here.
    completion = _messages(database, item_no)[-1]
    with database.write_transaction() as sess:
        row = sess.get(OutboxMessage, completion.id)
        row.delivered_at, row.next_attempt_at = None, utcnow() - timedelta(seconds=1)
    assert dispatch_outbox(app) == {"delivered": 1, "failed": 0}
    assert _messages(database, item_no)[-1].response_data["duplicate"] is True
    assert state.event_posts[f"{item_no}:completed"] == 2
    assert [e.stage for e in state.events_of(item_no)] == ["received", "accepted", "completed"]
    assert len(_evaluations(database, item_no)) == 1

    # Reporting the same completion again in the portal is a no-op as well.
    _complete(database, item_no)
    assert len(_messages(database, item_no)) == 4


def test_an_employer_applicant_gets_the_evaluation_in_the_employer_inbox(app, database, people, state):
    employer = people("employer")
    item_no = _item_no()
    _file(database, employer, item_no)
    _complete(database, item_no, result="不予认定")
    assert dispatch_outbox(app) == {"delivered": 4, "failed": 0}
    item = state.item(item_no)
    assert (item.applicant_sub, item.applicant_kind, item.applicant_name) == \
        ("lp-0001", "legal", "安徽皖建建设工程有限公司")
    (message,) = _evaluations(database, item_no)
    assert message.recipient_organisation_id == employer.organisation_id


def test_two_dispatchers_at_once_deliver_each_message_once(app, database, people, state):
    worker = people("worker")
    items = [_item_no() for _ in range(6)]
    for item_no in items:
        _file(database, worker, item_no, stages=("received", "accepted"))
    start = threading.Barrier(3)
    results, errors = [], []

    def run():
        client = ServiceItemsClient(state_url(state), APP_ID, SECRET, timeout=5)
        try:
            start.wait()
            results.append(outbox.dispatch(database, handlers=gov_items.handlers_for(client), batch=1))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(r["delivered"] for r in results) == 18 and sum(r["failed"] for r in results) == 0
    for item_no in items:
        assert [e.stage for e in state.events_of(item_no)] == ["received", "accepted"]
        assert state.event_posts[f"{item_no}:received"] == state.event_posts[f"{item_no}:accepted"] == 1
        assert all(m.attempts == 1 for m in _messages(database, item_no))


def test_stages_need_a_registered_item_and_a_result_to_complete(database):
    with database.write_transaction() as sess:
        with pytest.raises(ValueError, match="report_item first"):
            _stage(sess, "GSRD-UNKNOWN", "accepted")
        with pytest.raises(ValueError):
            gov_items.report_stage(sess, item_no="X", stage="completed", stage_label="办结", occurred_at=FILED,
                                   event_key="X:done")
        with pytest.raises(ValueError):
            gov_items.report_stage(sess, item_no="X", stage="no-such-stage", stage_label="?", occurred_at=FILED,
                                   event_key="X:bad")
    with database.read_session() as sess:
        assert sess.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_periodic_job_delivers(app, database, people, state):
    item_no = _item_no()
    _file(database, people("worker"), item_no, stages=("received",))
    assert outbox_dispatch.call_local() == {"delivered": 2, "failed": 0}
    assert [e.stage for e in state.events_of(item_no)] == ["received"]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_applicant_reads_the_case_status_through_the_platforms_unified_login(app, database, people, state):
    mine, employers = _item_no(), _item_no()
    _file(database, people("worker"), mine, stages=("received", "accepted"))
    _file(database, people("employer"), employers, stages=("received",))
    assert dispatch_outbox(app)["delivered"] == 5

    with requests.Session() as browser:
        login = browser.get(f"{state_url(state)}/gov/my-items", timeout=5)
        assert "/gov/login" in login.url
        action = re.search(r'<form method="post" action="([^"]+)"', login.text).group(1).replace("&amp;", "&")
        page = browser.post(urljoin(login.url, action), timeout=5,
                            data={"csrf_token": _csrf(login.text), "username": "worker", "password": "demo"})
    assert page.url.endswith("/gov/my-items") and "我的办件" in page.text
    assert mine in page.text and employers not in page.text
    assert "已受理" in page.text and HEFEI_HRSS in page.text

