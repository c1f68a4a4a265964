"""The request's unit of work: one session, committed once at the edge.

- A request gets its session on first use (``portal.extensions.db_session``).
- After the view: a response below 400 commits, anything else rolls back; a domain error rolls
  back whatever the response (the form helper and the error handler call :func:`abandon`, after
  which nothing of this request's session is committed).
- Right after the commit, the outbox messages the unit of work asked to deliver at once
  (``outbox.enqueue(..., after_commit=True)``) are delivered in-process, with no transaction
  open; the job retries any that fail.

Routes never commit, roll back or open transactions themselves; a service that needs a write to
persist whatever the response opens a ``portal.db.independent_transaction``.
"""

from __future__ import annotations

import structlog
from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session

log = structlog.get_logger("portal.unit_of_work")

_SESSION = "_db_session"
_ABANDONED = "_db_abandoned"


def init_app(app: Flask) -> None:
    app.after_request(_finish)
    app.teardown_request(_close)


def request_session() -> Session:
    """The request's session, opened on first use."""
    sess = g.get(_SESSION)
    if sess is None:
        sess = g._db_session = current_app.extensions["portal.database"].sessions()
    return sess


def abandon() -> None:
    """Roll back what the request wrote so far; nothing written before this is committed.

    The session stays usable (a page shown again after a refused form reads through it)."""
    sess = g.get(_SESSION)
    if sess is not None:
        sess.rollback()
        _drop_after_commit(sess)
    g._db_abandoned = True


def _finish(response: Response) -> Response:
    ctx = g._get_current_object()  # type: ignore[attr-defined]  # the proxy once
    sess = ctx.pop(_SESSION, None)
    abandoned = ctx.pop(_ABANDONED, False)
    if sess is None:
        return response
    try:
        if response.status_code < 400 and not abandoned:
            sess.commit()
            _deliver_after_commit(sess)
        else:
            sess.rollback()
            _drop_after_commit(sess)
    finally:
        sess.close()
    return response


def _close(exc) -> None:
    ctx = g._get_current_object()  # type: ignore[attr-defined]
    ctx.pop(_ABANDONED, None)
    sess = ctx.pop(_SESSION, None)
    if sess is not None:
        sess.rollback()
        _drop_after_commit(sess)
        sess.close()


def _drop_after_commit(sess: Session) -> None:
    from portal.outbox import service as outbox

    outbox.take_after_commit(sess)


def _deliver_after_commit(sess: Session) -> None:
    from portal.outbox import service as outbox
    from portal.tasks.outbox import dispatch_outbox

    keys = outbox.take_after_commit(sess)
    if not keys:
        return
    try:
        dispatch_outbox(current_app._get_current_object(), keys=keys)  # type: ignore[attr-defined]
    except Exception:  # committed already: the job delivers it later; never fail the response
        log.exception("outbox.after_commit_failed", keys=keys)
