"""Outbox delivery (发件箱投递) every minute: reports what committed to the external platforms
(办件 stages to 一网通办), see ``portal.outbox.service``.

Idempotent and safe to overlap: a message is claimed under a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) before its peer is called, so two runs (two workers, a manual ``portal outbox
dispatch``) never send one message at the same time, and the peer drops a repeat by its event id.
Registered on the one Huey instance; ``portal worker`` and ``portal demo`` import this module.
"""

from __future__ import annotations

import structlog
from huey import crontab

from portal.metrics import JOBS
from portal.tasks.jobs import task_app
from portal.tasks.queue import huey

log = structlog.get_logger("portal.tasks")

DISPATCH = "outbox_dispatch"


def outbox_handlers(gov_client) -> dict:
    """Every outbox topic's handler: the registry plus the 一网通办 reports through ``gov_client``."""
    from portal.outbox import gov_items
    from portal.outbox import service as outbox

    return {**outbox.registered_handlers(), **gov_items.handlers_for(gov_client)}


def dispatch_outbox(app=None, **kwargs) -> dict[str, int]:
    """One delivery run against ``app``'s database (default: the app the queue is bound to).

    The run has its own platform client (one HTTP session, closed at the end): runs may overlap
    in threads of one worker, and a ``requests.Session`` is not shared between threads.
    """
    from portal.outbox import gov_items
    from portal.outbox import service as outbox

    app = app or task_app()
    settings = app.config["PORTAL_SETTINGS"]
    kwargs.setdefault("batch", int(settings.outbox_batch_size))
    client = gov_items.client_from_settings(settings)
    try:
        with app.app_context():
            return outbox.dispatch(app.extensions["portal.database"], handlers=outbox_handlers(client),
                                   **kwargs)
    finally:
        client.close()


@huey.periodic_task(crontab(minute="*"), retries=0, name=DISPATCH)
def outbox_dispatch() -> dict[str, int]:
    try:
        counts = dispatch_outbox()
    except Exception:
        JOBS.labels(DISPATCH, "failed").inc()
        raise
    JOBS.labels(DISPATCH, "succeeded").inc()
    log.info("job.succeeded", task=DISPATCH, **counts)
    return counts
