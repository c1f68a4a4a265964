"""Payment catch-up (缴费结果补查): asks the tax collection platform about bills whose outcome
is unknown (待确认 and not asked for ``tax_platform_catch_up_minutes``) and asks again for the
payment reference of bills issued while the platform was unreachable.

Idempotent: each bill is handled on its own and a bill that is already paid or cancelled is left
alone, so a repeated or overlapping run changes nothing twice. No transaction is open while the
platform answers (up to its timeout): a short read decides what to ask, the call is made, and a
short write transaction re-reads the bill under lock and applies the answer (it may have been
paid by a callback meanwhile). See "Waiting for the platform" in ``portal.payments.service``. Registered
on the one Huey instance; ``portal worker`` imports this module beside ``jobs``, and the web
process imports it through the payments blueprint.
"""

from __future__ import annotations

import structlog
from huey import crontab

from portal.metrics import JOBS
from portal.tasks.jobs import task_app
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
                outcome = _catch_up_bill(database, bill_id)
            except Exception:
                log.exception("job.bill_failed", task=CATCH_UP, bill_id=bill_id)
                outcome = "error"
            key = str(outcome) if outcome is not None else "missing"
            counts[key] = counts.get(key, 0) + 1
        with database.write_transaction() as sess:
            counts["nonces_purged"] = service.purge_nonces(sess)
    return counts


def _catch_up_bill(database, bill_id: int):
    from portal.payments import service
    from portal.payments.models import Bill

    with database.read_session() as sess:
        bill = sess.get(Bill, bill_id)
        if bill is None:
            return None
        question = service.question_for(sess, bill)
    if question is None:
        return service.RefreshOutcome.ALREADY_FINAL
    answer = service.ask_platform(question)  # no transaction open
    with database.write_transaction() as sess:
        return service.apply_answer(sess, service.PLATFORM_ACTOR, question, answer)


@huey.periodic_task(crontab(minute="*"), retries=0, name=CATCH_UP)
def payments_catch_up() -> dict[str, int]:
    try:
        counts = catch_up_payments()
    except Exception:
        JOBS.labels(CATCH_UP, "failed").inc()
        raise
    JOBS.labels(CATCH_UP, "succeeded").inc()
    log.info("job.succeeded", task=CATCH_UP, **counts)
    return counts
