"""Outbox delivery (发件箱投递) every minute: reports what committed to the external platforms
(办件 stages to 一网通办, a new bill's 缴款码 request to the tax collection platform), see
``portal.outbox.service``. The request edge also calls :func:`dispatch_outbox` for the messages a
unit of work asked to deliver right after its commit.

Idempotent and safe to overlap: a message is claimed under a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) before its peer is called, so two runs (two workers, a manual ``portal outbox
dispatch``) never send one message at the same time, and the peer drops a repeat by its event id.
Registered on the one Huey instance by ``portal.tasks.queue.register_tasks``.
"""

from __future__ import annotations

from huey import crontab

from portal.tasks.jobs import run_periodic, task_app
from portal.tasks.queue import huey

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
    return run_periodic(DISPATCH, dispatch_outbox)
