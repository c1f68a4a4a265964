"""发件箱 (transactional outbox): report to external platforms exactly what committed, at least once,
in order, without holding a transaction open while a peer answers.

Writing. :func:`enqueue` adds a message **inside the business transaction** that made the change
(accepting a case, deciding it …), so the message commits or rolls back with it: nothing is
reported that did not happen, nothing that happened is lost when the peer or the portal is down.
Each message has a unique ``key`` (idempotency key): enqueueing the same key again is a no-op, and
the key travels to the peer as the event id, so the peer can drop repeats.

Delivering. :func:`dispatch` (the background job every minute, ``portal outbox dispatch``):

1. a short write transaction **claims** due messages: undelivered, ``next_attempt_at`` passed, and
   no earlier undelivered message of the same ``aggregate`` (messages of one aggregate, e.g. one
   办件, go strictly in id order; a failing one holds back only its own aggregate). On PostgreSQL
   the rows are locked ``FOR UPDATE SKIP LOCKED``, so dispatchers on several machines share the
   work; on SQLite the write transaction (``BEGIN IMMEDIATE``) serialises claims. A claim counts an
   attempt and pushes ``next_attempt_at`` by a lease, so no other dispatcher takes the message
   while this one is talking to the peer; if this one dies, the lease ends and it is retried.
2. the handler calls the peer with **no transaction open**;
3. a short write transaction marks it delivered (with the peer's answer, and whatever the
   handler's ``on_delivered`` writes, e.g. the evaluation invitation to the applicant's inbox) or
   records the error and schedules a retry with exponential backoff and jitter, capped at an hour.

Delivering right after the commit. A message enqueued with ``after_commit=True`` (a payment
reference the payer is about to need) is also handed to :func:`dispatch` for its key alone by
whoever commits the unit of work (the request edge: ``portal.web.unit_of_work``), with no
transaction open; if that fails the job retries it like any other. This is the portal's only
post-commit mechanism: there are no session event listeners.

Delivery is at least once: a message whose answer was lost (peer slow, portal crashed after the
call) is sent again and the peer answers "duplicate". Handlers must therefore be idempotent at
the peer (event ids) and in ``on_delivered`` (e.g. the inbox's ``dedupe_key``).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from portal.db import Database, utcnow
from portal.outbox.models import OutboxMessage

log = structlog.get_logger("portal.outbox")

#: First retry after about this long; doubles per failed attempt (with jitter), up to the cap.
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
#: A claimed message is left alone by other dispatchers this long (longer than any peer timeout).
LEASE_SECONDS = 300
DEFAULT_BATCH = 50
#: Rounds per dispatch run: each round can move every aggregate on by one message.
MAX_ROUNDS = 100

Deliver = Callable[[dict[str, Any]], dict[str, Any]]
OnDelivered = Callable[[Session, OutboxMessage, dict[str, Any]], None]


@dataclass(frozen=True)
class Handler:
    """How messages of one topic are delivered.

    ``deliver(payload) -> answer`` talks to the peer (no transaction is open) and raises on
    failure; an exception with ``retryable = False`` waits the full backoff cap before the next
    try. ``on_delivered(sess, message, answer)`` runs in the transaction that marks the message
    delivered; it must be idempotent (a lost answer means the message is delivered again).
    """

    deliver: Deliver
    on_delivered: OnDelivered | None = None


class DeliveryFailed(Exception):
    """A handler's way to say "not delivered"; ``retryable`` as in :class:`Handler`."""

    def __init__(self, message: str, *, code: str = "failed", retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


_HANDLERS: dict[str, Handler] = {}


def register_handler(topic: str, fn: Deliver, *, on_delivered: OnDelivered | None = None) -> None:
    """Deliver messages of ``topic`` with ``fn`` (replaces an earlier registration)."""
    _HANDLERS[topic] = Handler(fn, on_delivered)


def registered_handlers() -> dict[str, Handler]:
    return dict(_HANDLERS)


# --- writing ------------------------------------------------------------------------------------


#: ``sess.info`` key: keys of messages to deliver as soon as the session's transaction commits
AFTER_COMMIT = "portal.outbox.after_commit"


def enqueue(sess: Session, *, topic: str, aggregate: str, key: str, payload: dict[str, Any],
            after_commit: bool = False) -> OutboxMessage:
    """Add a message in the caller's transaction (flushed, never committed here).

    ``after_commit``: also deliver it right after the commit (see "Delivering right after the
    commit"), not only at the job's next run.

    The same ``key`` again returns the existing message and changes nothing, also when another
    transaction enqueued it concurrently (the unique key decides; a savepoint keeps the caller's
    transaction usable).
    """
    if not topic or len(topic) > 60:
        raise ValueError("topic must be 1–60 characters")
    if not aggregate or len(aggregate) > 80:
        raise ValueError("aggregate must be 1–80 characters")
    if not key or len(key) > 120:
        raise ValueError("key must be 1–120 characters")
    if after_commit:
        sess.info.setdefault(AFTER_COMMIT, []).append(key)
    existing = sess.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    now = utcnow()
    message = OutboxMessage(topic=topic, aggregate=aggregate, key=key, attempts=0, created_at=now,
                            next_attempt_at=now, payload=json.dumps(payload, ensure_ascii=False, sort_keys=True))
    try:
        with sess.begin_nested():
            sess.add(message)
            sess.flush()
    except IntegrityError:
        existing = sess.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        if existing is None:
            raise
        return existing
    return message


# --- delivering ---------------------------------------------------------------------------------


def take_after_commit(sess: Session) -> list[str]:
    """The keys to deliver now that ``sess`` committed (and forget them); call after the commit,
    or after a rollback to drop them."""
    return list(dict.fromkeys(sess.info.pop(AFTER_COMMIT, [])))


def backoff_seconds(attempts: int, *, rng: Callable[[], float] = random.random) -> float:
    """Wait before the next try after ``attempts`` failed ones: 30 s, 60 s, 120 s … capped at an
    hour, each drawn from the upper half of its range ("equal jitter"), so failures from one
    outage do not all come back in the same second."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng() * ceiling / 2


@dataclass(frozen=True)
class _Claimed:
    id: int
    topic: str
    aggregate: str
    key: str
    attempts: int
    payload: dict[str, Any] = field(repr=False)


def dispatch(database: Database, *, handlers: Mapping[str, Handler | Deliver] | None = None,
             now: datetime | None = None, batch: int = DEFAULT_BATCH, lease_seconds: int = LEASE_SECONDS,
             max_rounds: int = MAX_ROUNDS, keys: list[str] | None = None) -> dict[str, int]:
    """Deliver due messages; returns counts ``{"delivered": n, "failed": n}``.

    ``keys``: only these messages (those a unit of work just committed), in the same order and
    under the same claims as any run.
    ``handlers`` maps topics to handlers (default: the registry); messages of other topics wait.
    ``now`` stands for the clock in tests (due times, backoff); ``batch`` is the most messages one
    round claims. Rounds repeat while they find work, so a case's messages all go in one run.
    """
    table = {topic: h if isinstance(h, Handler) else Handler(h)
             for topic, h in (_HANDLERS if handlers is None else handlers).items()}
    counts = {"delivered": 0, "failed": 0}
    if not table:
        return counts
    for _ in range(max_rounds):
        claimed = _claim(database, table, now or utcnow(), batch, lease_seconds, keys)
        if not claimed:
            break
        for message in claimed:
            counts[_deliver(database, table[message.topic], message, now)] += 1
    return counts


def _claim(database: Database, table: Mapping[str, Handler], moment: datetime, batch: int,
           lease_seconds: int, keys: list[str] | None = None) -> list[_Claimed]:
    earlier = aliased(OutboxMessage)
    held_back = (select(earlier.id)
                 .where(earlier.aggregate == OutboxMessage.aggregate, earlier.id < OutboxMessage.id,
                        earlier.delivered_at.is_(None))
                 .exists())
    query = (select(OutboxMessage)
             .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= moment,
                    OutboxMessage.topic.in_(sorted(table)), ~held_back)
             .order_by(OutboxMessage.id)
             .limit(batch))
    if keys is not None:
        query = query.where(OutboxMessage.key.in_(keys))
    with database.write_transaction() as sess:
        if sess.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=OutboxMessage)
        rows = sess.scalars(query).all()
        lease_until = moment + timedelta(seconds=lease_seconds)
        claimed = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = lease_until
            claimed.append(_Claimed(row.id, row.topic, row.aggregate, row.key, row.attempts, row.data))
        return claimed


def _deliver(database: Database, handler: Handler, message: _Claimed, now: datetime | None) -> str:
    started = time.perf_counter()
    try:
        answer = handler.deliver(message.payload)  # no transaction open
    except Exception as exc:
        _schedule_retry(database, message, exc, now, started)
        return "failed"
    try:
        with database.write_transaction() as sess:
            row = sess.get(OutboxMessage, message.id, with_for_update=True)
            if row is not None and row.delivered_at is None:
                row.delivered_at = utcnow()
                row.response = json.dumps(answer or {}, ensure_ascii=False, sort_keys=True)
                row.last_error = None
                if handler.on_delivered is not None:
                    handler.on_delivered(sess, row, answer or {})
    except Exception as exc:  # e.g. on_delivered failed: the peer has it, we will ask again
        log.exception("outbox.mark_delivered_failed", topic=message.topic, key=message.key)
        _schedule_retry(database, message, exc, now, started)
        return "failed"
    log.info("outbox.delivered", topic=message.topic, aggregate=message.aggregate, key=message.key,
             attempt=message.attempts, duration_ms=round((time.perf_counter() - started) * 1000, 1))
    return "delivered"


def _schedule_retry(database: Database, message: _Claimed, exc: Exception, now: datetime | None,
                    started: float) -> None:
    retryable = bool(getattr(exc, "retryable", True))
    code = getattr(exc, "code", None) or type(exc).__name__
    delay = backoff_seconds(message.attempts) if retryable else BACKOFF_CAP_SECONDS
    with database.write_transaction() as sess:
        row = sess.get(OutboxMessage, message.id, with_for_update=True)
        if row is None or row.delivered_at is not None:
            return
        row.last_error = f"{code}: {exc}"[:500]
        row.next_attempt_at = (now or utcnow()) + timedelta(seconds=delay)
    log.warning("outbox.delivery_failed", topic=message.topic, aggregate=message.aggregate, key=message.key,
                attempt=message.attempts, code=str(code), retryable=retryable, retry_in_seconds=round(delay),
                duration_ms=round((time.perf_counter() - started) * 1000, 1))


# --- watching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxStatus:
    delivered: int
    pending: int
    #: pending messages that have failed at least once
    failing: int
    oldest_pending_at: datetime | None
    #: the failing messages, most attempts first (for ``portal outbox status``)
    stuck: list[OutboxMessage]


def status(sess: Session, *, limit: int = 10) -> OutboxStatus:
    pending_filter = OutboxMessage.delivered_at.is_(None)
    delivered = sess.scalar(select(func.count()).where(OutboxMessage.delivered_at.is_not(None))) or 0
    pending = sess.scalar(select(func.count()).where(pending_filter)) or 0
    failing = sess.scalar(select(func.count()).where(pending_filter, OutboxMessage.last_error.is_not(None))) or 0
    oldest = sess.scalar(select(OutboxMessage.created_at).where(pending_filter)
                         .order_by(OutboxMessage.id).limit(1))
    stuck = sess.scalars(select(OutboxMessage)
                         .where(pending_filter, OutboxMessage.last_error.is_not(None))
                         .order_by(OutboxMessage.attempts.desc(), OutboxMessage.id).limit(limit)).all()
    return OutboxStatus(delivered, pending, failing, oldest, list(stuck))
