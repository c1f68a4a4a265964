"""Writing, sealing, verifying and browsing the audit trail (审计日志).

Keyed chain. Every row carries ``row_mac``, HMAC-SM3 of its content under an audit key from
configuration (never in the database), and the key's id. Sealing gives rows their place:
``seq`` = head + 1, ``prev_hash`` = the head's hash, ``hash`` = HMAC-SM3(key, row_mac | prev_hash |
seq). Whoever holds the database but not the key cannot recompute a chain that verifies, so
changing, removing or reordering a row is reported; rotating keys never rewrites a row (each row
names its key). Cutting the tail, or everything, is caught against the signed checkpoints
written outside the database (``portal.audit.checkpoints``), at most ``audit_checkpoint_interval_s``
apart.

Concurrency. :func:`record` inserts the row without touching the chain head, so on PostgreSQL
writers never queue behind a lock held through somebody's commit. Right after the writer's
commit, a sealer links committed unsealed rows in id order in a short transaction of its own,
``SELECT ... FROM audit_chain_head FOR UPDATE SKIP LOCKED``: when another sealer holds the head,
it skips (that sealer, the next commit or the periodic job picks the rows up). Checkpoints and
:func:`verify` seal first, waiting for the head. On SQLite, where write transactions are already
exclusive, :func:`record` seals in the caller's transaction and no row is left unsealed.
"""

from __future__ import annotations

import functools
import json
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import structlog
from sqlalchemy import bindparam, false, func, select, text, union_all
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from portal.audit import checkpoints
from portal.audit.checkpoints import Checkpoint
from portal.audit.keys import AuditKeys, installed
from portal.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from portal.auth.roles import Actor
from portal.db import DATABASE_FAULTS, independent_transaction, utcnow
from portal.paging import Paged, capped_count, page_count

log = structlog.get_logger(__name__)

HEAD_ID = 1
_ROW = b"audit-row"
_LINK = b"audit-link"
_SEAL_BATCH = 500
# session.info flags: an audit row was flushed in this transaction / it committed, seal now
_PENDING, _SEAL_NOW, _LISTENING = "audit.pending", "audit.seal_now", "audit.listening"


# --- hashes -----------------------------------------------------------------------------------


_CONTENT_FIELDS = ("actor_account_id", "actor_label", "role", "city_code", "action", "object_type",
                   "object_id", "client_addr", "request_id", "detail", "key_id")


def _content(event: AuditEvent | dict[str, Any]) -> bytes:
    """What ``row_mac`` covers: a row's content (an audit row, or the values of one to insert)."""
    get = event.get if isinstance(event, dict) else functools.partial(getattr, event)
    payload = {name: get(name) for name in _CONTENT_FIELDS}
    payload["at"] = get("at").astimezone(timezone.utc).isoformat(timespec="microseconds")
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_mac(keys: AuditKeys, event: AuditEvent | dict[str, Any]) -> str:
    kid = event["key_id"] if isinstance(event, dict) else event.key_id
    return keys.mac(kid, _ROW, _content(event))


def link_hash(keys: AuditKeys, kid: str, row_mac: str, prev_hash: str, seq: int) -> str:
    return keys.mac(kid, _LINK, f"{row_mac}|{prev_hash}|{seq}".encode("ascii"))


# --- writing and sealing ----------------------------------------------------------------------


def record(
    sess: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    city_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row in the caller's transaction (so it commits with the change).

    The row is inserted by one Core INSERT (no ORM object: the request path of every audited
    read pays for this call); what the caller added before is flushed first, as before."""
    keys = installed().keys
    row: dict[str, Any] = {
        "at": utcnow(),
        "actor_account_id": actor.account_id,
        "actor_label": actor.display_name[:100],
        "role": actor.role.value if actor.role else None,
        "city_code": city_code if city_code is not None else actor.city_code,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "client_addr": actor.client_addr,
        "request_id": actor.request_id,
        "detail": detail or {},
        "key_id": keys.active,
    }
    row["row_mac"] = content_mac(keys, row)
    sess.flush()
    if sess.get_bind().dialect.name == "sqlite":
        # one writer at a time already: link it now, in the caller's transaction
        place = sess.execute(_HEAD_AND_UNSEALED).first()
        if place is not None and place.unsealed is None:
            # the usual case: it goes in sealed (the head and "nothing unsealed" in one read,
            # then one INSERT and the head's UPDATE; the transaction holds SQLite's writer lock,
            # so it stays this short)
            seq = place.seq + 1
            row.update(seq=seq, prev_hash=place.hash,
                       hash=link_hash(keys, row["key_id"], row["row_mac"], place.hash, seq))
            sess.execute(_INSERT, row)
            sess.execute(_MOVE_HEAD, {"seq": seq, "hash": row["hash"]})
            _expire_loaded_head(sess)
        else:  # rows left unsealed go first, in id order
            sess.execute(_INSERT, row)
            _seal_rows(sess, _head(sess, wait=True), keys)
    else:
        sess.execute(_INSERT, row)
        _seal_after_commit(sess)


_INSERT = AuditEvent.__table__.insert()
_MOVE_HEAD = (AuditChainHead.__table__.update().where(AuditChainHead.__table__.c.id == HEAD_ID)
              .values(seq=bindparam("seq"), hash=bindparam("hash")))
#: SQLite's :func:`record`: the chain head and whether any row is left unsealed, in one read
_HEAD_AND_UNSEALED = select(
    AuditChainHead.seq, AuditChainHead.hash,
    select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1).scalar_subquery().label("unsealed"),
).where(AuditChainHead.id == HEAD_ID)


def _expire_loaded_head(sess: Session) -> None:
    """The head was moved by an UPDATE: a head object this session loaded before is stale."""
    loaded = sess.identity_map.get(identity_key(AuditChainHead, (HEAD_ID,)))
    if loaded is not None:
        sess.expire(loaded)


def _link(keys: AuditKeys, row: AuditEvent, head: AuditChainHead) -> None:
    """Give ``row`` the next place in the chain and move the head to it."""
    seq = head.seq + 1
    row.seq, row.prev_hash = seq, head.hash
    row.hash = link_hash(keys, row.key_id, row.row_mac, head.hash, seq)
    head.seq, head.hash = seq, row.hash


def _seal_after_commit(sess: Session) -> None:
    sess.info[_PENDING] = True
    if not sess.info.get(_LISTENING):
        sess.info[_LISTENING] = True
        sa_event.listen(sess, "after_commit", _after_commit)
        sa_event.listen(sess, "after_transaction_end", _after_transaction_end)


def _after_commit(sess: Session) -> None:
    if sess.info.pop(_PENDING, False):
        sess.info[_SEAL_NOW] = True


def _after_transaction_end(sess: Session, transaction) -> None:
    # the root transaction's connection is back in the pool by now: sealing takes another one
    if transaction.parent is not None:
        return
    sess.info.pop(_PENDING, None)  # rolled back: nothing of ours to seal
    if sess.info.pop(_SEAL_NOW, False):
        try:
            seal(sess.get_bind())
        except Exception:  # never fail the caller: the next commit or the periodic job seals
            log.exception("audit.seal_failed")


def _head(sess: Session, *, wait: bool) -> AuditChainHead | None:
    query = select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
    # populate_existing: the head as it is now, even when this session loaded it before
    return sess.execute(query.with_for_update(skip_locked=not wait)
                        .execution_options(populate_existing=True)).scalar_one_or_none()


def _seal_rows(sess: Session, head: AuditChainHead | None, keys: AuditKeys) -> int:
    if head is None:  # held by another sealer (SKIP LOCKED), or missing (verify reports it)
        return 0
    sealed = 0
    while True:
        rows = sess.execute(
            select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(_SEAL_BATCH)
        ).scalars().all()
        for row in rows:
            if row.key_id not in keys.keys:
                log.error("audit.seal_unknown_key", audit_event_id=row.id, key_id=row.key_id)
                continue
            _link(keys, row, head)
            sealed += 1
        sess.flush()
        if len(rows) < _SEAL_BATCH:
            return sealed


def seal(bind, *, wait: bool = False) -> int:
    """Link committed unsealed rows into the chain in a short transaction of its own; returns
    how many. ``wait=False`` skips at once when another sealer holds the head."""
    keys = installed().keys
    # a plain read first: nothing to seal (the usual case after a commit another sealer already
    # covered, and always on SQLite) takes no lock at all
    unsealed = select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1)
    if bind.dialect.name != "sqlite":
        # PostgreSQL: the read and the sealing in one short transaction (one connection, one
        # commit); READ COMMITTED, so the rows read after the head's lock are the committed ones
        with Session(bind) as sess, sess.begin():
            if sess.execute(unsealed).first() is None:
                return 0
            return _seal_rows(sess, _head(sess, wait=wait), keys)
    with Session(bind) as carrier:
        if carrier.execute(unsealed).first() is None:
            return 0
        carrier.rollback()  # SQLite: a reader must not upgrade; the sealing begins as a writer
        with independent_transaction(carrier) as sess:
            return _seal_rows(sess, _head(sess, wait=wait), keys)


# --- checkpoints ------------------------------------------------------------------------------

_last_checkpoint: float | None = None  # monotonic time of this process's last checkpoint


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: Checkpoint
    failed_sinks: list[str]


def write_checkpoint(sess: Session) -> CheckpointResult:
    """Seal, then write a signed checkpoint of the chain head to every configured sink."""
    global _last_checkpoint
    settings = installed()
    seal(sess.get_bind(), wait=True)
    head = sess.execute(select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)).scalar_one_or_none()
    seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
    checkpoint = checkpoints.sign(settings, seq, head_hash)
    failed = checkpoints.write(settings, checkpoint)
    if len(failed) < len(settings.sinks):
        _last_checkpoint = _time.monotonic()
    log.info("audit.checkpoint", seq=seq, node=settings.node, failed_sinks=failed)
    return CheckpointResult(checkpoint, failed)


def checkpoint_if_due(sess: Session) -> dict[str, int]:
    """The periodic job (every minute): seal, and write a checkpoint when the last one this
    process wrote is at least ``audit_checkpoint_interval_s`` - 60 s old, so two checkpoints are
    never further apart than the interval."""
    settings = installed()
    sealed = seal(sess.get_bind(), wait=True)
    due = _last_checkpoint is None or _time.monotonic() - _last_checkpoint >= settings.interval_s - 60
    written = 0
    if due:
        result = write_checkpoint(sess)
        written = int(len(result.failed_sinks) < len(settings.sinks))
    return {"sealed": sealed, "checkpoints": written}


# --- verifying --------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(sess: Session, batch: int = 2000, checkpoint_files: Iterable[Path] = ()) -> VerifyReport:
    """Seal, then walk the chain in order and check it against the checkpoints; report every row
    whose position, link, key or MAC is wrong, and a trail shorter than a checkpoint."""
    settings = installed()
    keys = settings.keys
    try:
        seal(sess.get_bind(), wait=True)
    except DATABASE_FAULTS:
        log.exception("audit.seal_failed")
    read = checkpoints.read(settings, checkpoint_files)
    anchored: dict[int, list[Checkpoint]] = {}
    for cp in read.valid:
        anchored.setdefault(cp.seq, []).append(cp)
    report = VerifyReport(checkpoints=len(read.valid))
    expected_prev, expected_seq, last_seq = GENESIS_HASH, 1, 0
    while True:
        query = select(AuditEvent).where(AuditEvent.seq.is_not(None), AuditEvent.seq > last_seq)
        rows = sess.execute(query.order_by(AuditEvent.seq).limit(batch)).scalars().all()
        if not rows:
            break
        for row in rows:
            report.checked += 1
            if row.seq != expected_seq:
                report.problems.append(
                    f"第 {expected_seq} 条记录缺失（下一条为第 {row.seq} 条） / row {expected_seq} missing"
                )
            if row.prev_hash != expected_prev:
                report.problems.append(f"第 {row.seq} 条记录与上一条的链接不符 / row {row.seq}: broken link")
            if row.key_id not in keys.keys:
                report.problems.append(f"第 {row.seq} 条记录的密钥编号 {row.key_id} 未配置，无法校验 "
                                       f"/ row {row.seq}: unknown key id {row.key_id}")
            elif (content_mac(keys, row) != row.row_mac
                    or link_hash(keys, row.key_id, row.row_mac, row.prev_hash, row.seq) != row.hash):
                report.problems.append(f"第 {row.seq} 条记录内容被改动 / row {row.seq}: content altered")
            for cp in anchored.get(row.seq, ()):
                if cp.hash != row.hash:
                    report.problems.append(f"第 {row.seq} 条记录与检查点（{cp.at}，节点 {cp.node}）不符 "
                                           f"/ row {row.seq} differs from its checkpoint")
            expected_prev, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
        sess.expunge_all()
    report.checked += _check_unsealed(sess, keys, report.problems)
    head = sess.get(AuditChainHead, HEAD_ID)
    if head is None:
        report.problems.append("链头记录缺失 / chain head row missing")
    elif head.seq != last_seq:
        report.problems.append(
            f"链头记录为第 {head.seq} 条，实际最后一条为第 {last_seq} 条 / chain head mismatch"
        )
    elif head.seq and head.hash != expected_prev:
        report.problems.append("链头哈希与最后一条记录不符 / chain head hash mismatch")
    if read.valid:
        latest = max(read.valid, key=lambda cp: cp.seq)
        if latest.seq > last_seq:
            report.problems.append(
                f"审计链比检查点短：检查点（{latest.at}，节点 {latest.node}）记录到第 {latest.seq} 条，"
                f"数据库中只到第 {last_seq} 条 / trail shorter than its last checkpoint "
                f"(seq {latest.seq} > {last_seq}): rows were removed")
    report.problems.extend(read.problems)
    return report


def _check_unsealed(sess: Session, keys: AuditKeys, problems: list[str]) -> int:
    """Rows committed after the seal above (still without a place) must at least be unaltered."""
    rows = sess.execute(select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)).scalars().all()
    for row in rows:
        if row.key_id not in keys.keys or content_mac(keys, row) != row.row_mac:
            problems.append(f"未封链的记录（编号 {row.id}）内容被改动或密钥未配置 / unsealed row id {row.id}: "
                            f"content altered or unknown key")
    sess.expunge_all()
    return len(rows)


# --- browsing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    city_code: str | None = None
    actor_account_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditPage(Paged):
    rows: Sequence[AuditEvent]
    total: int
    page: int
    per_page: int
    total_is_capped: bool = False


def browse_query(sess: Session, filters: AuditFilter, *, reach: int | None = None):
    """The audit browser's query, filtered, newest first (by id: rows not yet sealed are shown too),
    without its page. Each filter has an index ending in id (ix_audit_event_*: action, city,
    actor, and city or actor with action), so the newest rows of a filter are read first and the
    page stops after its rows. The action filter, a prefix typed by staff, becomes the list of
    actions that start with it (see :func:`distinct_actions`), as neither database's default
    collation serves ``LIKE 'prefix%'`` from an index; as no index gives several actions' rows in
    one id order, each action's newest ``reach`` rows (the page's end: offset + page size) are read
    along its index and the few found are merged (without ``reach``: one ``IN`` query)."""
    conditions, actions = _browse_conditions(sess, filters)
    return _browse_select(conditions, actions, reach)


def _browse_select(conditions: list, actions: list[str] | None, reach: int | None):
    if actions is None:
        return _newest_first(conditions)
    if not actions:
        return _newest_first([*conditions, false()])
    if len(actions) == 1:
        return _newest_first([*conditions, AuditEvent.action == actions[0]])
    if reach is None:
        return _newest_first([*conditions, AuditEvent.action.in_(actions)])
    newest = [select(AuditEvent.id).where(*conditions, AuditEvent.action == action)
              .order_by(AuditEvent.id.desc()).limit(reach).subquery() for action in actions]
    merged = union_all(*(select(branch.c.id) for branch in newest)).subquery()
    return (select(AuditEvent).join(merged, merged.c.id == AuditEvent.id)
            .order_by(AuditEvent.id.desc()))


def _newest_first(conditions: list):
    return select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())


def _browse_conditions(sess: Session, filters: AuditFilter) -> tuple[list, list[str] | None]:
    """(conditions but the action's, the actions the action filter names, or None without it)."""
    conditions = []
    actions = None
    if filters.action:
        prefix = filters.action.casefold()
        actions = [a for a in distinct_actions(sess) if a.casefold().startswith(prefix)]
    if filters.city_code:
        conditions.append(AuditEvent.city_code == filters.city_code)
    if filters.actor_account_id is not None:
        conditions.append(AuditEvent.actor_account_id == filters.actor_account_id)
    if filters.object_type:
        conditions.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        conditions.append(AuditEvent.object_id == filters.object_id)
    if filters.date_from:
        conditions.append(AuditEvent.at >= datetime.combine(filters.date_from, time.min, timezone.utc))
    if filters.date_to:
        conditions.append(
            AuditEvent.at < datetime.combine(filters.date_to + timedelta(days=1), time.min, timezone.utc)
        )
    return conditions, actions


def _count(sess: Session, conditions: list, actions: list[str] | None) -> tuple[int, bool]:
    """(how many rows match, capped): a filtered list is counted up to the cap
    (:func:`portal.paging.capped_count`). The whole trail is counted exactly without reading it:
    sealed rows are numbered 1, 2, 3, ... without gaps, so it is the last seq plus the rows not yet
    sealed (a partial index)."""
    if actions is not None:
        conditions = [*conditions, AuditEvent.action.in_(actions) if actions else false()]
    if conditions:
        return capped_count(sess, select(AuditEvent.id).where(*conditions))
    sealed = sess.execute(select(func.max(AuditEvent.seq))).scalar_one() or 0
    unsealed = sess.execute(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.seq.is_(None))).scalar_one()
    return int(sealed) + int(unsealed), False


def browse(sess: Session, filters: AuditFilter, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of the trail, newest first, filtered; for provincial staff. A filtered list pages
    up to the count's cap (a page past the last shows the last)."""
    conditions, actions = _browse_conditions(sess, filters)
    total, capped = _count(sess, conditions, actions)
    page = min(max(1, page), page_count(total, per_page))
    query = _browse_select(conditions, actions, reach=page * per_page)
    rows = sess.execute(query.offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return AuditPage(rows, total, page, per_page, capped)


#: the distinct actions by a loose index scan: from the smallest action, each next one is one
#: index seek (``MIN(action) WHERE action > previous``), so a trail of millions of rows costs as
#: many seeks as it has kinds of action (about a hundred), never a scan of the table
_DISTINCT_ACTIONS = """
WITH RECURSIVE actions(action) AS (
    SELECT MIN(action) FROM audit_event
    UNION ALL
    SELECT (SELECT MIN(e.action) FROM audit_event e WHERE e.action > actions.action)
    FROM actions WHERE actions.action IS NOT NULL
)
SELECT action FROM actions WHERE action IS NOT NULL
"""


def distinct_actions_query():
    return text(_DISTINCT_ACTIONS)


def distinct_actions(sess: Session) -> list[str]:
    """Every action code in the trail, in order (the browser's list of actions to pick from)."""
    return list(sess.execute(distinct_actions_query()).scalars())
