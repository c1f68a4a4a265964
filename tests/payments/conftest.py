"""Fixtures of the payments tests: a recording fake platform, an employer organisation, and
bills issued outside a request (committed, then their reference asked for through the outbox as
the request edge would)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import current_app

from adapters.tax_collection.client import PaymentStatus
from adapters.tax_collection.codes import PaymentState
from adapters.tax_collection.errors import TaxPlatformError
from portal.accounts.models import Organisation
from portal.auth.roles import Actor, Role
from portal.outbox import service as outbox
from portal.payments import service
from portal.tasks.outbox import dispatch_outbox

SUBJECT = "testsubject"
PAID_CALLS: list[int] = []
service.register_paid_handler(SUBJECT, lambda sess, bill: PAID_CALLS.append(bill.id))


@dataclass
class FakePlatform:
    """Records calls; ``down`` makes every call fail like an unreachable platform."""

    down: bool = False
    paid: dict[str, tuple[Decimal, datetime]] = field(default_factory=dict)
    #: references the platform no longer knows (expired); the bill number gets a new one
    forgotten: set[str] = field(default_factory=set)
    calls: list[tuple] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    def issue_reference(self, *, bill_number, amount, payer, purpose, city_code):
        self.calls.append(("issue", bill_number, amount))
        if self.down:
            raise TaxPlatformError("down", code="unreachable")
        reference = f"REF{bill_number}"
        while reference in self.forgotten:
            reference += "-R"
        return reference

    def query_payment(self, reference):
        self.calls.append(("query", reference))
        if self.down:
            raise TaxPlatformError("down", code="timeout")
        if reference in self.paid:
            amount, at = self.paid[reference]
            return PaymentStatus(reference, PaymentState.PAID, amount, at)
        if reference in self.forgotten:
            return PaymentStatus(reference, PaymentState.NOT_FOUND)
        return PaymentStatus(reference, PaymentState.UNPAID)


PAID_AT = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


def deliver_references(platform: FakePlatform, *, now: datetime | None = None) -> dict[str, int]:
    """Deliver the due reference requests of the app in context through ``platform``, as the
    request edge does right after a commit (the outbox job, later)."""
    database = current_app.extensions["portal.database"]

    def deliver(payload):
        return service.deliver_reference(database, payload, platform=platform)

    return outbox.dispatch(database, handlers={service.REFERENCE_TOPIC: deliver}, now=now)


def issue_committed(app, actor: Actor, *, amount: Decimal, subject_type: str = "project",
                    purpose: str = service.PURPOSE_PROJECT_PREMIUM) -> int:
    """Issue a bill in a committed transaction of its own, then deliver its reference request
    to the app's platform client (``dispatch_outbox``), as a request would. Returns its id."""
    with app.app_context(), app.extensions["portal.database"].write_transaction() as sess:
        bill_id = service.issue_bill(sess, actor, subject_type=subject_type, subject_id=1,
                                     organisation_id=actor.organisation_id, city_code="340100",
                                     amount=amount, purpose=purpose).id
    dispatch_outbox(app, keys=[f"{service.REFERENCE_TOPIC}:{bill_id}"])
    return bill_id


def draft_project(app, actor: Actor, name: str = "合肥市缴费测试项目") -> int:
    """A project the employer may submit; submitting it issues its premium bill."""
    from portal.projects import service as projects

    with app.app_context(), app.extensions["portal.database"].write_transaction() as sess:
        return projects.enroll_project(
            sess, actor, name=name, county_code="340111", permit_number=None,
            contract_price=Decimal("1000000.00"), installation_cost=None, planned_start=date(2026, 1, 1),
            planned_end=date(2027, 12, 31)).id


def submit_project(http, portal_url: str, project_id: int) -> None:
    """提交 the project over HTTP as the signed-in employer ``http`` (see ``live_employer``)."""
    answer = http.post(f"{portal_url}/projects/{project_id}/submit", data={"csrf_token": http.csrf},
                       allow_redirects=False, timeout=20)
    assert answer.status_code == 303, answer.text


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def org(db) -> Organisation:
    organisation = Organisation(uscc="91340100MA2N0X1234", name="安徽测试建设集团有限公司")
    db.add(organisation)
    db.commit()
    return organisation


@pytest.fixture
def employer(org) -> Actor:
    return Actor(role=Role.EMPLOYER, account_id=None, display_name=org.name, organisation_id=org.id)


@pytest.fixture
def paid_calls() -> list[int]:
    PAID_CALLS.clear()
    return PAID_CALLS


@pytest.fixture
def live_employer(app, login_as, csrf_token, live_stack):
    """A ``requests`` session signed in as the demo employer on the live portal, carrying its
    CSRF token (``.csrf``), organisation id and Actor."""
    import requests


    flask_client = app.test_client()
    snapshot = login_as(flask_client, "employer")
    http = requests.Session()
    http.cookies.set(app.config["SESSION_COOKIE_NAME"],
                     flask_client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    http.csrf = csrf_token(flask_client)
    http.organisation_id = snapshot["organisation_id"]
    http.actor = Actor(role=Role.EMPLOYER, account_id=snapshot["account_id"],
                       display_name=snapshot["display_name"], organisation_id=snapshot["organisation_id"])
    return http
