"""The transactional outbox on both databases: enqueue with the business transaction, deliver in
order per aggregate, back off on failure, never hold a transaction while a peer answers.

Handlers here are recording stand-ins for a peer (the outbox sees only the handler interface); the
real 一网通办 peer over loopback is in test_gov_items.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import utcnow
from portal.outbox import service as outbox
from portal.outbox.models import OutboxMessage


@pytest.fixture
def database(app):
    return app.extensions["portal.database"]


def _enqueue(database, *messages):
    """(aggregate, key, payload) triples, committed in one business transaction."""
    with database.write_transaction() as sess:
        for aggregate, key, payload in messages:
            outbox.enqueue(sess, topic="test.topic", aggregate=aggregate, key=key, payload=payload)


def _rows(database) -> list[OutboxMessage]:
    with database.read_session() as sess:
        return list(sess.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


class Recorder:
    """A peer stand-in: records what it got; fails for keys in ``failing`` (retryable or not)."""

    def __init__(self):
        self.sent: list[str] = []
        self.failing: dict[str, bool] = {}

    def __call__(self, payload):
        key = payload["key"]
        self.sent.append(key)
        if key in self.failing:
            raise outbox.DeliveryFailed(f"peer refused {key}", code="refused", retryable=self.failing[key])
        return {"ok": key}


def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(database):
    with pytest.raises(RuntimeError):
        with database.write_transaction() as sess:
            outbox.enqueue(sess, topic="test.topic", aggregate="A", key="a1", payload={"key": "a1"})
            raise RuntimeError("the business change failed")
    assert _rows(database) == []
    peer = Recorder()
    assert outbox.dispatch(database, handlers={"test.topic": peer}) == {"delivered": 0, "failed": 0}
    assert peer.sent == []


def test_enqueueing_the_same_key_again_is_a_no_op(database):
    _enqueue(database, ("A", "a1", {"key": "a1"}))
    with database.write_transaction() as sess:
        again = outbox.enqueue(sess, topic="test.topic", aggregate="A", key="a1", payload={"key": "other"})
        assert again.data == {"key": "a1"}
        twice = outbox.enqueue(sess, topic="test.topic", aggregate="B", key="b1", payload={"key": "b1"})
        assert outbox.enqueue(sess, topic="test.topic", aggregate="B", key="b1", payload={}) is twice
    assert [r.key for r in _rows(database)] == ["a1", "b1"]


def test_dispatch_delivers_in_order_per_aggregate_and_a_failure_holds_back_only_its_own(database):
    _enqueue(database, *[(agg, key, {"key": key}) for agg, key in
                         [("A", "a1"), ("B", "b1"), ("A", "a2"), ("B", "b2"), ("A", "a3"), ("C", "c1")]])
    peer = Recorder()
    peer.failing["a2"] = True
    now = utcnow()
    counts = outbox.dispatch(database, handlers={"test.topic": peer}, now=now)
    assert counts == {"delivered": 4, "failed": 1}
    assert "a3" not in peer.sent  # held back behind a2
    assert [k for k in peer.sent if k.startswith("b")] == ["b1", "b2"]
    rows = {r.key: r for r in _rows(database)}
    assert rows["a2"].delivered_at is None and rows["a2"].attempts == 1
    assert rows["a2"].last_error == "refused: peer refused a2"
    assert rows["a3"].attempts == 0 and rows["a3"].delivered_at is None
    assert rows["b2"].response_data == {"ok": "b2"}

    # Not due yet: nothing is sent again.
    assert outbox.dispatch(database, handlers={"test.topic": peer}, now=now) == {"delivered": 0, "failed": 0}

    del peer.failing["a2"]
    peer.sent.clear()
    later = now + timedelta(hours=2)
    assert outbox.dispatch(database, handlers={"test.topic": peer}, now=later) == {"delivered": 2, "failed": 0}
    assert peer.sent == ["a2", "a3"]
    assert all(r.delivered_at is not None for r in _rows(database))


def test_failures_back_off_exponentially_with_jitter_up_to_an_hour(database):
    _enqueue(database, ("A", "a1", {"key": "a1"}), ("N", "n1", {"key": "n1"}))
    peer = Recorder()
    peer.failing.update({"a1": True, "n1": False})
    now = utcnow()
    waits = []
    for _ in range(4):
        outbox.dispatch(database, handlers={"test.topic": peer}, now=now)
        row = next(r for r in _rows(database) if r.key == "a1")
        waits.append((row.next_attempt_at - now).total_seconds())
        now = row.next_attempt_at
    assert 15 <= waits[0] <= 30 and 30 <= waits[1] <= 60 and 60 <= waits[2] <= 120 and 120 <= waits[3] <= 240
    refused = next(r for r in _rows(database) if r.key == "n1")
    assert refused.attempts == 1  # not retryable: waits the full hour after its one try
    assert outbox.backoff_seconds(30, rng=lambda: 0.0) == 1800
    assert outbox.backoff_seconds(30, rng=lambda: 1.0) == outbox.BACKOFF_CAP_SECONDS == 3600


def test_no_transaction_is_open_while_the_peer_answers_and_a_claimed_message_is_leased(database):
    """The handler runs another dispatcher while it "talks to the peer": that dispatcher can
    write (no lock is held, also on SQLite) and does not take the leased message."""
    _enqueue(database, ("A", "a1", {"key": "a1"}))
    nested = []

    def slow_peer(payload):
        nested.append(outbox.dispatch(database, handlers={"test.topic": Recorder()}))
        return {"ok": True}

    assert outbox.dispatch(database, handlers={"test.topic": slow_peer}) == {"delivered": 1, "failed": 0}
    assert nested == [{"delivered": 0, "failed": 0}]
    row = _rows(database)[0]
    assert row.attempts == 1 and row.delivered_at is not None


def test_a_failing_on_delivered_keeps_the_message_for_another_try(database):
    _enqueue(database, ("A", "a1", {"key": "a1"}))
    peer = Recorder()
    calls = []

    def on_delivered(sess, message, answer):
        calls.append(message.key)
        if len(calls) == 1:
            raise RuntimeError("inbox unavailable")

    handler = outbox.Handler(peer, on_delivered=on_delivered)
    now = utcnow()
    assert outbox.dispatch(database, handlers={"test.topic": handler}, now=now) == {"delivered": 0, "failed": 1}
    row = _rows(database)[0]
    assert row.delivered_at is None and row.last_error.startswith("RuntimeError: inbox unavailable")
    assert outbox.dispatch(database, handlers={"test.topic": handler},
                           now=now + timedelta(hours=1)) == {"delivered": 1, "failed": 0}
    assert peer.sent == ["a1", "a1"] and calls == ["a1", "a1"]


def test_messages_without_a_handler_wait(database):
    _enqueue(database, ("A", "a1", {"key": "a1"}))
    assert outbox.dispatch(database, handlers={"other.topic": Recorder()}) == {"delivered": 0, "failed": 0}
    assert _rows(database)[0].attempts == 0


def test_registry_is_the_default_handler_table(database):
    _enqueue(database, ("A", "a1", {"key": "a1"}))
    peer = Recorder()
    outbox.register_handler("test.topic", peer)
    try:
        assert outbox.dispatch(database) == {"delivered": 1, "failed": 0}
    finally:
        outbox._HANDLERS.pop("test.topic")
    assert peer.sent == ["a1"]


def test_status_and_cli(app, database):
    _enqueue(database, ("A", "a1", {"key": "a1"}), ("A", "a2", {"key": "a2"}), ("B", "b1", {"key": "b1"}))
    peer = Recorder()
    peer.failing["a1"] = True
    outbox.dispatch(database, handlers={"test.topic": peer})
    with database.read_session() as sess:
        report = outbox.status(sess)
        assert (report.delivered, report.pending, report.failing) == (1, 2, 1)
        assert [m.key for m in report.stuck] == ["a1"]
    assert report.oldest_pending_at == next(r.created_at for r in _rows(database) if r.key == "a1")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["outbox", "status"])
    assert result.exit_code == 1, result.output
    assert "待投递 pending: 2" in result.output and "refused: peer refused a1" in result.output
    result = runner.invoke(args=["outbox", "dispatch"])  # the real handlers: no topic of theirs waits
    assert result.exit_code == 0 and "投递成功 0 条" in result.output


def test_enqueue_checks_its_arguments(database):
    with database.write_transaction() as sess:
        with pytest.raises(ValueError):
            outbox.enqueue(sess, topic="t", aggregate="A", key="", payload={})
        with pytest.raises(ValueError):
            outbox.enqueue(sess, topic="t", aggregate="A" * 81, key="k", payload={})
