"""Bills (缴费单) and their payment through the tax collection platform (社保费征收): the payments
area's public functions, the only module routes, other areas and jobs import
(``from portal.payments import service as payments``).

The use cases live beside this file: ``bills`` (scope, issuing and cancelling, lists, what a
bill page says), ``lifecycle`` (the statuses, ``BILL_STATES``, and the one place a bill becomes
paid), ``platform`` (the three-step exchange with the platform: 去缴费, 查询缴费结果, the
reference after issuing, the catch-up) and ``callbacks`` (the platform's signed callback).

How a subject area (projects, units) uses this package
-------------------------------------------------------
1. Issue a bill in the same transaction as the change that makes money due::

       from portal.payments import service as payments
       bill = payments.issue_bill(sess, actor, subject_type="project", subject_id=project.id,
                                  organisation_id=project.organisation_id,
                                  city_code=project.city_code, amount=premium,
                                  purpose=payments.PURPOSE_PROJECT_PREMIUM)

   The bill is written as 待缴费 without a payment reference (缴款码). The reference is asked
   for right **after your transaction commits** (see "Asking for the reference" below); when the
   platform cannot be reached the bill stays 待缴费 without a reference, and the outbox job and
   the catch-up job (portal.tasks.payments) ask again. ``issue_bill`` never calls the platform
   itself and never raises because the platform is down; a transaction that rolls back asks
   for nothing.

2. Learn that a bill was paid, inside the same transaction that marks it paid, by a handler that
   ``portal._wire_areas`` registers when the app is built (nothing registers on import)::

       def on_bill_paid(sess, bill):  # bill.subject_type == "project"
           project = sess.get(Project, bill.subject_id); project.mark_covered(...)
       payments.register_paid_handler("project", projects.on_bill_paid)

   The handler runs exactly once per bill (duplicate callbacks and catch-up queries do not call
   it again). It must not commit; raising rolls the payment back, and the platform's callback is
   retried later.

3. List the bills of a subject for a page: ``payments.bills_for(sess, actor, "project", id)``
   (scope-checked: the organisation itself, or staff of the bill's city).

A bill's status moves only through ``BILL_STATES`` (``portal.states``), audited as
``payments.<action>``: issued (待缴费) → pending_confirmation (待确认) → paid (已缴费), or
issued → cancelled (已作废); an amount that differs and a payment of a cancelled bill are
flagged for a person (``Bill.problem``). An answer from the platform that is missing, slow or
unreadable never makes a bill paid or failed: the bill waits in 待确认 until a signed callback
or a catch-up query says it is paid.

Waiting for the platform
------------------------
A call to the platform may take up to its timeout (``tax_platform_timeout_seconds``). Nobody may
wait for it inside a write transaction: on SQLite that holds the database's only writer lock
(every other writer, the audit of a read of personal data included, would wait seconds), on
PostgreSQL the bill row and the audit chain head. Every exchange with the platform therefore
has three steps:

1. :func:`question_for`: a short read decides what to ask (a reference, or the payment state);
   the read transaction ends before the call;
2. :func:`ask_platform`: the call, with no transaction open;
3. :func:`apply_answer`: a short write that re-reads the bill under lock and applies the answer
   idempotently; the bill may have changed meanwhile (a callback marked it paid, a clerk
   cancelled it, another process already stored the reference), and a stale answer never
   undoes what happened since.

The 查询缴费结果 and 去缴费 actions (:func:`refresh_bill`, :func:`start_payment`) run the three
steps in the request's unit of work: they end the (read-only) transaction of their first step
themselves, so call them before changing anything else in that unit of work. The outbox and the
catch-up job run them in separate read and write transactions (:func:`exchange`).

Asking for the reference
------------------------
Issuing a bill happens inside the caller's transaction (projects: the request that submits the
project), which must not wait for the platform either. ``issue_bill`` therefore writes an outbox
message (topic ``REFERENCE_TOPIC``, one per bill) in that transaction, asking to be delivered
right after the commit (``portal.outbox.service.enqueue(..., after_commit=True)``). The request
edge (``portal.web.unit_of_work``) delivers it as soon as the unit of work has committed, with no
transaction open: :func:`deliver_reference` runs the three steps against the app's database and
platform client (the handler ``portal.tasks.payments.deliver_reference``, registered in
``portal._wire_areas``). The employer who submits a project thus lands on a page where 去缴费
already works, without a worker process being needed for it; a response may be delayed by up
to the platform's timeout, but no lock is held meanwhile. Until the reference is stored the bill
says 正在获取缴款码; if the platform did not answer it says so, and the outbox job (which
retries the message with backoff) and the catch-up job ask again. Code that issues bills outside
a request (a job, a test) commits, then dispatches the outbox (``portal.tasks.outbox.
dispatch_outbox``) or leaves it to the job.
"""

from portal.payments.models import BillAction, BillStatus
from portal.payments.service.bills import (
    PER_PAGE,
    POLL_WINDOW,
    PURPOSE_PROJECT_PREMIUM,
    PURPOSE_SUPPLEMENTARY,
    PURPOSE_UNIT_PREMIUM,
    REFERENCE_TOPIC,
    BillPage,
    awaiting_platform,
    bills_for,
    cancel_bill,
    get_bill,
    issue_bill,
    list_bills,
    status_message,
)
from portal.payments.service.callbacks import (
    CallbackRefused,
    accept_signed_callback,
    purge_nonces,
    record_callback,
)
from portal.payments.service.lifecycle import (
    BILL_STATES,
    PLATFORM_ACTOR,
    PaidHandler,
    register_paid_handler,
)
from portal.payments.service.platform import (
    PaymentPlatform,
    PlatformAnswer,
    PlatformQuestion,
    QuestionKind,
    RefreshOutcome,
    apply_answer,
    ask_platform,
    catch_up_bill,
    deliver_reference,
    due_for_catch_up,
    exchange,
    question_for,
    refresh_bill,
    refresh_from_platform,
    set_platform_provider,
    start_payment,
)

__all__ = [
    # bills: scope, issuing, cancelling, lists, pages
    "PURPOSE_PROJECT_PREMIUM", "PURPOSE_SUPPLEMENTARY", "PURPOSE_UNIT_PREMIUM", "PER_PAGE", "POLL_WINDOW",
    "REFERENCE_TOPIC", "BillPage", "get_bill", "bills_for", "list_bills", "issue_bill", "cancel_bill",
    "awaiting_platform", "status_message",
    # statuses and payment (lifecycle)
    "BillStatus", "BillAction", "BILL_STATES", "PLATFORM_ACTOR", "PaidHandler", "register_paid_handler",
    # the exchange with the platform
    "PaymentPlatform", "set_platform_provider", "RefreshOutcome", "QuestionKind", "PlatformQuestion",
    "PlatformAnswer", "question_for", "ask_platform", "apply_answer", "refresh_from_platform",
    "refresh_bill", "start_payment", "exchange", "deliver_reference", "due_for_catch_up", "catch_up_bill",
    # the platform's signed callback
    "CallbackRefused", "accept_signed_callback", "record_callback", "purge_nonces",
]
