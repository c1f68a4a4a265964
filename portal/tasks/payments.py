"""Payments with the tax collection platform, outside requests.

- Catch-up (缴费结果补查), every minute: asks the platform about bills whose outcome is unknown
  (待确认 and not asked for ``tax_platform_catch_up_minutes``) and asks again for the payment
  reference of bills issued while the platform was unreachable.
- :func:`deliver_reference`: the outbox handler that asks for a new bill's reference right after
  the issuing transaction commits (registered in ``portal._wire_areas``).

Idempotent: each bill is handled on its own and a bill that is already paid or cancelled is left
alone, so a repeated or overlapping run changes nothing twice. No transaction is open while the
platform answers (up to its timeout): a short read decides what to ask, the call is made, and a
short write transaction re-reads the bill under lock and applies the answer (it may have been
paid by a callback meanwhile). See "Waiting for the platform" in ``portal.payments.service``.
Registered on the one Huey instance by ``portal.tasks.queue.register_tasks``.
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import current_app, has_app_context
from huey import crontab

from portal.tasks.jobs import run_periodic, task_app
from portal.tasks.queue import huey

log = structlog.get_logger("portal.tasks")

CATCH_UP = "payments_catch_up"


def catch_up_payments(app=None, *, older_than_minutes: int | None = None) -> dict[str, int]:
    """One catch-up run; returns how many bills ended in each outcome."""
    from portal.payments import service

    app = app or task_app()
    database = app.extensions["portal.database"]
    minutes = app.config["PORTAL_SETTINGS"].tax_platform_catch_up_minutes if older_than_minutes is None \
        else older_than_minutes
    counts: dict[str, int] = {}
    with app.app_context():
        with database.read_session() as sess:
            due = service.due_for_catch_up(sess, older_than_minutes=minutes)
        for bill_id in due:
            try:
                outcome = service.exchange(database, bill_id)
            except Exception:
                log.exception("job.bill_failed", task=CATCH_UP, bill_id=bill_id)
                outcome = "error"
            key = str(outcome) if outcome is not None else "missing"
            counts[key] = counts.get(key, 0) + 1
        with database.write_transaction() as sess:
            counts["nonces_purged"] = service.purge_nonces(sess)
    return counts


def deliver_reference(payload: dict[str, Any]) -> dict[str, Any]:
    """Outbox handler of ``payments.REFERENCE_TOPIC``: the three steps for a new bill's 缴款码,
    against the database and the platform client of the app delivering it (``dispatch_outbox``
    runs handlers inside that app's context; outside one, the app the queue is bound to)."""
    from portal.payments import service

    if not has_app_context():
        with task_app().app_context():
            return deliver_reference(payload)
    return service.deliver_reference(current_app.extensions["portal.database"], payload)


@huey.periodic_task(crontab(minute="*"), retries=0, name=CATCH_UP)
def payments_catch_up() -> dict[str, int]:
    return run_periodic(CATCH_UP, catch_up_payments)
